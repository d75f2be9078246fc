"""Outside text made safe to show a person: the one escape function every human renderer uses.

Text a peer, a file or a log controls (a JNLP4 refusal, a header value, a certificate subject, a
log line) may carry terminal control sequences: ESC starts CSI/OSC sequences (``\\x1b]0;title\\x07``
retitles the window, OSC 52 writes the clipboard, ``\\x1b[2J`` clears the screen), C1 controls
(``\\x9b`` is a one-byte CSI on many terminals) and the Unicode bidi overrides (U+202E makes text read
backwards). :func:`visible` shows each of them as a visible escape (``\\x1b``, ``\\u202e``) so the
person sees that the peer sent it and the terminal never acts on it. Line feeds and tabs stay:
renderers lay out multi-line details themselves.

The human renderers (text, Markdown, HTML, JUnit, Prometheus, the TUI) render :func:`for_humans` of a
report; JSON keeps the exact values and lets JSON escape them (:func:`json_text` additionally writes
the C1 and bidi characters as ``\\uXXXX``, which JSON reads back as the same value).
"""

from __future__ import annotations

import dataclasses
import enum
import re
from typing import Any

# C0 controls except TAB and LF, DEL, C1 controls, the bidi embeddings/overrides/isolates and marks
# (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069), zero-width characters that hide text
# (U+200B-U+200D), line/paragraph separators, the BOM, and lone surrogates (from undecodable bytes).
_UNSAFE_CHARS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff"
)
UNSAFE = re.compile(f"[{_UNSAFE_CHARS}]")
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_NAMED = {"\r": "\\r", "\x1b": "\\x1b"}


def _show(m: re.Match[str]) -> str:
    ch = m.group()
    code = ord(ch)
    return _NAMED.get(ch) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def visible(text: str) -> str:
    """``text`` with every control, escape and bidi character shown as a visible escape."""
    if not isinstance(text, str):
        text = str(text)
    return UNSAFE.sub(_show, text)


def visible_line(text: str) -> str:
    """:func:`visible` for a one-line context (a title, a label): line feeds and tabs escaped too."""
    return visible(text).replace("\n", "\\n").replace("\t", "\\t")


def visible_data(value: Any) -> Any:
    """A JSON-like structure with every string (keys too) passed through :func:`visible`."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {visible(str(k)): visible_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [visible_data(v) for v in value]
    return value


def has_unsafe(text: str) -> bool:
    """Whether ``text`` still holds a character a terminal could act on (tests and the output guard)."""
    return UNSAFE.search(text) is not None


def json_text(text: str) -> str:
    """Serialized JSON (``ensure_ascii=False``) with the C1/bidi characters written as ``\\uXXXX``.

    ``json.dumps`` escapes C0 itself; these others it leaves raw. They can only occur inside JSON
    strings, where ``\\uXXXX`` reads back as the same character: the data stays exact.
    """
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def visible_obj(value: Any) -> Any:
    """Any value with its strings made :func:`visible`: strings, containers and dataclasses (a Finding,
    a Fix, whatever fields they grow)."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, enum.Enum) or value is None or isinstance(value, (bool, int, float)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: visible_obj(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)
    if isinstance(value, dict):
        return {visible(str(k)): visible_obj(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(visible_obj(v) for v in value)
    if isinstance(value, list):
        return [visible_obj(v) for v in value]
    return value


def for_humans(report: Any) -> Any:
    """A copy of a :class:`jnlpdiag.run_report.Report` with every outside string made :func:`visible`.

    Every field of every finding and fix is walked (not a list of known fields), so a field added to
    the model later is escaped too. Idempotent: escaped text has nothing left to escape.
    """
    return visible_obj(report)


class VisibleWriter:
    """A text stream that writes :func:`visible` of what it is given: the CLI's last net.

    ``jnlpdiag`` puts it around stdout and stderr, so a message built from outside text that no
    renderer saw (an exception quoting a peer, a warning) still cannot reach the terminal raw. The
    renderers escape on their own; tests check them without this net.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(visible(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, encoding, buffer, ...
        return getattr(self._stream, name)
