"""Textual is never imported on the headless paths (check, the bare command without a terminal)."""

from __future__ import annotations

import subprocess
import sys

from tests.peers.util import clean_env

PROBE = """
import sys
from jnlpdiag.cli import main
code = main({argv!r})
assert not [m for m in sys.modules if m == "textual" or m.startswith("textual.")], "textual was imported"
print("OK", code)
"""


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True,
                          env=clean_env(), timeout=120, stdin=subprocess.DEVNULL)


def test_check_does_not_import_textual():
    r = run(["check", "--url", "http://127.0.0.1:9/", "--timeout", "1", "--from-process", "none",
             "--probe", "agent.options"])
    assert "OK" in r.stdout, r.stdout + r.stderr


def test_bare_command_without_a_terminal_prints_text_and_does_not_import_textual():
    r = run(["--url", "http://127.0.0.1:9/", "--timeout", "1", "--from-process", "none", "--probe", "agent.options"])
    assert "OK" in r.stdout and "jnlpdiag 0.1.0" in r.stdout, r.stdout + r.stderr


def test_tui_and_show_fall_back_to_text_without_a_terminal(tmp_path):
    r = run(["tui", "--url", "http://127.0.0.1:9/", "--timeout", "1", "--from-process", "none",
             "--probe", "agent.options"])
    assert "OK" in r.stdout and "no terminal for the UI" in r.stderr, r.stdout + r.stderr
