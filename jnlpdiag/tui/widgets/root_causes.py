"""The "Root cause" panel at the top: each root cause in one sentence with its first fix command,
what it leads to folded under it.

An option list rather than a tree, because a root cause must be readable in full at 80 columns:
options wrap (with a hanging indent, so the badge column stays clear), tree labels do not. Enter on
a root cause unfolds what it leads to and opens its detail.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from jnlpdiag.findings import Finding
from jnlpdiag.output.wording import first_command, leads_to
from jnlpdiag.tui.state import RunView
from jnlpdiag.tui.widgets.labels import status_badge
from jnlpdiag.tui.widgets.wrap import command_text, hanging


def finding_line(f: Finding, with_layer: bool = True) -> Text:
    line = Text()
    if with_layer:
        line.append(f"[{f.layer.value}] ", style="dim")
    line.append(f.title)
    line.append(f"  ({f.id})", style="dim")
    return line


def root_option(f: Finding, marker: str, follow: int, unfolded: bool) -> RenderableType:
    """``▸ ✗ FAIL  title (id)  leads to 2 more`` and ``$ first command`` under the title."""
    title = finding_line(f)
    if follow and not unfolded:
        title.append(f"  {leads_to(follow)} (Enter)", style="italic")
    rows: list[tuple[Text | str, Text | str]] = [(Text(marker).append_text(status_badge(f.status)).append(" "), title)]
    command = first_command(f.fixes)
    if command:
        rows.append((Text("   fix: $ ", style="bold"), command_text(command)))
    elif f.fixes:  # a fix without a command (prose, a setting to change): its title, never with "$"
        rows.append((Text("   fix:   ", style="bold"), Text(f.fixes[0].title)))
    return hanging(*rows)


class RootCauseList(OptionList):
    """Option ids: ``finding:<id>``; explanatory lines are disabled options without an id."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.expanded: set[str] = set()
        self._model: RunView | None = None

    def update_view(self, model: RunView) -> None:
        self._model = model
        keep = self.highlighted_option.id if self.highlighted_option is not None else None
        options: list[Option] = []
        roots = model.root_causes()
        done, total = model.progress()
        for f in roots:
            follow = model.consequences(f.id)
            key = f"finding:{f.id}"
            unfolded = key in self.expanded
            marker = "▾ " if unfolded and follow else "▸ " if follow else "  "
            options.append(Option(root_option(f, marker, len(follow), unfolded), id=key))
            if unfolded:
                for c in follow:
                    options.append(Option(hanging((Text("    ↳ ").append_text(status_badge(c.status)).append(" "),
                                                   finding_line(c))), id=f"finding:{c.id}"))
        if not roots:
            warnings, errors = model.warnings(), model.errors()
            if model.running:
                note = Text(f"… checking: no failure so far ({done}/{total} probes done)", style="italic")
            elif not model.findings:
                note = Text("- No findings yet.", style="dim")
            elif not warnings and not errors:
                note = Text("✓ No root cause: every check passed or was skipped.", style="green")
            else:
                parts = [f"{len(warnings)} warning(s)"] * bool(warnings)
                parts += [f"{len(errors)} probe error(s)"] * bool(errors)
                note = Text(f"No failure found; {' and '.join(parts)}:", style="italic")
            options.append(Option(note, disabled=True))
            for f in (*warnings, *errors):
                options.append(Option(root_option(f, "  ", 0, False), id=f"finding:{f.id}"))
        elif model.running:
            options.append(Option(Text(f"… still checking ({done}/{total} probes done)", style="italic"),
                                  disabled=True))
        self.set_options(options)
        ids = [o.id for o in options]
        if keep in ids:
            self.highlighted = ids.index(keep)

    def first_finding(self) -> str | None:
        """Highlight the first root cause (or warning); returns its id."""
        for i in range(self.option_count):
            option = self.get_option_at_index(i)
            if option.id and not option.disabled:
                self.highlighted = i
                return option.id
        return None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        key = event.option.id
        if key is None or self._model is None:
            return
        if self._model.consequences(key.removeprefix("finding:")):
            self.expanded ^= {key}
            self.update_view(self._model)


class RootCausePanel(Vertical):
    def compose(self) -> ComposeResult:
        yield RootCauseList(id="root-list")

    def on_mount(self) -> None:
        self.border_title = "Root cause"

    @property
    def options(self) -> RootCauseList:
        return self.query_one(RootCauseList)

    def update_view(self, model: RunView) -> None:
        count = len(model.root_causes())
        self.border_title = f"Root causes ({count})" if count > 1 else "Root cause"
        self.options.update_view(model)
