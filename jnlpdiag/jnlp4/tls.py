"""The TLS layer of JNLP4-connect on pyOpenSSL memory BIOs.

remoting ``org/jenkinsci/remoting/protocol/impl/SSLEngineFilterLayer.java`` (commit
fa5f12a8447d0f75e6d17d6b451a60c5e33ec09a) wraps and unwraps plain TLS records on the TCP stream
right after the ACKs, with no framing of its own. The agent builds its ``SSLContext("TLS")`` with
an empty key store (no client certificate) and a trust manager that only compares the server key
with the instance identity (``Engine.runTcp`` / ``innerRun``), so here no CA, name or date is
verified: the caller compares the key afterwards (``identity``).

Memory BIOs keep the TLS engine apart from the socket, exactly like the ``SSLEngine`` in
remoting: the session module moves bytes between the two, under its own timeouts.
"""

from __future__ import annotations

from dataclasses import dataclass

from OpenSSL import SSL

_READ = 65536


class TlsError(Exception):
    """A TLS failure; ``reason`` is OpenSSL's text (an alert name when the peer sent one)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TlsFacts:
    version: str
    cipher: str
    peer_cert_der: bytes | None


def _reason(exc: SSL.Error) -> str:
    parts = []
    for item in exc.args[0] if exc.args and isinstance(exc.args[0], list) else []:
        if isinstance(item, tuple) and len(item) >= 3:
            parts.append(str(item[2]))
    return "; ".join(parts) or str(exc) or type(exc).__name__


class MemoryTls:
    """A TLS client whose records go in and out as bytes (``feed`` / ``outgoing``)."""

    def __init__(self, server_name: str | None = None, max_version: int | None = None) -> None:
        ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
        # JDK defaults of a current agent JVM: TLS 1.2 and 1.3.
        ctx.set_min_proto_version(SSL.TLS1_2_VERSION)
        if max_version is not None:
            ctx.set_max_proto_version(max_version)
        ctx.set_verify(SSL.VERIFY_NONE, lambda *args: True)
        self._conn = SSL.Connection(ctx, None)  # None: memory BIOs
        if server_name:
            self._conn.set_tlsext_host_name(server_name.encode("idna"))
        self._conn.set_connect_state()
        self.done = False

    def outgoing(self) -> bytes:
        """TLS bytes waiting to go to the peer."""
        out = b""
        while True:
            try:
                chunk = self._conn.bio_read(_READ)
            except SSL.WantReadError:
                return out
            if not chunk:
                return out
            out += chunk

    def step(self) -> None:
        """Advance the handshake with what has been fed; sets ``done`` when it completes."""
        if self.done:
            return
        try:
            self._conn.do_handshake()
        except SSL.WantReadError:
            return
        except SSL.Error as exc:
            raise TlsError(_reason(exc)) from None
        self.done = True

    def feed(self, data: bytes) -> None:
        """Bytes that arrived from the peer."""
        self._conn.bio_write(data)

    def feed_eof(self) -> None:
        self._conn.bio_shutdown()

    def send(self, data: bytes) -> bytes:
        """Encrypt application data; returns the records to write."""
        try:
            self._conn.sendall(data)
        except SSL.Error as exc:
            raise TlsError(_reason(exc)) from None
        return self.outgoing()

    def receive(self) -> bytes | None:
        """Decrypted application bytes available now (b"" if none yet); None on close_notify/EOF."""
        out = b""
        while True:
            try:
                chunk = self._conn.recv(_READ)
            except SSL.WantReadError:
                return out
            except SSL.ZeroReturnError:
                return out or None
            except SSL.SysCallError:
                return out or None  # unexpected EOF after bio_shutdown
            except SSL.Error as exc:
                raise TlsError(_reason(exc)) from None
            if not chunk:
                return out or None
            out += chunk

    def close_notify(self) -> bytes:
        try:
            self._conn.shutdown()
        except SSL.Error:
            pass
        return self.outgoing()

    def facts(self) -> TlsFacts:
        cert = self._conn.get_peer_certificate(as_cryptography=True)
        from cryptography.hazmat.primitives.serialization import Encoding

        return TlsFacts(
            version=self._conn.get_protocol_version_name(),
            cipher=self._conn.get_cipher_name() or "",
            peer_cert_der=cert.public_bytes(Encoding.DER) if cert is not None else None,
        )
