"""The Textual application: one results screen per mode, chosen by the command that starts it.

``jnlpdiag tui`` opens a :class:`LiveScreen` (it runs the probes), ``jnlpdiag show`` a
:class:`ShowScreen` (a saved report, read-only) and ``jnlpdiag demo`` a :class:`DemoScreen`. The
screen owns its model and its work; the app only hosts it, turns a crash into a redacted message
and exposes what the command prints after the UI closes (the model, the last export).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App

from jnlpdiag.probe_api import Probe
from jnlpdiag.redact import Redactor
from jnlpdiag.run_report import Report
from jnlpdiag.settings import Settings
from jnlpdiag.tui.screens.live import DemoScreen, LiveScreen, with_dependencies
from jnlpdiag.tui.screens.results import ResultsScreen
from jnlpdiag.tui.screens.show import ShowScreen
from jnlpdiag.tui.state import RunView, clean_text

__all__ = ["JnlpdiagApp", "with_dependencies"]


class JnlpdiagApp(App[int]):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute, so subclasses find it too
    TITLE = "jnlpdiag"
    ENABLE_COMMAND_PALETTE = False
    # Designed for 80x24 first; from 110 columns the detail and settings panes sit beside the checks.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    def __init__(self, screen: ResultsScreen, *, export_dir: Path | None = None) -> None:
        super().__init__()
        self.results = screen
        self.export_dir = export_dir
        self.redactor = screen.redactor

    @classmethod
    def live(cls, probes: list[type[Probe]], settings: Settings, *, redactor: Redactor | None = None,
             export_dir: Path | None = None, autostart: bool = True) -> JnlpdiagApp:
        return cls(LiveScreen(probes, settings, redactor=redactor, autostart=autostart), export_dir=export_dir)

    @classmethod
    def show(cls, report: Report, source: str = "", *, redactor: Redactor | None = None,
             export_dir: Path | None = None) -> JnlpdiagApp:
        return cls(ShowScreen(report, source, redactor=redactor), export_dir=export_dir)

    @classmethod
    def demo(cls, probes: list[type[Probe]], settings: Settings, label: str, *,
             redactor: Redactor | None = None) -> JnlpdiagApp:
        return cls(DemoScreen(probes, settings, label, redactor=redactor))

    def get_default_screen(self) -> ResultsScreen:
        return self.results

    # What the commands and tests read once the UI has run.

    @property
    def main(self) -> ResultsScreen:
        return self.results

    @property
    def model(self) -> RunView:
        return self.results.model

    @property
    def settings(self) -> Settings | None:
        return getattr(self.results, "settings", None)

    @property
    def last_export(self) -> Path | None:
        return self.results.last_export

    @property
    def export_error(self) -> str | None:
        return self.results.export_error

    async def action_quit(self) -> None:
        """Ctrl+Q quits as q does: with the verdict's exit code."""
        self.results.action_quit_app()

    # A crash report must not print local variables (they may hold settings) nor a secret.
    def _handle_exception(self, error: Exception) -> None:
        self._crash = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        import traceback

        from rich.text import Text

        self.bell()
        error: Any = getattr(self, "_crash", None)
        if error is not None:
            lines = traceback.format_exception(type(error), error, error.__traceback__)
        else:
            lines = [traceback.format_exc()]
        text = clean_text("".join(lines), self.redactor, 50_000)
        self._exit_renderables.append(Text("jnlpdiag: the UI failed (a bug; please report it):\n" + text))
        self._close_messages_no_wait()
