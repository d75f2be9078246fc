"""Renderers of a report. Each module here defines ``FORMAT`` (its ``--format`` name) and
``render(report) -> str``; the text and JSON forms come from the same report data.

A renderer is for people unless its module says ``EXACT = True`` (JSON: data, escaped by JSON
itself). :func:`renderers` hands every renderer for people the report made visible by
:func:`jnlpdiag.escape.for_humans`, so no renderer, present or future, can print outside text raw.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from jnlpdiag.escape import for_humans
from jnlpdiag.run_report import Report

Renderer = Callable[[Report], str]


def renderers() -> dict[str, Renderer]:
    found: dict[str, Renderer] = {}
    for info in pkgutil.iter_modules(__path__):
        mod = importlib.import_module(f"{__name__}.{info.name}")
        fmt = getattr(mod, "FORMAT", None)
        if fmt:
            found[fmt] = mod.render if getattr(mod, "EXACT", False) else _for_humans(mod.render)
    return found


def _for_humans(render: Renderer) -> Renderer:
    def render_visible(report: Report) -> str:
        return render(for_humans(report))

    render_visible.__wrapped__ = render  # type: ignore[attr-defined]
    return render_visible

