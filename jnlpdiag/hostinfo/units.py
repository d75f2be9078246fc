"""Byte counts for people: ``human_bytes(268435456) == "256 MiB"``."""

from __future__ import annotations


def human_bytes(n: int | None) -> str:
    if n is None:
        return "unlimited"
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "bytes" or value == int(value) else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} bytes"
