"""The supported-combinations table: per recent LTS line, what the data says works.

Columns come from ``combinations_table`` in the data file; each cell is a fact evaluated for the
line's latest point release, and a search column shows the range of releases (e.g. of the
kubernetes-plugin) for which no rule fails — so the table can never disagree with the verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jnlpdiag.compat.data import CompatData, load_data
from jnlpdiag.compat.engine import Observed, evaluate, search_candidates


def lts_lines(data: CompatData) -> list[tuple[str, str]]:
    """(line, latest point release) of every LTS line in the Jenkins release list, oldest first."""
    table = next(t for t in data.lookups.values() if t.key_type.name == "jenkins")
    latest: dict[str, str] = {}
    for written in table.ordered_keys():
        parts = written.split(".")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            latest[f"{parts[0]}.{parts[1]}"] = written  # ordered keys: the last one wins
    return list(latest.items())


def _range(candidates: list[tuple[str, bool]]) -> tuple[str | None, str | None, bool]:
    good = [w for w, ok in candidates if ok]
    if not good:
        return None, None, False
    return good[0], good[-1], candidates[-1][0] == good[-1]


def supported_combinations(data: CompatData | None = None, lines: int | None = None,
                           inputs: Mapping[str, Observed] | None = None) -> list[dict[str, Any]]:
    data = data or load_data()
    spec = data.table
    if spec is None:
        return []
    count = spec.lines if lines is None else lines
    chosen = lts_lines(data)[-count:] if count > 0 else lts_lines(data)
    key_type = data.facts[spec.key].type
    searches = {d.fact: d.search for d in data.derive if d.kind == "search"}
    rows = []
    for line, latest in reversed(chosen):
        observed = dict(inputs or {})
        observed[spec.key] = Observed(key_type.parse(latest), "table")
        ev = evaluate(data, observed, search=False)
        cells: dict[str, Any] = {}
        for col in (*spec.columns, *spec.footer):
            if col.search:
                first, last, to_newest = _range(search_candidates(data, searches[col.fact], observed))
                cells[col.title] = {"first": first, "last": last, "newest_known": to_newest}
            else:
                cells[col.title] = ev.facts.display(col.fact)
        rows.append({"line": f"{line}.x", "latest": latest, "cells": cells, "status": ev.status.value})
    return rows


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        if value["first"] is None:
            return "none"
        return f"{value['first']} or newer" if value["newest_known"] else f"{value['first']} .. {value['last']}"
    return "?" if value is None else str(value)


def render_table(rows: list[dict[str, Any]], data: CompatData | None = None) -> str:
    data = data or load_data()
    spec = data.table
    if spec is None or not rows:
        return "No combinations table in the compatibility data.\n"
    titles = ["LTS line", "Latest", *(c.title for c in spec.columns)]
    body = [[r["line"], r["latest"], *(_cell(r["cells"][c.title]) for c in spec.columns)] for r in rows]
    widths = [max(len(t), *(len(b[i]) for b in body)) for i, t in enumerate(titles)]
    out = [f"Supported combinations for recent Jenkins LTS lines (compatibility data {data.version})", ""]
    out.append("  ".join(t.ljust(w) for t, w in zip(titles, widths)).rstrip())
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(b, widths)).rstrip() for b in body]
    for col in spec.footer:
        out.append("")
        out.append(f"{col.title}:")
        out += [f"  {r['line']:<9} {_cell(r['cells'][col.title])}" for r in rows]
    cov = data.coverage
    out.append("")
    out.append(f"Data covers Jenkins <= {cov.get('jenkins')}, remoting <= {cov.get('remoting')}, "
               f"kubernetes-plugin <= {cov.get('kubernetes_plugin')}. Check one combination with "
               "`jnlpdiag matrix --jenkins V --java V ...`; sources: docs/compat.md.")
    return "\n".join(out) + "\n"
