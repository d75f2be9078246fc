"""Text for an 80-column terminal: lines wrapped at spaces under a hanging indent, as the TUI does.

A word is never broken (a command keeps every token whole; a token longer than the line stays on a
line of its own), so what a person copies is what the tool meant. Not a ``--format`` renderer.
"""

from __future__ import annotations

import textwrap

WIDTH = 80


def hang(prefix: str, text: str, indent: int | None = None, width: int = WIDTH) -> list[str]:
    """``prefix`` then ``text`` wrapped to ``width``; further lines start under the text (or at ``indent``).

    Newlines in ``text`` are kept (each line is wrapped on its own)."""
    pad = " " * (len(prefix) if indent is None else indent)
    wrapper = textwrap.TextWrapper(width=width, break_long_words=False, break_on_hyphens=False,
                                   replace_whitespace=False, drop_whitespace=True)
    out: list[str] = []
    for i, line in enumerate(text.split("\n") or [""]):
        wrapper.initial_indent = prefix if i == 0 else pad
        wrapper.subsequent_indent = pad
        out += wrapper.wrap(line) or [wrapper.initial_indent.rstrip()]
    return out
