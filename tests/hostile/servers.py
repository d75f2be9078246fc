"""Hostile peers for tests/hostile: real servers on loopback that misbehave on purpose.

Each is a context manager that listens on 127.0.0.1 (or a given address), serves every connection
in its own daemon thread and closes everything on exit. They record what clients sent, so a test
can prove that something was *not* sent (a secret to another host, a fetch of an external entity).

Wire formats followed byte for byte where the misbehaviour needs hand-made bytes:
- TLS record header and alerts: RFC 8446 section 5.1 (``ContentType(1) legacy_version(2)
  length(2)``) and section 6 (``Alert: level(1) description(1)``; 2 = fatal, 80 = internal_error);
  for TLS 1.2, RFC 5246 sections 6.2.1 and 7.2.
- WebSocket frames: RFC 6455 section 5.2 (``FIN/opcode``, ``MASK/len7``, 16- or 64-bit extended
  length; server frames unmasked) and section 7.4 (close codes).
- HTTP/1.1 messages and chunked bodies: RFC 9112 sections 2-7.
Everything else is a real server: ``openssl s_server`` behind the TLS relays, the ``websockets``
library for the WebSocket cases.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from jnlpdiag.pycompat import Timeouts

try:
    from cryptography.hazmat.decrepit.ciphers.modes import CFB8
except ImportError:  # older cryptography
    from cryptography.hazmat.primitives.ciphers.modes import CFB8  # type: ignore[assignment]

from tests.peers.util import free_port, wait_port

JENKINS_VERSION = "2.504.1"
# core Functions.advertiseHeaders: what Jenkins sends on every page, even a 403.
JENKINS_HEADERS = f"X-Hudson: 1.395\r\nX-Jenkins: {JENKINS_VERSION}\r\nX-Jenkins-Session: 6c0d7a58\r\n"

Behaviour = Callable[[socket.socket, "Server"], None]


class Server:
    """``with Server(behaviour) as s:`` — a threaded TCP server on loopback running ``behaviour``."""

    def __init__(self, behaviour: Behaviour, host: str = "127.0.0.1", port: int = 0,
                 tls: ssl.SSLContext | None = None) -> None:
        self.behaviour = behaviour
        self.host = host
        self.tls = tls  # a server-side context: the behaviour then runs inside TLS (Python's ssl module)
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(64)
        self.port: int = self._sock.getsockname()[1]
        self.received: list[bytes] = []  # the bytes each connection sent before it ended (first 64 KB)
        self.connections = 0
        self._live: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}/"

    def __enter__(self) -> Server:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sock.close()
        with self._lock:
            for c in self._live:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self._live.append(conn)
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn.settimeout(10)
                conn = self.tls.wrap_socket(conn, server_side=True)
                conn.settimeout(None)
                with self._lock:
                    self._live.append(conn)
            self.behaviour(conn, self)
        except (OSError, ValueError):
            pass  # the client went away: that is the point of most of these servers
        finally:
            conn.close()

    def stopped(self) -> bool:
        return self._stop.is_set()

    def record(self, data: bytes) -> None:
        with self._lock:
            self.received.append(data[:65536])


# -- helpers ------------------------------------------------------------------------------------


def read_head(conn: socket.socket, server: Server, limit: int = 65536) -> bytes:
    """Read one HTTP request head (up to the blank line); records it."""
    buf = b""
    while b"\r\n\r\n" not in buf and len(buf) < limit:
        chunk = conn.recv(4096)
        if not chunk:
            break
        buf += chunk
    server.record(buf)
    return buf


def request_path(head: bytes) -> str:
    parts = head.split(b"\r\n", 1)[0].split(b" ")
    return parts[1].decode("latin-1") if len(parts) > 1 else ""


def drain(conn: socket.socket, server: Server) -> None:
    """Read and discard until the client closes (or the server stops): never answer."""
    conn.settimeout(0.5)
    got = b""
    while not server.stopped():
        try:
            chunk = conn.recv(65536)
        except Timeouts:
            continue
        if not chunk:
            break
        got += chunk[: 65536 - len(got)]
    server.record(got)


def http_response(status: str, headers: str = "", body: bytes = b"") -> bytes:
    return (f"HTTP/1.1 {status}\r\n{headers}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


def jenkins_page(path: str) -> bytes | None:
    """The pages of a Jenkins with the TCP agent port disabled (core: tcpSlaveAgentListener/ is 404)."""
    if path in ("/", "/login"):
        return http_response("200 OK", JENKINS_HEADERS + "Content-Type: text/html\r\n",
                             b"<html><head><title>Sign in [Jenkins]</title></head></html>")
    if path.startswith("/tcpSlaveAgentListener/"):
        return http_response("404 Not Found", JENKINS_HEADERS, b"Not Found")
    return None


# -- behaviours: TCP and HTTP ----------------------------------------------------------------------


def silent(conn: socket.socket, server: Server) -> None:
    """TCP slowloris: accept, read whatever comes, never send a byte."""
    drain(conn, server)


def dribble_http(conn: socket.socket, server: Server) -> None:
    """HTTP slowloris: a status line, then header bytes one at a time, 20 a second, forever."""
    read_head(conn, server)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    n = 0
    while not server.stopped():
        for byte in f"X-Slow-{n}: {'a' * 20}\r\n".encode():
            conn.sendall(bytes([byte]))
            time.sleep(0.05)
        n += 1


def huge_headers(conn: socket.socket, server: Server) -> None:
    """1 MB of response headers (every line valid), then a small body."""
    read_head(conn, server)
    line = b"X-Padding-%06d: " + b"p" * 100 + b"\r\n"
    head = b"HTTP/1.1 200 OK\r\n" + JENKINS_HEADERS.encode()
    count = 0
    while len(head) < 1024 * 1024:
        head += line % count
        count += 1
    conn.sendall(head + b"Content-Length: 2\r\nConnection: close\r\n\r\nok")


def endless_chunked(conn: socket.socket, server: Server) -> None:
    """A Jenkins-looking 200 whose chunked body never ends (RFC 9112 section 7.1), sent as fast as read."""
    path = request_path(read_head(conn, server))
    if path.startswith("/tcpSlaveAgentListener/"):
        conn.sendall(http_response("404 Not Found", JENKINS_HEADERS, b"Not Found"))
        return
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + JENKINS_HEADERS.encode() + b"Content-Type: text/html\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"<p>" + b"x" * 4090 + b"</p>\n"
    frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    while not server.stopped():
        conn.sendall(frame)


def endless_chunk_size_line(conn: socket.socket, server: Server) -> None:
    """A chunked body whose chunk-size line never ends: hex digits, no CRLF, forever."""
    read_head(conn, server)
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + JENKINS_HEADERS.encode() + b"Transfer-Encoding: chunked\r\n\r\n")
    while not server.stopped():
        conn.sendall(b"0" * 65536)


def redirect_loop(conn: socket.socket, server: Server) -> None:
    """Every path redirects to itself with '?again' and back: A -> B -> A -> ..."""
    path = request_path(read_head(conn, server))
    target = path[: -len("?again")] if path.endswith("?again") else path + "?again"
    conn.sendall(http_response("302 Found", f"Location: {target}\r\n", b""))


def redirect_to(base: str) -> Behaviour:
    """Every path redirects to the same path on ``base`` (another host); the WebSocket endpoint to
    its ``ws://`` form, the one redirect a WebSocket client could follow."""

    def behaviour(conn: socket.socket, server: Server) -> None:
        path = request_path(read_head(conn, server))
        target = base.rstrip("/") + path
        if path.startswith("/wsagents/"):
            target = "ws" + target[len("http"):]
        conn.sendall(http_response("302 Found", f"Location: {target}\r\n", b""))

    return behaviour


