"""``jnlpdiag logs`` on real log excerpts from public issue reports (cited in logs/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.peers.util import clean_env, run_cli

LOGS = Path(__file__).resolve().parent / "logs"

EXPECTED = {
    "istio-ack-http.log": "logs.ack-got-http",
    "pkix-https.log": "logs.pkix",
    "class-version-55-launcher.log": "logs.class-version",
    "class-version-61-controller.log": "logs.class-version",
    "already-connected-controller.log": "logs.already-connected",
    "already-connected-websocket.log": "logs.already-connected",
    "websocket-handshake-error-de.log": "logs.ws-handshake",
    "no-route-to-host.log": "logs.no-route",
    "connection-refused-agent-port.log": "logs.connection-refused",
    "kubectl-prefix-connection-refused.log": "logs.connection-refused",
    "oomkilled.log": "logs.oom-killed",
    "jffi-glibc.log": "logs.glibc-too-old",
    "connect-timed-out.log": "logs.connect-timeout",
    "no-appropriate-protocol.log": "logs.no-appropriate-protocol",
    "port-not-reachable.log": "logs.port-not-reachable",
}


@pytest.mark.parametrize("name, expected", sorted(EXPECTED.items()))
def test_real_excerpt_is_diagnosed(name, expected):
    res = run_cli("logs", "--json", str(LOGS / name))
    assert res.code == 2, res.stderr
    ids = [f["id"] for f in res.json()["findings"]]
    assert ids[0] == expected, ids
    f = res.finding(expected)
    assert f["evidence"]["matched"] and f["fixes"] and f["fixes"][0]["title"]
    assert f"{name}:" in f["evidence"]["matched"][0]  # quoted with file and line number


def test_every_excerpt_has_a_source():
    sources = (LOGS / "SOURCES.md").read_text()
    for path in LOGS.glob("*.log"):
        assert f"`{path.name}`" in sources, path.name


def test_class_file_version_gives_the_java_versions():
    f = run_cli("logs", "--json", str(LOGS / "class-version-61-controller.log")).finding("logs.class-version")
    assert f["title"] == "Java 11 runs code built for Java 17: the agent's JVM is too old"
    assert f["fixes"][0]["title"] == "Run the agent on Java 17 or newer"


def test_root_cause_wins_over_the_wrapper():
    """jffi's wrapper says 'noexec'; the root cause (the next line of the message) is an old glibc."""
    f = run_cli("logs", "--json", str(LOGS / "jffi-glibc.log")).finding("logs.glibc-too-old")
    assert "2.27" in f["title"]
    assert f["evidence"]["root_cause"].startswith("jffi-glibc.log:10: Caused by:")
    assert f["evidence"]["matched"][0].startswith("jffi-glibc.log:11:")


def test_stack_trace_is_one_event():
    doc = run_cli("logs", "--json", str(LOGS / "no-route-to-host.log")).json()
    # Only events holding a known error text are examined: the three JUL records before the trace are
    # counted as lines; the trace with its cause is one event.
    assert doc["lines"] == 16 and doc["events"] == 1
    f = doc["findings"][0]
    assert f["evidence"]["occurrences"] == 1
    # The matched line is the root cause itself: quoted once, not repeated as root_cause.
    assert f["evidence"]["matched"][0].startswith("no-route-to-host.log:11: Caused by: java.net.NoRouteToHostException")
    assert "root_cause" not in f["evidence"]


def test_clean_log_passes():
    res = run_cli("logs", str(LOGS / "discovery-ok.log"))
    assert res.code == 0 and "No known connection error in 21 lines" in res.stdout


def test_stdin_and_several_files():
    text = (LOGS / "pkix-https.log").read_text()
    res = run_cli("logs", "-", str(LOGS / "oomkilled.log"), "--json", input=text)
    ids = {f["id"] for f in res.json()["findings"]}
    assert ids == {"logs.pkix", "logs.oom-killed"}
    assert res.finding("logs.pkix")["evidence"]["matched"][0].startswith("<stdin>:12:")


def test_secrets_in_logs_are_redacted():
    secret = "ab" * 32
    log = (f"java -jar agent.jar -url http://j/ -secret {secret} -name a\n"
           "java.net.ConnectException: Connection refused\n")
    res = run_cli("logs", "-", "--json", input=log,
                  env=clean_env())
    assert secret not in res.stdout and res.code == 2
    res = run_cli("logs", "-", input=f"Caused by: java.net.UnknownHostException: {secret}\n",
                  env=clean_env(JENKINS_SECRET=secret))
    assert secret not in res.stdout and "<redacted>" in res.stdout


def test_bad_input_is_a_clear_error(tmp_path):
    res = run_cli("logs", str(tmp_path / "nope.log"))
    assert res.code == 3 and "no such file" in res.stderr
    res = run_cli("logs", str(tmp_path))
    assert res.code == 3 and "is a directory" in res.stderr
    binary = tmp_path / "bin.log"
    tail = b"\nCaused by: java.net.NoRouteToHostException: No route to host\n"
    binary.write_bytes(bytes(range(256)) * 100 + tail)
    res = run_cli("logs", "--json", str(binary))
    # Not a log: refused before anything is matched, never a pass (issue 13 §6).
    assert res.code == 3 and res.stdout == "" and res.stderr.strip().endswith("a binary file (it holds NUL bytes), not a log")


def test_huge_stack_trace_is_bounded(tmp_path):
    path = tmp_path / "big.log"
    frames = "".join(f"\tat a.b.C{i}.m(C.java:{i})\n" for i in range(200_000))
    cause = "Caused by: java.net.ConnectException: Connection refused\n"
    path.write_text("java.io.IOException: boom\n" + frames + cause)
    res = run_cli("logs", "--json", str(path), timeout=120)
    doc = res.json()
    assert doc["events"] == 1 and doc["findings"][0]["id"] == "logs.connection-refused"


def test_fix_is_filled_with_what_the_log_names(tmp_path):
    """issue 13 §3: a log line naming x:8080 gives a fix with "x 8080", not "HOST PORT"."""
    log = tmp_path / "agent.log"
    log.write_text(
        "SEVERE: Failed to connect to http://x:8080/tcpSlaveAgentListener/: Connection refused\n"
        "java.io.IOException: Failed to connect to http://x:8080/tcpSlaveAgentListener/: Connection refused\n"
        "\tat org.jenkinsci.remoting.engine.JnlpAgentEndpointResolver.resolve(JnlpAgentEndpointResolver.java:216)\n"
        "Caused by: java.net.ConnectException: Connection refused\n"
        "\tat java.base/sun.nio.ch.Net.connect0(Native Method)\n")
    r = run_cli("logs", str(log), "--json", env=clean_env())
    fixes = [fx for f in r.json()["findings"] for fx in f["fixes"]]
    commands = [c for fx in fixes for c in fx["commands"]]
    assert any(c.startswith("nc -vz -w 5 x 8080") for c in commands), commands
    assert not any(word in c.split() for c in commands for word in ("HOST", "PORT", "JENKINS_URL"))
