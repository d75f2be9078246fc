"""Status badges as Rich Text: a symbol and a word for every state, colour only on top of those."""

from __future__ import annotations

from rich.text import Text

from jnlpdiag.findings import Status
from jnlpdiag.tui.state import DONE, RUNNING, ProbeView

STATUS_STYLE = {
    Status.PASS: "green",
    Status.SKIP: "dim",
    Status.WARN: "bold yellow",
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
}
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
QUEUED_SYMBOL = "·"


def status_badge(status: Status) -> Text:
    return Text(f"{status.symbol} {status.value.upper():<5}", style=STATUS_STYLE[status])


def probe_badge(pv: ProbeView, frame: int = 0) -> Text:
    """``✓ PASS `` / ``⠹ RUN  `` / ``· QUEUE``: the same width for every state."""
    if pv.phase == DONE and pv.status is not None:
        return status_badge(pv.status)
    if pv.phase == RUNNING:
        return Text(f"{SPINNER[frame % len(SPINNER)]} RUN  ", style="bold cyan")
    return Text(f"{QUEUED_SYMBOL} QUEUE", style="dim")


def seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 100 else f"{value:.0f} s"