def recorder(conn: socket.socket, server: Server) -> None:
    """The 'other host': records what arrives and answers a neutral 404."""
    read_head(conn, server)
    conn.sendall(http_response("404 Not Found", "", b"not here"))


def agent_jar_server(jar: bytes) -> Behaviour:
    """Jenkins pages plus ``/jnlpJars/agent.jar`` (core ``Slave.JnlpJar``) serving ``jar``."""

    def behaviour(conn: socket.socket, server: Server) -> None:
        path = request_path(read_head(conn, server))
        page = jenkins_page(path)
        if page is None and path.startswith("/jnlpJars/agent.jar"):
            page = http_response("200 OK", JENKINS_HEADERS + "Content-Type: application/java-archive\r\n", jar)
        conn.sendall(page or http_response("404 Not Found", JENKINS_HEADERS, b"Not Found"))

    return behaviour


# -- the agent file (.jnlp) --------------------------------------------------------------------------


def encrypt_stream(secret: str) -> tuple[bytes, Any]:
    """core EncryptedSlaveAgentJnlpFile: 16-byte IV, then AES/CFB8/NoPadding under the first 16 bytes
    of the MAC (the secret in hex). Returns (IV, encryptor); CFB8 is a stream mode, so the file can be
    encrypted piece by piece as it is sent."""
    iv = os.urandom(16)
    return iv, Cipher(algorithms.AES(bytes.fromhex(secret)[:16]), CFB8(iv)).encryptor()


