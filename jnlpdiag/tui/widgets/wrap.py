"""Hanging indents for the TUI: a marker column, then text that wraps under itself, never at column 0.

Rich wraps a cell at spaces, so a command wraps between its words and never inside one (a single
word wider than the whole pane is the only thing folded). The command stays whole for copying: the
copy key sends the original string, not the wrapped lines.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text


def hanging(*rows: tuple[Text | str, Text | str]) -> Table:
    """A two-column grid: a fixed marker column and a text column that wraps with a hanging indent."""
    grid = Table.grid(expand=True)
    width = max((Text(m).cell_len if isinstance(m, str) else m.cell_len for m, _ in rows), default=0)
    grid.add_column(width=width, no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    for marker, text in rows:
        grid.add_row(marker, text)
    return grid


def command_text(step: str, style: str = "bold") -> Text:
    """A fix step as shown: a command in full (wrapping only at spaces)."""
    return Text(step, style=style, overflow="fold")
