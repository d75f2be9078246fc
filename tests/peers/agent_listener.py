"""The plain-text side of Jenkins' TCP agent listener, for tcp-probe tests.

No Jenkins controller can run here, so this follows core
``core/src/main/java/hudson/TcpSlaveAgentListener.java`` (jenkinsci/jenkins, ConnectionHandler.run
and respondHello) byte for byte: read exactly 10 bytes; if they start with ``GET `` answer the
diagnostic response (``GET / `` -> 200 with the agent protocols, version, session, client and
server addresses and minimum remoting version; any other path -> the 404 response) and close.
Other preambles are not served here (the jnlp4 tests have their own controller).
"""

from __future__ import annotations

import socket
import socketserver
import threading

# TcpSlaveAgentListener.DEFAULT_RESPONSE_404
RESPONSE_404 = b"HTTP/1.0 404 Not Found\r\nContent-Type: text/plain;charset=UTF-8\r\n\r\nNot Found\r\n"


class AgentListener:
    def __init__(self, host: str = "127.0.0.1", version: str = "2.479.3", session: str = "6c0d7a58",
                 protocols: str = "JNLP4-connect, Ping", min_remoting: str = "3107.v665000b_51092") -> None:
        self.version, self.session, self.protocols, self.min_remoting = version, session, protocols, min_remoting
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                s: socket.socket = self.request
                s.settimeout(5)
                head = b""
                try:
                    while len(head) < 10:  # DataInputStream.readFully(new byte[10])
                        chunk = s.recv(10 - len(head))
                        if not chunk:
                            return  # "Connection #N failed: null" (EOFException) on the controller
                        head += chunk
                    if head.startswith(b"GET "):
                        s.sendall(outer.hello(head, s))
                except OSError:
                    pass

        family = socket.AF_INET6 if ":" in host else socket.AF_INET

        class Server(socketserver.ThreadingTCPServer):
            address_family = family
            allow_reuse_address = True
            daemon_threads = True
            request_queue_size = 256  # many concurrent checks (benchmarks); socketserver's default is 5

        self.server = Server((host, 0), Handler)
        self.host, self.port = host, self.server.server_address[1]

    def hello(self, head: bytes, s: socket.socket) -> bytes:
        if not head.startswith(b"GET / "):
            return RESPONSE_404
        client, server = s.getpeername()[0], s.getsockname()[0]
        return ("HTTP/1.0 200 OK\r\n"
                "Content-Type: text/plain;charset=UTF-8\r\n"
                "X-Content-Type-Options: nosniff\r\n"
                "\r\n"
                f"Jenkins-Agent-Protocols: {self.protocols}\r\n"
                f"Jenkins-Version: {self.version}\r\n"
                f"Jenkins-Session: {self.session}\r\n"
                f"Client: {client}\r\n"
                f"Server: {server}\r\n"
                f"Remoting-Minimum-Version: {self.min_remoting}\r\n").encode()

    def __enter__(self) -> AgentListener:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
