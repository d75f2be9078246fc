"""The settings in use and where each came from (flag, env, .jnlp file, running agent); secrets masked."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from jnlpdiag.output.evidence import scalar


def settings_table(settings: dict[str, Any]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, expand=True, show_edge=False, pad_edge=False)
    table.add_column("Setting", style="bold", no_wrap=True)
    table.add_column("Value (and where it came from)", overflow="fold")
    for name, entry in settings.items():
        if not isinstance(entry, dict):
            continue
        value = entry.get("value")
        if isinstance(value, list):
            shown = " ".join(str(v) for v in value) or "(none)"
        else:
            shown = "(none)" if value is None else scalar(str(name), value)  # units as in the reports
        cell = Text(shown)
        cell.append(f"\nfrom {entry.get('origin', 'default')}", style="dim italic")
        table.add_row(Text(str(name)), cell)
    if not table.rows:
        table.add_row(Text("(none)"), Text(""))
    return table


class SettingsPanel(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Static("", id="settings-table")

    def on_mount(self) -> None:
        self.border_title = "Settings in use"

    def update_view(self, settings: dict[str, Any]) -> None:
        self.query_one("#settings-table", Static).update(settings_table(settings))
