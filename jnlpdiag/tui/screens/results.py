"""The results screen every mode shares: status line, root causes on top, checks by layer, detail.

Laid out for 80x24 first: the checks and the detail of one check take turns in the body (Enter opens
the detail, Esc goes back), so each gets the full width and a fix command is never squeezed into a
third of the screen. From 110 columns the detail and the settings sit beside the checks.

The live and demo screens add running (:mod:`jnlpdiag.tui.screens.live`); ``show`` adds nothing.
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static, Tree

from jnlpdiag.redact import Redactor
from jnlpdiag.run_report import EXIT_ERROR, Report
from jnlpdiag.tui.messages import ExportDone
from jnlpdiag.tui.screens.copied import CopiedScreen
from jnlpdiag.tui.screens.help import HelpScreen
from jnlpdiag.tui.state import RunView
from jnlpdiag.tui.widgets.detail import DetailPane, FixList
from jnlpdiag.tui.widgets.message_bar import MessageBar
from jnlpdiag.tui.widgets.probe_tree import ProbeTree
from jnlpdiag.tui.widgets.root_causes import RootCauseList, RootCausePanel
from jnlpdiag.tui.widgets.settings_panel import SettingsPanel
from jnlpdiag.tui.widgets.status_line import StatusLine

KEY_HINT = "↑↓ Move ⏎ Open Tab Pane"
DETAIL_KEY_HINT = "↑↓ Move Esc Back Tab Pane"


class ResultsScreen(Screen[None]):
    """A :class:`RunView` on screen. Subclasses fill the model (a run, or a saved report)."""

    BINDINGS = [
        Binding("c", "copy_command", "Copy"),
        Binding("x", "export", "Export"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit_app", "Quit"),
        Binding("escape", "back", "Back", show=False),
        Binding("p", "toggle_passed", "Passed", show=False),
        Binding("s", "toggle_settings", "Settings", show=False),
        Binding("f1", "help", "Help", show=False),
    ]

    def __init__(self, redactor: Redactor | None = None, badge: str = "", note: str = "") -> None:
        super().__init__()
        self.redactor = redactor or Redactor()
        self.model = RunView(self.redactor)
        self.badge = badge
        self.note = note
        self.show_passed = True
        self.frame = 0
        self.selected: str | None = None
        self.touched = False  # the user pressed a key or clicked since the run started
        self.last_export: Path | None = None
        self.export_error: str | None = None
        self._placed: str | None = None  # a tree cursor we moved ourselves (not the user's choice)

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusLine(self.badge, id="status")
        yield RootCausePanel(id="roots")
        with Horizontal(id="body"):
            yield ProbeTree(id="probes")
            with Vertical(id="right"):
                yield DetailPane(id="detail")
                yield SettingsPanel(id="settings")
        yield MessageBar(id="message")
        with Horizontal(id="keys"):
            yield Static(KEY_HINT, id="key-hint")
            yield Footer()

    def on_mount(self) -> None:
        self.query_one("#probes", ProbeTree).border_title = "Checks by layer"
        self.refresh_all()
        self.query_one(ProbeTree).focus()
        if not self.model.running and self.model.findings:
            self.focus_first_root()

    @property
    def narrow(self) -> bool:
        return not self.has_class("-wide")

    # -- drawing -----------------------------------------------------------------------------

    def refresh_all(self) -> None:
        model = self.model
        self.query_one(StatusLine).update_view(model, self.frame, self.badge, self.note)
        self.query_one(RootCausePanel).update_view(model)
        self.query_one(ProbeTree).rebuild(model, self.show_passed, self.frame)
        self.query_one(SettingsPanel).update_view(model.settings)
        self.show_selected()

    def say(self, text: str, style: str = "") -> None:
        self.query_one(MessageBar).say(text, style)

    def focus_first_root(self) -> None:
        """Select the first root cause (else warning): its detail ready, its check under the cursor."""
        data = self.query_one(RootCauseList).first_finding()
        if data is None:
            return
        self.selected = data
        self.show_selected()
        self.query_one(ProbeTree).focus()
        self.call_after_refresh(self._place_cursor, data)

    def _place_cursor(self, data: str) -> None:
        finding = self.model.finding(data.removeprefix("finding:"))
        tree = self.query_one(ProbeTree)
        node = tree.node_for(finding) if finding is not None else None
        if node is not None and self.selected == data:
            self._placed = node.data
            tree.select_quietly(node)

    def show_selected(self) -> None:
        model = self.model
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
        detail.show_message("Select a check (arrow keys or mouse) and press Enter for its detail and fixes.")

    # -- navigation --------------------------------------------------------------------------

    def on_key(self) -> None:
        self.touched = True

    def on_click(self) -> None:
        self.touched = True

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        data = event.node.data
        if self._placed is not None and data == self._placed:
            self._placed = None  # our own cursor move: the selection is already the root cause
            return
        # Rebuilding the tree moves its cursor too: only a user who is moving in the tree decides.
        if not (self.touched and event.control.has_focus) or not data or data == "note":
            return
        self.selected = data
        self.show_selected()

    def on_tree_node_selected(self, event: Tree.NodeSelected[str]) -> None:
        data = event.node.data
        if data and (data.startswith("probe:") or data.startswith("finding:")):
            self.selected = data
            self.show_selected()
            self.open_detail()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if isinstance(event.option_list, RootCauseList) and event.option_list.has_focus and event.option.id:
            self.selected = event.option.id
            self.show_selected()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if isinstance(event.option_list, FixList):
            self.action_copy_command()
        elif event.option.id:
            # Enter on a root cause: its detail takes the body, the focus stays in the root causes
            # (down walks through what it leads to, unfolded by the same Enter).
            self.selected = event.option.id
            self.show_selected()
            self.open_detail(focus=False)

    def open_detail(self, focus: bool = True) -> None:
        """At 80 columns the detail replaces the checks (Esc goes back); wider, it is already shown."""
        if not self.narrow:
            return
        self.set_class(False, "-show-settings")
        self.add_class("-detail")
        self.query_one("#key-hint", Static).update(DETAIL_KEY_HINT)
        if focus:
            fixes = self.query_one(DetailPane).fixes
            (fixes if fixes.display and fixes.option_count else self.query_one(DetailPane)).focus()

    def action_back(self) -> None:
        if self.has_class("-detail") or self.has_class("-show-settings"):
            self.remove_class("-detail")
            self.remove_class("-show-settings")
            self.query_one("#key-hint", Static).update(KEY_HINT)
            self.query_one(ProbeTree).focus()

    # -- actions -----------------------------------------------------------------------------

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.help_rows()))

    def help_rows(self) -> list[tuple[str, str]]:
        return [
            ("↑ ↓", "move in the focused pane (checks, root causes, fixes)"),
            ("Enter", "open the detail of the check or root cause; on a fix: copy it"),
            ("Esc", "back from the detail or the settings to the checks (80 columns)"),
            ("Tab / Shift+Tab", "next / previous pane"),
            ("← →", "fold / unfold a layer or a check in the checks tree"),
            ("c", "copy the selected fix command (OSC 52) and show it for selecting by hand"),
            ("x", "export the report bundle (report.json, report.html, summary.md)"),
            ("p", "show or hide the checks that passed"),
            ("s", "show or hide the settings in use and where each came from"),
            ("Ctrl+C", "copy the text selected with the mouse"),
            ("?  F1", "this help"),
            ("q  Ctrl+Q", "quit; the verdict and first fixes stay in the terminal"),
        ]

    def action_toggle_passed(self) -> None:
        self.show_passed = not self.show_passed
        self.query_one(ProbeTree).rebuild(self.model, self.show_passed, self.frame)
        self.notify("Showing passed checks." if self.show_passed else "Passed checks hidden (p shows them).")

    def action_copy_command(self) -> None:
        command = self.query_one(DetailPane).fixes.current_command()
        if not command:
            self.notify("The selected finding has no command to copy.", severity="warning")
            return
        self.app.copy_to_clipboard(command)
        self.app.push_screen(CopiedScreen(command))

    def action_toggle_settings(self) -> None:
        shown = self.query_one(SettingsPanel).display
        self.set_class(not shown, "-show-settings")
        self.set_class(shown, "-hide-settings")
        if not shown:
            self.remove_class("-detail")

    def action_export(self) -> None:
        report = self.model.report
        if report is None:
            self.notify("Nothing to export yet: wait for the run to finish.", severity="warning")
            return
        self.export_report(report, getattr(self.app, "export_dir", None))

    @work(thread=True, group="export", exit_on_error=False)
    def export_report(self, report: Report, export_dir: Path | None) -> None:
        from jnlpdiag.tui.export import export_report

        try:
            path = export_report(report, self.redactor, export_dir)
        except Exception as exc:  # disk full, read-only folder, a bug in the bundle writer
            self.post_message(ExportDone(None, self.redactor(f"{type(exc).__name__}: {exc}")))
            return
        self.post_message(ExportDone(path))

    def on_export_done(self, message: ExportDone) -> None:
        if message.path is None:
            self.export_error = message.error
            self.say(f"✗ Export failed: {message.error}", "bold")
            return
        self.last_export = message.path
        self.say(f"✓ Report written to {message.path}", "bold")

    def action_quit_app(self) -> None:
        report = self.model.report
        self.app.exit(report.exit_code if report is not None else EXIT_ERROR)
