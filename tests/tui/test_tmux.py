"""The installed `jnlpdiag`, started in tmux at 80x24 without colour, driven by keys and read back with
capture-pane, as a person over SSH (or in `kubectl exec`) would use it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jnlpdiag.registry import load_probes
from jnlpdiag.run_report import Report
from tests.peers.util import clean_env

TMUX = shutil.which("tmux")


def installed_jnlpdiag() -> str:
    beside = Path(sys.executable).parent / "jnlpdiag"
    found = str(beside) if beside.exists() else shutil.which("jnlpdiag")
    if not found:
        pytest.skip("the jnlpdiag console script is not installed (pip install -e .)")
    return found


class Tmux:
    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.args = [TMUX or "tmux", "-L", name]
        self.env = env

    def run(self, *args: str) -> str:
        return subprocess.run([*self.args, *args], env=self.env, capture_output=True, text=True, timeout=10,
                              check=True).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "s")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "s", *keys)

    def wait(self, condition, timeout: float = 45.0, what: str = "screen") -> str:
        end = time.monotonic() + timeout
        text = ""
        while time.monotonic() < end:
            text = self.screen()
            if condition(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; the screen was:\n{text}")

    def kill(self) -> None:
        subprocess.run([*self.args, "kill-server"], env=self.env, capture_output=True, timeout=10)


def root_panel(lines: list[str]) -> list[str]:
    """The text inside the "Root cause" box, without its borders."""
    top = next(i for i, line in enumerate(lines) if "Root cause" in line)
    bottom = next(i for i in range(top + 1, len(lines)) if lines[i].startswith("╰"))
    return [line.strip().strip("│").strip() for line in lines[top + 1:bottom]]


def run_finished(text: str) -> bool:
    first = text.splitlines()[0] if text.strip() else ""
    return " probes" in first and "RUNNING" not in first and "NOT RUN" not in first


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install tmux)")
def test_over_ssh_in_tmux_80x24_no_colour(jenkins, tmp_path):
    exe = installed_jnlpdiag()
    env = clean_env(NO_COLOR="1", TERM="xterm-256color", JAVA_OPTS="-Djdk.tls.client.protocols=TLSv1.2",
                    HOME=str(tmp_path))
    exports = tmp_path / "exports"
    exports.mkdir()
    exit_file = tmp_path / "exit"
    # The bare command, as a newcomer types it: it opens the UI because stdin and stdout are a terminal.
    command = (f"{exe} --url {jenkins.tls13_url} --ca-file {jenkins.ca_file} --timeout 8 --from-process none "
               f"--export-dir {exports}; echo $? > {exit_file}; sleep 60")
    tmux = Tmux(f"jnlpdiag-test-{time.monotonic_ns()}", env)
    try:
        tmux.run("new-session", "-d", "-s", "s", "-x", "80", "-y", "24", command)
        text = tmux.wait(run_finished, what="the run to finish")
        time.sleep(0.3)  # the frame after the verdict: the root cause selected
        text = tmux.screen()
        lines = text.splitlines()
        assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
        assert any("Root cause" in line for line in lines[:3]), text  # the heading is at the top
        # the checks, scrolled so that the failing check's layer and row are in view
        assert "Checks by layer" in text and "✗ FAIL" in text.split("Checks by layer")[1], text
        assert any(word in text for word in ("✓ PASS", "✗ FAIL", "- SKIP", "! WARN"))  # words, not colour
        assert "x Export" in lines[-1] and "q Quit" in lines[-1]
        if any(p.id == "tls.java" for p in load_probes()[0]):
            assert "-Djdk.tls.client.protocols" in text, text  # the exact flag, visible without scrolling
        tmux.keys("x")
        text = tmux.wait(lambda t: "Report written to" in t, what="the export message")
        written = list(exports.iterdir())
        assert len(written) == 1
        report_file = written[0] / "report.json" if written[0].is_dir() else written[0]
        report = json.loads(report_file.read_text())
        assert report["schema"] == "jnlpdiag.report/1"
        # With no key pressed before, the first root cause's title and its first fix command were whole
        # on the 80x24 screen, each command word unbroken on one line.
        first = Report.from_dict(report).root_causes()[0]
        first_screen = "\n".join(lines)
        tree = first_screen.split("Checks by layer")[1]
        assert f"{first.layer.value.upper()}  ✗ FAIL" in tree and f"✗ FAIL  {first.probe} " in tree, first_screen
        panel = root_panel(lines)
        joined = " ".join(" ".join(panel).split())
        assert " ".join(first.title.split()) in joined, text
        command = next(step for fix in first.fixes for step in fix.commands)
        assert " ".join(command.split()) in joined, text
        assert all(any(word in line for line in panel) for word in command.split()), text
        tmux.keys("q")
        end = time.monotonic() + 20
        while not (exit_file.exists() and exit_file.read_text().strip()) and time.monotonic() < end:
            time.sleep(0.1)
        assert int(exit_file.read_text()) == report["exit_code"]
        text = tmux.screen()
        assert "jnlpdiag:" in text and "report written to" in text  # the summary left in the terminal
    finally:
        tmux.kill()


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install tmux)")
def test_demo_in_tmux_is_labelled_and_cleans_up_when_the_session_drops(tmp_path):
    exe = installed_jnlpdiag()
    env = clean_env(TERM="xterm-256color", TMPDIR=str(tmp_path), HOME=str(tmp_path))
    tmux = Tmux(f"jnlpdiag-demo-{time.monotonic_ns()}", env)
    try:
        tmux.run("new-session", "-d", "-s", "s", "-x", "80", "-y", "24", f"{exe} demo --timeout 8")
        text = tmux.wait(lambda t: t.startswith(" DEMO ") and run_finished(t), what="the demo run")
        assert "DEMO" in text.splitlines()[0]
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith("jnlpdiag-demo-")]
    finally:
        tmux.kill()  # SIGHUP, as when an SSH session drops
    end = time.monotonic() + 10
    while any(p.name.startswith("jnlpdiag-demo-") for p in tmp_path.iterdir()) and time.monotonic() < end:
        time.sleep(0.1)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("jnlpdiag-demo-")]
