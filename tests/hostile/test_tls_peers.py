"""Peers that break TLS: garbage bytes instead of a ServerHello, and a fatal alert mid-handshake."""

from __future__ import annotations

import pytest

from tests.hostile import servers as S


@pytest.fixture
def pki(ca, tmp_path):
    cert, key = S.write_cert(ca, tmp_path)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return cert, key, str(ca_file)


def test_garbage_instead_of_tls(hostile, pki):
    """The peer answers the ClientHello with 16 KB of bytes that are no TLS record, then closes."""
    with S.Server(S.garbage) as peer:
        out = hostile("--url", f"https://127.0.0.1:{peer.port}/", "--ca-file", pki[2])
    assert peer.received and peer.received[0][:1] == b"\x16"  # what it got was a real ClientHello
    f = out.finding("discovery.jenkins")
    assert f["status"] == "fail" and f["evidence"]["error_class"] == "tls" and f["evidence"]["stage"] == "tls"
    assert "WRONG_VERSION_NUMBER" in f["title"]  # OpenSSL's name for "that is not a TLS record"
    versions = out.finding("tls.versions")
    assert versions["status"] == "fail" and "does not speak TLS" in versions["title"]
    assert versions["fixes"]
    assert out.code == 2


def test_alert_mid_handshake(hostile, pki):
    """A real openssl s_server's ServerHello reaches the client, then a fatal internal_error alert
    takes the place of the rest of the handshake."""
    cert, key, ca_file = pki
    backend = S.OpenSSLBackend(cert, key)
    try:
        with S.Server(S.tls_relay(backend.port, "alert")) as peer:
            out = hostile("--url", f"https://127.0.0.1:{peer.port}/", "--ca-file", ca_file)
    finally:
        backend.close()
    f = out.finding("discovery.jenkins")
    assert f["status"] == "fail" and f["evidence"]["error_class"] == "tls"
    assert "ALERT_INTERNAL_ERROR" in f["title"]
    versions = out.finding("tls.versions")
    assert versions["status"] == "fail"
    assert "internal error" in versions["evidence"]["negotiated"]["error"]
    assert "chosen, then the handshake failed" in versions["evidence"]["negotiated"]["error"]
    assert out.code == 2
