"""A peer that echoes the agent secret back in any form gets none of it printed: upper case, hex of
its bytes, either half, any 16-character run, base64 and base64url (of the text and of the bytes it
spells), URL-encoded. Every output route: ``check`` in every format, ``report`` (every bundle file
and the zip), the TUI's export, ``show``."""

from __future__ import annotations

import datetime as dt
import io
import json
import secrets
import zipfile
from pathlib import Path

import pytest

from jnlpdiag.findings import Finding, Fix, Layer, Status
from jnlpdiag.redact import Redactor
from jnlpdiag.run_report import Report
from tests.hostile.evil_controller import ReflectingController, reflected_forms
from tests.peers.util import clean_env, run_cli

SECRET = secrets.token_hex(32)
FORMS = reflected_forms(SECRET)
FORMATS = ("text", "json", "markdown", "junit", "prometheus")


def leaks(text: str) -> list[str]:
    low = text.lower()
    found = [name for name, form in FORMS.items() if (form[2:] if form[:2] in ("0x", "0X") else form).lower() in low]
    return found + (["secret"] if SECRET in low else [])


def files_leaks(paths: list[Path]) -> dict[str, list[str]]:
    out = {}
    for path in paths:
        data = path.read_bytes()
        texts = {path.name: data.decode("latin-1")}
        if path.suffix == ".zip":
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                texts.update({f"{path.name}!{n}": zf.read(n).decode("latin-1") for n in zf.namelist()})
        out.update({name: hit for name, text in texts.items() if (hit := leaks(text))})
    return out


@pytest.fixture(scope="module")
def controller():
    with ReflectingController() as c:
        yield c


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret"
    path.write_text(SECRET)
    return path


def _args(controller, secret_file):
    return ("--url", controller.url, "--name", "agent-1", "--secret-file", str(secret_file), "--auth-check",
            "--timeout", "2", "--from-process", "none", "--skip", "host.*", "--skip", "tls.java")


@pytest.mark.parametrize("fmt", FORMATS)
def test_check_in_every_format(controller, secret_file, tmp_path, fmt):
    res = run_cli("check", *_args(controller, secret_file), "--format", fmt, env=clean_env(TMPDIR=str(tmp_path)))
    assert res.code == 2, res.stderr[-2000:]
    assert leaks(res.stdout) == [] and leaks(res.stderr) == [], fmt
    if fmt == "json":  # the peer did reflect every form: what reached us is the refusal, redacted
        refusal = res.finding("jnlp4.handshake")["evidence"]["refusal"]
        assert refusal.startswith("secret rejected: upper=<redacted> hex=0x<redacted>"), refusal
        assert "first-half=<redacted> second-half=<redacted>" in refusal


def test_report_bundle_and_zip(controller, secret_file, tmp_path):
    out = tmp_path / "bundle"
    (tmp_path / "t").mkdir()
    res = run_cli("report", *_args(controller, secret_file), "--out", str(out), "--zip",
                  env=clean_env(TMPDIR=str(tmp_path / "t")))
    assert res.code == 2, res.stderr[-2000:]
    assert leaks(res.stdout + res.stderr) == []
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "secret"]
    assert {p.name for p in files} >= {"report.json", "summary.md", "report.html", "manifest.json"}
    assert any(p.suffix == ".zip" for p in files)
    assert files_leaks(files) == {}
    shown = run_cli("show", "--redact", SECRET, str(out / "report.json"), env=clean_env(TMPDIR=str(tmp_path)))
    assert "secret rejected" in shown.stdout and leaks(shown.stdout + shown.stderr) == []


def _reflected_report() -> Report:
    text = " ".join(f"{k}={v}" for k, v in FORMS.items())
    finding = Finding("jnlp4.handshake", "jnlp4.handshake", Layer.PROTOCOL, Status.FAIL,
                      f"The controller refuses agent agent-1: secret rejected: {text}", detail=text,
                      evidence={"refusal": text, "forms": dict(FORMS)}, fixes=[Fix(f"refused: {text}", (text,))])
    return Report(findings=[finding], settings={"url": {"value": "http://127.0.0.1:1/", "origin": "flag"}},
                  started_at="2026-01-01T00:00:00+00:00", duration_ms=1.0)


def test_tui_export_of_a_reflecting_run(tmp_path):
    from jnlpdiag.tui.export import export_report

    path = export_report(_reflected_report(), Redactor([SECRET]), tmp_path,
                         now=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))  # noqa: UP017 - Python 3.9
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert path.exists() and files
    assert files_leaks(files) == {}


def test_show_of_a_report_file_holding_every_form(tmp_path):
    """A saved report that holds the forms (written by an older tool, or by hand): ``show`` with the
    secret to redact prints none of them."""
    path = tmp_path / "report.json"
    path.write_text(json.dumps(_reflected_report().to_dict()))
    res = run_cli("show", "--redact", SECRET, str(path), env=clean_env(TMPDIR=str(tmp_path)))
    assert res.code == 2, res.stderr
    assert "secret rejected" in res.stdout and leaks(res.stdout + res.stderr) == []
