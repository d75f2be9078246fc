"""A test controller: Jenkins' inbound-agent surfaces, written from the Jenkins and remoting sources.

No Jenkins controller can run on this machine, so this server follows the sources byte for byte
where the wire format is specified, and is written independently of ``jnlpdiag.jnlp4`` (stdlib
``ssl`` and ``json`` here, pyOpenSSL and a hand-written parser there) so a bug on one side does not
hide in the other. Sources (jenkinsci/jenkins ff9430ee1dc6e319349a488650d914444fe141f3,
jenkinsci/remoting fa5f12a8447d0f75e6d17d6b451a60c5e33ec09a,
jenkinsci/instance-identity-plugin ff8cc89a36176e88f269578cc192e70bb0547047):

TCP agent port
- core ``hudson/TcpSlaveAgentListener.java`` ``ConnectionHandler.run``: read 10 bytes; ``GET `` ->
  ``respondHello``; else ``readUTF``; ``Protocol:<known>`` -> dispatch, unknown -> ``Unknown
  protocol:`` + line separator, no prefix -> ``Unrecognized protocol: <s>``. ``PingAgentProtocol``
  writes ``Ping\\n``.
- core ``jenkins/slaves/JnlpSlaveAgentProtocol4.java`` + remoting ``JnlpProtocol4Handler.handle``:
  server stack ``AckFilterLayer`` -> ``SSLEngineFilterLayer`` (server mode, wantClientAuth) ->
  ``ConnectionHeadersFilterLayer`` with headers ``{"JnlpAgentProtocol.cookie": <32 random bytes hex>}``.
- remoting ``AckFilterLayer``: ``00 03 ACK`` both ways; wrong bytes abort.
- remoting ``ConnectionHeadersFilterLayer``: headers frame, then the verdict frame ``OK`` /
  ``ERROR: <reason>``; after a refusal, wait up to 10 s for 5 bytes of confirmation, then close.
- remoting ``JnlpProtocol4Handler.Handler.onReceiveHeaders`` (``Unknown client name: <n>``,
  ``Authorization failure``) and core ``DefaultJnlpSlaveReceiver.afterProperties``
  (``<n> is not an inbound agent``, ``<n> is already connected to this controller. Rejecting this
  connection.``; a matching cookie would disconnect the live agent).
- the TLS certificate: instance-identity plugin ``InstanceIdentity.getCertificate``: self-signed,
  SHA-256, ``CN=<legacy instance id>, OU=jenkins.io, O=instances, C=US``, valid from now-1 day
  to now+366 days; the legacy id is core ``Jenkins.getLegacyInstanceId`` = MD5 hex of the secret key.
- secrets: core ``JnlpAgentReceiver.SLAVE_SECRET.mac(name)`` = HMAC-SHA256 hex.

HTTP (served by a real ``websockets`` server)
- ``/tcpSlaveAgentListener/``: core ``hudson/TcpSlaveAgentListener/index.jelly`` headers.
- ``/`` and ``/login``: ``Functions.advertiseHeaders`` (X-Hudson, X-Jenkins, X-Jenkins-Session)
  plus the instance-identity page decorator's X-Instance-Identity.
- ``/computer/<n>/jenkins-agent.jnlp?encrypt=true``: core ``EncryptedSlaveAgentJnlpFile``: 16-byte
  IV + AES/CFB8/NoPadding, key = first 16 bytes of the MAC; body from ``jenkins-agent.jnlp.jelly``.
- ``/wsagents/``: core ``jenkins/agents/WebSocketAgents.doIndex`` checks and texts, then
  ``Jetty12EE9Provider.handle`` (``only WS connections accepted here`` without ``Upgrade``).
  Error bodies imitate Jetty's error page (no byte-exact spec exists for those).
- ``/cli/ws``: core ``hudson/cli/CLIAction.doWs`` (jenkinsci/jenkins
  ff9430ee1dc6e319349a488650d914444fe141f3; texts since ec448b51c05cc0f6803c1fff6f19ab7924577417):
  404 ``WebSocket is not supported in this servlet container (try the built-in Jetty instead)``;
  403 ``Jenkins URL is not configured (set Jenkins URL in the configuration)``; 403 ``Unexpected
  request origin (check your reverse proxy settings)`` unless ``Origin`` equals the configured
  Jenkins URL without its trailing ``/`` (and without the servlet context path); 403 ``WebSocket
  support for CLI disabled for this controller`` (``-Dhudson.cli.CLIAction.ALLOW_WEBSOCKET=false``).
  Each text goes in the ``X-CLI-Error`` header of an empty answer (``statusWithExplanation``). Then
  ``WebSockets.upgrade``: Jetty's 400 ``only WS connections accepted here`` without ``Upgrade``,
  else 101 for anyone (anonymous callers too); the CLI waits for arguments that never come.

Run ``python -m tests.transport.jnlp4_controller --help`` to use it from a network namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import socket
import socketserver
import ssl
import struct
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

try:
    from cryptography.hazmat.decrepit.ciphers.modes import CFB8
except ImportError:  # older cryptography
    from cryptography.hazmat.primitives.ciphers.modes import CFB8  # type: ignore[assignment]
from cryptography.x509.oid import NameOID

VERSION = "2.504.1"
MIN_REMORTING = "3107.v665000b_51092"
ACK = b"\x00\x03ACK"


def write_utf(text: str) -> bytes:
    """Java ``DataOutputStream.writeUTF`` for the ASCII strings used here (= wrapUTF8)."""
    data = text.encode("utf-8")
    return struct.pack(">H", len(data)) + data


@dataclass
class Identity:
    """An instance identity: RSA key and the self-signed certificate Jenkins serves on the agent port."""

    key: rsa.RSAPrivateKey
    cert_pem: bytes
    key_pem: bytes

    @classmethod
    def generate(cls, instance_secret: bytes) -> Identity:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        legacy_id = hashlib.md5(instance_secret).hexdigest()  # noqa: S324 - Util.getDigestOf
        name = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "instances"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "jenkins.io"),
            x509.NameAttribute(NameOID.COMMON_NAME, legacy_id),
        ])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=366))
                .sign(key, hashes.SHA256()))
        return cls(
            key=key,
            cert_pem=cert.public_bytes(serialization.Encoding.PEM),
            key_pem=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()),
        )

    @property
    def spki_der(self) -> bytes:
        return self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def b64(self) -> str:
        return base64.b64encode(self.spki_der).decode()

    @property
    def fingerprint(self) -> str:
        return ":".join(f"{b:02x}" for b in hashlib.md5(self.spki_der).digest())  # noqa: S324


@dataclass
class Connection:
    """What one agent-port connection did, for assertions (kept in memory only)."""

    peer: str
    kind: str = ""  # hello | ping | jnlp4 | refused | ...
    preamble: str | None = None
    client_ack: bytes = b""
    tls_version: str | None = None
    client_headers: dict[str, Any] | None = None
    verdict: str | None = None
    client_response: str | None = None
    after_verdict: bytes = b""  # every byte the client sent after its own response frame
    abort_confirmation: bytes = b""
    disconnected_live_agent: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class Controller:
    """``with Controller(nodes=["agent-1"]) as c:`` — agent port and HTTP surface on loopback."""

    def __init__(self, nodes: list[str] | tuple[str, ...] = ("agent-1",), *, host: str = "127.0.0.1",
                 wrong_identity: bool = False, ack: str | bytes = "ok", tls12_only: bool = False,
                 connected: tuple[str, ...] = (), not_inbound: tuple[str, ...] = (),
                 protocols: tuple[str, ...] = ("JNLP4-connect", "Ping"), http_tls: tuple[str, str] | None = None,
                 agent_port: int = 0, http_port: int = 0, advertised_host: str | None = None,
                 websocket_launcher: tuple[str, ...] = (), advertised_protocols: tuple[str, ...] | None = None,
                 need_client_auth: bool = False, jenkins_url: str | None = None, cli_ws: str = "allow") -> None:
        self.host = host
        self.instance_secret = secrets.token_bytes(32)
        self.identity = Identity.generate(self.instance_secret)
        # wrong_identity: the port serves another key than the one HTTP publishes (another Jenkins).
        self.tls_identity = Identity.generate(secrets.token_bytes(32)) if wrong_identity else self.identity
        self.mac_key = secrets.token_bytes(32)
        self.nodes = list(nodes)
        self.ack = ack
        self.tls12_only = tls12_only
        self.connected = set(connected)
        self.live_cookies = {name: secrets.token_hex(32) for name in connected}
        self.not_inbound = set(not_inbound)
        self.protocols = list(protocols)
        # What /tcpSlaveAgentListener/ claims, when it differs from what the port implements.
        self.advertised_protocols = list(advertised_protocols) if advertised_protocols is not None else self.protocols
        # JnlpProtocol4Handler(needClientAuth=true): the TLS layer demands a client certificate.
        self.need_client_auth = need_client_auth
        self.http_tls = http_tls
        self.advertised_host = advertised_host
        self.websocket_launcher = set(websocket_launcher)
        # Manage Jenkins > System > Jenkins URL (None: not configured); "" means "the controller's own URL".
        self.jenkins_url = jenkins_url if jenkins_url is not None else ""
        # cli/ws: allow | disabled (ALLOW_WEBSOCKET=false) | unsupported (no WebSocket in the container)
        self.cli_ws = cli_ws
        self.connections: list[Connection] = []
        self.ws_events: list[dict[str, Any]] = []
        self._agent_port_req = agent_port
        self._http_port_req = http_port
        self._tmp = Path(tempfile.mkdtemp(prefix="jnlpdiag-controller-"))
        self._tcp: socketserver.ThreadingTCPServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ws_stop: asyncio.Future[None] | None = None
        self._threads: list[threading.Thread] = []
        self.agent_port = 0
        self.http_port = 0

    # -- facts for tests -------------------------------------------------------------------------

    def secret(self, name: str) -> str:
        """JnlpAgentReceiver.SLAVE_SECRET.mac(name): HMAC-SHA256 of the UTF-8 name, lowercase hex."""
        return hmac.new(self.mac_key, name.encode("utf-8"), hashlib.sha256).hexdigest()

    @property
    def url(self) -> str:
        scheme = "https" if self.http_tls else "http"
        return f"{scheme}://{self.host}:{self.http_port}/"

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> Controller:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        controller = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                controller._handle_agent_port(self.request)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._tcp = Server((self.host, self._agent_port_req), Handler)
        self.agent_port = self._tcp.server_address[1]
        t = threading.Thread(target=self._tcp.serve_forever, daemon=True)
        t.start()
        self._threads.append(t)
        ready = threading.Event()
        t2 = threading.Thread(target=self._run_http, args=(ready,), daemon=True)
        t2.start()
        self._threads.append(t2)
        if not ready.wait(10):
            raise RuntimeError("HTTP surface did not start")

    def stop(self) -> None:
        if self._tcp:
            self._tcp.shutdown()
            self._tcp.server_close()
        if self._loop and self._ws_stop:
            self._loop.call_soon_threadsafe(self._ws_stop.set_result, None)
        for t in self._threads:
            t.join(5)
        for p in self._tmp.iterdir():
            p.unlink()
        self._tmp.rmdir()

    # -- the TCP agent port ----------------------------------------------------------------------

    def _handle_agent_port(self, sock: socket.socket) -> None:
        conn = Connection(peer=f"{sock.getpeername()[0]}:{sock.getpeername()[1]}")
        self.connections.append(conn)
        sock.settimeout(30)
        try:
            head = _read_exactly(sock, 10)
            if head is None:
                conn.kind = "closed-early"  # "Connection #N from ... failed: null"
                return
            if head.startswith(b"GET "):
                conn.kind = "hello"
                self._respond_hello(head, sock)
                return
            length = struct.unpack(">H", head[:2])[0]
            rest = _read_exactly(sock, length - 8) if length > 8 else b""
            if rest is None:
                conn.kind = "closed-early"
                return
            text = (head[2:] + rest)[:length].decode("utf-8", "replace")
            conn.preamble = text
            if not text.startswith("Protocol:"):
                conn.kind = "refused"
                sock.sendall(f"Unrecognized protocol: {text}{os.linesep}".encode())
                return
            name = text[len("Protocol:"):]
            if name not in self.protocols:
                conn.kind = "refused"
                sock.sendall(f"Unknown protocol:{os.linesep}".encode())
                return
            if name == "Ping":
                conn.kind = "ping"
                sock.sendall(b"Ping\n")
                return
            conn.kind = "jnlp4"
            self._jnlp4(sock, conn)
        except OSError:
            pass
        finally:
            conn.done.set()
            try:
                sock.close()
            except OSError:
                pass

    def _respond_hello(self, head: bytes, sock: socket.socket) -> None:
        if head.startswith(b"GET / "):
            response = ("HTTP/1.0 200 OK\r\nContent-Type: text/plain;charset=UTF-8\r\n"
                        "X-Content-Type-Options: nosniff\r\n\r\n"
                        f"Jenkins-Agent-Protocols: {', '.join(self.advertised_protocols)}\r\n"
                        f"Jenkins-Version: {VERSION}\r\nJenkins-Session: 6c0d7a58\r\n"
                        f"Client: {sock.getpeername()[0]}\r\nServer: {sock.getsockname()[0]}\r\n"
                        f"Remoting-Minimum-Version: {MIN_REMORTING}\r\n")
        else:
            response = "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain;charset=UTF-8\r\n\r\nNot Found\r\n"
        sock.sendall(response.encode())
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(4096):
            pass

    def _jnlp4(self, sock: socket.socket, conn: Connection) -> None:
        # AckFilterLayer: send our ACK at once, then wait (handshaking timeout 10 s) for theirs.
        if self.ack == "none":
            sock.settimeout(15)
            while sock.recv(4096):
                pass
            return
        sock.sendall(ACK if self.ack == "ok" else bytes(self.ack))  # type: ignore[arg-type]
        sock.settimeout(10)
        client_ack = _read_exactly(sock, 5)
        conn.client_ack = client_ack or b""
        if client_ack != ACK:
            return
        # SSLEngineFilterLayer, server mode, wantClientAuth=true, needClientAuth=false.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert = self._tmp / f"id-{id(self.tls_identity)}.pem"
        if not cert.exists():
            cert.write_bytes(self.tls_identity.cert_pem + self.tls_identity.key_pem)
        ctx.load_cert_chain(str(cert))
        ctx.verify_mode = ssl.CERT_REQUIRED if self.need_client_auth else ssl.CERT_OPTIONAL
        ctx.load_verify_locations(cadata=self.tls_identity.cert_pem.decode())
        if self.tls12_only:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        tls = ctx.wrap_socket(sock, server_side=True)
        conn.tls_version = tls.version()
        # ConnectionHeadersFilterLayer: our headers as soon as TLS is up.
        tls.sendall(write_utf(json.dumps({"JnlpAgentProtocol.cookie": secrets.token_hex(32)},
                                         separators=(",", ":"))))
        frame = _read_frame(tls)
        if frame is None:
            return
        try:
            headers = json.loads(frame)
        except ValueError:
            verdict = "ERROR: Malformed connection header"
            headers = None
        else:
            conn.client_headers = headers
            verdict = self._judge(headers, conn)
        conn.verdict = verdict
        tls.sendall(write_utf(verdict))
        if verdict == "OK":
            # Our client's response to our headers, then (ChannelApplicationLayer) its Capability.
            tls.settimeout(10)
            conn.client_response = _read_frame(tls)
            tls.settimeout(3)
            conn.after_verdict = _read_until_close(tls)
        else:
            # doStartAbort: wait up to 10 s for 5 bytes of confirmation, then close.
            tls.settimeout(10)
            data = _read_until_close(tls, limit=64)
            conn.after_verdict = data
            conn.abort_confirmation = data[:5]

    def _judge(self, headers: dict[str, Any], conn: Connection) -> str:
        name = headers.get("Node-Name")
        if name not in self.nodes:
            return f"ERROR: Unknown client name: {name}"
        given = headers.get("Secret-Key")
        if given is None:
            raise OSError("NullPointerException on a missing Secret-Key")  # what core would do
        if not hmac.compare_digest(self.secret(name).encode(), str(given).encode()):
            return "ERROR: Authorization failure"
        if name in self.not_inbound:
            return f"ERROR: {name} is not an inbound agent"
        if name in self.connected:
            cookie = headers.get("JnlpAgentProtocol.cookie")
            if cookie is not None and hmac.compare_digest(cookie.encode(), self.live_cookies[name].encode()):
                conn.disconnected_live_agent = True
                return "OK"
            return f"ERROR: {name} is already connected to this controller. Rejecting this connection."
        return "OK"

    # -- the HTTP surface ------------------------------------------------------------------------

    def _run_http(self, ready: threading.Event) -> None:
        from websockets.asyncio.server import serve

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._ws_stop = self._loop.create_future()
            ssl_ctx = None
            if self.http_tls:
                ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ssl_ctx.load_cert_chain(*self.http_tls)
            async with serve(self._ws_session, self.host, self._http_port_req, ssl=ssl_ctx,
                             process_request=self._process_request, process_response=self._process_response,
                             server_header=None, ping_interval=30, ping_timeout=30) as server:
                self.http_port = next(iter(server.sockets)).getsockname()[1]
                ready.set()
                await self._ws_stop

        asyncio.run(main())

    def _page_headers(self) -> list[tuple[str, str]]:
        return [("X-Hudson", "1.395"), ("X-Jenkins", VERSION), ("X-Jenkins-Session", "6c0d7a58"),
                ("X-Instance-Identity", self.identity.b64)]

    def _process_request(self, connection: Any, request: Any) -> Any:
        path = urlsplit(request.path)
        if path.path == "/tcpSlaveAgentListener/":
            headers = [("X-Hudson-JNLP-Port", str(self.agent_port)), ("X-Jenkins-JNLP-Port", str(self.agent_port))]
            if self.advertised_host:
                headers.append(("X-Jenkins-JNLP-Host", self.advertised_host))
            headers += [("X-Instance-Identity", self.identity.b64),
                        ("X-Jenkins-Agent-Protocols", ", ".join(sorted(self.advertised_protocols))),
                        ("X-Remoting-Minimum-Version", MIN_REMORTING)]
            return _response(200, "Jenkins", "text/plain;charset=UTF-8", headers)
        if path.path in ("/", "/login"):
            return _response(200, "<html><head><title>Sign in [Jenkins]</title></head></html>", "text/html",
                             self._page_headers())
        if path.path.startswith("/computer/") and path.path.endswith(("/jenkins-agent.jnlp", "/slave-agent.jnlp")):
            return self._jnlp_file(unquote(path.path.split("/")[2]), path.query)
        if path.path == "/wsagents/":
            return self._wsagents(request)
        if path.path == "/cli/ws":
            return self._cli_ws(request)
        return _jetty_error(404, "Not Found", request.path)

    def _jnlp_file(self, name: str, query: str) -> Any:
        if name not in self.nodes:
            return _jetty_error(404, "Not Found", f"/computer/{name}/jenkins-agent.jnlp")
        if "encrypt=true" not in query.split("&"):
            # Plain text needs Computer/CONNECT; the test controller is anonymous.
            return _jetty_error(403, "Forbidden", f"/computer/{name}/jenkins-agent.jnlp")
        args = [self.secret(name), name]
        if name in self.websocket_launcher:
            args.append("-webSocket")
        args += ["-workDir", "/home/jenkins/agent", "-internalDir", "remoting", "-url", self.url]
        xml = ("<jnlp><application-desc>" + "".join(f"<argument>{a}</argument>" for a in args)
               + "</application-desc></jnlp>")
        iv = secrets.token_bytes(16)
        key = bytes.fromhex(self.secret(name))[:16]
        enc = Cipher(algorithms.AES(key), CFB8(iv)).encryptor()
        body = iv + enc.update(xml.encode("utf-8")) + enc.finalize()
        return _response(200, body, "application/octet-stream", [])

    def _wsagents(self, request: Any) -> Any:
        h = request.headers
        agent, secret, capability = h.get("Node-Name"), h.get("Secret-Key"), h.get("X-Remoting-Capability")
        event: dict[str, Any] = {"upgrade": h.get("Upgrade"), "node": agent, "has_secret": secret is not None,
                                 "cookie": h.get("Connection-Cookie"), "time": time.monotonic()}
        self.ws_events.append(event)
        if agent is None or secret is None or capability is None:
            return _jetty_error(400, "This endpoint is only for use from agent.jar in WebSocket mode", "/wsagents/")
        if agent not in self.nodes:
            return _jetty_error(400, "no such agent", "/wsagents/")
        if not hmac.compare_digest(secret.encode("ascii", "replace"), self.secret(agent).encode()):
            return _jetty_error(403, "Forbidden", "/wsagents/")
        if agent in self.not_inbound:
            return _jetty_error(400, f"{agent} is not an inbound agent", "/wsagents/")
        if agent in self.connected:
            return _jetty_error(400, f"{agent} is already connected to this controller. Rejecting this connection.",
                                "/wsagents/")
        if not _is_capability(capability):
            return _jetty_error(500, "Server Error", "/wsagents/")
        if (h.get("Upgrade") or "").lower() != "websocket":
            return _jetty_error(400, "only WS connections accepted here", "/wsagents/")
        event["accepted"] = True
        return None  # let websockets complete the upgrade

    def _cli_ws(self, request: Any) -> Any:
        """core CLIAction.doWs, then Jetty12EE9Provider.handle (see the module docstring)."""
        h = request.headers
        event: dict[str, Any] = {"cli": True, "origin": h.get("Origin"), "upgrade": h.get("Upgrade"),
                                 "has_secret": h.get("Secret-Key") is not None, "time": time.monotonic()}
        self.ws_events.append(event)
        if self.cli_ws == "unsupported":
            return _cli_error(404, "WebSocket is not supported in this servlet container (try the built-in Jetty instead)")
        if self.cli_ws == "disabled":
            return _cli_error(403, "WebSocket support for CLI disabled for this controller")
        configured = self.url if self.jenkins_url == "" else self.jenkins_url
        if configured is None:
            return _cli_error(403, "Jenkins URL is not configured (set Jenkins URL in the configuration)")
        expected = configured[:-1] if configured.endswith("/") else configured  # context path is "" here
        if h.get("Origin") != expected:
            return _cli_error(403, "Unexpected request origin (check your reverse proxy settings)")
        if (h.get("Upgrade") or "").lower() != "websocket":
            return _jetty_error(400, "only WS connections accepted here", "/cli/ws")
        event["accepted"] = True
        return None

    def _process_response(self, connection: Any, request: Any, response: Any) -> Any:
        if response.status_code == 101:
            response.headers["X-Remoting-Capability"] = base64.b64encode(_capability_bytes()).decode()
            response.headers["X-Remoting-Minimum-Version"] = MIN_REMORTING
            response.headers["Connection-Cookie"] = secrets.token_hex(32)
        return None

    async def _ws_session(self, websocket: Any) -> None:
        event = {"opened": time.monotonic()}
        self.ws_events.append(event)
        try:
            async for _ in websocket:
                pass
        except Exception:
            pass
        event["closed"] = time.monotonic()


def _capability_bytes() -> bytes:
    # Java serialization of hudson.remoting.Capability(mask=0x1fe), written out independently.
    name = b"hudson.remoting.Capability"
    return (b"\xac\xed\x00\x05\x73\x72" + struct.pack(">H", len(name)) + name + struct.pack(">q", 1) + b"\x02"
            + b"\x00\x01J\x00\x04mask\x78\x70" + struct.pack(">q", 0x1FE))


def _is_capability(value: str) -> bool:
    """Capability.fromASCII accepts only a serialized hudson.remoting.Capability."""
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        return False
    name = b"hudson.remoting.Capability"
    return raw.startswith(b"\xac\xed\x00\x05\x73\x72" + struct.pack(">H", len(name)) + name)


def _response(status: int, body: str | bytes, content_type: str, headers: list[tuple[str, str]]) -> Any:
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    data = body.encode() if isinstance(body, str) else body
    hdrs = Headers([*headers, ("Content-Type", content_type), ("Content-Length", str(len(data))),
                    ("Connection", "close")])
    return Response(status, HTTPStatus(status).phrase, hdrs, data)


def _cli_error(status: int, message: str) -> Any:
    """CLIAction.statusWithExplanation: the status and an X-CLI-Error header, no body."""
    return _response(status, b"", "text/html;charset=utf-8", [("X-CLI-Error", message)])


def _jetty_error(status: int, message: str, uri: str) -> Any:
    body = (f"<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n"
            f"<title>Error {status} {message}</title>\n</head>\n<body>\n<h2>HTTP ERROR {status} {message}</h2>\n"
            f"<table>\n<tr><th>URI:</th><td>{uri}</td></tr>\n<tr><th>STATUS:</th><td>{status}</td></tr>\n"
            f"<tr><th>MESSAGE:</th><td>{message}</td></tr>\n</table>\n</body>\n</html>\n")
    return _response(status, body, "text/html;charset=utf-8", [])


def _read_exactly(sock: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _read_frame(sock: socket.socket) -> str | None:
    try:
        head = _read_exactly(sock, 2)
        if head is None:
            return None
        body = _read_exactly(sock, struct.unpack(">H", head)[0])
    except (OSError, ssl.SSLError):
        return None
    return None if body is None else body.decode("utf-8", "replace")


def _read_until_close(sock: socket.socket, limit: int = 1 << 20) -> bytes:
    data = b""
    try:
        while len(data) < limit:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except (OSError, ssl.SSLError):
        pass
    return data


def main(argv: list[str] | None = None) -> int:
    """Run a controller in the foreground (e.g. inside ``ip netns exec``); prints one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--agent-port", type=int, default=0)
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument("--node", action="append", default=[])
    args = parser.parse_args(argv)
    c = Controller(nodes=args.node or ["agent-1"], host=args.host, agent_port=args.agent_port,
                   http_port=args.http_port)
    c.start()
    print(json.dumps({"url": c.url, "agent_port": c.agent_port, "http_port": c.http_port,
                      "identity": c.identity.b64,
                      "secrets": {n: c.secret(n) for n in c.nodes}}), flush=True)
    try:
        sys.stdin.read()  # run until stdin closes
    finally:
        c.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