def jnlp_server(secret: str, name: str, document: bytes | Callable[[], Iterator[bytes]], *,
                declared_length: int | None = None) -> Behaviour:
    """Jenkins pages plus ``/computer/<name>/jenkins-agent.jnlp?encrypt=true`` serving ``document``
    encrypted with the agent's secret (a bytes value, or a generator of pieces for huge files)."""

    def behaviour(conn: socket.socket, server: Server) -> None:
        path = request_path(read_head(conn, server))
        page = jenkins_page(path.split("?")[0])
        if page is not None:
            conn.sendall(page)
            return
        if not path.startswith(f"/computer/{name}/jenkins-agent.jnlp"):
            conn.sendall(http_response("404 Not Found", JENKINS_HEADERS, b"Not Found"))
            return
        iv, enc = encrypt_stream(secret)
        if isinstance(document, bytes):
            conn.sendall(http_response("200 OK", "Content-Type: application/octet-stream\r\n",
                                       iv + enc.update(document) + enc.finalize()))
            return
        length = 16 + (declared_length or 0)
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\n"
                     "Connection: close\r\n\r\n".encode() + iv)
        for piece in document():
            if server.stopped():
                return
            conn.sendall(enc.update(piece))

    return behaviour


def huge_jnlp(secret: str, name: str, size: int) -> tuple[Callable[[], Iterator[bytes]], int]:
    """A well-formed start of a .jnlp followed by ``size`` bytes of XML comment, streamed."""
    head = (f"<jnlp><application-desc><argument>{secret}</argument><argument>{name}</argument>"
            "<!-- ").encode()
    tail = b" --></application-desc></jnlp>"
    body = size - len(head) - len(tail)

    def pieces() -> Iterator[bytes]:
        yield head
        left = body
        block = b"padding " * 8192
        while left > 0:
            yield block[:left]
            left -= len(block)
        yield tail

    return pieces, size


# -- TLS ---------------------------------------------------------------------------------------------


def garbage(conn: socket.socket, server: Server) -> None:
    """Answer the ClientHello with 16 KB of bytes that are no TLS record (first byte 0x00 is no
    ContentType of RFC 8446 section 5.1), then close."""
    server.record(conn.recv(4096))
    rng = random.Random(9)
    conn.sendall(b"\x00\x07" + rng.randbytes(16 * 1024))


