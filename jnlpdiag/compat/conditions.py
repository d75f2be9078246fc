"""The condition language of compat-matrix.json.

A condition (``when``) is an object ``{fact: predicate, ...}`` — all must hold — or a list of such
objects — any may hold. A predicate is one or more space-separated tests, all of which must hold:

``set`` / ``unset``           the fact is known / unknown
``<V`` ``<=V`` ``>V`` ``>=V``  ordered comparison (versions as hudson.util.VersionNumber, Java as numbers)
``==V`` ``!=V``                equality
``in:V`` ``!in:V``             membership of the fact in a list (``in:17,21`` or ``in:{other_fact}``)
``has:V`` ``!has:V``           a list fact contains V

``V`` is a literal parsed by the fact's type, or ``{other_fact}``. Conditions are three-valued: a test
on an unknown fact (other than ``set``/``unset``) is *unknown*, and so is a condition that depends on
one; a rule whose condition is unknown is reported as not evaluated rather than passed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jnlpdiag.compat.types import TYPES, FactType, compare
from jnlpdiag.versions import VersionError

Getter = Callable[[str], Any]  # fact name -> typed value or None
_TEST = re.compile(r"^(<=|>=|!=|==|<|>|!in:|in:|!has:|has:)(.+)$")
_REF = re.compile(r"^\{([a-z_][a-z0-9_]*)\}$")


class ConditionError(ValueError):
    pass


@dataclass(frozen=True)
class Test:
    fact: str
    op: str  # set unset < <= > >= == != in !in has !has
    ref: str | None = None
    literal: Any = None
    text: str = ""

    def facts(self) -> list[str]:
        return [self.fact] + ([self.ref] if self.ref else [])

    def evaluate(self, get: Getter, types: dict[str, FactType]) -> bool | None:
        left = get(self.fact)
        if self.op == "set":
            return left is not None
        if self.op == "unset":
            return left is None
        if left is None:
            return None
        ftype = types[self.fact]
        lkey = ftype.key(left)
        if self.ref is not None:
            right_value = get(self.ref)
            if right_value is None:
                return None
            rkey = types[self.ref].key(right_value)
        else:
            rkey = self.literal
        if self.op in ("in", "!in"):
            domain = ftype.domain
            found = any(compare(domain, lkey, item) == 0 for item in rkey)
            return found if self.op == "in" else not found
        if self.op in ("has", "!has"):
            assert ftype.element is not None
            found = any(compare(ftype.element.domain, item, rkey) == 0 for item in lkey)
            return found if self.op == "has" else not found
        c = compare(ftype.domain, lkey, rkey)
        return {"<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0, "==": c == 0, "!=": c != 0}[self.op]


Clause = tuple[Test, ...]


@dataclass(frozen=True)
class Condition:
    clauses: tuple[Clause, ...]  # any of them; each clause: all of its tests
    source: Any = None  # the JSON it came from, for messages

    def facts(self) -> list[str]:
        seen: list[str] = []
        for clause in self.clauses:
            for test in clause:
                for f in test.facts():
                    if f not in seen:
                        seen.append(f)
        return seen

    def evaluate(self, get: Getter, types: dict[str, FactType]) -> bool | None:
        result: bool | None = False
        for clause in self.clauses:
            value: bool | None = True
            for test in clause:
                t = test.evaluate(get, types)
                if t is False:
                    value = False
                    break
                if t is None:
                    value = None
            if value is True:
                return True
            if value is None:
                result = None
        return result

    def unknown_facts(self, get: Getter) -> list[str]:
        """Facts whose absence keeps this condition undecided (set/unset tests never do)."""
        out: list[str] = []
        for clause in self.clauses:
            for test in clause:
                if test.op in ("set", "unset"):
                    continue
                for name in test.facts():
                    if get(name) is None and name not in out:
                        out.append(name)
        return out

    def describe(self) -> str:
        return " or ".join(" and ".join(f"{t.fact} {t.text}" for t in clause) or "always" for clause in self.clauses)


def _parse_test(fact: str, token: str, fact_types: dict[str, str]) -> Test:
    ftype = TYPES[fact_types[fact]]
    if token in ("set", "unset"):
        return Test(fact, token, text=token)
    m = _TEST.match(token)
    if not m:
        raise ConditionError(f"{fact}: {token!r} is not a test "
                             "(use set, unset, <V, <=V, >V, >=V, ==V, !=V, in:V, has:V)")
    op, operand = m.group(1).rstrip(":"), m.group(2)
    ref_m = _REF.match(operand)
    ref = ref_m.group(1) if ref_m else None
    if ref is not None and ref not in fact_types:
        raise ConditionError(f"{fact}: {token!r} refers to unknown fact {ref!r}")
    rtype = TYPES[fact_types[ref]] if ref else None
    if op in ("<", "<=", ">", ">="):
        if not ftype.ordered:
            raise ConditionError(f"{fact}: {op} needs a version or number fact, {fact} is {ftype.name}")
        if rtype is not None and (rtype.domain != ftype.domain or rtype.is_list):
            raise ConditionError(f"{fact}: cannot order {ftype.name} against {ref} ({rtype.name})")
    elif op in ("==", "!="):
        if ftype.is_list:
            raise ConditionError(f"{fact}: use has:/!has: on a list fact")
        if rtype is not None and (rtype.domain != ftype.domain or rtype.is_list):
            raise ConditionError(f"{fact}: cannot compare {ftype.name} with {ref} ({rtype.name})")
    elif op in ("in", "!in"):
        if ftype.is_list:
            raise ConditionError(f"{fact}: in: needs a single-valued fact")
        if rtype is not None and (rtype.element is None or rtype.element.domain != ftype.domain):
            raise ConditionError(f"{fact}: in:{{{ref}}} needs a list of {ftype.domain}")
    elif op in ("has", "!has"):
        if ftype.element is None:
            raise ConditionError(f"{fact}: has: needs a list fact")
        if rtype is not None and (rtype.is_list or rtype.domain != ftype.element.domain):
            raise ConditionError(f"{fact}: has:{{{ref}}} needs a single {ftype.element.domain}")
    literal: Any = None
    if ref is None:
        try:
            if op in ("in", "!in"):
                literal = [ftype.literal(p) for p in operand.split(",") if p]
            elif op in ("has", "!has"):
                assert ftype.element is not None
                literal = ftype.element.literal(operand)
            else:
                literal = ftype.literal(operand)
        except (ValueError, VersionError) as exc:
            raise ConditionError(f"{fact}: {token!r}: {exc}") from None
    return Test(fact, op, ref, literal, token)


def parse_condition(when: Any, fact_types: dict[str, str]) -> Condition:
    """Compile a ``when`` value; ``fact_types`` maps every declared fact to its type name."""
    alternatives = when if isinstance(when, list) else [when]
    if not alternatives:
        raise ConditionError("an empty list of alternatives never holds; use {} for 'always'")
    clauses: list[Clause] = []
    for alt in alternatives:
        if not isinstance(alt, dict):
            raise ConditionError(f"a condition is an object of fact: predicate, not {type(alt).__name__}")
        tests: list[Test] = []
        for fact, predicate in alt.items():
            if fact not in fact_types:
                raise ConditionError(f"unknown fact {fact!r}")
            if not isinstance(predicate, str) or not predicate.strip():
                raise ConditionError(f"{fact}: the predicate must be a non-empty string")
            tests += [_parse_test(fact, token, fact_types) for token in predicate.split()]
        clauses.append(tuple(tests))
    return Condition(tuple(clauses), when)
