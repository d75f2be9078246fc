"""Output that degrades to the stream's encoding instead of failing.

``PYTHONIOENCODING=ascii``, a ``LANG=C`` shell on an old host or a latin-1 terminal cannot encode
``✓``, ``—`` or a non-Latin host name. A UnicodeEncodeError there would end the run with exit 1,
which a Kubernetes exec probe (``[ $? -le 1 ]``) reads as healthy: instead each character the
encoding lacks is written as its ASCII look-alike (the tool's own symbols) or as a ``\\uXXXX``
escape (outside text). The exit code never depends on the terminal.
"""

from __future__ import annotations

import codecs
from typing import Any

ERRORS = "jnlpdiag-fallback"

# The non-ASCII characters the tool itself prints, and what they degrade to.
_ASCII = {
    "\u2713": "+",   # ✓ pass
    "\u2717": "x",   # ✗ fail
    "\u2014": "-",   # — dash
    "\u2013": "-",   # – en dash
    "\u2026": "...",  # … ellipsis
    "\u2192": "->",  # → arrow
    "\u00a7": "S",   # § section
    "\u00b2": "2",   # ² squared
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u00a0": " ",
}


def _fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for ch in exc.object[exc.start:exc.end]:
        alt = _ASCII.get(ch)
        if alt is None:
            code = ord(ch)
            alt = f"\\x{code:02x}" if code < 0x100 else (f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        out.append(alt)
    return "".join(out), exc.end


codecs.register_error(ERRORS, _fallback)


def degrade_to_encoding(stream: Any) -> None:
    """Make a text stream replace what its encoding cannot hold (a no-op for streams that cannot be
    reconfigured, such as a test's capture buffer)."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is None:
        return
    try:
        reconfigure(errors=ERRORS)
    except (ValueError, OSError, TypeError, AttributeError):
        pass
