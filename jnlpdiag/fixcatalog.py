"""Fix texts live in data files (``jnlpdiag/data/fixes/<probe>.json``), not in probe code.

Each entry: ``{"title": ..., "commands": [...], "notes": [...], "docs": [...], "source": ...}``:
``commands`` are shell lines (shown with ``$``, copyable), ``notes`` prose or config. ``{placeholders}``
in title, commands and notes are filled from keyword arguments; a missing one (or one whose value is
None) stays visible as ``<name>``, which the catalogue test (tests/test_fix_catalogue.py) forbids.
"""

from __future__ import annotations

import json
import string
from functools import cache
from importlib.resources import files
from typing import Any

from jnlpdiag.findings import Fix


class _Keep(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return f"<{key}>"


@cache
def _catalog(name: str) -> dict[str, Any]:
    data = files("jnlpdiag").joinpath(f"data/fixes/{name}.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(data)
    return loaded


def fill(text: str, values: dict[str, Any]) -> str:
    """``text`` with ``{name}`` replaced by ``values[name]``; never the word None."""
    return string.Formatter().vformat(text, (), _Keep({k: v for k, v in values.items() if v is not None}))


def fix_from_entry(entry: dict[str, Any], values: dict[str, Any]) -> Fix:
    """A :class:`Fix` from one catalogue entry, its placeholders filled from ``values``.

    An entry of an older layout (one ``steps`` list) still works: ``#`` lines are notes.
    """
    if "steps" in entry and "commands" not in entry:
        return Fix(fill(entry["title"], values), tuple(fill(s, values) for s in entry["steps"]),
                   tuple(entry.get("docs", ())))
    return Fix(
        title=fill(entry["title"], values),
        commands=tuple(fill(s, values) for s in entry.get("commands", ())),
        notes=tuple(fill(s, values) for s in entry.get("notes", ())),
        docs=tuple(entry.get("docs", ())),
    )


def fix(catalog: str, key: str, **values: Any) -> Fix:
    return fix_from_entry(_catalog(catalog)["fixes"][key], values)


def fixes(catalog: str, *keys: str, **values: Any) -> list[Fix]:
    return [fix(catalog, k, **values) for k in keys]
