"""Fix texts, refusal texts and proxy snippets of the transport probes, from
``jnlpdiag/data/transport-fixes.json`` (data, not code; each entry names its source there)."""

from __future__ import annotations

import json
import re
import string
from functools import cache
from importlib.resources import files
from typing import Any

from jnlpdiag import fixcatalog
from jnlpdiag.findings import Fix


class _Keep(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def _fill(text: str, values: dict[str, Any]) -> str:
    return string.Formatter().vformat(text, (), _Keep(values))


@cache
def data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        files("jnlpdiag").joinpath("data/transport-fixes.json").read_text(encoding="utf-8"))
    return loaded


def fix(key: str, **values: Any) -> Fix:
    return fixcatalog.fix_from_entry(data()["fixes"][key], values)


def refusal_cause(reason: str) -> tuple[str, dict[str, str]]:
    """(fix key, named groups) for a controller's refusal text; ``refused_other`` if unknown."""
    for entry in data()["refusals"]:
        m = re.match(entry["match"], reason)
        if m:
            return entry["cause"], {k: v for k, v in m.groupdict().items() if v is not None}
    return "refused_other", {}


def proxy_snippet(kind: str, **values: Any) -> str | None:
    text = data()["proxy_snippets"].get(kind)
    return _fill(text, values) if text else None
