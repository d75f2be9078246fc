"""What Python 3.9 and 3.10 lack, in one place (agent hosts run RHEL 9 / Amazon Linux 2023: 3.9).

- ``StrEnum`` (3.11): a ``str`` enum whose ``str()`` and ``format()`` are its value.
- ``timeout`` (3.11 ``asyncio.timeout``): an async context manager that cancels the block and
  raises ``TimeoutError`` when the delay runs out.
- ``entry_points_in(group)`` (3.10 ``entry_points(group=...)``), one entry point per name: 3.9
  lists a distribution once per ``sys.path`` entry that holds it.
- ``start_tls(writer, ...)`` (3.11 ``StreamWriter.start_tls``): upgrade an open stream to TLS.
- ``Timeouts``: before 3.11 ``asyncio.TimeoutError`` (raised by ``asyncio.wait_for``) and before
  3.10 ``socket.timeout`` were not ``TimeoutError``; ``except Timeouts`` catches every kind on
  every version. Code catches timeouts only through this tuple (tests/test_py39.py enforces it).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import enum
import socket
import ssl
import sys
from collections.abc import AsyncIterator
from importlib import metadata
from typing import Any

Timeouts = (TimeoutError, asyncio.TimeoutError, socket.timeout, concurrent.futures.TimeoutError)

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:
    class StrEnum(str, enum.Enum):
        """enum.StrEnum for 3.9/3.10: members are strings and print as their value."""

        def __str__(self) -> str:
            return str(self.value)

        def __format__(self, spec: str) -> str:
            return str(self.value).__format__(spec)

        @staticmethod
        def _generate_next_value_(name: str, start: int, count: int, last_values: list) -> str:  # type: ignore[override]
            return name.lower()


if sys.version_info >= (3, 11):
    timeout = asyncio.timeout
else:
    @contextlib.asynccontextmanager
    async def timeout(delay: float | None) -> AsyncIterator[None]:
        """Cancel the enclosed block after ``delay`` seconds and raise ``TimeoutError`` instead."""
        task = asyncio.current_task()
        if delay is None or task is None:
            yield
            return
        fired = False

        def fire() -> None:
            nonlocal fired
            fired = True
            task.cancel()

        handle = asyncio.get_running_loop().call_later(max(0.0, delay), fire)
        try:
            yield
        except asyncio.CancelledError:
            if fired:
                raise TimeoutError from None
            raise
        finally:
            handle.cancel()


def entry_points_in(group: str) -> list[metadata.EntryPoint]:
    """The entry points of ``group``; the first one on ``sys.path`` wins when a name repeats."""
    if sys.version_info >= (3, 10):
        found = list(metadata.entry_points(group=group))
    else:
        found = list(metadata.entry_points().get(group, ()))
    unique: dict[str, metadata.EntryPoint] = {}
    for ep in found:
        unique.setdefault(ep.name, ep)
    return list(unique.values())


async def start_tls(writer: asyncio.StreamWriter, context: ssl.SSLContext, server_hostname: str | None) -> None:
    """Upgrade ``writer``'s connection to TLS in place (client side), as 3.11's ``StreamWriter.start_tls``."""
    if sys.version_info >= (3, 11):
        await writer.start_tls(context, server_hostname=server_hostname)
        return
    # What 3.11's StreamWriter.start_tls does (CPython Lib/asyncio/streams.py, v3.11.0): swap the
    # transport under the writer and the protocol, which keeps feeding the same StreamReader.
    await writer.drain()
    protocol: Any = writer.transport.get_protocol()
    transport = await asyncio.get_running_loop().start_tls(
        writer.transport, protocol, context, server_hostname=server_hostname)
    writer._transport = transport  # type: ignore[attr-defined]
    protocol._stream_writer = writer
    protocol._transport = transport
    protocol._over_ssl = True
