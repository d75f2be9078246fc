"""HTTP peers that abuse the protocol: 1 MB of headers, a body that never ends, redirect loops and
redirects to another host (which must never receive the agent's secret)."""

from __future__ import annotations

from tests.hostile import servers as S

SECRET = "0123456789abcdef" * 4


def test_one_megabyte_of_headers(hostile):
    with S.Server(S.huge_headers) as peer:
        out = hostile("--url", peer.url)
    f = out.finding("discovery.jenkins")
    assert f["status"] == "fail" and f["evidence"]["error_class"] == "protocol"
    assert "response headers exceed 64 KB" in f["title"]
    assert out.root_causes[0] == "discovery.jenkins"
    assert out.code == 2


def test_endless_chunked_body(hostile):
    """Jenkins' headers, then a chunked body that never ends (every page, the upgrade included)."""
    with S.Server(S.endless_chunked) as peer:
        out = hostile("--url", peer.url, "--websocket")
    root = out.finding("discovery.jenkins")
    assert root["status"] == "pass"  # the headers said Jenkins; the body was cut, not waited for
    assert root["evidence"]["body_truncated_at"] == 64 * 1024
    ws = out.finding("websocket.upgrade")
    assert ws["status"] == "fail" and ws["evidence"].get("error_class") == "protocol", ws
    assert "not HTTP/1.1" in ws["title"] and "chunk too large" in ws["evidence"]["error"], ws
    assert out.code == 2


def test_endless_chunk_size_line(hostile):
    """A chunk-size line that never ends: hex digits, no CRLF."""
    with S.Server(S.endless_chunk_size_line) as peer:
        out = hostile("--url", peer.url)
    f = out.finding("discovery.jenkins")
    assert f["status"] == "fail" and f["evidence"]["error_class"] == "protocol"
    assert "malformed chunked body" in f["title"]
    assert out.code == 2


def test_redirect_loop(hostile, tmp_path):
    """Every path redirects to itself plus '?again' and back. Nothing follows it; each is named."""
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    with S.Server(S.redirect_loop) as peer:
        out = hostile("--url", peer.url, "--websocket", "--auth-check", "--name", "agent-1",
                      "--secret-file", str(secret))
        asked = len(peer.received)
    f = out.finding("discovery.jenkins")
    assert f["status"] == "fail" and f["evidence"]["location"] == f"{peer.url}?again"
    ws = out.finding("websocket.upgrade")
    assert ws["status"] == "fail" and ws["evidence"]["status_code"] == 302
    assert ws["evidence"]["location"] == "/wsagents/?again"
    # root page, listener, login, agent file, upgrade, middlebox's login + upgrade, compat's agent.jar:
    # one request each, no hop followed.
    assert asked <= 10
    assert not any(b"?again" in r.split(b"\r\n", 1)[0] for r in peer.received)
    assert out.code == 2


def test_redirect_to_another_host_gets_no_secret(hostile, tmp_path):
    """Every path (the WebSocket endpoint as ws://) redirects to 127.0.0.2: the other host must not
    be contacted, least of all with Secret-Key."""
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    with S.Server(S.recorder, host="127.0.0.2") as other, S.Server(S.redirect_to(other.url)) as peer:
        out = hostile("--url", peer.url, "--websocket", "--auth-check", "--name", "agent-1",
                      "--secret-file", str(secret))
        leaked = list(other.received)
    assert leaked == []
    assert SECRET not in out.stdout
    f = out.finding("discovery.jenkins")
    assert f["status"] == "fail" and "another host" in f["detail"]
    assert f["evidence"]["location"].startswith(other.url)
    ws = out.finding("websocket.upgrade")
    assert ws["status"] == "fail" and ws["evidence"]["status_code"] == 302
    assert ws["evidence"]["location"].startswith("ws://127.0.0.2:")
    assert out.code == 2


def test_corrupt_agent_jar_from_the_controller(hostile):
    from tests.test_fuzz_parsers import _zip_with_bad_local_name

    with S.Server(S.agent_jar_server(_zip_with_bad_local_name())) as peer:
        out = hostile("--url", peer.url, "--websocket", "--probe", "discovery", "--probe", "compat")
    assert any(f["probe"] == "compat" and "agent.jar" in f["title"] for f in out.report["findings"])
