"""A small, bounded HTTP/1.1 client on asyncio for probes.

Why not urllib: its timeouts are per socket operation (a server that dribbles one byte a second
never times out), it follows redirects across hosts, and it cannot report the TLS facts a probe
needs. Here every request is bounded in time (one deadline for the whole exchange), in header size
and in body size; redirects are returned, never followed; errors are classified.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit

from jnlpdiag import __version__, pycompat
from jnlpdiag.neterrors import classify
from jnlpdiag.pycompat import Timeouts

MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 200
DEFAULT_MAX_BODY = 256 * 1024
USER_AGENT = f"jnlpdiag/{__version__}"


@lru_cache(maxsize=16)
def client_ssl_context(ca_file: str | None = None, verify: bool = True) -> ssl.SSLContext:
    """The HTTPS client context probes share: the system CA store plus ``--ca-file`` (extra CAs).

    Cached: loading the system store costs milliseconds per context, which adds up when
    ``check --targets`` runs hundreds of checks; a context is safe to share between connections.
    """
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class HttpError(Exception):
    """A request that did not produce a response. ``kind`` is a neterrors class or ``protocol``."""

    def __init__(self, kind: str, message: str, stage: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.stage = stage  # dns, connect, proxy, tls, request, response


class Headers:
    """Case-insensitive, multi-valued response headers, in arrival order."""

    def __init__(self, items: list[tuple[str, str]] | None = None) -> None:
        self.items: list[tuple[str, str]] = items or []

    def get(self, name: str, default: str | None = None) -> str | None:
        lname = name.lower()
        for key, value in self.items:
            if key.lower() == lname:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for k, v in self.items if k.lower() == lname]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def to_dict(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in self.items:
            out[key] = f"{out[key]}, {value}" if key in out else value
        return out


@dataclass
class TlsInfo:
    version: str | None
    cipher: str | None
    peer_cert_der: bytes | None
    alpn: str | None = None


@dataclass
class Response:
    url: str
    status: int
    reason: str
    headers: Headers
    body: bytes
    body_truncated: bool
    elapsed_ms: float
    peer: tuple[str, int] | None = None
    tls: TlsInfo | None = None
    via_proxy: str | None = None
    http_version: str = "HTTP/1.1"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")

    def text(self, limit: int = 4096) -> str:
        return self.body[:limit].decode("utf-8", "replace")


@dataclass
class Proxy:
    host: str
    port: int
    auth: str | None = None  # "user:password", sent as Proxy-Authorization: Basic

    @classmethod
    def parse(cls, value: str) -> Proxy:
        if "://" not in value:
            value = "http://" + value
        parts = urlsplit(value)
        if not parts.hostname:
            raise ValueError(f"proxy {value!r} has no host")
        auth = None
        if parts.username is not None:
            auth = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        # curl's default proxy port when the variable names none.
        return cls(parts.hostname, parts.port or 1080, auth)

    def auth_header(self) -> str | None:
        if not self.auth:
            return None
        return "Basic " + base64.b64encode(self.auth.encode()).decode()


AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]


def invalid_host(host: str) -> socket.gaierror:
    """What a name the IDNA codec refuses (a control character from a hostile header) resolves to:
    a name-resolution failure, as Java's InetAddress reports an unusable name (UnknownHostException)."""
    return socket.gaierror(socket.EAI_NONAME, "not a valid host name (characters DNS cannot carry)")


async def resolve(host: str, port: int) -> list[AddrInfo]:
    """getaddrinfo for TCP; an IP literal is answered at once instead of in a worker thread.

    asyncio resolves in its default executor (a handful of threads), which becomes the bottleneck
    when ``check --targets`` runs hundreds of checks against addresses.
    """
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except UnicodeError:
            raise invalid_host(host) from None
        return [(int(f), int(t), int(p), str(c), tuple(a)) for f, t, p, c, a in infos]
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (str(ip), port))]


