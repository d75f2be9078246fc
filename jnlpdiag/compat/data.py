"""Load and validate ``jnlpdiag/data/compat-matrix.json`` (schema ``jnlpdiag.compat/1``).

Validation is strict and happens once at load: every condition compiles, every ``{fact}`` in a text
names a declared fact, every derived value parses as its fact's type, every rule and table row has
a source URL, every warn/fail rule has a fix. A broken row is a load error naming the row, never a
wrong verdict later. See docs/compat.md for the format.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib.resources import files
from pathlib import Path
from typing import Any

from jnlpdiag.compat.conditions import Condition, ConditionError, parse_condition
from jnlpdiag.compat.types import STRING, TYPES, FactType
from jnlpdiag.findings import Fix, Status
from jnlpdiag.versions import VersionError

SCHEMA = "jnlpdiag.compat/1"
PARSERS = ("agent_image",)  # parsers a "parse" derivation may name (implemented in engine.py)


class DataError(ValueError):
    """The data file is malformed; the message names the offending entry."""


@dataclass(frozen=True)
class FactSpec:
    name: str
    type: FactType
    description: str
    input: bool
    assume: Any = None  # typed value taken when the fact is not observed (None: stays unknown)
    values: tuple[Any, ...] = ()  # allowed values, when the type alone is too loose (transport)


@dataclass(frozen=True)
class Row:
    when: Condition
    value: Any
    sources: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True)
class RowsTable:
    name: str
    description: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class LookupTable:
    name: str
    description: str
    key_type: FactType
    columns: tuple[str, ...]
    entries: dict[str, tuple[str, list[Any]]]  # canonical version -> (key as written, values)
    source_template: Any  # URL with {tag}, or {column: URL or {scheme: URL}}
    tag_template: dict[str, str]

    def find(self, key_value: Any) -> tuple[str, list[Any]] | None:
        return self.entries.get(self.key_type.key(key_value).canonical)

    def source_for(self, key_value: Any, written: str, column: str | None = None) -> str:
        """The URL an entry was read from (a release tag's file)."""
        scheme = getattr(key_value, "scheme", "*")
        tag = self.tag_template.get(scheme, self.tag_template.get("*", "{key}")).format(key=written)
        template = self.source_template
        if isinstance(template, dict):
            template = template.get(column or self.columns[0], next(iter(template.values())))
        if isinstance(template, dict):
            template = template.get(scheme, template.get("*", next(iter(template.values()))))
        return str(template).format(tag=tag, key=written)

    @cached_property
    def parsed_keys(self) -> list[tuple[str, Any]]:
        """(key as written, typed key value), oldest first."""
        parsed = [(written, self.key_type.parse(written)) for written, _ in self.entries.values()]
        return sorted(parsed, key=lambda kv: self.key_type.key(kv[1]))

    def ordered_keys(self) -> list[str]:
        return [written for written, _ in self.parsed_keys]


@dataclass(frozen=True)
class Derivation:
    kind: str  # rows | lookup | parse | search
    fact: str | None = None
    table: str | None = None
    bind: dict[str, str] = field(default_factory=dict)
    key: str | None = None
    column: int | None = None
    parser: str | None = None
    source_fact: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    search: dict[str, Any] = field(default_factory=dict)

    def targets(self) -> list[str]:
        return list(self.outputs) if self.kind == "parse" else [self.fact or ""]


@dataclass(frozen=True)
class RuleFix:
    title: str
    commands: tuple[str, ...]
    docs: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    status: Status
    when: Condition
    title: str
    detail: str
    symptom: str | None
    pass_title: str | None
    fixes: tuple[RuleFix, ...]
    sources: tuple[str, ...]
    explains: tuple[str, ...]
    known_failure: str | None
    same_as_finding: str | None = None  # a probe finding that reports the same problem (it becomes the cause)
    # When the rule does not fire, its "pass" title is claimed only where this holds (else: does not apply).
    pass_when: Condition | None = None


@dataclass(frozen=True)
class KnownFailure:
    id: str
    description: str
    inputs: dict[str, Any]
    status: Status
    rules: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class TableColumn:
    title: str
    fact: str  # the fact shown, or the search derivation's fact whose passing range is shown
    search: bool = False


@dataclass(frozen=True)
class CombinationsTable:
    lines: int
    key: str  # the Jenkins fact each line sets
    columns: tuple[TableColumn, ...]
    footer: tuple[TableColumn, ...]


@dataclass
class CompatData:
    version: str
    coverage: dict[str, Any]
    facts: dict[str, FactSpec]
    derive: list[Derivation]
    rows: dict[str, RowsTable]
    lookups: dict[str, LookupTable]
    rules: list[Rule]
    known_failures: list[KnownFailure]
    table: CombinationsTable | None = None
    path: str = ""
    cache: dict[Any, Any] = field(default_factory=dict)
    types: dict[str, FactType] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.types = {name: spec.type for name, spec in self.facts.items()}

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


def _is_url(text: Any) -> bool:
    return isinstance(text, str) and text.startswith(("https://", "http://")) and " " not in text and len(text) > 12


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _flatten(v)]
    return [value]


