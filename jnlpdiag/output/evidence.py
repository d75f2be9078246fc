"""Evidence as a person reads it, for every human renderer (HTML, Markdown, the TUI).

The evidence of a finding is JSON-like data written for machines (``report.json`` keeps it as is).
Shown to a person it is pruned and labelled here, once: keys whose value is ``null`` are left out,
numbers get the unit their key names (``_ms``, ``_bytes``, ``timeout``, ``days_left``), booleans read
yes/no, and a list of certificates becomes a chain (subject, issuer, validity, key, SANs, fingerprint).
Renderers then only decide the markup. Not a ``--format`` renderer (no ``FORMAT``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

# Key suffixes and names -> how the number is read.
_MS = ("_ms",)
_BYTES = ("_bytes",)
_SECONDS = ("timeout", "_timeout", "_s", "_seconds", "skew", "interval", "_interval")
_DAYS = ("days_left", "_days")
_PERCENT = ("percent", "_percent", "_pct")

CERT_COLUMNS = ("Subject", "Issuer", "Valid", "Key", "Names (SAN)", "SHA-256")


@dataclass
class Chain:
    """A certificate chain, leaf first: one row per certificate, in :data:`CERT_COLUMNS` order."""

    rows: list[tuple[str, ...]]


@dataclass
class Rows:
    """A list of objects of one shape: a table with these columns."""

    columns: list[str]
    rows: list[list[str]]


# A readable value: text, a nested mapping of readable values, a chain or a table.
Readable = Union[str, "dict[str, Readable]", Chain, Rows]


def _ends(key: str, suffixes: tuple[str, ...]) -> bool:
    k = key.lower()
    return any(k == s.lstrip("_") or k.endswith(s) for s in suffixes)


def number(value: float) -> str:
    """1.0 -> 1, 2.50 -> 2.5, 1234567 -> 1,234,567 (never 30.0 beside 29)."""
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def duration_ms(ms: float) -> str:
    if abs(ms) < 1000:
        return f"{number(round(ms, 1))} ms"
    return f"{number(round(ms / 1000, 2))} s"


def size(n: float) -> str:
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{number(int(value))} bytes" if unit == "bytes" else f"{number(round(value, 1))} {unit}"
        value /= 1024
    return f"{n} bytes"  # not reached


def scalar(key: str, value: Any) -> str:
    """One value as text, with the unit its key names."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if _ends(key, _MS):
            return duration_ms(value)
        if _ends(key, _BYTES):
            return size(value)
        if _ends(key, _DAYS):
            days = int(value)
            return f"{number(days)} day{'s' if abs(days) != 1 else ''}"
        if _ends(key, _SECONDS):
            return f"{number(value)} s"
        if _ends(key, _PERCENT):
            return f"{number(value)} %"
        return number(value)
    return str(value)


def is_certificate(value: Any) -> bool:
    return isinstance(value, dict) and "subject" in value and "issuer" in value and (
        "not_after" in value or "sha256" in value)


def _validity(cert: dict[str, Any]) -> str:
    start, end = cert.get("not_before"), cert.get("not_after")
    day = lambda t: str(t)[:10]  # noqa: E731 - the date of an ISO time
    if start and end:
        return f"{day(start)} to {day(end)}"
    return f"until {day(end)}" if end else ""


def _names(cert: dict[str, Any]) -> str:
    names = [*(cert.get("san_dns") or []), *(cert.get("san_ip") or []), *(cert.get("sans") or [])]
    return ", ".join(str(n) for n in names) or "(none)"


def chain(certs: list[dict[str, Any]]) -> Chain:
    rows: list[tuple[str, ...]] = []
    for c in certs:
        fp = str(c.get("sha256") or c.get("fingerprint") or "")
        rows.append((str(c.get("subject", "")), str(c.get("issuer", "")), _validity(c), str(c.get("key") or ""),
                     _names(c), fp))
    return Chain(rows)


def readable(value: Any, key: str = "") -> Readable | None:
    """``value`` as a person reads it; None when nothing is left to show (a null, an empty object)."""
    if value is None:
        return None
    if isinstance(value, dict):
        out: dict[str, Readable] = {}
        for k, v in value.items():
            r = readable(v, str(k))
            if r is not None:
                out[str(k)] = r
        return out or None
    if isinstance(value, (list, tuple)):
        items = [v for v in value if v is not None]
        if not items:
            return "(none)"
        if all(is_certificate(v) for v in items):
            return chain(list(items))
        if all(isinstance(v, dict) for v in items):
            columns: list[str] = []
            for v in items:
                columns += [str(k) for k, x in v.items() if x is not None and str(k) not in columns]
            if all(not isinstance(x, (dict, list)) for v in items for x in v.values()):
                return Rows(columns, [[scalar(c, v[c]) if v.get(c) is not None else "" for c in columns]
                                      for v in items])
            return {f"{key or 'item'} {i}": r for i, v in enumerate(items, 1) if (r := readable(v, key)) is not None}
        if all(not isinstance(v, (dict, list)) for v in items):
            return ", ".join(scalar(key, v) for v in items)
        return {f"{key or 'item'} {i}": r for i, v in enumerate(items, 1) if (r := readable(v, key)) is not None}
    return scalar(key, value)


def evidence(data: dict[str, Any]) -> dict[str, Readable]:
    """A finding's evidence, pruned and labelled (an empty dict when nothing is left)."""
    r = readable(data)
    return r if isinstance(r, dict) else {}


def settings_rows(settings: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The report's settings as (name, value as shown, origin) rows, leaving out those with no value."""
    rows = []
    for name, entry in settings.items():
        entry = entry if isinstance(entry, dict) else {"value": entry}
        value = entry.get("value")
        if value is None or value == [] or value == "":
            continue
        shown = " ".join(str(v) for v in value) if isinstance(value, list) else scalar(str(name), value)
        rows.append((str(name), shown, str(entry.get("origin", ""))))
    return rows
