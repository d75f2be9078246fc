"""A WebSocket "controller" (the real ``websockets`` server) that accepts the agent's upgrade and then
sends oversized frames or closes with odd or forbidden codes, while ``--hold`` keeps it open."""

from __future__ import annotations

import pytest

from tests.hostile import servers as S

SECRET = "0123456789abcdef" * 4


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret"
    path.write_text(SECRET)
    return str(path)


def _hold(hostile, mode: str, secret_file: str):
    with S.WebSocketJenkins(mode) as peer:
        out = hostile("--url", peer.url, "--websocket", "--auth-check", "--name", "agent-1",
                      "--secret-file", secret_file, "--hold", "1")
        upgrades = peer.upgrades
    assert upgrades >= 1
    assert out.finding("websocket.upgrade")["status"] == "pass"  # the upgrade itself was accepted
    hold = out.finding("websocket.hold")
    assert hold["status"] == "fail" and hold["fixes"]
    assert hold["evidence"]["closed_after_s"] is not None and hold["evidence"]["closed_after_s"] < 1.0
    assert out.code == 2
    return hold


@pytest.mark.parametrize("mode, size", [("big_message", "2097152"), ("huge_length", "4611686018427387904")])
def test_oversized_frames(hostile, secret_file, mode, size):
    hold = _hold(hostile, mode, secret_file)
    assert "the peer broke the WebSocket protocol" in hold["evidence"]["how"]
    assert f"frame with {size} bytes exceeds limit" in hold["evidence"]["how"]
    assert hold["evidence"]["close_code"] == 1009  # RFC 6455 7.4.1: message too big


@pytest.mark.parametrize("code", [4999, 3000, 1012])
def test_odd_but_valid_close_codes(hostile, secret_file, code):
    hold = _hold(hostile, f"close:{code}", secret_file)
    assert hold["evidence"]["close_code"] == code
    assert hold["evidence"]["how"] == f"closed by the peer with code {code} odd"


@pytest.mark.parametrize("mode, why", [("close:1005", "invalid status code"), ("close:999", "invalid status code"),
                                       ("close:5000", "invalid status code"), ("close_short", "close frame too short")])
def test_forbidden_close_frames(hostile, secret_file, mode, why):
    """Codes no endpoint may send (1005 is reserved, 999 and 5000 are out of range) and a 1-byte
    close payload (RFC 6455 5.5.1): a protocol error, answered with 1002."""
    hold = _hold(hostile, mode, secret_file)
    assert f"the peer broke the WebSocket protocol ({why})" in hold["evidence"]["how"]
    assert hold["evidence"]["close_code"] == 1002
