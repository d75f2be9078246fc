"""Redaction: secret values never leave the process, in any output, in any encoding.

Every writer (stdout, stderr, report files) passes its text through one :class:`Redactor` built
from the run's settings. Exact values are replaced, and so are their common encodings (base64,
URL-encoding), because a secret can appear inside a header or a URL.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import quote

from jnlpdiag.settings.model import REDACTED

_MIN_SECRET_LEN = 4  # shorter values would redact ordinary words


def _encodings(value: str) -> set[str]:
    forms = {value, quote(value, safe=""), quote(value)}
    raw = value.encode("utf-8")
    for prefix in (b"", b":"):  # base64 shifts with alignment; cover the likely offsets
        for pad in (b"", b" ", b"  "):
            enc = base64.b64encode(pad + prefix + raw).decode()
            # Drop the characters influenced by the pad/prefix and by the trailing padding.
            skip = ((len(pad) + len(prefix)) * 4 + 2) // 3 + 1
            core = enc[skip:].rstrip("=")[:-2]
            if len(core) >= 8:
                forms.add(core)
    return {f for f in forms if len(f) >= _MIN_SECRET_LEN}


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for s in secrets:
            self.add(s)

    def add(self, value: str | None) -> None:
        if not value or len(value) < _MIN_SECRET_LEN:
            return
        self._values |= _encodings(value)
        ordered = sorted(self._values, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(REDACTED, text)

    def bytes(self, data: bytes) -> bytes:
        if self._pattern is None:
            return data
        return self(data.decode("latin-1")).encode("latin-1")


def redact_url_password(url: str) -> str:
    """``https://user:pw@host/`` -> ``https://user:<redacted>@host/``."""
    return re.sub(r"(//[^/@:\s]+:)[^/@\s]+@", lambda m: m.group(1) + REDACTED + "@", url)
