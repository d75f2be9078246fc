"""A form to change the target (URL, name, tunnel, WebSocket, CA file, Java) and re-run."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from jnlpdiag.tui.edits import EditError, validate

FIELDS = (
    ("url", "Jenkins URL", "https://jenkins.example.com/"),
    ("name", "Agent name", "as in agent.jar -name"),
    ("tunnel", "Tunnel", "HOST:PORT (agent.jar -tunnel)"),
    ("ca_file", "CA file", "PEM bundle to trust"),
    ("java", "Java", "path of the agent's java"),
)


class EditSettingsScreen(ModalScreen["dict[str, Any] | None"]):  # a string: Python 3.9 has no X | Y
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save and re-run"),
    ]

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__()
        self.values = values

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static("Change what to check, then re-run every probe.\n"
                         "Enter or Ctrl+S: save and re-run · Esc: cancel · Tab: next field", id="form-title")
            for name, label, hint in FIELDS:
                with Horizontal(classes="form-row"):
                    yield Label(label, classes="form-label")
                    yield Input(value=str(self.values.get(name) or ""), placeholder=hint, id=f"f-{name}",
                                compact=True)
            with Horizontal(classes="form-row"):
                yield Label("WebSocket", classes="form-label")
                yield Checkbox("agent.jar -webSocket", value=bool(self.values.get("websocket")), id="f-websocket",
                               compact=True)
            yield Static("", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button("Save and re-run", variant="primary", id="save", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#form").border_title = "Settings"
        self.query_one("#f-url", Input).focus()

    def collect(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: self.query_one(f"#f-{name}", Input).value for name, _, _ in FIELDS}
        out["websocket"] = self.query_one("#f-websocket", Checkbox).value
        return out

    def action_save(self) -> None:
        try:
            edits = validate(self.collect())
        except EditError as exc:
            self.query_one("#form-error", Static).update(f"✗ {exc}")
            return
        self.dismiss(edits)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()