class OpenSSLBackend:
    """A real ``openssl s_server -www`` (TLS 1.2 only, so records after ServerHello stay readable)."""

    def __init__(self, cert: str, key: str) -> None:
        openssl = shutil.which("openssl")
        if not openssl:
            raise RuntimeError("openssl is not installed (apt-get install openssl)")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [openssl, "s_server", "-quiet", "-accept", f"127.0.0.1:{self.port}", "-cert", cert, "-key", key,
             "-tls1_2", "-www", "-naccept", "1000"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port("127.0.0.1", self.port)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _read_record(sock: socket.socket) -> bytes | None:
    head = b""
    while len(head) < 5:
        chunk = sock.recv(5 - len(head))
        if not chunk:
            return None
        head += chunk
    length = struct.unpack(">H", head[3:5])[0]
    body = b""
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        if not chunk:
            return None
        body += chunk
    return head + body


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def tls_relay(backend_port: int, mode: str) -> Behaviour:
    """A relay in front of a real TLS server that spoils the server's side of the handshake.

    ``dribble``: the server's bytes reach the client one at a time, 20 a second (TLS slowloris).
    ``alert``: the server's first record (ServerHello) is passed on, then a fatal internal_error
    alert (``15 03 03 00 02 02 50``, RFC 5246 section 7.2) replaces the rest, and the connection closes.
    """

    def behaviour(conn: socket.socket, server: Server) -> None:
        back = socket.create_connection(("127.0.0.1", backend_port), timeout=10)
        try:
            threading.Thread(target=_pump, args=(conn, back), daemon=True).start()
            if mode == "dribble":
                while not server.stopped():
                    byte = back.recv(1)
                    if not byte:
                        return
                    conn.sendall(byte)
                    time.sleep(0.05)
            elif mode == "alert":
                first = _read_record(back)
                if first is None:
                    return
                conn.sendall(first + b"\x15\x03\x03\x00\x02\x02\x50")
                time.sleep(0.2)  # let the client read the alert before the FIN
        finally:
            back.close()

    return behaviour


# -- WebSocket ---------------------------------------------------------------------------------------


def ws_frame(opcode: int, payload: bytes, *, declared: int | None = None) -> bytes:
    """An unmasked server frame (RFC 6455 section 5.2); ``declared`` overrides the length field."""
    n = len(payload) if declared is None else declared
    first = bytes([0x80 | opcode])
    if n < 126:
        return first + bytes([n]) + payload
    if n < 1 << 16:
        return first + bytes([126]) + struct.pack(">H", n) + payload
    return first + bytes([127]) + struct.pack(">Q", n) + payload


class WebSocketJenkins:
    """A real ``websockets`` server with Jenkins' pages that upgrades ``/wsagents/`` for anyone, then
    misbehaves as ``mode`` says:

    - ``big_message``: a 2 MiB binary message (agent.jar's default limits are far below; the
      client library refuses messages over 1 MiB);
    - ``huge_length``: a frame header declaring 2**62 bytes of payload;
    - ``close:<code>``: a close frame with that code (valid odd codes go through the library; codes
      no endpoint may send, such as 1005 or 999, are written raw);
    - ``close_short``: a close frame with a 1-byte payload (RFC 6455 section 5.5.1 forbids it).
    """

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.port = 0
        self.upgrades = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Future[None] | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> WebSocketJenkins:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("WebSocket server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join(5)

    def _run(self) -> None:
        from websockets.asyncio.server import serve
        from websockets.datastructures import Headers
        from websockets.http11 import Response

        def page(status: int, reason: str, body: bytes) -> Response:
            hdrs = Headers([("X-Hudson", "1.395"), ("X-Jenkins", JENKINS_VERSION), ("Content-Type", "text/html"),
                            ("Content-Length", str(len(body))), ("Connection", "close")])
            return Response(status, reason, hdrs, body)

        def process_request(connection: Any, request: Any) -> Any:
            path = request.path.split("?")[0]
            if path in ("/", "/login"):
                return page(200, "OK", b"<html><head><title>Jenkins</title></head></html>")
            if path == "/wsagents/":
                self.upgrades += 1
                return None
            return page(404, "Not Found", b"Not Found")

        async def session(ws: Any) -> None:
            mode = self.mode
            if mode == "big_message":
                await ws.send(b"\x00" * (2 * 1024 * 1024))
            elif mode == "huge_length":
                ws.transport.write(ws_frame(0x2, b"\x00" * 1024, declared=1 << 62))
            elif mode.startswith("close:"):
                code = int(mode.split(":")[1])
                if 3000 <= code <= 4999 or code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012,
                                                    1013, 1014):
                    await ws.close(code, "odd")
                    return
                ws.transport.write(ws_frame(0x8, struct.pack(">H", code) + b"odd"))
            elif mode == "close_short":
                ws.transport.write(ws_frame(0x8, b"\x03"))
            try:
                await asyncio.wait_for(ws.wait_closed(), 30)
            except Timeouts:
                pass

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = self._loop.create_future()
            async with serve(session, "127.0.0.1", 0, process_request=process_request, server_header=None,
                             ping_interval=None, max_size=None) as srv:
                self.port = next(iter(srv.sockets)).getsockname()[1]
                self._ready.set()
                await self._stop

        asyncio.run(main())


def write_cert(ca: Any, directory: Path) -> tuple[str, str]:
    """A trustme leaf for 127.0.0.1 and localhost, written as PEM files for openssl s_server."""
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    cert, key = directory / "leaf.pem", directory / "leaf.key"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    for extra in leaf.cert_chain_pems[1:]:
        cert.write_bytes(cert.read_bytes() + extra.bytes())
    leaf.private_key_pem.write_to_path(str(key))
    return str(cert), str(key)
