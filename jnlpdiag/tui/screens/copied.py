"""Shows the command just copied, in full and plain, for terminals that ignore OSC 52."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class CopiedScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("enter", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, command: str) -> None:
        super().__init__()
        self.command = command

    def compose(self) -> ComposeResult:
        with Vertical(id="copied"):
            yield Static("Sent to the clipboard (OSC 52). If your terminal does not allow that, "
                         "select the command below (Shift+drag in most terminals):", id="copied-note")
            yield Static(Text(self.command), id="copied-command")
            yield Button("Close", id="copied-close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#copied").border_title = "Command"

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
