"""One persistent line above the footer for what the user must not miss (where a report was written,
why a run stopped). Notifications fade; over SSH a person may look away while it happens."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class MessageBar(Static):
    def on_mount(self) -> None:
        self.display = False

    def say(self, text: str, style: str = "") -> None:
        self.update(Text(text, style=style))
        self.display = True
