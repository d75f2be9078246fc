"""Issue 16 §3: the human listings of ``jnlpdiag logs`` and ``jnlpdiag analyze`` fit 80 columns, on the
repository's real inputs (the logs behind the signatures, the captures behind the analyser): titles,
details, evidence and commands wrapped at spaces as in the text format, never inside a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.peers.util import run_cli

ROOT = Path(__file__).resolve().parents[2]
LOGS = sorted(p for p in (ROOT / "tests" / "reports" / "logs").iterdir() if p.suffix in (".log", ".gz"))
CAPTURES = sorted(p for p in (ROOT / "captures").iterdir() if p.suffix in (".pcap", ".pcapng"))


def overlong(text: str) -> list[str]:
    """Lines over 80 columns, except one word that fits no line: alone (after at most a label such
    as ``see`` or ``$``) on a line of its own, and longer than the room after the line's indent."""
    bad = []
    for line in text.splitlines():
        if len(line) <= 80:
            continue
        head, _, word = line.rstrip().rpartition(" ")
        indent = len(line) - len(line.lstrip(" "))
        if len(head.split()) > 1 or indent + len(word) <= 80:
            bad.append(line)
    return bad


def test_the_inputs_are_there():
    assert len(LOGS) >= 10 and len(CAPTURES) >= 5


def test_logs_listing_fits_80_columns():
    res = run_cli("logs", *map(str, LOGS))
    assert res.code in (0, 1, 2), res.stderr
    assert "Problems:" in res.stdout and "$ " in res.stdout  # findings with commands were rendered
    assert overlong(res.stdout) == []
    for path in LOGS:  # one file at a time: its own header and findings
        res = run_cli("logs", str(path))
        assert overlong(res.stdout) == [], path.name


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_analyze_listing_fits_80_columns(capture):
    res = run_cli("analyze", str(capture))
    assert res.stdout.startswith(capture.name), res.stderr
    assert overlong(res.stdout) == []


def test_a_long_command_wraps_only_at_spaces():
    from jnlpdiag.findings import Finding, Fix, Layer, Status
    from jnlpdiag.output.findingtext import render_findings

    command = "keytool -importkeystore -srckeystore agent.p12 -srcstoretype PKCS12 " + "-destkeystore " + "x" * 90
    f = Finding(id="t.one", probe="t", layer=Layer.HOST, status=Status.FAIL, title="A title " * 20,
                fixes=[Fix("Fix it", steps=(command,))])
    text = render_findings([f], ["header"])
    assert overlong(text) == []
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("$ keytool"))
    words = " ".join(line.strip() for line in lines[start:start + 3]).removeprefix("$ ").split()
    assert words[:len(command.split())] == command.split()  # every token whole, in order
