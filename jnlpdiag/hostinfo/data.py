"""``jnlpdiag/data/hostchecks.json``: thresholds, loader error signatures and estimates (with sources)."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def hostchecks() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        files("jnlpdiag").joinpath("data/hostchecks.json").read_text(encoding="utf-8"))
    return loaded


def loader_error_cause(message: str) -> str | None:
    """The cause a loader error text names (``noexec``, ``symbol-version``...), or None."""
    for pattern in hostchecks()["dlopen_signatures"]["patterns"]:
        if pattern["text"] in message:
            return str(pattern["cause"])
    return None
