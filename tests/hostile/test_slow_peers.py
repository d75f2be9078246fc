"""Slowloris at the TCP, TLS and HTTP layers: peers that accept and then never finish answering.

Each case runs the full check (every probe) against the peer and checks the contract of
tests/hostile/conftest.py, then that the finding which failed names the layer that stalled.
"""

from __future__ import annotations

import ssl

import pytest

from tests.hostile import servers as S


def test_tcp_slowloris_url(hostile):
    """Accepts the TCP connection, reads the request, never sends a byte."""
    with S.Server(S.silent) as peer:
        out = hostile("--url", peer.url)
    f = out.finding("discovery.jenkins")
    assert f["status"] == "fail" and f["evidence"]["error_class"] == "timeout"
    assert f["evidence"]["stage"] == "response"
    assert "accepted the connection but sent nothing" in f["title"]
    assert f["fixes"]
    assert out.root_causes == ["discovery.jenkins"]
    assert out.code == 2
    assert peer.connections >= 2  # the root page and tcpSlaveAgentListener/ were both asked


def test_tcp_slowloris_agent_port(hostile):
    """The agent port (-direct) accepts and stays silent: no listener hello, no JNLP4 ACK."""
    with S.Server(S.silent) as peer:
        out = hostile("--direct", f"127.0.0.1:{peer.port}", "--name", "agent-1")
    port = out.finding("tcp.agent_port")
    assert port["evidence"]["result"] == "connected"
    listener = out.finding("tcp.listener")
    assert listener["status"] == "fail"
    assert "stayed silent" in listener["title"]
    assert "tcp.listener" in out.root_causes
    assert out.code == 2


def test_tls_slowloris(hostile, ca, tmp_path):
    """A real openssl s_server whose handshake bytes reach the client one at a time, 20 a second."""
    cert, key = S.write_cert(ca, tmp_path)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    backend = S.OpenSSLBackend(cert, key)
    try:
        with S.Server(S.tls_relay(backend.port, "dribble")) as peer:
            out = hostile("--url", f"https://127.0.0.1:{peer.port}/", "--ca-file", str(ca_file))
    finally:
        backend.close()
    f = out.finding("discovery.jenkins")
    assert f["status"] == "fail" and f["evidence"]["error_class"] == "timeout"
    assert f["evidence"]["stage"] == "tls"
    assert "TLS handshake did not complete" in f["title"]
    assert out.root_causes[0] == "discovery.jenkins"
    assert out.code == 2


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_http_slowloris(hostile, ca, tmp_path, scheme):
    """A status line, then response-header bytes one at a time, forever (over TLS: Python's ssl)."""
    tls = None
    args: list[str] = []
    if scheme == "https":
        cert, key = S.write_cert(ca, tmp_path)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert, key)
        ca_file = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        args = ["--ca-file", str(ca_file)]
    with S.Server(S.dribble_http, tls=tls) as peer:
        out = hostile("--url", peer.url, *args)
    f = out.finding("discovery.jenkins")
    assert f["status"] == "fail" and f["evidence"]["error_class"] == "timeout"
    assert f["evidence"]["stage"] == "response"
    assert "bytes of response headers arrived" in f["title"]
    assert out.root_causes[0] == "discovery.jenkins"
    assert out.code == 2
