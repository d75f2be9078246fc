"""compat downloads ``<url>jnlpJars/agent.jar``: a redirect to another place (a cloud metadata
address, in the field) is reported and never requested; one within the Jenkins origin (same scheme,
host and port) is followed and said so."""

from __future__ import annotations

import io
import socket
import struct
import zipfile

import pytest

from tests.hostile import servers as S
from tests.peers.controller import identity_b64


def tiny_agent_jar(version: str = "3283.v92c105e0f819", major: int = 55) -> bytes:
    """A jar with remoting's manifest ``Version`` and a ``hudson/remoting/Launcher.class`` whose header
    is a real class file's (JVMS 4.1: magic 0xCAFEBABE, minor_version, major_version; 55 = Java 11)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", f"Manifest-Version: 1.0\r\nMain-Class: hudson.remoting.Launcher\r\n"
                                            f"Version: {version}\r\n\r\n")
        zf.writestr("hudson/remoting/Launcher.class", struct.pack(">IHH", 0xCAFEBABE, 0, major) + b"\x00" * 16)
    return buf.getvalue()


# core hudson/TcpSlaveAgentListener/index.jelly: the listener's headers (port 1: nothing listens there).
LISTENER = S.http_response("200 OK", S.JENKINS_HEADERS + "X-Jenkins-JNLP-Port: 1\r\nX-Hudson-JNLP-Port: 1\r\n"
                           f"X-Instance-Identity: {identity_b64()}\r\nX-Jenkins-Agent-Protocols: JNLP4-connect, Ping\r\n"
                           "Content-Type: text/plain;charset=UTF-8\r\n", b"Jenkins")


def jar_redirects_to(target: str, jar: bytes | None = None) -> S.Behaviour:
    """Jenkins pages; ``/jnlpJars/agent.jar`` answers 302 to ``target``; ``target``'s path serves ``jar``."""

    def behaviour(conn: socket.socket, server: S.Server) -> None:
        path = S.request_path(S.read_head(conn, server))
        page = S.jenkins_page(path) if not path.startswith("/tcpSlaveAgentListener/") else LISTENER
        if page is None and path.startswith("/jnlpJars/agent.jar"):
            page = S.http_response("302 Found", S.JENKINS_HEADERS + f"Location: {target}\r\n")
        elif page is None and jar is not None and path == "/jnlpJars/remoting-3283.jar":
            page = S.http_response("200 OK", "Content-Type: application/java-archive\r\n", jar)
        conn.sendall(page or S.http_response("404 Not Found", S.JENKINS_HEADERS, b"Not Found"))

    return behaviour


@pytest.mark.parametrize("other_host", ["127.0.0.2", "127.0.0.1"])
def test_redirect_to_another_host_or_port_is_not_followed(hostile, other_host):
    with S.Server(S.recorder, host=other_host) as other, \
            S.Server(jar_redirects_to(f"http://{other_host}:{other.port}/latest/meta-data/")) as peer:
        out = hostile("--url", peer.url, "--probe", "discovery", "--probe", "compat")
        asked = list(other.received)
    assert asked == [], "the other place was contacted"
    f = out.finding("compat.agent_jar")
    assert f["status"] == "warn"
    assert "redirects to another place" in f["title"] and "not followed" in f["title"]
    assert any("not followed" in n for n in f["evidence"]["notes"])
    assert f"{other_host}:{other.port}/latest/meta-data/" in f["title"]


def test_redirect_within_the_origin_is_followed_and_said(hostile):
    with S.Server(S.recorder, host="127.0.0.2") as other:
        with S.Server(jar_redirects_to("/jnlpJars/remoting-3283.jar", tiny_agent_jar())) as peer:
            out = hostile("--url", peer.url, "--probe", "discovery", "--probe", "compat")
        assert other.received == []
    assert "compat.agent_jar" not in out.findings
    jar = out.finding("compat")["evidence"]["controller_agent_jar"]
    assert jar["version"] == "3283.v92c105e0f819"
    assert any("followed (same scheme, host and port" in n for n in jar["notes"])