def _sources(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise DataError(f"{where}: needs a non-empty 'sources' list of URLs")
    for s in raw:
        if not _is_url(s):
            raise DataError(f"{where}: source {s!r} is not an http(s) URL")
    return tuple(raw)


def template_fields(text: str) -> list[str]:
    """``{fact}`` names in a text; raises ValueError on malformed braces."""
    names = []
    for _lit, name, spec, conv in string.Formatter().parse(text):
        if name is None:
            continue
        if not name or spec or conv or not name.replace("_", "a").isalnum():
            raise ValueError(f"bad placeholder {{{name}}} (write {{{{ }}}} for literal braces)")
        names.append(name)
    return names


def _check_template(text: Any, where: str, facts: dict[str, FactSpec]) -> str:
    if not isinstance(text, str):
        raise DataError(f"{where}: expected text")
    try:
        names = template_fields(text)
    except ValueError as exc:
        raise DataError(f"{where}: {exc}") from None
    for name in names:
        if name not in facts:
            raise DataError(f"{where}: {{{name}}} is not a declared fact")
    return text


def _check_value(value: Any, target: FactSpec, where: str, facts: dict[str, FactSpec]) -> None:
    """A derived value: a ``{fact}`` copy, a template (text types), or a literal of the target type."""
    if isinstance(value, str) and "{" in value:
        _check_template(value, where, facts)
        names = template_fields(value)
        if value == "{" + names[0] + "}" and len(names) == 1:
            src = facts[names[0]].type
            if src.domain != target.type.domain or src.is_list != target.type.is_list:
                raise DataError(f"{where}: cannot copy {names[0]} ({src.name}) into {target.name} ({target.type.name})")
            return
        if target.type.domain != STRING:
            raise DataError(f"{where}: a text template cannot be a {target.type.name} value")
        return
    try:
        target.type.parse(value)
    except (ValueError, VersionError, TypeError) as exc:
        raise DataError(f"{where}: {value!r} is not a valid {target.type.name}: {exc}") from None


def _condition(when: Any, where: str, fact_types: dict[str, str]) -> Condition:
    try:
        return parse_condition(when, fact_types)
    except ConditionError as exc:
        raise DataError(f"{where}: {exc}") from None


def parse_data(doc: Any, path: str = "") -> CompatData:
    """Check and read a compat data document, section by section (each may refer to the ones before)."""
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise DataError(f"{path or 'data'}: not a {SCHEMA} document")
    facts = _parse_facts(doc)
    fact_types = {n: s.type.name for n, s in facts.items()}
    rows, lookups = _parse_tables(doc, fact_types)
    derive = _parse_derive(doc, facts, rows, lookups)
    rules = _parse_rules(doc, facts, fact_types)
    known = _parse_known_failures(doc, facts, {r.id for r in rules})
    table = _combinations_table(doc.get("combinations_table"), facts, derive)
    return CompatData(str(doc.get("version", "")), dict(doc.get("coverage") or {}), facts, derive, rows, lookups,
                      rules, known, table, path)


def _parse_facts(doc: dict[str, Any]) -> dict[str, FactSpec]:
    facts: dict[str, FactSpec] = {}
    for name, spec in (doc.get("facts") or {}).items():
        if not isinstance(spec, dict) or spec.get("type") not in TYPES:
            raise DataError(f"facts.{name}: type must be one of {sorted(TYPES)}")
        ftype = TYPES[spec["type"]]
        assume = None
        if "assume" in spec:
            try:
                assume = ftype.parse(spec["assume"])
            except (ValueError, VersionError) as exc:
                raise DataError(f"facts.{name}: assume: {exc}") from None
        allowed = tuple(spec.get("values") or ())
        facts[name] = FactSpec(name, ftype, str(spec.get("description", "")), bool(spec.get("input")), assume, allowed)
    return facts


def _parse_tables(doc: dict[str, Any], fact_types: dict[str, str]) -> tuple[dict[str, RowsTable], dict[str, LookupTable]]:
    rows: dict[str, RowsTable] = {}
    lookups: dict[str, LookupTable] = {}
    for name, table in (doc.get("tables") or {}).items():
        where = f"tables.{name}"
        kind = table.get("kind") if isinstance(table, dict) else None
        if kind == "rows":
            parsed = []
            for i, r in enumerate(table.get("rows") or []):
                w = f"{where}.rows[{i}]"
                if not isinstance(r, dict) or "when" not in r or "value" not in r:
                    raise DataError(f"{w}: a row needs 'when' and 'value'")
                parsed.append(Row(_condition(r["when"], w, fact_types), r["value"], _sources(r.get("sources"), w),
                                  r.get("note")))
            if not parsed:
                raise DataError(f"{where}: no rows")
            rows[name] = RowsTable(name, str(table.get("description", "")), tuple(parsed))
        elif kind == "lookup":
            key_type = TYPES.get(table.get("key_type", ""))
            columns = tuple(table.get("columns") or ())
            template = table.get("source_template")
            urls = [template] if isinstance(template, str) else list(_flatten(template))
            if key_type is None or not columns or not urls or any(not _is_url(u) or "{tag}" not in u for u in urls):
                raise DataError(f"{where}: a lookup needs key_type, columns and source_template URL(s) with {{tag}}")
            if isinstance(template, dict) and any(c not in columns for c in template):
                raise DataError(f"{where}: source_template names a column that does not exist")
            entries: dict[str, tuple[str, list[Any]]] = {}
            for key, values in (table.get("entries") or {}).items():
                try:
                    k = key_type.parse(key)
                except (ValueError, VersionError) as exc:
                    raise DataError(f"{where}.entries[{key!r}]: {exc}") from None
                if not isinstance(values, list) or len(values) != len(columns):
                    raise DataError(f"{where}.entries[{key!r}]: expected {len(columns)} values {list(columns)}")
                canon = key_type.key(k).canonical
                if canon in entries:
                    raise DataError(f"{where}.entries[{key!r}]: duplicate of {entries[canon][0]!r}")
                entries[canon] = (key, values)
            lookups[name] = LookupTable(name, str(table.get("description", "")), key_type, columns, entries,
                                        template, dict(table.get("tag_template") or {"*": "{key}"}))
        else:
            raise DataError(f"{where}: kind must be 'rows' or 'lookup'")
    return rows, lookups


def _parse_derive(doc: dict[str, Any], facts: dict[str, FactSpec], rows: dict[str, RowsTable],
                  lookups: dict[str, LookupTable]) -> list[Derivation]:
    derive: list[Derivation] = []
    for i, d in enumerate(doc.get("derive") or []):
        where = f"derive[{i}]"
        if not isinstance(d, dict):
            raise DataError(f"{where}: expected an object")
        target = d.get("fact")
        if "parse" in d:
            src, parser, outputs = d.get("parse"), d.get("parser"), d.get("facts") or {}
            if src not in facts or parser not in PARSERS or not outputs or any(o not in facts for o in outputs):
                raise DataError(f"{where}: a parse needs a known fact, a parser in {PARSERS} and declared output facts")
            derive.append(Derivation("parse", parser=parser, source_fact=src, outputs=dict(outputs)))
            continue
        if target not in facts:
            raise DataError(f"{where}: unknown fact {target!r}")
        spec = facts[target]
        if "rows" in d:
            table_name = d["rows"]
            if table_name not in rows:
                raise DataError(f"{where}: no rows table {table_name!r}")
            bind = dict(d.get("bind") or {})
            for a, b in bind.items():
                if a not in facts or b not in facts or facts[a].type.name != facts[b].type.name:
                    raise DataError(f"{where}: bind {a} -> {b} must map facts of one type")
            for j, r in enumerate(rows[table_name].rows):
                _check_value(r.value, spec, f"tables.{table_name}.rows[{j}] (for {target})", facts)
            derive.append(Derivation("rows", target, table_name, bind))
        elif "lookup" in d:
            table_name, key = d["lookup"], d.get("key")
            lookup = lookups.get(table_name)
            if lookup is None or key not in facts or facts[key].type.name != lookup.key_type.name:
                raise DataError(f"{where}: lookup needs a lookup table and a key fact of its key_type")
            if d.get("column") not in lookup.columns:
                raise DataError(f"{where}: column must be one of {list(lookup.columns)}")
            col = lookup.columns.index(d["column"])
            for written, values in lookup.entries.values():
                if values[col] is not None:
                    _check_value(values[col], spec, f"tables.{table_name}.entries[{written!r}] (for {target})", facts)
            derive.append(Derivation("lookup", target, table_name, key=key, column=col))
        elif "search" in d:
            s = d["search"]
            lookup = lookups.get(str(s.get("table"))) if isinstance(s, dict) else None
            if lookup is None or s.get("vary") not in facts or facts[s["vary"]].type.name != lookup.key_type.name:
                raise DataError(f"{where}: search needs a lookup table and a 'vary' fact of its key_type")
            for group in ("keep", "require", "only_if"):
                if any(f not in facts for f in s.get(group) or []):
                    raise DataError(f"{where}: search.{group} names an unknown fact")
            if any(c not in lookup.columns for c in s.get("group_by") or []):
                raise DataError(f"{where}: search.group_by names an unknown column")
            if s.get("pick") not in ("first", "last"):
                raise DataError(f"{where}: search.pick must be first or last")
            if facts[target].type.name != lookup.key_type.name:
                raise DataError(f"{where}: a search result is a {lookup.key_type.name}")
            derive.append(Derivation("search", target, search=dict(s)))
        else:
            raise DataError(f"{where}: needs rows, lookup, parse or search")
    return derive


def _parse_rules(doc: dict[str, Any], facts: dict[str, FactSpec], fact_types: dict[str, str]) -> list[Rule]:
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, r in enumerate(doc.get("rules") or []):
        rid = r.get("id") if isinstance(r, dict) else None
        where = f"rules[{i}] ({rid})"
        if not isinstance(rid, str) or not rid or rid in seen or not rid.replace("-", "").replace(".", "").isalnum():
            raise DataError(f"{where}: needs a unique id of letters, digits, '-' and '.'")
        seen.add(rid)
        try:
            status = Status(r.get("status"))
        except ValueError:
            raise DataError(f"{where}: status must be pass, warn or fail") from None
        if status not in (Status.PASS, Status.WARN, Status.FAIL):
            raise DataError(f"{where}: status must be pass, warn or fail")
        fixes = []
        for j, f in enumerate(r.get("fixes") or []):
            fw = f"{where}.fixes[{j}]"
            if not isinstance(f, dict) or not f.get("title"):
                raise DataError(f"{fw}: a fix needs a title")
            docs = tuple(f.get("docs") or ())
            if any(not _is_url(u) for u in docs):
                raise DataError(f"{fw}: docs must be URLs")
            legacy = Fix("-", tuple(f.get("steps") or ()))  # a --data file of the older layout
            commands = (*legacy.commands, *(f.get("commands") or ()))
            notes = (*legacy.notes, *(f.get("notes") or ()))
            fixes.append(RuleFix(_check_template(f["title"], fw, facts),
                                 tuple(_check_template(s, fw, facts) for s in commands), docs,
                                 tuple(_check_template(s, fw, facts) for s in notes)))
        if status.needs_fix and not fixes:
            raise DataError(f"{where}: a {status.value} rule needs at least one fix")
        if not r.get("title"):
            raise DataError(f"{where}: needs a title")
        rules.append(Rule(
            rid, status, _condition(r.get("when"), where, fact_types),
            _check_template(r["title"], f"{where}.title", facts),
            _check_template(r.get("detail", ""), f"{where}.detail", facts),
            _check_template(r["symptom"], f"{where}.symptom", facts) if r.get("symptom") else None,
            _check_template(r["pass"], f"{where}.pass", facts) if r.get("pass") else None,
            tuple(fixes), _sources(r.get("sources"), where), tuple(r.get("explains") or ()), r.get("known_failure"),
            r.get("same_as_finding"),
            _condition(r["pass_when"], f"{where}.pass_when", fact_types) if r.get("pass_when") else None,
        ))
    ids = {r.id for r in rules}
    for i, r in enumerate(rules):
        for e in r.explains:
            if e not in ids or e == r.id:
                raise DataError(f"rules[{i}] ({r.id}): explains unknown rule {e!r}")
    return rules


def _parse_known_failures(doc: dict[str, Any], facts: dict[str, FactSpec], ids: set[str]) -> list[KnownFailure]:
    known: list[KnownFailure] = []
    for i, k in enumerate(doc.get("known_failures") or []):
        where = f"known_failures[{i}]"
        inputs = k.get("inputs") or {}
        for name, raw in inputs.items():
            if name not in facts or not facts[name].input:
                raise DataError(f"{where}: {name!r} is not an input fact")
            try:
                facts[name].type.parse(raw)
            except (ValueError, VersionError) as exc:
                raise DataError(f"{where}: {name}: {exc}") from None
        expect = k.get("expect") or {}
        if any(rid not in ids for rid in expect.get("rules") or []):
            raise DataError(f"{where}: expects an unknown rule")
        known.append(KnownFailure(str(k.get("id")), str(k.get("description", "")), dict(inputs),
                                  Status(expect.get("status", "pass")), tuple(expect.get("rules") or ()),
                                  _sources(k.get("sources"), where)))
    return known


def _combinations_table(raw: Any, facts: dict[str, FactSpec], derive: list[Derivation]) -> CombinationsTable | None:
    if raw is None:
        return None
    where = "combinations_table"
    searches = {d.fact for d in derive if d.kind == "search"}

    def columns(items: Any) -> tuple[TableColumn, ...]:
        out = []
        for c in items or []:
            if not isinstance(c, dict) or not c.get("title"):
                raise DataError(f"{where}: every column needs a title")
            if "search" in c:
                if c["search"] not in searches:
                    raise DataError(f"{where}: {c['search']!r} is not a search derivation")
                out.append(TableColumn(c["title"], c["search"], True))
            elif c.get("fact") in facts:
                out.append(TableColumn(c["title"], c["fact"]))
            else:
                raise DataError(f"{where}: column {c['title']!r} names no declared fact")
        return tuple(out)

    key = raw.get("key")
    if key not in facts:
        raise DataError(f"{where}: key must be a declared fact")
    return CombinationsTable(int(raw.get("lines", 8)), key, columns(raw.get("columns")), columns(raw.get("footer")))


def load_data(path: str | Path | None = None) -> CompatData:
    """The packaged data (cached) or the file at ``path``."""
    if path is None:
        return _default()
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{p}: {exc}") from None
    return parse_data(doc, str(p))


@cache
def _default() -> CompatData:
    text = files("jnlpdiag").joinpath("data/compat-matrix.json").read_text(encoding="utf-8")
    return parse_data(json.loads(text), "jnlpdiag/data/compat-matrix.json")
