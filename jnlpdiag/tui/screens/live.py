"""The live screen: runs the probes and shows each event as it comes; the demo screen is one of these.

The Runner runs in a thread worker (``@work``) on its own asyncio loop, so a probe that blocks (a slow
DNS lookup, a subprocess) never freezes the screen. Each runner event comes back to this screen as a
:class:`RunEvent` message; nothing calls into the screen from the worker.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from textual import work
from textual.binding import Binding

from jnlpdiag.probe_api import Probe
from jnlpdiag.redact import Redactor
from jnlpdiag.run_report import Report
from jnlpdiag.runner import Event, FindingEmitted, ProbeFinished, ProbeQueued, ProbeStarted, RunFinished, Runner
from jnlpdiag.settings import Settings
from jnlpdiag.tui import edits
from jnlpdiag.tui.messages import RunEvent, RunStopped
from jnlpdiag.tui.screens.edit_settings import EditSettingsScreen
from jnlpdiag.tui.screens.results import ResultsScreen
from jnlpdiag.tui.state import DONE, QUEUED
from jnlpdiag.tui.widgets.probe_tree import ProbeTree
from jnlpdiag.tui.widgets.root_causes import RootCausePanel
from jnlpdiag.tui.widgets.status_line import StatusLine


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


class LiveScreen(ResultsScreen):
    BINDINGS = [
        Binding("r", "rerun_probe", "Rerun"),
        Binding("e", "edit_settings", "Edit"),
        Binding("a", "rerun_all", "Rerun all", show=False),
    ]

    def __init__(self, probes: list[type[Probe]], settings: Settings, *, redactor: Redactor | None = None,
                 autostart: bool = True, badge: str = "", note: str = "") -> None:
        super().__init__(redactor or Redactor(settings.secret_values()), badge=badge, note=note)
        self.probe_classes = list(probes)
        self.settings = settings
        self.autostart = autostart
        self._run_id = 0
        self._cancels: dict[int, Callable[[], None]] = {}
        self._lock = threading.Lock()
        self.model.plan(self.probe_classes)
        self.model.set_settings(settings.public_dict(self.probe_classes))

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(1 / 8, self._tick)
        if self.autostart:
            self.start_run(None)

    def help_rows(self) -> list[tuple[str, str]]:
        return [
            *super().help_rows()[:-2],
            ("r", "re-run the selected check (and the checks it needs)"),
            ("a", "re-run every check"),
            ("e", "edit the URL, agent name, tunnel, WebSocket, CA file or Java, then re-run"),
            *super().help_rows()[-2:],
        ]

    # -- running -----------------------------------------------------------------------------

    def start_run(self, probe_ids: set[str] | None) -> None:
        """Run all probes (None) or the given ones with what they depend on; supersedes a running run."""
        self.cancel_run()
        classes = self.probe_classes if probe_ids is None else with_dependencies(self.probe_classes, probe_ids)
        if not classes:
            self.notify("No probe to run.", severity="warning")
            return
        with self._lock:
            self._run_id += 1
            run_id = self._run_id
        self.model.begin(None if probe_ids is None else {p.id for p in classes})
        self.touched = False
        self.refresh_all()
        self.run_probes(run_id, classes, self.settings)

    @work(thread=True, group="run", exit_on_error=False)
    def run_probes(self, run_id: int, classes: list[type[Probe]], settings: Settings) -> None:
        async def main() -> Report:
            loop = asyncio.get_running_loop()
            task = asyncio.current_task()
            assert task is not None

            def cancel() -> None:
                loop.call_soon_threadsafe(task.cancel)

            def deliver(event: Event) -> None:
                self.post_message(RunEvent(run_id, event))

            self._cancels[run_id] = cancel
            return await Runner(classes, settings, deliver).run()

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
        event = message.event
        model = self.model
        model.apply(event)
        tree = self.query_one(ProbeTree)
        self.query_one(StatusLine).update_view(model, self.frame, self.badge, self.note)
        if isinstance(event, ProbeStarted):
            tree.update_probe(model, event.probe_id, self.frame)
        elif isinstance(event, (ProbeQueued, FindingEmitted, ProbeFinished)):
            tree.rebuild(model, self.show_passed, self.frame)
            self.query_one(RootCausePanel).update_view(model)
            if isinstance(event, FindingEmitted) and self.selected in (None, f"probe:{event.finding.probe}"):
                self.show_selected()
        elif isinstance(event, RunFinished):
            self.refresh_all()
            if not self.touched:  # never pull the cursor away from someone reading another check
                self.focus_first_root()

    def on_run_stopped(self, message: RunStopped) -> None:
        if message.run_id != self._run_id:
            return
        self.model.running = False
        for pv in self.model.probes.values():
            if pv.phase != DONE:
                pv.phase = QUEUED
        self.refresh_all()
        if message.reason != "cancelled":
            self.say(f"✗ The run stopped: {message.reason}", "bold")

    def _tick(self) -> None:
        if not self.model.running:
            return
        self.frame += 1
        self.query_one(ProbeTree).refresh_running(self.model, self.frame)
        self.query_one(StatusLine).update_view(self.model, self.frame, self.badge, self.note)

    def on_unmount(self) -> None:
        self.cancel_run()

    def action_quit_app(self) -> None:
        self.cancel_run()
        super().action_quit_app()

    # -- actions -----------------------------------------------------------------------------

    def selected_probes(self) -> set[str] | None:
        model = self.model
        data = self.selected or ""
        if data.startswith("probe:"):
            return {data.removeprefix("probe:")}
        if data.startswith("finding:"):
            f = model.finding(data.removeprefix("finding:"))
            return {f.probe} if f else None
        if data.startswith("layer:"):
            return {pv.id for pv in model.probes.values() if pv.layer.value == data.removeprefix("layer:")}
        return None

    def action_rerun_probe(self) -> None:
        probes = self.selected_probes()
        if not probes:
            self.notify("Select a check first (arrow keys), then press r.", severity="warning")
            return
        self.start_run(probes)

    def action_rerun_all(self) -> None:
        self.start_run(None)

    def action_edit_settings(self) -> None:
        self.app.push_screen(EditSettingsScreen(edits.current_values(self.settings)), self.apply_edits)

    def apply_edits(self, result: dict[str, Any] | None) -> None:
        if result is None:
            return
        self.settings = edits.apply(self.settings, result)
        self.model.set_settings(self.settings.public_dict(self.probe_classes))
        self.settings_edited()
        self.start_run(None)

    def settings_edited(self) -> None:
        """Hook: the settings on screen are no longer the ones the screen was opened with."""


class DemoScreen(LiveScreen):
    """The live screen against the loopback demo endpoints, labelled so nobody mistakes it for Jenkins."""

    def __init__(self, probes: list[type[Probe]], settings: Settings, label: str, *,
                 redactor: Redactor | None = None) -> None:
        super().__init__(probes, settings, redactor=redactor, badge="DEMO", note=label)
        self.demo_url = settings.url

    def settings_edited(self) -> None:
        # Once the URL points elsewhere, this is no longer the demo: say so instead of "DEMO".
        if self.settings.url != self.demo_url:
            self.badge = "EDITED"
            self.note = "not the demo"
        else:
            self.note = f"{self.note.split(';')[0]}; settings edited in the TUI"
