"""jnlp4.handshake and jnlp4.ping against the test controller (tests/transport/jnlp4_controller.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.peers.util import run_cli
from tests.transport.jnlp4_controller import Controller

PROBES = ("--probe", "discovery", "--probe", "tcp", "--probe", "jnlp4.*")


def check(c: Controller, tmp: Path, *extra: str, name: str = "agent-1", secret: str | None = None,
          timeout: str = "2"):
    secret_file = tmp / f"secret-{time.monotonic_ns()}"
    secret_file.write_text(secret if secret is not None else c.secret(name))
    return run_cli("check", "--json", "--url", c.url, "--name", name, "--secret-file", str(secret_file),
                   "--timeout", timeout, *PROBES, *extra)


def last_jnlp4(c: Controller):
    conns = [x for x in c.connections if x.kind == "jnlp4"]
    assert conns, f"no JNLP4 connection reached the controller: {[x.kind for x in c.connections]}"
    assert conns[-1].done.wait(15)
    return conns[-1]


@pytest.fixture(scope="module")
def good():
    with Controller(nodes=["agent-1", "ssh-node"], connected=("busy",), not_inbound=("ssh-node",)) as c:
        c.nodes.append("busy")
        yield c


def test_without_auth_check_stops_before_the_secret(good, tmp_path):
    r = check(good, tmp_path)
    assert r.code == 0, r.stdout
    f = r.finding("jnlp4.handshake")
    ev = f["evidence"]
    assert f["status"] == "pass"
    assert ev["stage_reached"] == "headers"
    assert ev["identity_match"] is True
    assert ev["tls"]["version"] in ("TLSv1.3", "TLSv1.2") and ev["tls"]["cipher"]
    assert ev["secret_sent"] is False and ev["cookie_sent"] is False
    assert "no --auth-check" in ev["stopped"]
    assert ev["identity"]["got"] == good.identity.fingerprint
    conn = last_jnlp4(good)
    assert conn.client_ack == b"\x00\x03ACK"
    assert conn.client_headers is None  # nothing was sent inside TLS
    assert good.secret("agent-1") not in r.stdout + r.stderr


def test_auth_check_accepted_closes_before_capability(good, tmp_path):
    r = check(good, tmp_path, "--auth-check")
    f = r.finding("jnlp4.handshake")
    assert f["status"] == "pass", f
    assert f["evidence"]["stage_reached"] == "accepted"
    conn = last_jnlp4(good)
    assert conn.client_headers == {"Node-Name": "agent-1", "Secret-Key": good.secret("agent-1")}
    assert "JnlpAgentProtocol.cookie" not in conn.client_headers
    assert conn.verdict == "OK" and conn.client_response == "OK"
    assert conn.after_verdict == b"", "the probe sent something (a Capability frame?) after the verdict"
    assert good.secret("agent-1") not in r.stdout + r.stderr


@pytest.mark.parametrize("name,secret,cause,refusal", [
    ("nobody", "0" * 64, "unknown_name", "Unknown client name: nobody"),
    ("agent-1", "f" * 64, "bad_secret", "Authorization failure"),
    ("busy", None, "already_connected", "busy is already connected to this controller. Rejecting this connection."),
    ("ssh-node", None, "not_inbound", "ssh-node is not an inbound agent"),
])
def test_auth_check_refusals_are_named_and_confirmed_with_bye(good, tmp_path, name, secret, cause, refusal):
    r = check(good, tmp_path, "--auth-check", name=name, secret=secret)
    assert r.code == 2
    f = r.finding("jnlp4.handshake")
    assert f["status"] == "fail"
    assert f["evidence"]["refusal"] == refusal
    assert f["evidence"]["stage_reached"] == "headers" and f["evidence"]["failed_at"] == "headers"
    assert f["fixes"] and (f["fixes"][0]["commands"] or f["fixes"][0]["notes"])
    conn = last_jnlp4(good)
    assert conn.verdict == f"ERROR: {refusal}"
    # ConnectionHeadersFilterLayer: our OK to their headers, then BYE confirming the refusal, then close.
    assert conn.after_verdict == b"\x00\x02OK\x00\x03BYE"
    assert not conn.disconnected_live_agent


def test_wrong_identity_fails_naming_both_fingerprints_and_sends_nothing(tmp_path):
    with Controller(wrong_identity=True) as c:
        r = check(c, tmp_path, "--auth-check")
        f = r.finding("jnlp4.handshake")
        assert f["status"] == "fail"
        assert f["evidence"]["identity_match"] is False
        assert f["evidence"]["failed_at"] == "identity" and f["evidence"]["stage_reached"] == "tls"
        assert c.identity.fingerprint in f["title"] and c.tls_identity.fingerprint in f["title"]
        assert f["evidence"]["secret_sent"] is False
        assert last_jnlp4(c).client_headers is None


def test_configured_instance_identity_is_checked_too(good, tmp_path):
    from tests.transport.jnlp4_controller import Identity

    stranger = Identity.generate(b"x")
    r = check(good, tmp_path, "--instance-identity", stranger.b64)
    f = r.finding("jnlp4.handshake")
    assert f["status"] == "fail"
    assert stranger.fingerprint in f["title"] and "-instanceIdentity" in f["title"]


def test_no_ack_times_out_at_the_ack_stage(tmp_path):
    with Controller(ack="none") as c:
        t0 = time.monotonic()
        r = check(c, tmp_path, "--deadline", "6")
        f = r.finding("jnlp4.handshake")
        assert f["status"] == "fail"
        assert f["evidence"]["failed_at"] == "ack" and f["evidence"]["cause"] == "ack_timeout"
        assert "Timeout waiting for ACK" in f["detail"]
        assert time.monotonic() - t0 < 6 * 1.1 + 5


def test_wrong_ack_names_what_answers(tmp_path):
    with Controller(ack=b"HTTP/1.1 400 Bad Request\r\n\r\n") as c:
        r = check(c, tmp_path)
        f = r.finding("jnlp4.handshake")
        assert f["status"] == "fail"
        assert f["evidence"]["cause"] == "not_jnlp" and f["evidence"]["failed_at"] == "ack"
        assert "expected 0x000341434b got 0x485454502f" in f["detail"]
        assert "HTTP server" in f["detail"]


def test_protocol_not_enabled_on_the_port(tmp_path):
    with Controller(protocols=("Ping",), advertised_protocols=("JNLP4-connect", "Ping")) as c:
        r = check(c, tmp_path)
        f = r.finding("jnlp4.handshake")
        assert f["status"] == "fail"
        assert f["evidence"]["failed_at"] == "preamble" and f["evidence"]["stage_reached"] == "tcp"
        assert "Unknown protocol:" in f["detail"]


def test_tls12_only_controller_is_reported_with_its_version(tmp_path):
    with Controller(tls12_only=True) as c:
        r = check(c, tmp_path, "--auth-check")
        f = r.finding("jnlp4.handshake")
        assert f["status"] == "pass"
        assert f["evidence"]["tls"]["version"] == "TLSv1.2"
        assert last_jnlp4(c).tls_version == "TLSv1.2"


def test_tls_failure_carries_the_alert(tmp_path):
    with Controller(need_client_auth=True) as c:
        r = check(c, tmp_path, "--auth-check")
        f = r.finding("jnlp4.handshake")
        assert f["status"] == "fail"
        assert f["evidence"]["failed_at"] == "tls"
        assert "certificate required" in f["evidence"]["alert"]
        # The alert came before the controller's headers, so the secret never left this host.
        assert f["evidence"]["secret_sent"] is False
        assert last_jnlp4(c).client_headers is None


def test_direct_mode_needs_no_discovery(good, tmp_path):
    secret_file = tmp_path / "s"
    secret_file.write_text(good.secret("agent-1"))
    r = run_cli("check", "--json", "--direct", f"127.0.0.1:{good.agent_port}", "--instance-identity",
                good.identity.b64, "--name", "agent-1", "--secret-file", str(secret_file), "--auth-check",
                "--timeout", "2", *PROBES)
    f = r.finding("jnlp4.handshake")
    assert f["status"] == "pass", f
    assert f["evidence"]["stage_reached"] == "accepted"
    assert list(f["evidence"]["identity"]["expected"]) == ["-instanceIdentity (flag --instance-identity)"]


def test_direct_mode_without_identity_never_sends_the_secret(good, tmp_path):
    secret_file = tmp_path / "s"
    secret_file.write_text(good.secret("agent-1"))
    before = len(good.connections)
    r = run_cli("check", "--json", "--direct", f"127.0.0.1:{good.agent_port}", "--name", "agent-1",
                "--secret-file", str(secret_file), "--auth-check", "--timeout", "2", *PROBES)
    f = r.finding("jnlp4.handshake")
    assert f["status"] == "warn"
    assert f["evidence"]["secret_sent"] is False
    assert all(x.client_headers is None for x in good.connections[before:])


def test_ping_protocol(good, tmp_path):
    r = check(good, tmp_path)
    f = r.finding("jnlp4.ping")
    assert f["status"] == "pass"
    assert f["evidence"]["answer_hex"] == b"Ping\n".hex()


def test_ping_refused_when_the_port_lacks_it(tmp_path):
    with Controller(protocols=("JNLP4-connect",), advertised_protocols=("JNLP4-connect", "Ping")) as c:
        r = check(c, tmp_path)
        f = r.finding("jnlp4.ping")
        assert f["status"] == "fail"
        assert "Unknown protocol:" in f["detail"]


def test_ping_skipped_when_not_listed(tmp_path):
    with Controller(advertised_protocols=("JNLP4-connect",)) as c:
        r = check(c, tmp_path)
        assert r.finding("jnlp4.ping")["status"] == "skip"


def test_tcp_failure_skips_the_handshake_with_its_cause(tmp_path):
    with Controller() as c:
        port = c.agent_port
        url = c.url
    # The controller is gone: nothing listens any more.
    secret_file = tmp_path / "s"
    secret_file.write_text("0" * 64)
    r = run_cli("check", "--json", "--direct", f"127.0.0.1:{port}", "--name", "a", "--secret-file", str(secret_file),
                "--timeout", "2", *PROBES)
    f = r.finding("jnlp4.handshake")
    assert f["status"] == "skip"
    assert f["caused_by"] == "tcp.agent_port"
    assert url


@pytest.mark.parametrize("switches,name,secret,stage,cause_id,text", [
    ({"wrong_identity": True}, "agent-1", None, "identity", "jnlp4.handshake", "X-Instance-Identity says"),
    ({}, "agent-1", "e" * 64, "headers", "jnlp4.handshake", "Authorization failure"),
    ({"ack": "none"}, "agent-1", None, "ack", "jnlp4.handshake", "No ACK"),
])
def test_full_check_names_the_stage_and_the_root_cause(tmp_path, switches, name, secret, stage, cause_id, text):
    """Every registered probe, no --probe filter: the report's root cause is the JNLP4 step that broke."""
    with Controller(**switches) as c:
        sf = tmp_path / "s"
        sf.write_text(secret or c.secret(name))
        r = run_cli("check", "--json", "--url", c.url, "--name", name, "--secret-file", str(sf), "--auth-check",
                    "--timeout", "3", "--deadline", "8")
        report = r.json()
        assert r.code == 2
        roots = [f["id"] for f in report["root_causes"]]
        assert cause_id in roots, roots
        f = r.finding("jnlp4.handshake")
        assert f["evidence"]["failed_at"] == stage
        assert text in f["title"] + f["detail"] + str(f["evidence"].get("refusal"))
        assert c.secret(name) not in r.stdout + r.stderr
