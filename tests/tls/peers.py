"""Real TLS peers for the tls.* tests: Debian's ``openssl s_server`` and a Python ``ssl`` server."""

from __future__ import annotations

import datetime as dt
import http.server
import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from jnlpdiag.pycompat import Timeouts
from tests.peers.util import free_port, wait_port

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


class OpenSSLServer:
    """``openssl s_server -www`` on 127.0.0.1 with the given extra arguments.

    s_server serves one connection at a time; every client here closes quickly, so that is fine.
    """

    def __init__(self, cert: str, key: str, *args: str, chain: str | None = None) -> None:
        self.port = free_port()
        cmd = [OPENSSL, "s_server", "-accept", f"127.0.0.1:{self.port}", "-cert", cert, "-key", key, "-www", "-quiet"]
        if chain:
            cmd += ["-cert_chain", chain]
        self.cmd = cmd + list(args)
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> OpenSSLServer:
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port("127.0.0.1", self.port, timeout=10)
        except Timeouts:
            self.proc.kill()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}/"


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "jnlpdiag-test"
    date_offset = dt.timedelta(0)

    def date_time_string(self, timestamp: float | None = None) -> str:  # noqa: D401 - http.server API
        when = dt.datetime.now(dt.timezone.utc) + self.date_offset
        return when.strftime("%a, %d %b %Y %H:%M:%S GMT")

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


class PyTlsServer:
    """A threaded HTTPS server on Python's ssl whose Date header runs ``date_offset`` off."""

    def __init__(self, cert_chain: str, key: str, date_offset: dt.timedelta = dt.timedelta(0)) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert_chain, key)
        handler = type("Handler", (_Handler,), {"date_offset": date_offset})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.socket = self.ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> PyTlsServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}/"


class SilentServer:
    """Accepts TCP connections and never says a word (a black-holed TLS port)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
                self.conns.append(conn)
            except OSError:
                continue

    def __enter__(self) -> SilentServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        for c in self.conns:
            c.close()
        self.sock.close()


def self_signed(path_cert: Path, path_key: Path, host: str) -> None:
    """A self-signed leaf for ``host`` (SAN DNS and CN), EC P-256, valid for a year."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    path_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path_key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
