"""The results screen: status line, root causes on top, probes by layer, detail, settings, footer."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Tree

from jnlpdiag.runner import Event, FindingEmitted, ProbeFinished, ProbeQueued, ProbeStarted, RunFinished
from jnlpdiag.tui.screens.copied import CopiedScreen
from jnlpdiag.tui.screens.edit_settings import EditSettingsScreen
from jnlpdiag.tui.widgets.detail import DetailPane, FixList
from jnlpdiag.tui.widgets.message_bar import MessageBar
from jnlpdiag.tui.widgets.probe_tree import ProbeTree
from jnlpdiag.tui.widgets.root_causes import RootCauseList, RootCausePanel
from jnlpdiag.tui.widgets.settings_panel import SettingsPanel
from jnlpdiag.tui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from jnlpdiag.tui.app import JnlpdiagApp

LIVE_ONLY = {"rerun_probe", "rerun_all", "edit_settings"}


class MainScreen(Screen[None]):
    BINDINGS = [
        Binding("r", "rerun_probe", "Rerun"),
        Binding("a", "rerun_all", "Rerun all"),
        Binding("e", "edit_settings", "Edit"),
        Binding("x", "export", "Export"),
        Binding("p", "toggle_passed", "Passed"),
        Binding("c", "copy_command", "Copy"),
        Binding("s", "toggle_settings", "Settings"),
        Binding("q", "quit_app", "Quit"),
    ]

    def __init__(self, badge: str = "", note: str = "") -> None:
        super().__init__()
        self.badge = badge
        self.note = note
        self.show_passed = True
        self.frame = 0
        self.selected: str | None = None
        self.touched = False  # the user pressed a key or clicked since the run started

    @property
    def japp(self) -> JnlpdiagApp:
        return cast("JnlpdiagApp", self.app)

    def compose(self) -> ComposeResult:
        yield StatusLine(self.badge, id="status")
        yield RootCausePanel(id="roots")
        with Horizontal(id="body"):
            yield ProbeTree(id="probes")
            with Vertical(id="right"):
                yield DetailPane(id="detail")
                yield SettingsPanel(id="settings")
        yield MessageBar(id="message")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#probes", ProbeTree).border_title = "Checks by layer"
        self.refresh_all()
        self.query_one(RootCauseList).focus()
        self.set_interval(1 / 8, self._tick)
        if not self.japp.model.running and self.japp.model.findings:
            self.focus_first_root()
        self.japp.main_ready()

    # -- drawing ---------------------------------------------------------------------------

    def refresh_all(self) -> None:
        model = self.japp.model
        self.query_one(StatusLine).update_view(model, self.frame, self.status_note())
        self.query_one(RootCausePanel).update_view(model)
        self.query_one(ProbeTree).rebuild(model, self.show_passed, self.frame)
        self.query_one(SettingsPanel).update_view(model.settings)
        self.show_selected()

    def status_note(self) -> str:
        return self.note

    def say(self, text: str, style: str = "") -> None:
        self.query_one(MessageBar).say(text, style)

    def on_runner_event(self, event: Event) -> None:
        model = self.japp.model
        tree = self.query_one(ProbeTree)
        self.query_one(StatusLine).update_view(model, self.frame, self.status_note())
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

    def focus_first_root(self) -> None:
        options = self.query_one(RootCauseList)
        data = options.first_finding()
        if data is not None:
            self.selected = data
            self.show_selected()
            options.focus()

    def _tick(self) -> None:
        model = self.japp.model
        if not model.running:
            return
        self.frame += 1
        self.query_one(ProbeTree).refresh_running(model, self.frame)
        self.query_one(StatusLine).update_view(model, self.frame, self.status_note())

    def show_selected(self) -> None:
        model = self.japp.model
        detail = self.query_one(DetailPane)
        data = self.selected
        if data and data.startswith("finding:"):
            finding = model.finding(data.removeprefix("finding:"))
            if finding is not None:
                detail.show_finding(finding, model)
                return
        if data and data.startswith("probe:"):
            pv = model.probes.get(data.removeprefix("probe:"))
            if pv is not None:
                detail.show_probe(pv, model, self.frame)
                return
        if data and data.startswith("layer:"):
            layer = data.removeprefix("layer:")
            views = [pv for pv in model.ordered() if pv.layer.value == layer]
            lines = [f"{layer.upper()} layer: {len(views)} check(s); select one to see its detail."]
            lines += [f"  {pv.status.symbol if pv.status else '·'} {pv.word:<7} {pv.id}" for pv in views]
            detail.show_message("\n".join(lines))
            return
        detail.show_message("Select a finding (arrow keys or mouse) to see its detail and fixes.")

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        # Rebuilding the other tree moves its cursor too; only the tree the user is in decides.
        if not event.control.has_focus:
            return
        data = event.node.data
        if data and data != "note":
            self.selected = data
            self.show_selected()

    def run_started(self) -> None:
        self.touched = False
        self.refresh_all()

    def on_key(self) -> None:
        self.touched = True

    def on_click(self) -> None:
        self.touched = True

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in LIVE_ONLY and self.japp.read_only:
            return False
        return True

    def selected_probes(self) -> set[str] | None:
        model = self.japp.model
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
        self.japp.start_run(probes)

    def action_rerun_all(self) -> None:
        self.japp.start_run(None)

    def action_edit_settings(self) -> None:
        settings = self.japp.settings
        if settings is None:
            return
        from jnlpdiag.tui.edits import current_values

        self.app.push_screen(EditSettingsScreen(current_values(settings)), self.japp.apply_edits)

    def action_export(self) -> None:
        self.japp.export()

    def action_toggle_passed(self) -> None:
        self.show_passed = not self.show_passed
        self.query_one(ProbeTree).rebuild(self.japp.model, self.show_passed, self.frame)
        self.notify("Showing passed checks." if self.show_passed else "Passed checks hidden (p shows them).")

    def action_copy_command(self) -> None:
        command = self.query_one(DetailPane).fixes.current_command()
        if not command:
            self.notify("The selected finding has no command to copy.", severity="warning")
            return
        self.app.copy_to_clipboard(command)
        self.app.push_screen(CopiedScreen(command))

    def action_toggle_settings(self) -> None:
        panel = self.query_one(SettingsPanel)
        shown = panel.display
        self.set_class(not shown, "-show-settings")
        self.set_class(shown, "-hide-settings")

    def action_quit_app(self) -> None:
        self.japp.quit_app()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if isinstance(event.option_list, RootCauseList) and event.option_list.has_focus and event.option.id:
            self.selected = event.option.id
            self.show_selected()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if isinstance(event.option_list, FixList):
            self.action_copy_command()
        elif event.option.id:
            self.selected = event.option.id
            self.show_selected()
