"""Probes that replay the findings of a saved report through the real Runner and the live screen.

For the screenshots of a live run: the layout under test is the screen's, so the findings come from a
fixed report (no ports, no clock in them) while the path they take is the live one (Runner events ->
RunEvent messages -> LiveScreen). Durations are pinned after the run for the same reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from jnlpdiag.findings import Finding, Layer
from jnlpdiag.probe_api import Context, Probe
from jnlpdiag.registry import load_probes
from jnlpdiag.tui.loading import load_report

DATA = Path(__file__).parent / "data"


def replay_probes(name: str) -> list[type[Probe]]:
    report, _ = load_report(DATA / name)
    # A replay stands in for the real probe: it declares the same options (they show in the settings).
    real = {p.id: p for p in load_probes()[0]}
    out: list[type[Probe]] = []
    for entry in report.probes:
        mine = [f for f in report.findings if f.probe == entry["id"]]

        async def run(self: Probe, ctx: Context, _mine: list[Finding] = mine) -> AsyncIterator[Finding]:
            for f in _mine:
                yield Finding.from_dict(f.to_dict())

        out.append(type(f"Replay_{entry['id']}", (Probe,), {
            "id": entry["id"], "layer": Layer(entry["layer"]), "description": entry["description"], "run": run,
            "options": real[entry["id"]].options if entry["id"] in real else (),
        }))
    return out


def pin_durations(screen) -> None:
    """Replace measured durations (they vary run to run) by the report's, then redraw."""
    for pv in screen.model.probes.values():
        mine = screen.model.findings_of(pv.id)
        pv.duration_ms = max((f.duration_ms for f in mine), default=0.0)
    screen.refresh_all()
