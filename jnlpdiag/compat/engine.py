"""Evaluate the compatibility data against observed versions.

1. *Observations* (typed input facts with their origin: a header, a flag, a jar manifest) are set.
2. *Derivations* run in file order and fill facts that are still unknown — an observation always
   wins over a table (the controller's own X-Remoting-Minimum-Version beats the release list).
3. Every *rule* is evaluated three-valued: fired, passed, or not evaluated (names the missing facts).
4. A fired rule that ``explains`` another fired rule becomes that one's cause (``caused_by``).

Nothing here knows a rule, a version or a product by name: that is all in the data file.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jnlpdiag.compat.data import CompatData, Derivation, LookupTable, Rule, load_data, template_fields
from jnlpdiag.findings import Fix, Status, worst
from jnlpdiag.versions import VersionError, parse_agent_tag, parse_image


class InputError(ValueError):
    """An observation that is not a valid value of its fact (bad version string, unknown fact)."""


@dataclass(frozen=True)
class Observed:
    value: Any  # typed (JenkinsVersion, int, bool, ...)
    origin: str  # "flag --jenkins", "X-Jenkins header", ...


def observe(data: CompatData, name: str, raw: Any, origin: str) -> Observed:
    spec = data.facts.get(name)
    if spec is None or not spec.input:
        inputs = ", ".join(sorted(n for n, s in data.facts.items() if s.input))
        raise InputError(f"{name!r} is not an input fact (known: {inputs})")
    try:
        value = spec.type.parse(raw)
    except (ValueError, VersionError) as exc:
        raise InputError(f"{name}: {exc}") from None
    if spec.values and value not in spec.values:
        raise InputError(f"{name}: {value!r} is not one of {', '.join(map(str, spec.values))}")
    return Observed(value, origin)


class Facts:
    def __init__(self, data: CompatData) -> None:
        self._data = data
        self.values: dict[str, Any] = {}
        self.origins: dict[str, str] = {}
        self.sources: dict[str, tuple[str, ...]] = {}

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def set(self, name: str, value: Any, origin: str, sources: tuple[str, ...] = ()) -> None:
        self.values[name] = value
        self.origins[name] = origin
        self.sources[name] = sources

    def display(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None else self._data.facts[name].type.display(value)

    def render(self, text: str) -> str:
        """Fill ``{fact}`` placeholders; unknown facts stay visible as ``<fact>``."""
        return string.Formatter().vformat(text, (), _Displays(self))

    def to_dict(self) -> dict[str, Any]:
        return {name: {"value": self.display(name), "origin": self.origins[name],
                       **({"sources": list(self.sources[name])} if self.sources.get(name) else {})}
                for name in self.values}


class _Displays(dict[str, str]):
    def __init__(self, facts: Facts) -> None:
        super().__init__()
        self._facts = facts

    def __missing__(self, key: str) -> str:
        shown = self._facts.display(key)
        return f"<{key}>" if shown is None else shown


@dataclass
class RuleResult:
    id: str
    status: Status
    outcome: str  # fired | passed | unknown
    title: str
    detail: str = ""
    symptom: str | None = None
    fixes: list[Fix] = field(default_factory=list)
    sources: tuple[str, ...] = ()
    missing: list[str] = field(default_factory=list)
    facts: dict[str, str | None] = field(default_factory=dict)  # facts the condition reads, as shown
    caused_by: str | None = None
    known_failure: str | None = None
    same_as_finding: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "status": self.status.value, "title": self.title}
        if self.outcome == "fired":
            out.update(detail=self.detail, symptom=self.symptom, fixes=[f.to_dict() for f in self.fixes],
                       sources=list(self.sources), facts=self.facts, caused_by=self.caused_by,
                       known_failure=self.known_failure)
        elif self.outcome == "unknown":
            out["missing"] = self.missing
        else:
            out["sources"] = list(self.sources)
        return out


@dataclass
class Evaluation:
    data: CompatData
    facts: Facts
    results: list[RuleResult]

    @property
    def fired(self) -> list[RuleResult]:
        return [r for r in self.results if r.outcome == "fired"]

    @property
    def passed(self) -> list[RuleResult]:
        return [r for r in self.results if r.outcome == "passed"]

    @property
    def unknown(self) -> list[RuleResult]:
        return [r for r in self.results if r.outcome == "unknown"]

    @property
    def status(self) -> Status:
        return worst([r.status for r in self.fired])

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "jnlpdiag.matrix/1",
            "status": self.status.value,
            "data_version": self.data.version,
            "coverage": {k: v for k, v in self.data.coverage.items() if k != "read_from"},
            "facts": self.facts.to_dict(),
            "rules": [r.to_dict() for r in self.fired],
            "passed": [r.to_dict() for r in self.passed],
            "not_evaluated": [r.to_dict() for r in self.unknown],
        }


# --------------------------------------------------------------------------------------------------
# Derivations
# --------------------------------------------------------------------------------------------------

def _resolve(value: Any, facts: Facts, target_type: Any) -> Any:
    """A row/lookup value: ``{fact}`` copies a fact, other ``{…}`` text is a template, else a literal."""
    if isinstance(value, str) and "{" in value:
        names = template_fields(value)
        if any(facts.get(n) is None for n in names):
            return None
        if len(names) == 1 and value == "{" + names[0] + "}":
            return facts.get(names[0])
        return target_type.parse(facts.render(value))
    return target_type.parse(value)


def _derive_rows(d: Derivation, data: CompatData, facts: Facts) -> None:
    assert d.fact is not None and d.table is not None
    table = data.rows[d.table]
    spec = data.facts[d.fact]

    def get(name: str) -> Any:
        return facts.get(d.bind.get(name, name))

    for row in table.rows:
        decided = row.when.evaluate(get, data.types)
        if decided is None:
            return  # cannot tell which row applies: leave the fact unknown
        if decided:
            value = _resolve(row.value, facts, spec.type)
            if value is not None:
                facts.set(d.fact, value, f"table {d.table}: {row.when.describe()}", row.sources)
            return


def _derive_lookup(d: Derivation, data: CompatData, facts: Facts) -> None:
    assert d.fact is not None and d.table is not None and d.key is not None and d.column is not None
    table: LookupTable = data.lookups[d.table]
    key_value = facts.get(d.key)
    if key_value is None:
        return
    found = table.find(key_value)
    if found is None or found[1][d.column] is None:
        return
    written, values = found
    value = _resolve(values[d.column], facts, data.facts[d.fact].type)
    if value is not None:
        column = table.columns[d.column]
        facts.set(d.fact, value, f"table {d.table}[{written}].{column}",
                  (table.source_for(key_value, written, column),))


def _parse_agent_image(raw: str) -> dict[str, Any]:
    ref = parse_image(raw)
    tag = parse_agent_tag(ref.tag)
    name = ref.name
    family = ("inbound-agent" if name.endswith("inbound-agent") else "jnlp-slave" if name.endswith("jnlp-slave")
              else "agent" if ref.repository in ("jenkins/agent", "jenkins/slave") else "other")
    out: dict[str, Any] = {"repository": ref.repository, "family": family}
    if family != "other":
        out.update(remoting=tag.remoting, build=tag.build, jdk=tag.jdk, floating=tag.floating,
                   distro=tag.distro, preview=tag.preview)
    return out


_PARSERS = {"agent_image": _parse_agent_image}


def _derive_parse(d: Derivation, data: CompatData, facts: Facts) -> None:
    assert d.source_fact is not None and d.parser is not None
    raw = facts.get(d.source_fact)
    if raw is None:
        return
    try:
        parsed = _PARSERS[d.parser](facts.display(d.source_fact) or "")
    except VersionError:
        return
    for fact, attr in d.outputs.items():
        value = parsed.get(attr)
        if value is not None and facts.get(fact) is None:
            facts.set(fact, data.facts[fact].type.parse(value), f"parsed from {d.source_fact} {raw}")


def search_candidates(data: CompatData, spec: Mapping[str, Any],
                      inputs: Mapping[str, Observed]) -> list[tuple[str, bool]]:
    """Each release in ``spec['table']`` with whether, put in place of ``spec['vary']``, nothing fails.

    Releases whose ``group_by`` columns are equal behave identically, so each group is evaluated once.
    """
    table = data.lookups[spec["table"]]
    base = {k: inputs[k] for k in spec.get("keep") or () if k in inputs}
    cache_key = (spec["table"], spec["vary"], tuple(sorted((k, repr(v.value)) for k, v in base.items())))
    cached = data.cache.get(cache_key)
    if cached is not None:
        return list(cached)
    columns = [table.columns.index(c) for c in spec.get("group_by") or table.columns]
    verdicts: dict[str, bool] = {}
    out: list[tuple[str, bool]] = []
    for written, value in table.parsed_keys:
        row = table.entries[table.key_type.key(value).canonical][1]
        group = repr([row[i] for i in columns])
        if group not in verdicts:
            probe_inputs = dict(base)
            probe_inputs[spec["vary"]] = Observed(value, "search")
            ev = evaluate(data, probe_inputs, search=False, render=False)
            verdicts[group] = ev.status is not Status.FAIL and all(
                ev.facts.get(f) is not None for f in spec.get("require") or ())
        out.append((written, verdicts[group]))
    data.cache[cache_key] = tuple(out)
    return out


def _derive_search(d: Derivation, data: CompatData, facts: Facts, inputs: Mapping[str, Observed]) -> None:
    assert d.fact is not None
    spec = d.search
    if any(facts.get(f) is None for f in spec.get("only_if") or ()):
        return
    ok = [written for written, good in search_candidates(data, spec, inputs) if good]
    if not ok:
        return
    pick = ok[-1] if spec.get("pick") == "last" else ok[0]
    table = data.lookups[spec["table"]]
    value = table.key_type.parse(pick)
    facts.set(d.fact, value, f"search of {spec['table']}: {spec.get('pick')} release where no rule fails",
              (table.source_for(value, pick),))


# --------------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------------

def _result(rule: Rule, outcome: bool | None, facts: Facts, data: CompatData) -> RuleResult:
    read = {name: facts.display(name) for name in rule.when.facts()}
    if outcome is None:
        return RuleResult(rule.id, rule.status, "unknown", facts.render(rule.title),
                          missing=rule.when.unknown_facts(facts.get), facts=read)
    if outcome is False:
        known = rule.pass_title is not None and all(facts.get(n) is not None for n in template_fields(rule.pass_title))
        # A rule can be false for a reason its pass title does not state (another rule fails it).
        known = known and (rule.pass_when is None or rule.pass_when.evaluate(facts.get, data.types) is True)
        title = facts.render(rule.pass_title) if known and rule.pass_title else f"{rule.id}: does not apply"
        return RuleResult(rule.id, Status.PASS, "passed", title, sources=rule.sources, facts=read)
    fixes = [Fix(facts.render(f.title), docs=f.docs, commands=tuple(facts.render(s) for s in f.commands),
                 notes=tuple(facts.render(s) for s in f.notes)) for f in rule.fixes]
    return RuleResult(
        rule.id, rule.status, "fired", facts.render(rule.title), facts.render(rule.detail),
        facts.render(rule.symptom) if rule.symptom else None, fixes, rule.sources, facts=read,
        known_failure=rule.known_failure, same_as_finding=rule.same_as_finding,
    )


def evaluate(data: CompatData | None, observations: Mapping[str, Observed], *, search: bool = True,
             render: bool = True) -> Evaluation:
    """Derive facts from ``observations`` and evaluate every rule. ``render=False`` skips the texts
    (statuses only), for searches that evaluate many combinations."""
    data = data or load_data()
    facts = Facts(data)
    for name, obs in observations.items():
        if name not in data.facts:
            raise InputError(f"unknown fact {name!r}")
        facts.set(name, obs.value, obs.origin)
    for name, spec in data.facts.items():
        if spec.assume is not None and facts.get(name) is None:
            facts.set(name, spec.assume, "assumed (not observed)")
    for d in data.derive:
        if d.kind != "parse" and d.fact is not None and facts.get(d.fact) is not None:
            continue  # observations and earlier derivations win
        if d.kind == "rows":
            _derive_rows(d, data, facts)
        elif d.kind == "lookup":
            _derive_lookup(d, data, facts)
        elif d.kind == "parse":
            _derive_parse(d, data, facts)
        elif d.kind == "search" and search:
            _derive_search(d, data, facts, observations)
    if not render:
        return Evaluation(data, facts, [
            RuleResult(rule.id, rule.status, "fired", "") for rule in data.rules
            if rule.when.evaluate(facts.get, data.types) is True])
    results = [_result(rule, rule.when.evaluate(facts.get, data.types), facts, data) for rule in data.rules]
    by_id = {r.id: r for r in results if r.outcome == "fired"}
    for rule in data.rules:
        if rule.id in by_id:
            for explained in rule.explains:
                if explained in by_id and by_id[explained].caused_by is None:
                    by_id[explained].caused_by = rule.id
    return Evaluation(data, facts, results)


def evaluate_raw(raw: Mapping[str, Any], origin: str = "given", data: CompatData | None = None) -> Evaluation:
    """Convenience: parse raw input values (strings) and evaluate."""
    data = data or load_data()
    return evaluate(data, {name: observe(data, name, value, origin) for name, value in raw.items()})
