"""credentials.jnlp against the test controller's encrypted jenkins-agent.jnlp."""

from __future__ import annotations

import pytest

from tests.peers.util import run_cli
from tests.transport.jnlp4_controller import Controller


@pytest.fixture(scope="module")
def controller():
    with Controller(nodes=["agent-1", "ws agent"], websocket_launcher=("ws agent",)) as c:
        yield c


def run(c: Controller, tmp_path, name: str, secret: str, *extra: str):
    sf = tmp_path / "secret"
    sf.write_text(secret + "\n")
    return run_cli("check", "--json", "--url", c.url, "--name", name, "--secret-file", str(sf), "--timeout", "3",
                   "--probe", "credentials.jnlp", *extra)


def test_right_secret(controller, tmp_path):
    r = run(controller, tmp_path, "agent-1", controller.secret("agent-1"))
    f = r.finding("credentials.jnlp")
    assert f["status"] == "pass", f
    assert f["evidence"]["decrypted"] is True and f["evidence"]["secret_sent"] is False
    assert "-url" in f["evidence"]["controller_options"]
    assert controller.secret("agent-1") not in r.stdout


def test_wrong_secret(controller, tmp_path):
    r = run(controller, tmp_path, "agent-1", controller.secret("ws agent"))  # a real secret of another node
    f = r.finding("credentials.jnlp")
    assert f["status"] == "fail"
    assert "secret is wrong" in f["title"]
    assert r.code == 2


def test_unknown_node(controller, tmp_path):
    r = run(controller, tmp_path, "ghost", "a" * 64)
    f = r.finding("credentials.jnlp")
    assert f["status"] == "fail" and f["evidence"]["status_code"] == 404


def test_name_with_space_and_websocket_launcher_mismatch(controller, tmp_path):
    r = run(controller, tmp_path, "ws agent", controller.secret("ws agent"))
    f = r.finding("credentials.jnlp")
    assert f["status"] == "warn"
    assert "WebSocket" in f["title"]
    assert "computer/ws%20agent/" in f["evidence"]["jnlp_url"]
    r2 = run(controller, tmp_path, "ws agent", controller.secret("ws agent"), "--websocket")
    assert r2.finding("credentials.jnlp")["status"] == "pass"


def test_secret_that_is_not_hex(controller, tmp_path):
    r = run(controller, tmp_path, "agent-1", "not-a-secret-at-all-not-a-secret-at-all")
    f = r.finding("credentials.jnlp")
    assert f["status"] == "fail" and "not hexadecimal" in f["title"]


def test_without_secret_it_skips(controller):
    r = run_cli("check", "--json", "--url", controller.url, "--name", "agent-1", "--timeout", "2",
                "--probe", "credentials.jnlp")
    assert r.finding("credentials.jnlp")["status"] == "skip"
