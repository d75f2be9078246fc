"""Peer text never reaches a terminal raw: a controller puts OSC/BEL/CSI, a C1 CSI and U+202E into
every field the tool shows (X-Jenkins, X-Jenkins-JNLP-Host, the JNLP4 refusal, the certificate
subject on the agent port and on HTTPS, a redirect Location); each format the tool prints is read
byte by byte. JSON keeps the exact value (escaped by JSON itself)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jnlpdiag.escape import UNSAFE
from tests.hostile.evil_controller import EVIL, EvilController
from tests.peers.util import clean_env, run_cli

FORMATS = ("text", "json", "markdown", "junit", "prometheus")


def raw_controls(data: str) -> list[str]:
    """Characters a terminal would act on (layout \\n and \\t aside)."""
    return sorted({repr(c) for c in UNSAFE.findall(data)})


def _check(url: str, fmt: str, tmp: Path, *extra: str):
    secret = tmp / "secret"
    secret.write_text("0" * 64)
    (tmp / "t").mkdir(exist_ok=True)
    return run_cli("check", "--url", url, "--name", "agent-1", "--secret-file", str(secret), "--auth-check",
                   "--timeout", "2", "--from-process", "none", "--format", fmt, *extra,
                   env=clean_env(TMPDIR=str(tmp / "t")), timeout=60)


@pytest.fixture(scope="module")
def plain_controller(tmp_path_factory):
    with EvilController(tmp_path_factory.mktemp("evil")) as c:
        yield c


@pytest.fixture(scope="module")
def https_controller(tmp_path_factory):
    with EvilController(tmp_path_factory.mktemp("evil-https"), https=True, advertise_host=True) as c:
        yield c


@pytest.mark.parametrize("fmt", FORMATS)
def test_refusal_version_location_and_agent_port_certificate(plain_controller, fmt, tmp_path):
    res = _check(plain_controller.url, fmt, tmp_path, "--skip", "host.*", "--skip", "tls.java")
    assert res.code == 2, res.stderr[-2000:]
    assert raw_controls(res.stdout) == [] and raw_controls(res.stderr) == [], fmt
    if fmt == "json":
        doc = res.json()
        refusal = res.finding("jnlp4.handshake")["evidence"]["refusal"]
        assert refusal == f"Unknown client name{EVIL}"  # the exact value: data, escaped by JSON
        subject = res.finding("jnlp4.handshake")["evidence"]["identity"]["subject"]
        assert "PWNED-TITLE\x07" in subject
        assert "PWNED-TITLE\x07" in res.finding("websocket.login")["evidence"]["location"]
        assert doc["findings"]
    elif fmt != "prometheus":  # Prometheus carries ids and statuses only
        assert "\\x1b]0;PWNED-TITLE\\x07" in res.stdout or "\\\\x1b]0;PWNED-TITLE" in res.stdout


@pytest.mark.parametrize("fmt", FORMATS)
def test_https_certificate_subject_and_agent_host(https_controller, fmt, tmp_path):
    res = _check(https_controller.url, fmt, tmp_path, "--probe", "discovery", "--probe", "tcp",
                 "--probe", "tls.certificate")
    assert res.code in (2, 3), res.stderr[-2000:]
    assert raw_controls(res.stdout) == [] and raw_controls(res.stderr) == [], fmt
    if fmt == "json":
        assert res.finding("tcp.agent_port")["status"] == "fail"  # a name DNS cannot carry: not a crash
        assert not [f for f in res.json()["findings"] if f["status"] == "error"]
        assert "PWNED-TITLE\x07" in res.finding("tls.certificate")["title"]
    elif fmt == "text":
        assert "Cannot resolve agents\\x1b]0;PWNED-TITLE\\x07" in " ".join(res.stdout.split())  # wrapped at 80


def test_report_bundle_show_and_logs(plain_controller, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("0" * 64)
    env = clean_env(TMPDIR=str(tmp_path))
    out = tmp_path / "bundle"
    res = run_cli("report", "--url", plain_controller.url, "--name", "agent-1", "--secret-file", str(secret),
                  "--auth-check", "--timeout", "2", "--from-process", "none", "--skip", "host.*", "--skip", "tls.java",
                  "--out", str(out), env=env, timeout=60)
    assert res.code == 2, res.stderr[-2000:]
    assert raw_controls(res.stdout + res.stderr) == []
    for name in ("summary.md", "report.html"):
        assert raw_controls((out / name).read_text(encoding="utf-8").replace("\n", "")) == [], name
    saved = {f["id"]: f for f in json.loads((out / "report.json").read_text())["findings"]}
    assert saved["jnlp4.handshake"]["evidence"]["refusal"] == f"Unknown client name{EVIL}"  # exact in JSON
    shown = run_cli("show", str(out / "report.json"), env=env)
    assert raw_controls(shown.stdout + shown.stderr) == [] and "PWNED-TITLE" in shown.stdout

    log = tmp_path / "agent.log"
    log.write_bytes(f"SEVERE: The controller has no node named {EVIL}\njava.net.UnknownHostException: h{EVIL}\n"
                    .encode())
    logs = run_cli("logs", str(log), env=env)
    assert raw_controls(logs.stdout + logs.stderr) == [], logs.stdout


def test_an_error_message_quoting_outside_text_is_escaped(tmp_path):
    """No renderer sees a usage error naming a hostile file: the CLI's guarded stderr still escapes it."""
    name = tmp_path / f"targets{EVIL.replace('/', '')}"
    res = run_cli("check", "--targets", str(name), env=clean_env(TMPDIR=str(tmp_path)))
    assert res.code == 3 and "PWNED" in res.stderr
    assert raw_controls(res.stdout + res.stderr) == []
