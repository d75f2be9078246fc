"""Fix texts live in data files (``jnlpdiag/data/fixes/<probe>.json``), not in probe code.

Each entry: ``{"title": ..., "steps": [...], "docs": [...], "source": ...}``; ``{placeholders}``
in title and steps are filled from keyword arguments (missing ones stay visible as ``<name>``).
"""

from __future__ import annotations

import json
import string
from functools import cache
from importlib.resources import files
from typing import Any

from jnlpdiag.model import Fix


class _Keep(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return f"<{key}>"


@cache
def _catalog(name: str) -> dict[str, Any]:
    data = files("jnlpdiag").joinpath("data", "fixes", f"{name}.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(data)
    return loaded


def _fill(text: str, values: dict[str, Any]) -> str:
    return string.Formatter().vformat(text, (), _Keep(values))


def fix(catalog: str, key: str, **values: Any) -> Fix:
    entry = _catalog(catalog)["fixes"][key]
    return Fix(
        title=_fill(entry["title"], values),
        steps=tuple(_fill(s, values) for s in entry.get("steps", ())),
        docs=tuple(entry.get("docs", ())),
    )


def fixes(catalog: str, *keys: str, **values: Any) -> list[Fix]:
    return [fix(catalog, k, **values) for k in keys]
