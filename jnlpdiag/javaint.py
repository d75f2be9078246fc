"""Integers read the way the agent's JVM reads them: ``java.lang.Integer.parseInt(String)``.

remoting reads the advertised agent port (``X-Jenkins-JNLP-Port``, ``JnlpAgentEndpointResolver``)
and the port of ``-tunnel``/``-direct`` (``HostPort``) with ``Integer.parseInt``. Python's ``int()``
reads more: underscores (``18_601``), surrounding whitespace. A value Python reads and Java refuses is
one the agent rejects, so the tool parses as Java does and says so when the two differ.

``Integer.parseInt`` (OpenJDK ``java/lang/Integer.java``): an optional ``-`` or ``+`` sign, then one or
more characters for which ``Character.digit(c, 10)`` is a digit (which includes the other Unicode
decimal digits, e.g. Arabic-Indic), nothing else; a value outside -2**31 .. 2**31-1 is refused
(``NumberFormatException``).
"""

from __future__ import annotations

import unicodedata

INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def parse_int(text: str) -> int | None:
    """The value ``Integer.parseInt(text)`` returns, or None where it throws NumberFormatException."""
    if not text:
        return None
    sign, digits = 1, text
    if text[0] in "+-":
        sign, digits = (-1 if text[0] == "-" else 1), text[1:]
    if not digits:
        return None
    value = 0
    for ch in digits:
        d = unicodedata.decimal(ch, -1)  # Character.digit(c, 10): Unicode decimal digits (category Nd)
        if d < 0:
            return None
        value = value * 10 + d
        if value > INT_MAX + 1:
            return None
    value *= sign
    return value if INT_MIN <= value <= INT_MAX else None


def python_reads(text: str) -> int | None:
    """What Python's ``int()`` makes of ``text`` (None if it refuses): to say when the two differ."""
    try:
        return int(text)
    except ValueError:
        return None
