"""The HTTP surface of a Jenkins controller that an inbound agent touches, and its TCP agent listener.

Every answer follows the controller's code (jenkinsci/jenkins core at ff9430ee1dc6e319349a488650d914444fe141f3):

* ``GET /tcpSlaveAgentListener/``: ``hudson/TcpSlaveAgentListener/index.jelly`` (§1.1) - body
  ``Jenkins``, ``X-Hudson-JNLP-Port``/``X-Jenkins-JNLP-Port``, ``X-Instance-Identity``,
  ``X-Jenkins-Agent-Protocols``, ``X-Remoting-Minimum-Version``; no ``X-Jenkins-JNLP-Host`` (the
  ``hostName`` property is unset, so Stapler omits the header).
* ``GET /`` anonymously: 403 from ``HudsonAuthenticationEntryPoint`` with ``X-Hudson``, ``X-Jenkins``
  and ``X-Jenkins-Session`` (``Functions.advertiseHeaders``, §1.2); ``/login``: 200 with the same
  headers plus the instance-identity page decorator's ``X-Instance-Identity``.
* ``GET /wsagents/``: core ``jenkins/agents/WebSocketAgents.java`` (commit 03a7802b) checks the three
  agent headers (400 "This endpoint is only for use from agent.jar in WebSocket mode"), the node
  (400 "no such agent"), the secret (403); then ``Jetty12EE9Provider.handle`` (commit 0d2edc99)
  answers 400 "only WS connections accepted here" when ``Upgrade: websocket`` is missing; otherwise
  101 with ``X-Remoting-Capability``, ``X-Remoting-Minimum-Version`` and ``Connection-Cookie``.
  The demo has no remoting channel, so after the 101 it sends a WebSocket close frame (RFC 6455
  §5.5.1) and hangs up; a real controller would bring the node online here.
* ``GET /computer/<name>/jenkins-agent.jnlp?encrypt=true`` (also ``slave-agent.jnlp``): core
  ``EncryptedSlaveAgentJnlpFile`` (§4) - 16 random IV bytes, then AES/CFB8/NoPadding of the
  ``jenkins-agent.jnlp.jelly`` document, key = the first 16 bytes of ``fromHex(secret)``; without
  ``encrypt=true`` anonymous users get 403 (Computer/Connect is required); unknown nodes get 404.
* The TCP agent listener: core ``hudson/TcpSlaveAgentListener.java`` (commit 00c7c075) reads 10
  bytes; ``GET `` gets the plain-text hello (``respondHello``, §1.4); ``Protocol:Ping`` gets
  ``Ping\\n`` (§2.6). JNLP4-connect is not implemented: the demo agent uses WebSocket.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import secrets
import struct
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from jnlpdiag.pycompat import Timeouts

try:  # cryptography >= 47 keeps CFB8 with the legacy ciphers
    from cryptography.hazmat.decrepit.ciphers.modes import CFB8
except ImportError:
    from cryptography.hazmat.primitives.ciphers.modes import CFB8  # type: ignore[assignment]

from jnlpdiag.demo.http11 import MAX_HEAD, BadRequest, Request, close, read_request, response

JENKINS_VERSION = "2.504.1"
REMOTING_MINIMUM = "3176.v207ec082a_8c0"  # core/pom.xml remoting.minimum.supported.version (§1.1)
PROTOCOLS = "JNLP4-connect, Ping"
# remoting Capability.toASCII() of new Capability() (mask 0x1fe): produced once by serialising a
# class of the same name, serialVersionUID 1 and field ``long mask`` with OpenJDK 17's
# ObjectOutputStream, then standard base64 as BinarySafeStream writes it (one flush at the end).
CAPABILITY = "rO0ABXNyABpodWRzb24ucmVtb3RpbmcuQ2FwYWJpbGl0eQAAAAAAAAABAgABSgAEbWFza3hwAAAAAAAAAf4="
# TcpSlaveAgentListener.DEFAULT_RESPONSE_404
NOT_FOUND_10 = b"HTTP/1.0 404 Not Found\r\nContent-Type: text/plain;charset=UTF-8\r\n\r\nNot Found\r\n"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3


@dataclass
class Controller:
    agent_name: str
    agent_secret: str
    agent_port: int = 0  # advertised; set once the listener is bound
    root_url: str = ""  # Jenkins' configured root URL (the HTTPS front); set once it is bound
    session: str = field(default_factory=lambda: secrets.token_hex(4))
    identity: str = ""

    def __post_init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        self.identity = base64.b64encode(der).decode()

    def jenkins_headers(self) -> list[tuple[str, str]]:
        return [("X-Hudson", "1.395"), ("X-Jenkins", JENKINS_VERSION), ("X-Jenkins-Session", self.session)]

    def route(self, req: Request) -> bytes:
        path = req.path
        if req.method not in ("GET", "HEAD"):
            return response(405, [("Content-Type", "text/plain;charset=UTF-8")], b"Method Not Allowed\n")
        if path == "/tcpSlaveAgentListener/":
            return response(200, [
                ("Content-Type", "text/plain;charset=UTF-8"),
                ("X-Hudson-JNLP-Port", str(self.agent_port)),
                ("X-Jenkins-JNLP-Port", str(self.agent_port)),
                ("X-Instance-Identity", self.identity),
                ("X-Jenkins-Agent-Protocols", PROTOCOLS),
                ("X-Remoting-Minimum-Version", REMOTING_MINIMUM),
            ], b"Jenkins")
        if path == "/":
            return response(403, [*self.jenkins_headers(), ("Content-Type", "text/html;charset=utf-8")],
                            b"<html><body>Authentication required</body></html>\n")
        if path == "/login":
            return response(200, [*self.jenkins_headers(), ("X-Instance-Identity", self.identity),
                                  ("Content-Type", "text/html;charset=utf-8")],
                            b"<html><head><title>Sign in - Jenkins (jnlpdiag demo)</title></head></html>\n")
        if path == "/wsagents/":
            return self.wsagents(req)
        parts = path.split("/")
        if len(parts) == 4 and parts[1] == "computer" and parts[3] in ("jenkins-agent.jnlp", "slave-agent.jnlp"):
            return self.jnlp_file(unquote(parts[2]), parse_qs(urlsplit(req.target).query))
        return response(404, [*self.jenkins_headers(), ("Content-Type", "text/plain;charset=UTF-8")], b"Not Found\n")

    def jnlp_file(self, name: str, query: dict[str, list[str]]) -> bytes:
        plain, html = ("Content-Type", "text/plain;charset=UTF-8"), ("Content-Type", "text/html;charset=utf-8")
        if name != self.agent_name:
            return response(404, [*self.jenkins_headers(), plain], b"Not Found\n")
        if query.get("encrypt") != ["true"]:
            return response(403, [*self.jenkins_headers(), html],
                            b"<html><body>Access Denied: anonymous is missing the Agent/Connect permission"
                            b"</body></html>\n")
        args = [self.agent_secret, name, "-webSocket", "-workDir", "/home/jenkins/agent", "-internalDir", "remoting",
                "-url", self.root_url]
        xml = "<jnlp><application-desc>" + "".join(f"<argument>{escape(a)}</argument>" for a in args) + \
              "</application-desc></jnlp>"
        iv = os.urandom(16)
        encryptor = Cipher(algorithms.AES(bytes.fromhex(self.agent_secret)[:16]), CFB8(iv)).encryptor()
        body = iv + encryptor.update(xml.encode()) + encryptor.finalize()
        return response(200, [("Content-Type", "application/octet-stream")], body)

    def wsagents(self, req: Request) -> bytes:
        text = [("Content-Type", "text/plain;charset=UTF-8")]
        name, secret = req.header("Node-Name"), req.header("Secret-Key")
        capability = req.header("X-Remoting-Capability")
        if name is None or secret is None or capability is None:
            return response(400, text, b"This endpoint is only for use from agent.jar in WebSocket mode")
        if name != self.agent_name:
            return response(400, text, b"no such agent")
        if not secrets.compare_digest(secret.encode(), self.agent_secret.encode()):
            return response(403, text, b"")
        if (req.header("Upgrade") or "").lower() != "websocket":
            return response(400, text, b"only WS connections accepted here")
        key = req.header("Sec-WebSocket-Key") or ""
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        head = response(101, [
            ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", accept),
            ("X-Remoting-Capability", CAPABILITY), ("X-Remoting-Minimum-Version", REMOTING_MINIMUM),
            ("Connection-Cookie", secrets.token_hex(16)),
        ], length=False)
        reason = b"jnlpdiag demo: no remoting channel here"
        payload = struct.pack(">H", 1000) + reason
        return head + bytes([0x88, len(payload)]) + payload  # FIN + close opcode, unmasked (server)

    async def handle_http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                req = await read_request(reader)
            except (*Timeouts, BadRequest):
                writer.write(response(400, [("Content-Type", "text/plain")], b"Bad Request\n"))
            else:
                data = self.route(req)
                if req.method == "HEAD" and b"\r\n\r\n" in data:
                    data = data.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
                writer.write(data)
            await asyncio.wait_for(writer.drain(), 10)
        except (*Timeouts, OSError, ConnectionError):
            pass
        finally:
            await close(writer)

    async def handle_agent_port(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readexactly(10), 10)
            if head.startswith(b"GET "):
                peer = writer.get_extra_info("peername")
                client = peer[0] if peer else "unknown"
                server = writer.get_extra_info("sockname")[0]
                if head.startswith(b"GET / "):
                    body = (f"Jenkins-Agent-Protocols: {PROTOCOLS}\r\nJenkins-Version: {JENKINS_VERSION}\r\n"
                            f"Jenkins-Session: {self.session}\r\nClient: {client}\r\nServer: {server}\r\n"
                            f"Remoting-Minimum-Version: {REMOTING_MINIMUM}\r\n")
                    writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain;charset=UTF-8\r\n\r\n" + body.encode())
                else:
                    writer.write(NOT_FOUND_10)
            else:
                # DataInputStream.readUTF: a 2-byte length, then that many bytes.
                (length,) = struct.unpack(">H", head[:2])
                rest = await asyncio.wait_for(reader.readexactly(max(0, length - 8)), 10) if length > 8 else b""
                preamble = (head[2:] + rest)[:length].decode("utf-8", "replace")
                if preamble == "Protocol:Ping":
                    writer.write(b"Ping\n")
                elif preamble.startswith("Protocol:"):
                    # Not implemented by the demo (its agent uses WebSocket): hang up as a listener would
                    # on an unknown protocol.
                    writer.write(b"Unknown protocol:\n")
                else:
                    writer.write(f"Unrecognized protocol: {preamble[:60]}\n".encode())
            await asyncio.wait_for(writer.drain(), 10)
        except (*Timeouts, OSError, asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            await close(writer)

    async def start(self, host: str) -> tuple[asyncio.Server, asyncio.Server]:
        agent = await asyncio.start_server(self.handle_agent_port, host, 0)
        self.agent_port = agent.sockets[0].getsockname()[1]
        http = await asyncio.start_server(self.handle_http, host, 0, limit=MAX_HEAD)
        return http, agent
