"""`logs` recognises what agents really print (issue 13 §6, issue 17 §5).

Each line below is built exactly as the upstream code formats it, with the file and commit cited
beside it (no agent.jar runs here, so these are the documented texts, byte for byte). Files are real
files: a gzip-rotated log, an executable, a NUL-padded log. The prefilter (needles) is checked to
cover every signature, and the block reader must agree with the line reader on any input.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.peers.util import run_cli

LOGS = Path(__file__).resolve().parent / "logs"
DATA = Path(__file__).resolve().parents[2] / "jnlpdiag" / "data" / "log-signatures.json"

# (line as printed, signature id, facts that must reach the title or the fix)
UPSTREAM_LINES = [
    # remoting@fa5f12a8 JnlpAgentEndpointResolver.java:230: "Failed to connect to " + salURL + ": " + x.getMessage()
    ("java.io.IOException: Failed to connect to http://x:8080/tcpSlaveAgentListener/: Connection refused",
     "connection-refused", ["nc -vz -w 5 x 8080"]),
    ("java.io.IOException: Failed to connect to https://ci.example.org/tcpSlaveAgentListener/: Connection refused",
     "connection-refused", ["nc -vz -w 5 ci.example.org 443"]),
    ("java.io.IOException: Connection refused", "connection-refused", ["nc -vz -w 5 HOST PORT"]),
    # JDK 8 SocketInputStream message form; Windows adds ": connect"
    ("java.net.ConnectException: Connection refused (Connection refused)", "connection-refused", []),
    ("java.net.ConnectException: Connection refused: connect", "connection-refused", []),
    # jenkins@0a508f3a (jenkins-2.332.1) SlaveComputer.java:663
    ("WARNING: Remoting version is older than a minimum required one (4.2.1). Connection will not be rejected, "
     "but the compatibility is NOT guaranteed", "remoting-old-allowed", []),
    # jenkins@ff9430ee SlaveComputer.java:671-676 (taskListener.fatalError prefixes "FATAL: ")
    ("FATAL: Rejecting the connection because the Remoting version is older than the minimum required version "
     "(4.13). To allow the connection anyway, set the hudson.slaves.SlaveComputer.allowUnsupportedRemotingVersions "
     "system property to true.", "remoting-too-old", []),
    # jenkins@ff9430ee SlaveComputer.java:681-685 (taskListener.error prefixes "ERROR: ")
    ("ERROR: The Remoting version is older than the minimum required version (4.13). The connection will be allowed, "
     "but compatibility is NOT guaranteed.", "remoting-old-allowed", []),
    # remoting@fa5f12a8 Engine.java:662-663 (WebSocket)
    ("java.io.IOException: Agent version 3107.v665000b_51092 or newer is required.", "remoting-too-old", []),
    # remoting@fa5f12a8 AckFilterLayer.java:128 (logged) and 132-135 (thrown), abort("Incorrect")
    ("WARNING: [JNLP4-connect connection to jenkins/10.0.0.5:50000] Incorrect acknowledgement sequence, expected "
     "0x000341434b got 0x485454502f", "ack-got-http", []),
    ("org.jenkinsci.remoting.protocol.impl.ConnectionRefusalException: Incorrect acknowledgement received, expected "
     "0x000341434b got 0x485454502f", "ack-got-http", []),
    ("org.jenkinsci.remoting.protocol.impl.ConnectionRefusalException: Incorrect acknowledgement received, expected "
     "0x000341434b got 0x1503010002", "ack-got-tls", []),
    # remoting@fa5f12a8 AckFilterLayer.java:212 and 290
    ("org.jenkinsci.remoting.protocol.impl.ConnectionRefusalException: Connection closed before acknowledgement send",
     "ack-closed", []),
    # remoting@fa5f12a8 Launcher.java:493
    ('WARNING: The "-jnlpUrl" argument is deprecated. Use "-url" and "-name" instead, potentially also passing in '
     '"-webSocket", "-tunnel", and/or work directory options as needed.', "jnlpurl-deprecated", []),
    # tyrus@d6dc66cd localization.properties:60 invalid.response.code=Response code was not {0}: {1}.
    # (TyrusClientEngine.java:307), shaded by remoting
    ("Caused by: io.jenkins.remoting.shaded.org.glassfish.tyrus.core.HandshakeException: Response code was not 101: 403.",
     "ws-status", ["403"]),
    # tyrus@d6dc66cd ClientManager.java:642 Exceptions.deploymentException("Handshake error.", exception)
    ("java.io.IOException: jakarta.websocket.DeploymentException: Handshake error.", "ws-handshake", []),
    # remoting@fa5f12a8 Engine.java:1050 and 1054
    ("INFO: Server reports protocol JNLP4-connect not supported, skipping", "jnlp4-not-offered", []),
    ("INFO: Protocol JNLP4-connect is not enabled, skipping", "jnlp4-disabled-on-agent", []),
    # remoting@fa5f12a8 Engine.java:896
    ("INFO: http://jenkins:8080/login is not ready: 302", "login-not-ready", ["302"]),
]


def _logs_json(tmp_path: Path, text: str, name: str = "agent.log") -> dict:
    path = tmp_path / name
    path.write_text(text)
    r = run_cli("logs", "--json", str(path))
    assert r.stderr == "" and r.code in (1, 2), (r.code, r.stderr)
    return r.json()


def test_upstream_texts_are_recognised(tmp_path):
    """One file with every upstream line, each its own record (a JUL header before it), read once."""
    header = "Dec 06, 2026 12:00:00 PM hudson.remoting.Launcher$CuiListener status\n"
    for i, (line, sig, facts) in enumerate(UPSTREAM_LINES):
        doc = _logs_json(tmp_path, header + line + "\n", f"a{i}.log")
        first = doc["findings"][0]
        assert first["id"] == f"logs.{sig}", (line, [f["id"] for f in doc["findings"]])
        shown = json.dumps(first)
        for fact in facts:
            assert fact in shown, (fact, first["title"], first["fixes"])


def test_jnlp4_disabled_on_the_controller_is_the_root_cause(tmp_path):
    """remoting's Engine logs the skip, then the rejection summary; the skip is the root cause."""
    cycle = (
        # remoting@fa5f12a8 Engine.java:1054, logged through Launcher.CuiListener.status (Launcher.java:1185)
        "Dec 06, 2026 12:00:{s:02d} PM hudson.remoting.Launcher$CuiListener status\n"
        "INFO: Handshaking\n"
        "Dec 06, 2026 12:00:{s:02d} PM hudson.remoting.Launcher$CuiListener status\n"
        "INFO: Server reports protocol JNLP4-connect not supported, skipping\n"
        # Engine.java:1099 and 1158-1160: status("reconnect rejected, sleeping 10s: ", new Exception(...))
        "Dec 06, 2026 12:00:{s:02d} PM hudson.remoting.Launcher$CuiListener status\n"
        "INFO: reconnect rejected, sleeping 10s: \n"
        "java.lang.Exception: The server rejected the connection: None of the protocols are enabled\n"
        "\tat hudson.remoting.Engine.onConnectionRejected(Engine.java:1160)\n"
        "\tat hudson.remoting.Engine.innerRun(Engine.java:1099)\n"
        "\tat hudson.remoting.Engine.run(Engine.java:569)\n\n"
    )
    doc = _logs_json(tmp_path, "".join(cycle.format(s=s) for s in range(0, 40, 10)))
    by_id = {f["id"]: f for f in doc["findings"]}
    root, summary = by_id["logs.jnlp4-not-offered"], by_id["logs.protocols-rejected"]
    assert root["status"] == "fail" and root["caused_by"] is None and root["evidence"]["occurrences"] == 4
    assert summary["caused_by"] == "logs.jnlp4-not-offered"
    assert "JNLP4-connect" in root["title"] and "disabled" in root["title"]
    text = run_cli("logs", str(tmp_path / "agent.log")).stdout
    assert "follows from: logs.jnlp4-not-offered" in text
    # Without the line before it the summary stands alone, as before.
    alone = _logs_json(tmp_path, "java.lang.Exception: The server rejected the connection: None of the protocols are "
                                 "enabled\n", "alone.log")
    assert [f["id"] for f in alone["findings"]] == ["logs.protocols-rejected"] and alone["findings"][0]["caused_by"] is None


