"""The top line: mode badge (DEMO / READ-ONLY), the URL checked, the overall verdict and progress."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from jnlpdiag.findings import Status
from jnlpdiag.tui.state import RunView
from jnlpdiag.tui.widgets.labels import SPINNER, STATUS_STYLE


class StatusLine(Horizontal):
    def __init__(self, badge: str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.badge = badge

    def compose(self) -> ComposeResult:
        badge = Label(self.badge, id="badge")
        badge.display = bool(self.badge)
        yield badge
        yield Label("", id="verdict")
        yield Label("", id="target")
        yield ProgressBar(total=1, show_eta=False, show_percentage=False, id="progress")
        yield Label("", id="count")

    def update_view(self, model: RunView, frame: int = 0, badge: str | None = None, note: str = "") -> None:
        if badge is not None and badge != self.badge:
            self.badge = badge
            label = self.query_one("#badge", Label)
            label.update(badge)
            label.display = bool(badge)
        done, total = model.progress()
        if model.running:
            verdict = Text(f"{SPINNER[frame % len(SPINNER)]} RUNNING", style="bold cyan")
        elif model.report is None and not model.findings:
            verdict = Text("· NOT RUN", style="dim")
        else:
            status = model.status
            verdict = Text(f"{status.symbol} {status.value.upper()}", style=STATUS_STYLE[status])
            if status is Status.PASS and not model.findings:
                verdict = Text("- NO FINDINGS", style="dim")
        self.query_one("#verdict", Label).update(verdict)
        url = model.setting("url") or "(no Jenkins URL)"
        target = Text(str(url), no_wrap=True, overflow="ellipsis")
        if note:
            target.append(f"  {note}", style="italic")
        self.query_one("#target", Label).update(target)
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=max(total, 1), progress=done)
        self.query_one("#count", Label).update(f"{done}/{total} probes")
