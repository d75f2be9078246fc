"""Ports read as the agent reads them: jnlpdiag.javaint against the JVM itself, and a controller that
advertises ports Python reads and Java refuses."""

from __future__ import annotations

import shutil
import socket
import subprocess

import pytest

from jnlpdiag.javaint import parse_int
from tests.hostile import servers as S
from tests.peers.controller import identity_b64

CASES = ["18601", "+18601", "-1", "18_601", " 18601", "18601 ", "0x4AB9", "1.0", "", "+", "-", "++1",
         "\u0661\u0668\u0666\u0660\u0661", "\uff11\uff18", "2147483647", "2147483648", "-2147483648",
         "-2147483649", "99999999999999999999", "18601\u00b2", "\u00b2", "1\u200b"]

PARSE_INT = """
public class ParseInt {
    public static void main(String[] args) {
        for (String a : args) {
            try { System.out.println(Integer.parseInt(a)); } catch (NumberFormatException e) { System.out.println("NFE"); }
        }
    }
}
"""


def test_parse_int_agrees_with_the_jvm(tmp_path):
    java = shutil.which("java")
    if java is None:
        pytest.skip("no java on PATH (apt-get install openjdk-17-jre-headless)")
    src = tmp_path / "ParseInt.java"
    src.write_text(PARSE_INT)
    # JEP 330: java runs a single source file; one JVM for every case.
    out = subprocess.run([java, str(src), *CASES], capture_output=True, text=True, timeout=60, check=True)
    jvm = out.stdout.splitlines()
    assert len(jvm) == len(CASES)
    for i, case in enumerate(CASES):  # (no zip(strict=): Python 3.9)
        answer, mine = jvm[i], parse_int(case)
        assert (str(mine) if mine is not None else "NFE") == answer, repr(case)


def listener_with_port(port_value: str) -> S.Behaviour:
    """Jenkins pages; /tcpSlaveAgentListener/ as core's index.jelly sends it, with ``port_value``."""
    identity = identity_b64()

    def behaviour(conn: socket.socket, server: S.Server) -> None:
        path = S.request_path(S.read_head(conn, server))
        if path.startswith("/tcpSlaveAgentListener/"):
            conn.sendall(S.http_response("200 OK", S.JENKINS_HEADERS + f"X-Jenkins-JNLP-Port: {port_value}\r\n"
                                         f"X-Instance-Identity: {identity}\r\n"
                                         "X-Jenkins-Agent-Protocols: JNLP4-connect, Ping\r\n", b"Jenkins"))
        else:
            conn.sendall(S.jenkins_page(path) or S.http_response("404 Not Found", S.JENKINS_HEADERS, b"Not Found"))

    return behaviour


def test_port_python_reads_but_the_agent_refuses(hostile):
    with S.Server(listener_with_port("18_601")) as peer:
        out = hostile("--url", peer.url, "--probe", "discovery")
    f = out.finding("discovery")
    assert f["status"] == "fail"
    assert "publishing an invalid port: 18_601 (agent.jar cannot read it)" in f["title"]
    assert "Integer.parseInt" in f["detail"] and "18601" in f["detail"]


def test_port_with_a_plus_sign_is_what_java_reads(hostile):
    with S.Server(listener_with_port("+18601")) as peer:
        out = hostile("--url", peer.url, "--probe", "discovery")
    f = out.finding("discovery")
    assert f["status"] == "pass" and f["evidence"]["agent_port"] == 18601


def test_tunnel_port_python_reads_but_the_agent_refuses(hostile):
    out = hostile("--url", "http://127.0.0.1:9/", "--tunnel", "127.0.0.1:18_601", "--probe", "tcp")
    f = out.finding("tcp.agent_port")
    assert f["status"] == "fail" and 'For input string: "18_601"' in f["title"] + f["detail"]