async def open_tcp(host: str, port: int, timeout: float) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to the first address of host that answers, within ``timeout`` overall."""
    end = time.monotonic() + timeout
    try:
        infos = await asyncio.wait_for(resolve(host, port), timeout=timeout)
    except (*Timeouts, OSError) as exc:
        kind, msg = classify(exc)
        raise HttpError(kind, f"{host}: {msg}", "dns") from None
    last: HttpError | None = None
    for *_, addr in infos:
        left = end - time.monotonic()
        if left <= 0:
            break
        ip, port_n = str(addr[0]), int(addr[1])
        try:
            return await asyncio.wait_for(asyncio.open_connection(host=ip, port=port_n), timeout=left)
        except (*Timeouts, OSError) as exc:
            kind, msg = classify(exc)
            last = HttpError(kind, f"{ip}:{port_n}: {msg}", "connect")
    raise last or HttpError("timeout", f"{host}:{port}: timed out", "connect")


@dataclass
class _Progress:
    """How far an exchange got, to name the step a timeout stopped (slow TCP, TLS or HTTP peer)."""

    stage: str = "connect"  # connect, proxy, tls, request, response, body
    head_bytes: int = 0

    def stalled(self, origin: str, timeout: float) -> str:
        where = {
            "connect": "the connection was not established",
            "proxy": "the proxy did not answer CONNECT",
            "tls": "the TLS handshake did not complete",
            "request": "the request could not be sent",
            "body": "the response body did not end",
        }.get(self.stage)
        if where is None:  # waiting for the response head
            where = (f"only {self.head_bytes} bytes of response headers arrived" if self.head_bytes
                     else "the server accepted the connection but sent nothing")
        return f"no complete answer from {origin} within {round(timeout, 2):g} s: {where}"


async def _read_head(reader: asyncio.StreamReader, progress: _Progress | None = None) -> bytes:
    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        chunk = await reader.read(4096)
        if progress is not None:
            progress.head_bytes += len(chunk)
        if not chunk:
            if not buf:
                raise HttpError("closed", "the server closed the connection without answering", "response")
            raise HttpError("protocol", "the server closed the connection in the middle of its headers", "response")
        buf += chunk
        if len(buf) > MAX_HEADER_BYTES + 4096:
            raise HttpError("protocol", f"response headers exceed {MAX_HEADER_BYTES // 1024} KB", "response")
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    if len(head) > MAX_HEADER_BYTES:
        raise HttpError("protocol", f"response headers exceed {MAX_HEADER_BYTES // 1024} KB", "response")
    # Push back whatever followed the head (start of the body).
    reader._buffer[:0] = rest  # type: ignore[attr-defined]  # StreamReader has no unread()
    return head


def parse_head(head: bytes) -> tuple[str, int, str, Headers]:
    lines = head.decode("iso-8859-1").split("\r\n")
    status_line = lines[0]
    parts = status_line.split(" ", 2)
    # isascii: str.isdigit() also accepts digits int() refuses, such as "²".
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not (parts[1].isascii() and parts[1].isdigit()) \
            or len(parts[1]) != 3:
        shown = status_line[:60].encode("unicode_escape").decode()
        raise HttpError("protocol", f"not an HTTP response (first line: {shown!r})", "response")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        if ":" not in line:
            raise HttpError("protocol", "malformed response header line", "response")
        key, _, value = line.partition(":")
        headers.append((key.strip(), value.strip()))
        if len(headers) > MAX_HEADERS:
            raise HttpError("protocol", f"more than {MAX_HEADERS} response headers", "response")
    return parts[0], int(parts[1]), parts[2] if len(parts) > 2 else "", Headers(headers)


async def _read_body(reader: asyncio.StreamReader, headers: Headers, max_body: int) -> tuple[bytes, bool]:
    try:
        return await _read_body_unchecked(reader, headers, max_body)
    except ValueError:
        # StreamReader.readline raises ValueError for a line over its 64 KB limit (a chunk-size line
        # that never ends); readexactly for a negative chunk size.
        raise HttpError("protocol", "malformed chunked body (endless or invalid chunk-size line)", "response") from None


async def _read_body_unchecked(reader: asyncio.StreamReader, headers: Headers, max_body: int) -> tuple[bytes, bool]:
    body = bytearray()
    if (headers.get("Transfer-Encoding") or "").lower().endswith("chunked"):
        while True:
            size_line = await reader.readline()
            if not size_line:
                return bytes(body), False
            try:
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
            except ValueError:
                raise HttpError("protocol", "malformed chunked body", "response") from None
            if size < 0:
                raise HttpError("protocol", "malformed chunked body (negative chunk size)", "response")
            if size == 0:
                return bytes(body), False
            if len(body) + size > max_body:
                body += (await reader.read(max_body - len(body)))
                return bytes(body), True
            body += await reader.readexactly(size)
            await reader.readline()
    length = headers.get("Content-Length")
    if length is not None and length.strip().isascii() and length.strip().isdigit():
        n = int(length)
        data = await reader.read(min(n, max_body)) if n else b""
        while len(data) < min(n, max_body):
            more = await reader.read(min(n, max_body) - len(data))
            if not more:
                break
            data += more
        return data, n > max_body
    while len(body) < max_body:
        chunk = await reader.read(min(65536, max_body - len(body)))
        if not chunk:
            return bytes(body), False
        body += chunk
    return bytes(body), True


def _tls_info(writer: asyncio.StreamWriter) -> TlsInfo | None:
    sslobj = writer.get_extra_info("ssl_object")
    if sslobj is None:
        return None
    cipher = sslobj.cipher()
    return TlsInfo(
        version=sslobj.version(),
        cipher=cipher[0] if cipher else None,
        peer_cert_der=sslobj.getpeercert(binary_form=True),
        alpn=sslobj.selected_alpn_protocol(),
    )


async def request(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
    proxy: Proxy | None = None,
    ssl_context: ssl.SSLContext | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    read_body: bool = True,
) -> Response:
    """One request; the whole exchange (DNS, connect, TLS, request, response) within ``timeout``."""
    progress = _Progress()
    try:
        return await asyncio.wait_for(
            _request(url, method, headers or {}, timeout, proxy, ssl_context, max_body, read_body, progress), timeout
        )
    except Timeouts:
        raise HttpError("timeout", progress.stalled(_origin(url), timeout), progress.stage) from None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


async def _request(
    url: str, method: str, extra: dict[str, str], timeout: float, proxy: Proxy | None,
    ssl_context: ssl.SSLContext | None, max_body: int, read_body: bool, progress: _Progress,
) -> Response:
    t0 = time.monotonic()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HttpError("protocol", f"unsupported URL {url!r}", "request")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = parts.netloc.rpartition("@")[2]
    connect_host, connect_port = (proxy.host, proxy.port) if proxy else (host, port)
    reader, writer = await open_tcp(connect_host, connect_port, timeout)
    complete = False
    try:
        if proxy and parts.scheme == "https":
            progress.stage = "proxy"
            lines = [f"CONNECT {host}:{port} HTTP/1.1", f"Host: {host}:{port}"]
            if proxy.auth_header():
                lines.append(f"Proxy-Authorization: {proxy.auth_header()}")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            await writer.drain()
            _, pstatus, preason, _ = parse_head(await _read_head(reader))
            if pstatus != 200:
                raise HttpError("proxy", f"proxy {proxy.host}:{proxy.port} refused CONNECT: {pstatus} {preason}", "proxy")
        if parts.scheme == "https":
            progress.stage = "tls"
            ctx = ssl_context or client_ssl_context()
            try:
                await pycompat.start_tls(writer, ctx, host)
            except (ssl.SSLError, ssl.CertificateError, OSError) as exc:
                kind, msg = classify(exc)
                raise HttpError("tls" if kind == "error" else kind, msg, "tls") from None
        progress.stage = "request"
        request_target = url.split("#")[0] if (proxy and parts.scheme == "http") else target
        lines = [f"{method} {request_target} HTTP/1.1", f"Host: {host_header}", f"User-Agent: {USER_AGENT}",
                 "Accept: */*", "Connection: close"]
        if proxy and parts.scheme == "http" and proxy.auth_header():
            lines.append(f"Proxy-Authorization: {proxy.auth_header()}")
        lines += [f"{k}: {v}" for k, v in extra.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        await writer.drain()
        progress.stage = "response"
        version, status, reason, hdrs = parse_head(await _read_head(reader, progress))
        body, truncated = (b"", False)
        if read_body and method != "HEAD" and status not in (101, 204, 304):
            progress.stage = "body"
            body, truncated = await _read_body(reader, hdrs, max_body)
        peer = writer.get_extra_info("peername")
        complete = True
        return Response(
            url=url, status=status, reason=reason, headers=hdrs, body=body, body_truncated=truncated,
            elapsed_ms=(time.monotonic() - t0) * 1000, peer=(peer[0], peer[1]) if peer else None,
            tls=_tls_info(writer), via_proxy=f"{proxy.host}:{proxy.port}" if proxy else None,
            http_version=version,
        )
    except HttpError:
        raise
    except (OSError, asyncio.IncompleteReadError, ssl.SSLError) as exc:
        kind, msg = classify(exc)
        raise HttpError(kind, msg, "response") from None
    finally:
        if complete:
            writer.close()
            try:
                # A TLS close waits for the peer's close_notify: not for long.
                await asyncio.wait_for(writer.wait_closed(), 0.25)
            except Exception:
                writer.transport.abort()
        else:
            # Failed, timed out or cancelled: drop the connection at once, since waiting for a graceful
            # (TLS) close from a peer that misbehaves would outlast the request's timeout.
            writer.transport.abort()
