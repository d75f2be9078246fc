"""Read a local file named by a user or an agent's configuration, safely.

A path in a flag, an environment variable or a JVM option can name a FIFO (open() blocks until a
writer appears), a device (``/dev/zero`` never ends), a directory, or a huge file. Every such read
goes through here: regular files only, with a size cap, and a one-line reason otherwise.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO


class LocalFileError(OSError):
    """The path cannot be read as a file; ``str()`` is a one-line reason that names the path."""


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular(path: str | os.PathLike[str], max_bytes: int | None = None) -> int:
    """Size of ``path`` if it is a regular file within ``max_bytes``; else :class:`LocalFileError`."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise LocalFileError(exc.errno, f"cannot read {os.fspath(path)}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise LocalFileError(f"{os.fspath(path)} is {_kind(st.st_mode)}, not a regular file; not read")
    if max_bytes is not None and st.st_size > max_bytes:
        raise LocalFileError(f"{os.fspath(path)} is {st.st_size} bytes, more than the {max_bytes} bytes expected; not read")
    return st.st_size


def read_regular(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (opened without blocking on a FIFO)."""
    check_regular(path, max_bytes)
    # O_NONBLOCK: should the path be swapped for a FIFO between stat and open, open still returns.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise LocalFileError(f"{os.fspath(path)} is {_kind(st.st_mode)}, not a regular file; not read")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(max_bytes + 1)[:max_bytes]
    finally:
        os.close(fd)


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """A regular file opened for reading as a stream (for inputs read piece by piece, of any size);
    a FIFO or device is :class:`LocalFileError`, checked on the open file itself."""
    check_regular(path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise LocalFileError(f"{os.fspath(path)} is {_kind(st.st_mode)}, not a regular file; not read")
        return os.fdopen(fd, "rb", buffering=1024 * 1024)
    except BaseException:
        os.close(fd)
        raise