def test_rotated_gzip_log_is_read(tmp_path):
    plain = (LOGS / "connection-refused-agent-port.log").read_bytes()
    (tmp_path / "agent.log.1.gz").write_bytes(gzip.compress(plain))
    gz = run_cli("logs", "--json", str(tmp_path / "agent.log.1.gz"))
    ref = run_cli("logs", "--json", str(LOGS / "connection-refused-agent-port.log"))
    assert gz.code == ref.code == 2
    strip = [(f["id"], f["evidence"]["occurrences"]) for f in gz.json()["findings"]]
    assert strip == [(f["id"], f["evidence"]["occurrences"]) for f in ref.json()["findings"]]
    assert gz.json()["lines"] == ref.json()["lines"]
    # A rotation caught mid-write: what was read is matched, and the cut is a warning, not a pass.
    whole = gzip.compress(plain + b"x" * 200_000)
    (tmp_path / "cut.log.gz").write_bytes(whole[: len(whole) - 40])
    cut = run_cli("logs", "--json", str(tmp_path / "cut.log.gz"))
    ids = [f["id"] for f in cut.json()["findings"]]
    assert cut.code == 2 and "logs.connection-refused" in ids and any(i.startswith("logs.truncated") for i in ids)
    (tmp_path / "junk.gz").write_bytes(b"\x1f\x8b" + b"junk" * 10)
    junk = run_cli("logs", str(tmp_path / "junk.gz"))
    assert junk.code == 3 and len(junk.stderr.splitlines()) == 1 and "gzip" in junk.stderr


