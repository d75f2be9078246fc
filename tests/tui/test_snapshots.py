"""Snapshot tests of the main screens (pytest-textual-snapshot) at 80x24 and 120x40.

Deterministic by construction: the data is a fixed report opened as `jnlpdiag show` does (no clock,
no ports, no spinner), or a live app that has not started a run. Update after an intended change
with `pytest tests/tui/test_snapshots.py --snapshot-update` and review the SVGs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jnlpdiag.redact import Redactor
from jnlpdiag.settings import Secret, Settings
from jnlpdiag.tui.app import JnlpdiagApp
from jnlpdiag.tui.loading import load_report
from jnlpdiag.tui.state import sanitized_report

REPORT = Path(__file__).parent / "data" / "report-tls13.json"


def shown() -> JnlpdiagApp:
    report, file = load_report(REPORT)
    return JnlpdiagApp(report=sanitized_report(report, Redactor()), source=file.name)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_main_screen(snap_compare, size):
    assert snap_compare(shown(), terminal_size=size)


def test_root_cause_unfolded_80x24(snap_compare):
    assert snap_compare(shown(), press=["enter"], terminal_size=(80, 24))


def test_settings_in_use_80x24(snap_compare):
    assert snap_compare(shown(), press=["s"], terminal_size=(80, 24))


def test_passed_hidden_and_evidence_120x40(snap_compare):
    assert snap_compare(shown(), press=["p", "tab", "down", "down"],
                        terminal_size=(120, 40))


def test_copy_dialog_80x24(snap_compare):
    assert snap_compare(shown(), press=["c"], terminal_size=(80, 24))


def test_no_color_80x24(snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(shown(), terminal_size=(80, 24))


def test_edit_settings_form_80x24(snap_compare):
    settings = Settings(url="https://jenkins.example.com/", name="build-agent-1", secret=Secret("s3cr3t-value"),
                        tunnel="jenkins-agents.example.com:50000", websocket=False, ca_file="/etc/ssl/corp-ca.pem")
    settings.origins = {"url": "env JENKINS_URL", "name": "env JENKINS_AGENT_NAME", "secret": "env JENKINS_SECRET",
                        "tunnel": "env JENKINS_TUNNEL", "ca_file": "flag --ca-file"}
    app = JnlpdiagApp(probes=[], settings=settings, autostart=False)
    assert snap_compare(app, press=["e"], terminal_size=(80, 24))
