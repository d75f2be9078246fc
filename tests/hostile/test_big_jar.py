"""agent.jar with 100,000 entries (a zip whose central directory alone took 119 MB to list): the
entry count is read from the end record and such a jar is not opened, downloaded or local."""

from __future__ import annotations

import socket
import zipfile

import pytest

from jnlpdiag.compat.jar import agent_jar_info_file
from jnlpdiag.hostinfo.jar import MAX_ENTRIES
from tests.hostile import servers as S


@pytest.fixture(scope="module")
def many_entries_jar(tmp_path_factory):
    path = tmp_path_factory.mktemp("jar") / "agent.jar"
    with zipfile.ZipFile(path, "w") as zf:  # more than 65,535 entries: Python writes the Zip64 end record
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nVersion: 3283.v92c105e0f819\r\n\r\n")
        for i in range(100_000):
            zf.writestr(f"x/E{i}.class", b"")
    return path


def test_local_jar_with_too_many_entries(many_entries_jar):
    info = agent_jar_info_file(many_entries_jar)
    assert info.error and "100001 entries" in info.error and str(MAX_ENTRIES) in info.error


def test_small_jar_under_the_cap_is_read(tmp_path):
    path = tmp_path / "agent.jar"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nVersion: 3283.v92c105e0f819\r\n\r\n")
        for i in range(1500):
            zf.writestr(f"x/E{i}.class", b"")
    assert agent_jar_info_file(path).version == "3283.v92c105e0f819"


def test_controller_serving_it(hostile, many_entries_jar):
    from tests.hostile.test_agent_jar_redirect import LISTENER

    jar = many_entries_jar.read_bytes()

    def behaviour(conn: socket.socket, server: S.Server) -> None:
        # Jenkins pages, the listener (it must pass for compat to download agent.jar at all), the jar.
        path = S.request_path(S.read_head(conn, server))
        if path.startswith("/tcpSlaveAgentListener/"):
            conn.sendall(LISTENER)
        elif path.startswith("/jnlpJars/agent.jar"):
            conn.sendall(S.http_response("200 OK", S.JENKINS_HEADERS + "Content-Type: application/java-archive\r\n",
                                         jar))
        else:
            conn.sendall(S.jenkins_page(path) or S.http_response("404 Not Found", S.JENKINS_HEADERS, b"Not Found"))

    with S.Server(behaviour) as peer:
        out = hostile("--url", peer.url, "--probe", "discovery", "--probe", "compat")
    f = out.finding("compat.agent_jar")
    assert f["status"] == "warn" and "100001 entries" in f["title"]
