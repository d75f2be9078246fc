"""Real peers for the TUI tests: the transport tests' controller (JNLP4 agent port and HTTP surface,
written from the Jenkins sources) behind real nginx HTTPS fronts - one accepting TLS 1.3 only (the
failing server for a JVM limited to TLS 1.2) and one accepting TLS 1.2 and 1.3 (the healthy one)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.peers.nginx import Nginx
from tests.peers.util import free_port
from tests.transport.jnlp4_controller import Controller

NODE = "agent-1"


@dataclass
class TlsJenkins:
    tls13_url: str  # accepts TLS 1.3 only: a JVM limited to TLS 1.2 cannot connect
    healthy_url: str  # accepts TLS 1.2 and 1.3
    ca_file: str
    agent_port: int
    secret: str  # the agent secret of NODE


def https_front(port: int, upstream: int, tls: tuple[str, str], protocols: str) -> str:
    return f"""
server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {tls[0]};
    ssl_certificate_key {tls[1]};
    ssl_protocols {protocols};
    location / {{
        proxy_pass http://127.0.0.1:{upstream};
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
    }}
}}
"""


@contextmanager
def tls_jenkins(folder: Path) -> Iterator[TlsJenkins]:
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    chain = folder / "cert.pem"
    chain.write_bytes(b"".join(pem.bytes() for pem in cert.cert_chain_pems))
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    tls = (str(chain), str(folder / "key.pem"))
    with Controller(nodes=(NODE,)) as controller:
        p13, p12 = free_port(), free_port()
        blocks = ("map $http_upgrade $connection_upgrade { default upgrade; '' close; }\n"
                  + https_front(p13, controller.http_port, tls, "TLSv1.3")
                  + https_front(p12, controller.http_port, tls, "TLSv1.2 TLSv1.3"))
        with Nginx(blocks, [p13, p12]):
            yield TlsJenkins(f"https://127.0.0.1:{p13}/", f"https://127.0.0.1:{p12}/", str(folder / "ca.pem"),
                             controller.agent_port, controller.secret(NODE))
