"""Machine outputs of ``check --format``: JUnit validated against the XSD Jenkins' xUnit plugin uses,
Prometheus text parsed by prometheus_client, Markdown; the bundle's HTML opened in headless Chromium."""

from __future__ import annotations

import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from jnlpdiag.findings import Finding, Fix, Layer, Status
from jnlpdiag.run_report import Report
from tests.peers.controller import identity_b64, jenkins_server
from tests.peers.nginx import Nginx
from tests.peers.util import free_port, run_cli

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def controller():
    port = free_port()
    with Nginx(jenkins_server(port, free_port(), identity_b64()), [port]):
        yield f"http://127.0.0.1:{port}/"


def every_status_report() -> Report:
    fix = Fix("Do the thing", ("echo 'a' | grep \"b\" && x < y",), ("https://example.test/doc",))
    findings = [
        Finding("a.pass", "a", Layer.HOST, Status.PASS, "All good", evidence={"k": 1}, duration_ms=3.25),
        Finding("a.skip", "a", Layer.NETWORK, Status.SKIP, "Skipped: no port", caused_by="b.fail"),
        Finding("b.warn", "b", Layer.PROTOCOL, Status.WARN, "Careful <tag> & \"quotes\"", fixes=[fix]),
        Finding("b.fail", "b", Layer.NETWORK, Status.FAIL, "Broken | pipe", detail="line1\nline2\x00\x07",
                evidence={"raw": "bytes \x01 here", "list": [1, "two"]}, fixes=[fix]),
        Finding("c.error", "c", Layer.COMPATIBILITY, Status.ERROR, "Probe c broke: ValueError", detail="tb"),
    ]
    return Report(findings=findings, settings={"url": {"value": "http://127.0.0.1:1/", "origin": "flag --url"}},
                  started_at="2026-03-04T05:06:07+00:00", duration_ms=1234.5,
                  host={"name": "h", "os": "Linux", "kernel": "6", "machine": "x86_64"})


def _schema():
    import xmlschema

    return xmlschema.XMLSchema(str(HERE / "junit-10.xsd"))


def test_junit_every_status_validates_against_jenkins_xsd():
    from jnlpdiag.output import junit

    xml = junit.render(every_status_report())
    _schema().validate(xml)
    root = ET.fromstring(xml)
    assert root.tag == "testsuites" and root.get("tests") == "5" and root.get("failures") == "2"
    cases = {c.get("name").split(":")[0]: c for c in root.iter("testcase")}
    assert cases["b.fail"].find("failure").get("message") == "Do the thing"
    assert cases["b.fail"].find("failure").get("type") == "fail"
    assert cases["b.warn"].find("failure").get("type") == "warning"
    assert cases["c.error"].find("error") is not None
    assert cases["a.skip"].find("skipped") is not None
    assert cases["a.pass"].get("time") == "0.003"
    assert "$ echo 'a' | grep \"b\" && x < y" in cases["b.fail"].find("failure").text


def test_junit_of_a_real_run_validates(controller):
    res = run_cli("check", "--format", "junit", "--url", controller, "--timeout", "2", "--from-process", "none")
    assert res.code in (0, 1, 2, 3), res.stderr
    _schema().validate(res.stdout)
    root = ET.fromstring(res.stdout)
    names = [c.get("name") for c in root.iter("testcase")]
    assert any(n.startswith("discovery") for n in names)


def test_prometheus_parses_with_prometheus_client(controller):
    from prometheus_client.parser import text_string_to_metric_families

    from jnlpdiag.output import prometheus

    text = prometheus.render(every_status_report())
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(families) >= {"jnlpdiag_info", "jnlpdiag_finding_status", "jnlpdiag_findings", "jnlpdiag_exit_code",
                             "jnlpdiag_run_duration_seconds", "jnlpdiag_last_run_timestamp_seconds"}
    states = [s for s in families["jnlpdiag_finding_status"].samples if s.labels["finding"] == "b.warn"]
    assert {s.labels["status"]: s.value for s in states} == {"pass": 0, "skip": 0, "warn": 1, "fail": 0, "error": 0}
    assert families["jnlpdiag_exit_code"].samples[0].value == 3
    assert families["jnlpdiag_run_duration_seconds"].samples[0].value == pytest.approx(1.2345, abs=0.001)
    assert families["jnlpdiag_last_run_timestamp_seconds"].samples[0].value == 1772600767
    counts = {s.labels["status"]: s.value for s in families["jnlpdiag_findings"].samples}
    assert counts == {"pass": 1, "skip": 1, "warn": 1, "fail": 1, "error": 1}
    # And the CLI output of a real run parses the same way.
    res = run_cli("check", "--format", "prometheus", "--url", controller, "--timeout", "2", "--from-process", "none")
    names = {f.name for f in text_string_to_metric_families(res.stdout)}
    assert "jnlpdiag_finding_status" in names


def test_markdown_root_cause_first_and_tables_intact():
    from jnlpdiag.output import markdown

    md = markdown.render(every_status_report())
    assert md.index("## Root cause") < md.index("## What else was found") < md.index("## Evidence")
    assert md.index("Broken | pipe") < md.index("## What else was found")
    assert md.index("Careful <tag>") > md.index("## What else was found")  # the warning
    summary = [ln for ln in md.splitlines() if ln.startswith("<summary>") and "(b.fail)" in ln][0]
    assert "Broken \\| pipe" in summary  # the pipe in the title is escaped where it could end a cell
    table = [ln for ln in md.splitlines() if ln.startswith("| url |")][0]
    assert table.count(" | ") == 2
    assert "```sh\necho 'a' | grep \"b\" && x < y\n```" in md


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian chromium is not installed (apt-get install chromium)")
def test_html_opens_in_headless_chromium(tmp_path):
    from jnlpdiag.bundle import write_bundle
    from jnlpdiag.redact import Redactor

    out = write_bundle(every_status_report(), tmp_path / "b", Redactor())
    html = (out / "report.html").read_text()
    # Self-contained: nothing is fetched (no src/link/import/url()), and the CSP forbids it anyway.
    for needle in ("<script", "<link", "@import", "url(", " src="):
        assert needle not in html
    assert "default-src 'none'" in html
    shot = tmp_path / "report.png"
    common = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--user-data-dir=" + str(tmp_path / "profile")]
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1200,1600", (out / "report.html").as_uri()],
                   capture_output=True, timeout=120, check=True)
    width, height = _png_size(shot)
    assert (width, height) == (1200, 1600)
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    dom = subprocess.run([*common, "--dump-dom", (out / "report.html").as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert "Broken | pipe" in dom and "Root cause" in dom and "Careful &lt;tag&gt;" in dom
    keep = Path("/tmp/jnlpdiag-report-screenshot.png")
    shutil.copy(shot, keep)  # for a person to look at after the run