def test_binary_files_are_refused_and_nul_padded_logs_are_read(tmp_path):
    for binary in ("/usr/bin/ls", "/bin/sh"):
        r = run_cli("logs", binary)
        assert r.code == 3 and r.stdout == "" and len(r.stderr.splitlines()) == 1, r.stderr
        assert "a binary file (an executable or library), not a log" in r.stderr
    # logrotate copytruncate: the writer's offset stays, the start of the file reads as NUL bytes
    padded = tmp_path / "agent.log"
    padded.write_bytes(b"\0" * 5000 + (LOGS / "no-route-to-host.log").read_bytes())
    r = run_cli("logs", "--json", str(padded))
    assert r.code == 2 and r.json()["findings"][0]["id"] == "logs.no-route"


def test_matched_is_printed_as_text(tmp_path):
    r = run_cli("logs", str(LOGS / "jffi-glibc.log"))
    assert "matched:\n" in r.stdout and '["' not in r.stdout
    assert re.search(r"\n {10}jffi-glibc\.log:11: ", r.stdout)  # one quoted line per line


def test_timeout_reports_what_was_read(tmp_path):
    path = tmp_path / "big.log"
    noise = "Dec 06, 2026 12:00:00 PM hudson.remoting.Launcher$CuiListener status\nINFO: Connected\n"
    with open(path, "w") as fh:
        fh.write("java.net.ConnectException: Connection refused\n")
        for _ in range(40):
            fh.write(noise * 3000)
    r = run_cli("logs", "--json", "--timeout", "0.001", str(path))
    doc = r.json()
    ids = [f["id"] for f in doc["findings"]]
    assert r.code == 2 and doc["complete"] is False and "logs.timeout" in ids and "logs.none" not in ids
    assert "logs.connection-refused" in ids and doc["lines"] < 40 * 6000
    assert run_cli("logs", "--timeout", "0", str(path)).code == 3


# -- the prefilter ----------------------------------------------------------------------------------


def test_every_signature_is_covered_by_a_needle_and_cites_upstream():
    from jnlpdiag.logs import needles, required_literals, signatures

    raw = json.loads(DATA.read_text())
    for sig in signatures():
        lits = required_literals(sig.pattern.pattern)
        assert lits, f"{sig.id}: no literal text to prefilter by"
        for lit in lits:
            assert any(n in lit for n in needles()), f"{sig.id}: {lit!r} holds no needle; add one to 'needles'"
        assert "../" not in sig.source and "shared/research" not in sig.source, sig.id
    assert "shared/research" not in raw["_comment"]


@pytest.mark.parametrize("sig_id", [s["id"] for s in json.loads(DATA.read_text())["signatures"]])
def test_generated_matches_hold_a_needle(sig_id):
    """Any text a signature's pattern matches holds one of its literals, hence a needle."""
    from jnlpdiag.logs import has_needle, signatures

    sig = next(s for s in signatures() if s.id == sig_id)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.from_regex(sig.pattern, fullmatch=True, alphabet=st.characters(codec="ascii", exclude_characters="\n")))
    def check(text: str) -> None:
        assert has_needle(text), (sig_id, text)

    check()


_EXCERPTS = sorted(LOGS.glob("*.log"))
_NOISE = ["Dec 06, 2026 12:00:00 PM hudson.remoting.Launcher$CuiListener status", "INFO: Connected",
          "\tat hudson.remoting.Engine.run(Engine.java:1)", "java.io.IOException: Connection refused", "",
          "Caused by: java.net.ConnectException: Connection refused", "    ... 3 more", "[Pipeline] sh"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_EXCERPTS), min_size=1, max_size=4), st.integers(0, 2**32 - 1),
       st.integers(30, 5000))
def test_block_reader_agrees_with_the_line_reader(excerpts, seed, block):
    """The needle prefilter skips lines; it must never change a finding (ids, counts, quotes)."""
    from jnlpdiag.logs import Scanner, analyze_lines

    rnd = random.Random(seed)
    lines: list[str] = []
    for path in excerpts:
        lines += [rnd.choice(_NOISE) for _ in range(rnd.randint(0, 30))]
        lines += path.read_text(errors="replace").splitlines()
    data = ("\n".join(lines) + "\n").encode()
    by_lines = analyze_lines([("a.log", n, t) for n, t in enumerate(lines, 1)], ["a.log"])
    scanner = Scanner(["a.log"])
    number = 1
    while data:  # arbitrary block sizes, cut at line ends as the reader does
        cut = data.rfind(b"\n", 0, block) + 1 or data.find(b"\n") + 1 or len(data)
        number += scanner.block("a.log", data[:cut], number)
        data = data[cut:]
    by_blocks = scanner.finish()
    assert by_blocks.lines == by_lines.lines == len(lines)
    assert [f.to_dict() for f in by_blocks.findings] == [f.to_dict() for f in by_lines.findings]
