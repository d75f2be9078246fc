"""Drive the JNLP4-connect layers in order over one connection, one bounded step at a time.

Each method is one step of the agent's side of ``JnlpProtocol4Handler.connect`` (remoting commit
fa5f12a8447d0f75e6d17d6b451a60c5e33ec09a) and raises :class:`StepFailed` naming the stage and
cause when the step cannot complete. The caller decides how far to go: nothing here sends the
secret or a cookie by itself, and nothing sends the channel's Capability frame at all.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from jnlpdiag import pycompat
from jnlpdiag.httpclient import Proxy
from jnlpdiag.jnlp4 import ack, preamble
from jnlpdiag.jnlp4.framing import FrameError, unwrap_utf8, wrap_utf8
from jnlpdiag.jnlp4.tls import MemoryTls, TlsError, TlsFacts
from jnlpdiag.neterrors import classify
from jnlpdiag.pycompat import Timeouts

STAGES = ("tcp", "preamble", "ack", "tls", "identity", "headers", "accepted")


class StepFailed(Exception):
    """``stage``: the step that failed; ``cause``: a key of the transport fix catalog."""

    def __init__(self, stage: str, cause: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.stage = stage
        self.cause = cause
        self.message = message
        self.data = data


@dataclass
class Jnlp4Session:
    host: str
    port: int
    proxy: Proxy | None = None
    server_name: str | None = None
    tls_max_version: int | None = None
    transcript: list[str] = field(default_factory=list)  # what crossed the wire, never a header value
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None
    _tls: MemoryTls | None = None
    _plain: bytes = b""
    _early: bytes = b""

    # -- tcp -------------------------------------------------------------------------------------

    async def connect(self, timeout: float) -> None:
        target = (self.proxy.host, self.proxy.port) if self.proxy else (self.host, self.port)
        try:
            self._reader, self._writer = await asyncio.wait_for(asyncio.open_connection(*target), timeout)
        except (*Timeouts, OSError) as exc:
            kind, msg = classify(exc)
            where = f"proxy {target[0]}:{target[1]}" if self.proxy else f"{self.host}:{self.port}"
            raise StepFailed("tcp", kind, f"{where}: {msg}") from None
        if self.proxy:
            await self._proxy_connect(timeout)
        self.transcript.append("tcp connected")

    async def _proxy_connect(self, timeout: float) -> None:
        # remoting JnlpAgentEndpoint.open: CONNECT host:port HTTP/1.1, Host, optional Basic auth;
        # the second token of the status line must be "200".
        assert self._reader and self._writer and self.proxy
        req = f"CONNECT {self.host}:{self.port} HTTP/1.1\r\nHost: {self.host}\r\n"
        if self.proxy.auth_header():
            req += f"Proxy-Authorization: {self.proxy.auth_header()}\r\n"
        self._writer.write((req + "\r\n").encode())
        try:
            line = await asyncio.wait_for(self._reader.readline(), timeout)
            while True:
                more = await asyncio.wait_for(self._reader.readline(), timeout)
                if more.strip() == b"":
                    break
        except (*Timeouts, OSError) as exc:
            kind, msg = classify(exc)
            raise StepFailed("tcp", "proxy_" + kind, f"proxy {self.proxy.host}:{self.proxy.port}: {msg}") from None
        status = line.decode("latin-1").strip()
        parts = status.split()
        if len(parts) < 2 or parts[1] != "200":
            shown = status or "Proxy socket closed"
            raise StepFailed("tcp", "proxy_refused", f"Got a bad response from proxy: {shown}",
                             proxy_status=status)

    # -- preamble + ack --------------------------------------------------------------------------

    async def preamble_and_ack(self, timeout: float, protocol: str = preamble.JNLP4) -> None:
        """Send the preamble and our ACK (both layers start at once), then read the peer's ACK."""
        assert self._reader and self._writer
        self._write(preamble.preamble(protocol) + ack.ACK, f"preamble Protocol:{protocol} + ACK")
        received = b""
        end = time.monotonic() + min(timeout, ack.HANDSHAKE_TIMEOUT)
        try:
            while ack.check(received) is ack.AckState.INCOMPLETE:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                # Read generously: a refusing listener writes its text and closes at once, and a
                # reset discards what asyncio has buffered but not yet handed out.
                chunk = await asyncio.wait_for(self._reader.read(512), left)
                if not chunk:
                    break
                received += chunk
        except Timeouts:
            if received:
                raise StepFailed("ack", "ack_partial",
                                 f"Partial acknowledgement received, expecting 0x{ack.ACK.hex()} "
                                 f"got 0x{received.hex()}",
                                 received_hex=received.hex()) from None
            raise StepFailed("ack", "ack_timeout", "Timeout waiting for ACK") from None
        except OSError as exc:
            kind, msg = classify(exc)
            raise StepFailed("ack", "ack_" + kind, f"{msg} while waiting for the ACK",
                             received_hex=received.hex()) from None
        state = ack.check(received)
        if state is ack.AckState.OK:
            # Nothing may follow the server's ACK before our ClientHello; keep it for TLS anyway.
            self._early = received[len(ack.ACK):]
            self.transcript.append("ack received")
            return
        if state is ack.AckState.INCOMPLETE:
            if received:
                raise StepFailed("ack", "ack_partial",
                                 f"Partial acknowledgement received, expecting 0x{ack.ACK.hex()} "
                                 f"got 0x{received.hex()}",
                                 received_hex=received.hex())
            raise StepFailed("ack", "ack_closed", "Connection closed before acknowledgement sent")
        # Wrong bytes: read a little more (briefly) to say what the peer is.
        more = await self._drain(min(1.0, timeout), 512)
        kind, what = ack.describe_peer(received + more)
        if kind == "listener_refusal":
            answer = (received + more)[:120].decode("utf-8", "replace")
            raise StepFailed("preamble", "protocol_refused", what, answer=answer,
                             received_hex=received.hex())
        raise StepFailed("ack", "not_jnlp", f"{ack.incorrect_message(received)}: {what}", peer=kind,
                         received_hex=received.hex(), first_bytes=(received + more)[:32].hex())

    async def _drain(self, timeout: float, limit: int) -> bytes:
        assert self._reader
        data = b""
        end = time.monotonic() + timeout
        try:
            while len(data) < limit:
                left = end - time.monotonic()
                if left <= 0:
                    break
                chunk = await asyncio.wait_for(self._reader.read(limit - len(data)), left)
                if not chunk:
                    break
                data += chunk
        except (*Timeouts, OSError):
            pass
        return data

    # -- tls -------------------------------------------------------------------------------------

    async def tls_handshake(self, timeout: float) -> TlsFacts:
        assert self._reader and self._writer
        self._tls = tls = MemoryTls(self.server_name, self.tls_max_version)
        got_any = False
        if self._early:
            tls.feed(self._early)
            got_any = True
        try:
            async with pycompat.timeout(timeout):
                tls.step()
                while True:
                    out = tls.outgoing()
                    if out:
                        self._write(out, "tls handshake" if got_any else "tls ClientHello")
                    if tls.done:
                        break
                    data = await self._reader.read(65536)
                    if not data:
                        raise StepFailed("tls", "tls_closed" if got_any else "tls_closed_after_hello",
                                         "the peer closed the connection during the TLS handshake"
                                         + ("" if got_any else ", right after the ClientHello"))
                    got_any = True
                    tls.feed(data)
                    tls.step()
        except Timeouts:
            raise StepFailed("tls", "tls_timeout", "no TLS answer from the controller" if not got_any
                             else "the TLS handshake did not complete") from None
        except TlsError as exc:
            raise StepFailed("tls", "tls_failed", f"TLS handshake failed: {exc.reason}", alert=exc.reason) from None
        except OSError as exc:
            kind, msg = classify(exc)
            cause = "tls_reset_after_hello" if (kind == "reset" and not got_any) else f"tls_{kind}"
            raise StepFailed("tls", cause, f"{msg} during the TLS handshake"
                             + ("" if got_any else ", right after the ClientHello")) from None
        self.transcript.append("tls established")
        return tls.facts()

    # -- frames inside tls -----------------------------------------------------------------------

    async def send_frame(self, text: str, what: str) -> None:
        assert self._tls
        try:
            self._write(self._tls.send(wrap_utf8(text)), what)
        except TlsError as exc:
            raise StepFailed("tls", "tls_failed", f"TLS error while sending: {exc.reason}", alert=exc.reason) from None

    async def read_frame(self, timeout: float, what: str) -> str:
        assert self._reader and self._tls
        try:
            async with pycompat.timeout(timeout):
                while True:
                    try:
                        frame = unwrap_utf8(self._plain)
                    except FrameError as exc:
                        raise StepFailed("headers", "malformed", f"{what}: {exc}") from None
                    if frame is not None:
                        text, self._plain = frame
                        self.transcript.append(f"received {what}")
                        return text
                    got = self._tls.receive()
                    if got is None:
                        raise StepFailed("headers", "closed", f"the controller closed the connection before its {what}")
                    if got:
                        self._plain += got
                        continue
                    data = await self._reader.read(65536)
                    if not data:
                        self._tls.feed_eof()
                    else:
                        self._tls.feed(data)
        except Timeouts:
            raise StepFailed("headers", "timeout", f"no {what} from the controller") from None
        except TlsError as exc:
            # With TLS 1.3 the server judges a client certificate after its Finished: its alert
            # arrives here, after the handshake looked complete.
            raise StepFailed("tls", "tls_failed", f"TLS alert while waiting for the {what}: {exc.reason}",
                             alert=exc.reason) from None
        except OSError as exc:
            kind, msg = classify(exc)
            raise StepFailed("headers", kind, f"{msg} while waiting for the {what}") from None

    # -- close -----------------------------------------------------------------------------------

    async def close(self) -> None:
        """Close cleanly: TLS close_notify when TLS is up, then FIN."""
        if self._writer is None:
            return
        try:
            if self._tls is not None and self._tls.done:
                self._write(self._tls.close_notify(), "tls close_notify")
            self._writer.close()
            await asyncio.wait_for(self._writer.wait_closed(), 1.0)
        except (*Timeouts, OSError):
            pass
        self._writer = None

    def _write(self, data: bytes, what: str) -> None:
        assert self._writer
        if data:
            self._writer.write(data)
            self.transcript.append(f"sent {what} ({len(data)} bytes)")
