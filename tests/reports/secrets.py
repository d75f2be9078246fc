"""Search helpers for the redaction tests: a secret in any of the forms a leak could take."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path
from urllib.parse import quote


def forms(secret: str) -> dict[str, bytes]:
    """The secret as bytes, base64 (at the three alignments), URL-encoded and UTF-16 (Java strings)."""
    raw = secret.encode()
    out = {"raw": raw, "urlenc": quote(secret, safe="").encode(), "utf16": secret.encode("utf-16-le")}
    for shift in range(3):
        enc = base64.b64encode(b"x" * shift + raw)
        skip = (shift * 4 + 2) // 3 + 1  # characters that depend on the prefix
        out[f"base64+{shift}"] = enc[skip:].rstrip(b"=")[:-2]
    out["base64"] = base64.b64encode(raw).rstrip(b"=")
    return out


def hits(data: bytes, secret: str) -> list[str]:
    return [name for name, form in forms(secret).items() if form and form in data]


def bundle_hits(paths: list[Path], secret: str) -> dict[str, list[str]]:
    """Hits per file; zip archives are searched raw and entry by entry."""
    found: dict[str, list[str]] = {}
    for path in paths:
        data = path.read_bytes()
        h = hits(data, secret)
        if h:
            found[str(path)] = h
        if path.suffix == ".zip":
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for name in zf.namelist():
                    h = hits(zf.read(name), secret)
                    if h:
                        found[f"{path}!{name}"] = h
    return found
