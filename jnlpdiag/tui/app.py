"""The Textual application: runs the probes in a worker thread and shows their events live.

The Runner runs in a thread worker on its own asyncio loop, so a probe that blocks (a slow DNS
lookup, a subprocess) never freezes the screen; each event comes back as a :class:`RunEvent`
message. ``jnlpdiag show`` builds the same app read-only from a saved report.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from textual.app import App

from jnlpdiag.probe import Probe
from jnlpdiag.redact import Redactor
from jnlpdiag.report import EXIT_ERROR, Report
from jnlpdiag.runner import Event, Runner
from jnlpdiag.settings import Settings
from jnlpdiag.tui import edits
from jnlpdiag.tui.export import export_report
from jnlpdiag.tui.messages import ExportDone, RunEvent, RunStopped
from jnlpdiag.tui.screens.main import MainScreen
from jnlpdiag.tui.state import DONE, QUEUED, RunModel, clean_text


def with_dependencies(probes: list[type[Probe]], wanted: set[str]) -> list[type[Probe]]:
    """``wanted`` plus every probe they require or wait for (their facts are needed), in order."""
    by_id = {p.id: p for p in probes}
    chosen: set[str] = set()
    stack = [pid for pid in wanted if pid in by_id]
    while stack:
        pid = stack.pop()
        if pid in chosen:
            continue
        chosen.add(pid)
        stack.extend(d for d in (*by_id[pid].requires, *by_id[pid].after) if d in by_id)
    return [p for p in probes if p.id in chosen]


class JnlpdiagApp(App[int]):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute, so subclasses find it too
    TITLE = "jnlpdiag"
    ENABLE_COMMAND_PALETTE = False
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    def __init__(
        self,
        *,
        probes: list[type[Probe]] | None = None,
        settings: Settings | None = None,
        redactor: Redactor | None = None,
        report: Report | None = None,
        source: str | None = None,
        demo: str | None = None,
        export_dir: Path | None = None,
        options: dict[str, Any] | None = None,
        autostart: bool = True,
    ) -> None:
        super().__init__()
        secrets = settings.secret_values() if settings else []
        self.redactor = redactor or Redactor(secrets)
        self.model = RunModel(self.redactor)
        self.probe_classes = list(probes or [])
        self.settings = settings
        self.read_only = report is not None
        self.source = source
        self.demo = demo
        self.export_dir = export_dir
        self.options = options or {}
        self.autostart = autostart
        self.last_export: Path | None = None
        self.export_error: str | None = None
        self._run_id = 0
        self._cancels: dict[int, Callable[[], None]] = {}
        self._lock = threading.Lock()
        if report is not None:
            self.model.load_report(report)
        else:
            self.model.plan(self.probe_classes)
            if settings is not None:
                self.model.set_settings(settings.public_dict())

    # -- screens ---------------------------------------------------------------------------

    def get_default_screen(self) -> MainScreen:
        if self.demo:
            self.main = MainScreen("DEMO", self.demo)
        elif self.read_only:
            report = self.model.report
            host = report.host.get("name") if report else None
            when = report.started_at if report else ""
            note = f"report {self.source or ''} from {host or 'unknown host'} {when}"
            self.main = MainScreen("READ-ONLY", clean_text(note, self.redactor, 300))
        else:
            self.main = MainScreen()
        return self.main

    def main_ready(self) -> None:
        """Called by the main screen once mounted: start the first run."""
        if not self.read_only and self.autostart and self.model.runs == 0 and not self.model.running:
            self.start_run(None)

    # A crash report must not print local variables (they may hold settings) nor a secret.
    def _handle_exception(self, error: Exception) -> None:
        self._crash = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        import traceback

        from rich.text import Text

        self.bell()
        error = getattr(self, "_crash", None)
        lines = traceback.format_exception(error) if error is not None else [traceback.format_exc()]
        text = clean_text("".join(lines), self.redactor, 50_000)
        self._exit_renderables.append(Text("jnlpdiag: the UI failed (a bug; please report it):\n" + text))
        self._close_messages_no_wait()

    # -- running -------------------------------------------------------------------------------

    def start_run(self, probe_ids: set[str] | None) -> None:
        """Run all probes (None) or the given ones with what they depend on; supersedes a running run."""
        if self.read_only or self.settings is None:
            return
        self.cancel_run()
        classes = self.probe_classes if probe_ids is None else with_dependencies(self.probe_classes, probe_ids)
        if not classes:
            self.notify("No probe to run.", severity="warning")
            return
        with self._lock:
            self._run_id += 1
            run_id = self._run_id
        self.model.begin(None if probe_ids is None else {p.id for p in classes})
        self.main.run_started()
        self.run_worker(partial(self._run_in_thread, run_id, classes, self.settings), thread=True,
                        group="run", name=f"run-{run_id}", exit_on_error=False)

    def _run_in_thread(self, run_id: int, classes: list[type[Probe]], settings: Settings) -> None:
        async def main() -> Report:
            loop = asyncio.get_running_loop()
            task = asyncio.current_task()
            assert task is not None
            def cancel() -> None:
                loop.call_soon_threadsafe(task.cancel)

            def deliver(event: Event) -> None:
                self.post_message(RunEvent(run_id, event))

            self._cancels[run_id] = cancel
            runner = Runner(classes, settings, deliver, self.options)
            return await runner.run()

        try:
            asyncio.run(main())
        except asyncio.CancelledError:
            self.post_message(RunStopped(run_id, "cancelled"))
        except Exception as exc:  # the runner itself broke: say so on screen, never crash the UI
            self.post_message(RunStopped(run_id, self.redactor(f"{type(exc).__name__}: {exc}")))
        finally:
            self._cancels.pop(run_id, None)

    def cancel_run(self) -> None:
        for cancel in list(self._cancels.values()):
            try:
                cancel()
            except RuntimeError:  # its loop already closed
                pass

    def on_run_event(self, message: RunEvent) -> None:
        if message.run_id != self._run_id:
            return  # a superseded run still winding down
        self.model.apply(message.event)
        self.main.on_runner_event(message.event)

    def on_run_stopped(self, message: RunStopped) -> None:
        if message.run_id != self._run_id:
            return
        self.model.running = False
        for pv in self.model.probes.values():
            if pv.phase != DONE:
                pv.phase = QUEUED
        self.main.refresh_all()
        if message.reason != "cancelled":
            self.main.say(f"✗ The run stopped: {message.reason}", "bold")

    # -- settings, export, quit ----------------------------------------------------------------

    def apply_edits(self, result: dict[str, Any] | None) -> None:
        if result is None or self.settings is None:
            return
        self.settings = edits.apply(self.settings, result)
        self.model.set_settings(self.settings.public_dict())
        self.start_run(None)

    def export(self) -> None:
        report = self.model.report
        if report is None:
            self.notify("Nothing to export yet: wait for the run to finish.", severity="warning")
            return
        self.run_worker(partial(self._export_in_thread, report), thread=True, group="export",
                        exit_on_error=False)

    def _export_in_thread(self, report: Report) -> None:
        try:
            path = export_report(report, self.redactor, self.export_dir)
        except Exception as exc:  # disk full, read-only folder, a bug in the bundle writer
            self.post_message(ExportDone(None, self.redactor(f"{type(exc).__name__}: {exc}")))
            return
        self.post_message(ExportDone(path))

    def on_export_done(self, message: ExportDone) -> None:
        if message.path is None:
            self.export_error = message.error
            self.main.say(f"✗ Export failed: {message.error}", "bold")
            return
        self.last_export = message.path
        self.main.say(f"✓ Report written to {message.path}", "bold")

    def quit_app(self) -> None:
        self.cancel_run()
        report = self.model.report
        self.exit(report.exit_code if report is not None else EXIT_ERROR)

    async def on_unmount(self) -> None:
        self.cancel_run()
