"""Snapshot tests of the screens (pytest-textual-snapshot) at 80x24, the terminal people SSH in with,
and at 120x40, where the detail and the settings sit beside the checks.

Deterministic by construction: `show` opens a fixed report; the live and demo screens run probes that
replay a fixed report through the real Runner (tests/tui/replay.py), with durations pinned before the
picture. Update after an intended change with `pytest tests/tui/test_snapshots.py --snapshot-update`
and review the SVGs.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jnlpdiag.redact import Redactor
from jnlpdiag.settings import Secret, Settings
from jnlpdiag.tui.app import JnlpdiagApp
from jnlpdiag.tui.loading import load_report
from jnlpdiag.tui.state import sanitized_report
from tests.tui.replay import pin_durations, replay_probes

DATA = Path(__file__).parent / "data"
REPORT = DATA / "report-tls13.json"
SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


def shown(name: str = "report-tls13.json") -> JnlpdiagApp:
    report, file = load_report(DATA / name)
    return JnlpdiagApp.show(sanitized_report(report, Redactor()), file.name)


def target_settings(url: str = "https://jenkins.example.com/") -> Settings:
    settings = Settings(url=url, name="build-agent-1", secret=Secret("s3cr3t-value"),
                        java_opts="-Djdk.tls.client.protocols=TLSv1.2")
    settings.origins = {"url": "env JENKINS_URL", "name": "env JENKINS_AGENT_NAME", "secret": "env JENKINS_SECRET",
                        "java_opts": "env JAVA_OPTS"}
    return settings


def live(name: str) -> JnlpdiagApp:
    return JnlpdiagApp.live(replay_probes(name), target_settings())


def demo() -> JnlpdiagApp:
    return JnlpdiagApp.demo(replay_probes("report-several.json"), target_settings("https://127.0.0.1:8443/"),
                            "loopback demo endpoints, not a real Jenkins")


async def after_the_run(pilot) -> None:
    """Wait for the run to finish (bounded), without pressing any key, then pin durations."""
    app = pilot.app
    end = time.monotonic() + 15
    while not (app.model.runs and not app.model.running) and time.monotonic() < end:
        await pilot.pause(0.05)
    assert app.model.runs, "the run did not finish"
    pin_durations(app.main)
    await pilot.pause(0.2)


@SIZES
def test_live_run_one_root_cause(snap_compare, size):
    assert snap_compare(live("report-tls13.json"), terminal_size=size, run_before=after_the_run)


@SIZES
def test_live_run_several_root_causes(snap_compare, size):
    assert snap_compare(live("report-several.json"), terminal_size=size, run_before=after_the_run)


@SIZES
def test_show(snap_compare, size):
    assert snap_compare(shown(), terminal_size=size)


@SIZES
def test_demo(snap_compare, size):
    assert snap_compare(demo(), terminal_size=size, run_before=after_the_run)


def test_detail_opened_80x24(snap_compare):
    assert snap_compare(shown(), press=["enter"], terminal_size=(80, 24))


def test_root_cause_unfolded_80x24(snap_compare):
    assert snap_compare(shown(), press=["tab", "enter"], terminal_size=(80, 24))


def test_help_80x24(snap_compare):
    assert snap_compare(shown(), press=["question_mark"], terminal_size=(80, 24))


def test_settings_in_use_80x24(snap_compare):
    assert snap_compare(shown(), press=["s"], terminal_size=(80, 24))


def test_passed_hidden_and_evidence_120x40(snap_compare):
    assert snap_compare(shown(), press=["p", "down"], terminal_size=(120, 40))


def test_copy_dialog_80x24(snap_compare):
    assert snap_compare(shown(), press=["c"], terminal_size=(80, 24))


def test_no_color_80x24(snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(shown("report-several.json"), terminal_size=(80, 24))


def test_edit_settings_form_80x24(snap_compare):
    settings = Settings(url="https://jenkins.example.com/", name="build-agent-1", secret=Secret("s3cr3t-value"),
                        tunnel="jenkins-agents.example.com:50000", websocket=False, ca_file="/etc/ssl/corp-ca.pem")
    settings.origins = {"url": "env JENKINS_URL", "name": "env JENKINS_AGENT_NAME", "secret": "env JENKINS_SECRET",
                        "tunnel": "env JENKINS_TUNNEL", "ca_file": "flag --ca-file"}
    app = JnlpdiagApp.live([], settings, autostart=False)
    assert snap_compare(app, press=["e"], terminal_size=(80, 24))
