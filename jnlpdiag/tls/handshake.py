"""One TLS handshake with pyOpenSSL, bounded by one deadline, reporting what the server did.

Why pyOpenSSL and not :mod:`ssl`: the probes need the chain exactly as sent, the CA names of a
CertificateRequest, whether a CertificateRequest came at all (info callback), TLS 1.0/1.1 with a
security level lowered for this one context, and per-handshake cipher lists for TLS 1.2 and 1.3.

Every call is blocking and meant for ``asyncio.to_thread``: the socket is non-blocking and every
wait goes through ``select`` with the time left until ``deadline``, so a thread always ends by
itself, even when the peer stalls half-way through a handshake.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from OpenSSL import SSL, crypto

from jnlpdiag.pycompat import Timeouts

VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_PROTO = {
    "TLSv1": SSL.TLS1_VERSION,
    "TLSv1.1": SSL.TLS1_1_VERSION,
    "TLSv1.2": SSL.TLS1_2_VERSION,
    "TLSv1.3": SSL.TLS1_3_VERSION,
}
# Everything this OpenSSL can offer for TLS <= 1.2, except PSK and SRP suites (a server only picks
# those when it shares a secret with the client). @SECLEVEL=0 lets OpenSSL 3 speak TLS 1.0/1.1.
ALL_CIPHERS = "ALL:COMPLEMENTOFALL:!PSK:!SRP:@SECLEVEL=0"
ALL_TLS13 = (
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_AES_128_CCM_8_SHA256",
)

AFTER_WAIT = 3.0  # seconds to wait for an answer after the handshake
T = TypeVar("T")


@dataclass
class ClientIdentity:
    """A client certificate chain and its key, offered when the server asks for one."""

    chain: list[x509.Certificate]
    key: Any  # a cryptography private key
    source: str = ""


@dataclass(frozen=True)
class Dest:
    """Where to connect: the server's addresses, or a proxy's plus the CONNECT target."""

    addresses: tuple[tuple[Any, ...], ...]
    connect: str | None = None  # "host:port" to ask an HTTP proxy for (CONNECT), None: direct
    proxy_auth: str | None = None  # Proxy-Authorization header value


@dataclass
class Spec:
    """What the client offers in one handshake."""

    min_version: str | None = None
    max_version: str | None = None
    ciphers: str | None = None  # OpenSSL cipher string for TLS <= 1.2; None: OpenSSL default
    tls13_suites: tuple[str, ...] | None = None  # None: OpenSSL default
    sni: str | None = None
    alpn: tuple[str, ...] = ()
    identity: ClientIdentity | None = None
    # After the handshake, send one HTTP request and read the status line: a TLS 1.3 server that
    # requires a client certificate only says so (alert certificate_required) after the handshake.
    http_host: str | None = None
    http_path: str = "/"  # the Jenkins URL's path: a front may serve Jenkins under a prefix only


@dataclass
class Result:
    ok: bool
    address: str | None = None
    version: str | None = None
    cipher: str | None = None  # OpenSSL name
    alpn: str | None = None
    chain: list[bytes] = field(default_factory=list)  # DER, as sent, leaf first
    cert_requested: bool = False
    server_hello: bool = False  # the server answered the ClientHello (chose version and suite)
    client_ca_names: list[str] = field(default_factory=list)
    error: str | None = None  # one line
    error_kind: str | None = None  # tls, timeout, refused, reset, closed, unreachable, dns, error
    stage: str | None = None  # connect, handshake, after
    http_status: str | None = None  # first line of the HTTP answer after the handshake
    http_headers: dict[str, str] = field(default_factory=dict)  # its headers, lower-case names
    http_body: str = ""  # the start of its body (a front's error page names its reason)
    after_error: str | None = None  # what went wrong after the handshake
    after_alert: bool = False  # the server sent a TLS alert after the handshake (TLS 1.3 client auth)
    elapsed_ms: float = 0.0


class _Deadline(Exception):
    pass


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Deadline()
    return left


def _ssl_reason(exc: SSL.Error) -> str:
    """The most specific reason string of an OpenSSL error queue."""
    try:
        items = exc.args[0]
        if isinstance(items, list) and items:
            reasons = [str(item[2]) for item in items if len(item) >= 3 and item[2]]
            if reasons:
                return reasons[-1]
    except (IndexError, TypeError):
        pass
    return str(exc) or type(exc).__name__


def _classify_os(exc: OSError) -> tuple[str, str]:
    if isinstance(exc, ProxyRefused):
        return "proxy", exc.strerror or str(exc)
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return "refused", "connection refused"
    if isinstance(exc, ConnectionResetError) or exc.errno == errno.ECONNRESET:
        return "reset", "connection reset by peer"
    if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN):
        return "unreachable", f"unreachable: {exc.strerror}"
    if exc.errno == errno.ETIMEDOUT or isinstance(exc, Timeouts):
        return "timeout", "timed out"
    return "error", exc.strerror or str(exc)


class ProxyRefused(OSError):
    pass


def _connect(dest: Dest, deadline: float) -> tuple[socket.socket, str]:
    """Connect to the first address that answers (through the proxy tunnel if any)."""
    sock, address = _connect_tcp(dest.addresses, deadline)
    if dest.connect is None:
        return sock, address
    try:
        _tunnel(sock, dest, deadline)
    except BaseException:
        sock.close()
        raise
    return sock, f"{dest.connect} via proxy {address}"


def _tunnel(sock: socket.socket, dest: Dest, deadline: float) -> None:
    lines = [f"CONNECT {dest.connect} HTTP/1.1", f"Host: {dest.connect}"]
    if dest.proxy_auth:
        lines.append(f"Proxy-Authorization: {dest.proxy_auth}")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode()
    while data:
        _, writable, _ = select.select([], [sock], [], _left(deadline))
        if writable:
            data = data[sock.send(data) :]
    head = b""
    # Read byte by byte up to the blank line, so no TLS byte after it is swallowed.
    while not head.endswith(b"\r\n\r\n"):
        readable, _, _ = select.select([sock], [], [], _left(deadline))
        if not readable:
            continue
        byte = sock.recv(1)
        if not byte:
            raise ProxyRefused(errno.ECONNRESET, "the proxy closed the connection after CONNECT")
        head += byte
        if len(head) > 16384:
            raise ProxyRefused(errno.EPROTO, "the proxy's answer to CONNECT is too long")
    status = head.split(b"\r\n", 1)[0].decode("iso-8859-1", "replace")
    parts = status.split(" ", 2)
    if len(parts) < 2 or parts[1] != "200":
        raise ProxyRefused(errno.EPROTO, f"the proxy refused CONNECT {dest.connect}: {status[:100]}")


def _connect_tcp(addresses: tuple[tuple[Any, ...], ...], deadline: float) -> tuple[socket.socket, str]:
    last: OSError | None = None
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            rc = sock.connect_ex(sockaddr)
            if rc not in (0, errno.EINPROGRESS, errno.EAGAIN):
                raise OSError(rc, os.strerror(rc))
            _, writable, _ = select.select([], [sock], [], _left(deadline))
            if not writable:
                raise TimeoutError("connect timed out")
            rc = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if rc:
                raise OSError(rc, os.strerror(rc))
            return sock, f"{sockaddr[0]}:{sockaddr[1]}"
        except _Deadline:
            sock.close()
            raise
        except OSError as exc:
            sock.close()
            if exc.errno == errno.ECONNREFUSED:
                last = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
            else:
                last = exc
    raise last or OSError(errno.EADDRNOTAVAIL, "no address to connect to")


def _pump(conn: SSL.Connection, sock: socket.socket, fn: Callable[[], T], deadline: float) -> T:
    """Run a pyOpenSSL call on a non-blocking socket until it completes or the deadline passes."""
    while True:
        try:
            return fn()
        except SSL.WantReadError:
            readable, _, _ = select.select([sock], [], [], _left(deadline))
            if not readable:
                raise _Deadline() from None
        except SSL.WantWriteError:
            _, writable, _ = select.select([], [sock], [], _left(deadline))
            if not writable:
                raise _Deadline() from None


def make_context(spec: Spec, on_state: Callable[[bytes], None] | None = None) -> SSL.Context:
    ctx = SSL.Context(SSL.TLS_METHOD)
    if spec.min_version:
        ctx.set_min_proto_version(_PROTO[spec.min_version])
    if spec.max_version:
        ctx.set_max_proto_version(_PROTO[spec.max_version])
    if spec.ciphers is not None:
        ctx.set_cipher_list(spec.ciphers.encode())
    if spec.tls13_suites is not None:
        ctx.set_tls13_ciphersuites(":".join(spec.tls13_suites).encode())
    if spec.alpn:
        ctx.set_alpn_protos([p.encode() for p in spec.alpn])
    if spec.identity is not None:
        ident = spec.identity
        ctx.use_certificate(ident.chain[0])
        for extra in ident.chain[1:]:
            ctx.add_extra_chain_cert(extra)
        ctx.use_privatekey(ident.key)
    if on_state is not None:
        ctx.set_info_callback(lambda conn, where, ret: on_state(conn.get_state_string()))
    # The client verifies nothing itself: the chain is judged afterwards, against each store.
    ctx.set_verify(SSL.VERIFY_NONE, lambda *args: True)
    return ctx


_RFC4514_KEYS = {"CN", "O", "OU", "C", "L", "ST", "STREET", "DC", "UID"}


def _escape(value: str) -> str:
    out = "".join("\\" + ch if ch in '\\"+,;<>' else ch for ch in value)
    if out.startswith(("#", " ")):
        out = "\\" + out
    if out.endswith(" "):
        out = out[:-1] + "\\ "
    return out


def _name(name: crypto.X509Name) -> str:
    """RFC 4514 text of a CA name from a CertificateRequest, written as cryptography's
    ``Name.rfc4514_string()`` writes certificate names (last RDN first), so the two compare."""
    parts = []
    for key, value in reversed(name.get_components()):
        k = key.decode("ascii", "replace")
        k = k if k in _RFC4514_KEYS else {"emailAddress": "1.2.840.113549.1.9.1"}.get(k, k)
        parts.append(f"{k}={_escape(value.decode('utf-8', 'replace'))}")
    return ",".join(parts)


def handshake(dest: Dest, spec: Spec, deadline: float) -> Result:
    """One handshake against the first reachable address; never raises, never outlives ``deadline``."""
    t0 = time.monotonic()
    states: list[bytes] = []
    result = Result(ok=False)
    sock: socket.socket | None = None
    try:
        ctx = make_context(spec, states.append)
    except (SSL.Error, ValueError) as exc:
        # e.g. "no cipher match": nothing of what we were asked to offer exists here.
        result.error = _ssl_reason(exc) if isinstance(exc, SSL.Error) else str(exc)
        result.error_kind, result.stage = "client", "setup"
        return result
    try:
        try:
            sock, result.address = _connect(dest, deadline)
        except OSError as exc:
            result.error_kind, result.error = _classify_os(exc)
            result.stage = "connect"
            return result
        conn = SSL.Connection(ctx, sock)
        conn.set_connect_state()
        if spec.sni:
            conn.set_tlsext_host_name(spec.sni.encode("idna"))
        result.stage = "handshake"
        try:
            _pump(conn, sock, conn.do_handshake, deadline)
        except SSL.SysCallError as exc:
            code = exc.args[0] if exc.args else -1
            if code in (errno.ECONNRESET,):
                result.error_kind, result.error = "reset", "connection reset by peer during the handshake"
            else:
                result.error_kind, result.error = "closed", "the server closed the connection during the handshake"
            return result
        except SSL.Error as exc:
            result.error_kind, result.error = "tls", _ssl_reason(exc)
            return result
        finally:
            result.cert_requested = any(b"certificate request" in s.lower() for s in states)
            try:
                result.client_ca_names = [_name(n) for n in conn.get_client_ca_list()]
            except SSL.Error:
                pass
            # A handshake that failed after the ServerHello (a TLS 1.2 server demanding a client
            # certificate) still tells which version and suite the server chose, and its chain.
            result.server_hello = any(b"read server hello" in s.lower() for s in states)
            if result.server_hello:
                result.version = conn.get_protocol_version_name()
                result.cipher = conn.get_cipher_name()
                peer = conn.get_peer_cert_chain(as_cryptography=True) or []
                result.chain = [c.public_bytes(serialization.Encoding.DER) for c in peer]
        result.ok = True
        result.version = conn.get_protocol_version_name()
        result.cipher = conn.get_cipher_name()
        alpn = conn.get_alpn_proto_negotiated()
        result.alpn = alpn.decode("ascii", "replace") if alpn else None
        chain = conn.get_peer_cert_chain(as_cryptography=True) or []
        result.chain = [c.public_bytes(serialization.Encoding.DER) for c in chain]
        if spec.http_host is not None:
            result.stage = "after"
            # An alert comes right after the client's Finished; an HTTP answer is quick too.
            _after_handshake(
                conn, sock, spec.http_host, spec.http_path, min(deadline, time.monotonic() + AFTER_WAIT), result
            )
        result.stage = None
        return result
    except _Deadline:
        result.ok = result.ok and result.stage == "after"
        if result.stage == "after":
            result.after_error = "no answer to an HTTP request after the handshake"
            result.stage = None
        else:
            result.error_kind, result.error = "timeout", f"timed out during {result.stage or 'connect'}"
        return result
    finally:
        if sock is not None:
            sock.close()
        result.elapsed_ms = (time.monotonic() - t0) * 1000


BODY_PEEK = 2048  # bytes of the body kept: enough for an error page's title and first lines


def _after_handshake(
    conn: SSL.Connection, sock: socket.socket, host: str, path: str, deadline: float, result: Result
) -> None:
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: jnlpdiag\r\nConnection: close\r\n\r\n".encode()
    try:
        view = memoryview(request)
        while view:  # send(), not sendall(): a retried sendall() would start over

            def send(chunk: memoryview = view) -> int:
                return int(conn.send(bytes(chunk)))

            view = view[_pump(conn, sock, send, deadline) :]
        data = b""
        # The status line and the headers (for Date), bounded: 16 KB is plenty for a head.
        while b"\r\n\r\n" not in data and len(data) < 16384:
            chunk = _pump(conn, sock, lambda: conn.recv(4096), deadline)
            if not chunk:
                break
            data += chunk
        head_bytes, _, body = data.partition(b"\r\n\r\n")
        # A little of the body, if it comes at once: what a front's error page says.
        while head_bytes and len(body) < BODY_PEEK and time.monotonic() < deadline:
            try:
                chunk = _pump(conn, sock, lambda: conn.recv(BODY_PEEK), min(deadline, time.monotonic() + 0.3))
            except (_Deadline, SSL.Error):
                break
            if not chunk:
                break
            body += chunk
        result.http_body = body[:BODY_PEEK].decode("utf-8", "replace")
        head = head_bytes.decode("iso-8859-1", "replace").split("\r\n")
        line = head[0]
        result.http_status = line[:200] if line else None
        for header in head[1:64]:
            name, sep, value = header.partition(":")
            if sep:
                result.http_headers.setdefault(name.strip().lower(), value.strip()[:500])
        if not line:
            result.after_error = "the server closed the connection without answering"
    except SSL.ZeroReturnError:
        result.after_error = "the server closed the TLS session without answering"
    except SSL.SysCallError:
        result.after_error = "the server closed the connection without answering"
    except SSL.Error as exc:
        result.after_error = _ssl_reason(exc)
        result.after_alert = True



def load_identity(cert_path: str, key_path: str | None, password: bytes | None = None) -> ClientIdentity:
    """A PEM client certificate (chain) and key; the key may sit in the certificate file."""
    with open(cert_path, "rb") as fh:
        cert_data = fh.read()
    chain = x509.load_pem_x509_certificates(cert_data)
    key_data = cert_data
    if key_path:
        with open(key_path, "rb") as fh:
            key_data = fh.read()
    key = serialization.load_pem_private_key(key_data, password=password)
    return ClientIdentity(chain=chain, key=key, source=cert_path)
