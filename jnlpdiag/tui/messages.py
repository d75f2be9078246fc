"""Messages that carry the Runner's events (from its worker thread) and export results to the UI."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from jnlpdiag.runner import Event


class RunEvent(Message):
    """One Runner event of run number ``run_id`` (events of a superseded run are ignored)."""

    def __init__(self, run_id: int, event: Event) -> None:
        super().__init__()
        self.run_id = run_id
        self.event = event


class RunStopped(Message):
    """The run ended without RunFinished: cancelled, or the runner itself broke."""

    def __init__(self, run_id: int, reason: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.reason = reason


class ExportDone(Message):
    def __init__(self, path: Path | None, error: str | None = None) -> None:
        super().__init__()
        self.path = path
        self.error = error

