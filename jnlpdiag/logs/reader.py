"""Read log inputs as blocks of whole lines: plain files, rotated ``.gz`` files, standard input.

A file that is not text (an executable, an archive, a capture) is refused before any of it is
matched: a log that passes only because the tool read the wrong file would be a false pass. Text
with a few stray bytes (a truncated UTF-8 sequence, a log rotated with ``copytruncate`` that starts
with NUL padding) is still a log.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from typing import BinaryIO

BLOCK = 4 << 20  # bytes read at a time; the unit of the needle prefilter
SNIFF = 64 << 10  # bytes looked at to tell text from binary
GZIP_MAGIC = b"\x1f\x8b"
# Formats that are never logs, by their first bytes (ELF, zip/jar, pcap, pcapng, PDF, PNG, class).
BINARY_MAGIC = (b"\x7fELF", b"PK\x03\x04", b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x0a\x0d\x0d\x0a",
                b"%PDF", b"\x89PNG", b"\xca\xfe\xba\xbe")
_TEXT_CONTROLS = {9, 10, 12, 13, 27, 8}


class LogInputError(Exception):
    """An input that cannot be read as a log: one line for the user, exit 3."""


class Truncated(Exception):
    """A compressed input that ends early; the lines before were read."""


def looks_binary(head: bytes) -> str | None:
    """Why ``head`` (the first bytes of an input) is not a log, or None when it is text."""
    for magic in BINARY_MAGIC:
        if head.startswith(magic):
            return "a binary file (" + {b"\x7fELF": "an executable or library", b"PK\x03\x04": "a zip or jar"}.get(
                magic, "not text") + "), not a log"
    body = head.lstrip(b"\0")  # copytruncate leaves NUL padding where the old lines were
    if not body:
        return None
    if b"\0" in body:
        return "a binary file (it holds NUL bytes), not a log"
    controls = sum(1 for b in body if b < 32 and b not in _TEXT_CONTROLS)
    if controls * 10 > len(body):
        return "a binary file (mostly control bytes), not a log"
    return None


def _open(path: str) -> BinaryIO:
    """The file, decompressed when it is gzip (rotated logs: agent.log.1.gz), whatever its name."""
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    magic = raw.read(2)
    raw.seek(0)
    if magic == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


def _read_block(fh: BinaryIO) -> tuple[bytes, Exception | None]:
    """Up to BLOCK bytes, read in pieces so that a compressed stream that breaks off still gives
    what came before the break."""
    parts: list[bytes] = []
    size = 0
    while size < BLOCK:
        try:
            piece = fh.read(min(1 << 16, BLOCK - size))
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            return b"".join(parts), exc
        if not piece:
            break
        parts.append(piece)
        size += len(piece)
    return b"".join(parts), None


def blocks(path: str, stdin: BinaryIO | None = None) -> Iterator[bytes]:
    """Blocks of whole lines of one input (``-`` is ``stdin``). Raises LogInputError for a binary
    input, Truncated when a compressed input ends early (after yielding what was read)."""
    if path == "-":
        assert stdin is not None
        fh, own = stdin, False
    else:
        fh, own = _open(path), True
    try:
        first = True
        rest = b""
        while True:
            data, error = _read_block(fh)
            if first:
                first = False
                why = looks_binary(data[:SNIFF])
                if why:
                    raise LogInputError(why)
                if error is not None and not data:
                    raise LogInputError(f"not a readable gzip file ({error})")
            if error is not None:
                if rest + data:
                    yield rest + data
                raise Truncated(str(error))
            if not data:
                break
            data = rest + data
            cut = data.rfind(b"\n") + 1
            if cut == 0 and len(data) < 4 * BLOCK:
                rest = data  # one line longer than a block: keep reading (capped below)
                continue
            if cut == 0:
                cut = len(data)  # a line of 16 MB without a newline: split it rather than grow
            rest = data[cut:]
            yield data[:cut]
        if rest:
            yield rest
    finally:
        if own:
            fh.close()


def size_of(path: str) -> int | None:
    try:
        return os.stat(path).st_size if path != "-" else None
    except OSError:
        return None
