"""Classify network exceptions once, so every probe names failures the same way."""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl

# Classes used in evidence (`result`) and explained in docs/probes.md.
CONNECTED = "connected"
REFUSED = "refused"
TIMEOUT = "timeout"
RESET = "reset"
UNREACHABLE = "unreachable"
DNS = "dns"
TLS = "tls"
CLOSED = "closed"
OTHER = "error"

_UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN, errno.EHOSTDOWN}


def classify(exc: BaseException) -> tuple[str, str]:
    """(class, one-line message) for an exception raised by a connect/read/handshake."""
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError, socket.timeout)):
        return TIMEOUT, "timed out"
    if isinstance(exc, socket.gaierror):
        return DNS, f"name resolution failed: {exc.strerror or exc}"
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "reason", None) or str(exc)
        return TLS, f"TLS error: {reason}"
    if isinstance(exc, ConnectionRefusedError):
        return REFUSED, "connection refused (nothing listening, or a firewall answered with a reset)"
    if isinstance(exc, ConnectionResetError):
        return RESET, "connection reset by peer"
    if isinstance(exc, (BrokenPipeError, asyncio.IncompleteReadError)):
        return CLOSED, "connection closed by peer"
    if isinstance(exc, OSError):
        if exc.errno in _UNREACHABLE:
            return UNREACHABLE, f"unreachable: {exc.strerror}"
        if exc.errno == errno.ETIMEDOUT:
            return TIMEOUT, "timed out"
        if exc.errno == errno.ECONNREFUSED:
            return REFUSED, "connection refused"
        if exc.errno == errno.ECONNRESET:
            return RESET, "connection reset by peer"
        return OTHER, f"{exc.strerror or exc}"
    return OTHER, f"{type(exc).__name__}: {exc}"
