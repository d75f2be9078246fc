"""Renderers of a report. Each module here defines ``FORMAT`` (its ``--format`` name) and
``render(report) -> str``; the text and JSON forms come from the same report data."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from jnlpdiag.report import Report

Renderer = Callable[[Report], str]


def renderers() -> dict[str, Renderer]:
    found: dict[str, Renderer] = {}
    for info in pkgutil.iter_modules(__path__):
        mod = importlib.import_module(f"{__name__}.{info.name}")
        fmt = getattr(mod, "FORMAT", None)
        if fmt:
            found[fmt] = mod.render
    return found

