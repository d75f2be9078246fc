"""An HTTPS front that accepts TLS 1.3 only and relays the decrypted bytes to an upstream port.

A client limited to TLS 1.2 (``-Djdk.tls.client.protocols=TLSv1.2``) gets a ``protocol_version``
alert, as from a load balancer with a TLS 1.3-only policy. Blocking sockets on threads, because
asyncio's TLS transport drops the connection on a failed handshake without sending that alert.
"""

from __future__ import annotations

import select
import socket
import socketserver
import ssl
import threading
from pathlib import Path

IO_TIMEOUT = 10.0
IDLE_TIMEOUT = 30.0


def tls13_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(str(cert_file), str(key_file))
    return ctx


def relay(tls: ssl.SSLSocket, up: socket.socket) -> None:
    """Copy both ways until either side closes or nothing moves for IDLE_TIMEOUT."""
    while True:
        if tls.pending():
            ready: list[socket.socket] = [tls]
        else:
            ready, _, _ = select.select([tls, up], [], [], IDLE_TIMEOUT)
            if not ready:
                return
        for src in ready:
            dst = up if src is tls else tls
            try:
                data = src.recv(65536)
            except ssl.SSLWantReadError:
                continue
            except OSError:
                return
            if not data:
                return
            try:
                dst.sendall(data)
            except OSError:
                return


class Tls13Front:
    def __init__(self, upstream: tuple[str, int], cert_file: Path, key_file: Path) -> None:
        self.upstream = upstream
        self.context = tls13_context(cert_file, key_file)
        self.server: socketserver.ThreadingTCPServer | None = None
        self.thread: threading.Thread | None = None

    def handle(self, raw: socket.socket) -> None:
        raw.settimeout(IO_TIMEOUT)
        try:
            tls = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the alert (e.g. protocol_version) has been sent by OpenSSL already
        try:
            with socket.create_connection(self.upstream, timeout=IO_TIMEOUT) as up:
                relay(tls, up)
        except OSError:
            pass
        finally:
            tls.close()

    def start(self, host: str) -> int:
        front = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                front.handle(self.request)

        server = socketserver.ThreadingTCPServer((host, 0), Handler)
        server.daemon_threads = True
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="jnlpdiag-demo-tls", daemon=True)
        self.thread.start()
        return int(server.server_address[1])

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
