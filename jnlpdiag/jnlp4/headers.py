"""Connection headers and the response frames that judge them (inside TLS).

remoting (commit fa5f12a8447d0f75e6d17d6b451a60c5e33ec09a):
- ``org/jenkinsci/remoting/protocol/impl/ConnectionHeaders.java``: a flat JSON object of string
  (or null) values; ``toString`` escapes ``\\b \\t \\f \\n \\r " \\`` and other control characters
  as ``\\uXXXX``; ``fromString`` is a small state machine (re-implemented below, not copied).
- ``ConnectionHeadersFilterLayer.java``: each side sends ``wrapUTF8(headers)`` as soon as TLS is
  up; on receiving the peer's headers it answers ``wrapUTF8("OK")``, ``"ERROR: <why>"`` or
  ``"FATAL: <why>"``; a side refused with ERROR/FATAL confirms with ``wrapUTF8("BYE")``.
- ``org/jenkinsci/remoting/engine/JnlpConnectionState.java``: the header names below.
"""

from __future__ import annotations

from dataclasses import dataclass

from jnlpdiag.jnlp4.framing import wrap_utf8

CLIENT_NAME_KEY = "Node-Name"
SECRET_KEY = "Secret-Key"
# Never sent by this tool: a cookie that matches the live channel makes the controller drop the
# live agent (core DefaultJnlpSlaveReceiver.afterProperties).
COOKIE_KEY = "JnlpAgentProtocol.cookie"

OK = "OK"
BYE = wrap_utf8("BYE")  # 00 03 42 59 45


class ParseError(ValueError):
    pass


def _escape(text: str) -> str:
    out = []
    named = {"\b": "\\b", "\t": "\\t", "\f": "\\f", "\n": "\\n", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
    for ch in text:
        if ch in named:
            out.append(named[ch])
        elif ord(ch) <= 0x1F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def to_string(headers: dict[str, str | None]) -> str:
    """``ConnectionHeaders.toString``: keys in the given order, no spaces."""
    parts = []
    for key, value in headers.items():
        rendered = "null" if value is None else f'"{_escape(value)}"'
        parts.append(f'"{_escape(key)}":{rendered}')
    return "{" + ",".join(parts) + "}"


_WS = " \t\n\r\f\b"
_SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _string(data: str, i: int) -> tuple[str, int]:
    """Decode a quoted string whose opening quote is at ``i - 1``; return (text, index after quote)."""
    out: list[str] = []
    n = len(data)
    while i < n:
        c = data[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\":
            if i + 1 >= n:
                break
            e = data[i + 1]
            if e in _SIMPLE_ESCAPES:
                out.append(_SIMPLE_ESCAPES[e])
                i += 2
                continue
            if e == "u":
                digits = data[i + 2 : i + 6]
                # remoting requires a character after the four digits (``i + 4 < n``).
                if len(digits) < 4 or i + 6 >= n or any(d not in "0123456789abcdefABCDEF" for d in digits):
                    raise ParseError("Malformed unicode escape")
                out.append(chr(int(digits, 16)))
                i += 6
                continue
            raise ParseError(f"Unknown character escape '{e}'")
        out.append(c)
        i += 1
    raise ParseError("Unterminated string")


def from_string(data: str) -> dict[str, str | None]:
    """``ConnectionHeaders.fromString``: the same grammar and the same error messages."""
    result: dict[str, str | None] = {}
    i, n = 0, len(data)

    def skip(j: int) -> int:
        while j < n and data[j] in _WS:
            j += 1
        return j

    i = skip(i)
    if i >= n or data[i] != "{":
        raise ParseError(f"Expecting '{{' but got '{data[i] if i < n else ''}'")
    i = skip(i + 1)
    if i < n and data[i] == "}":
        i += 1
    else:
        while True:
            if i >= n or data[i] != '"':
                raise ParseError(f"Expecting '\"' but got '{data[i] if i < n else ''}'")
            key, i = _string(data, i + 1)
            i = skip(i)
            if i >= n or data[i] != ":":
                raise ParseError(f"Expecting ':' but got '{data[i] if i < n else ''}'")
            i = skip(i + 1)
            if data.startswith("null", i):
                result[key] = None
                i += 4
            elif i < n and data[i] == '"':
                result[key], i = _string(data, i + 1)
            else:
                raise ParseError(f"Expecting '\"' or 'null' but got '{data[i] if i < n else ''}'")
            i = skip(i)
            if i < n and data[i] == "}":
                i += 1
                break
            if i < n and data[i] == ",":
                i = skip(i + 1)
                continue
            raise ParseError(f"Expecting '}}' or ',' but got '{data[i] if i < n else ''}'")
    if skip(i) != n:
        raise ParseError("Non-whitespace after '}'")
    return result


@dataclass(frozen=True)
class Verdict:
    """A response frame: ``OK``, or a refusal with the controller's reason."""

    accepted: bool
    kind: str  # "OK", "ERROR", "FATAL" or "UNKNOWN"
    reason: str

    @classmethod
    def parse(cls, text: str) -> Verdict:
        # ConnectionHeadersFilterLayer.onRecv: "ERROR: " / "FATAL: " prefixes, anything else accepts.
        for kind in ("ERROR", "FATAL"):
            if text.startswith(kind + ": "):
                return cls(False, kind, text[len(kind) + 2 :])
        if text == OK:
            return cls(True, "OK", "")
        # remoting treats any other response as acceptance too; say so rather than hide it.
        return cls(True, "UNKNOWN", text[:200])
