"""The report as a support engineer reads it (issue: "a report a support engineer reads in ten seconds").

The Markdown and HTML put the verdict, the root cause in one sentence and its fix commands first,
then what else was found, what was checked, the settings, and last the evidence (collapsed in HTML).
The HTML is opened in headless Chromium at desktop and phone widths; assertions read the rendered
DOM (what is above the fold, what is collapsed, what prints). Screenshots are kept for a person.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
from pathlib import Path

import pytest
import trustme

from jnlpdiag.bundle import html
from jnlpdiag.findings import Finding
from jnlpdiag.output import markdown, text
from jnlpdiag.run_report import Report
from jnlpdiag.tls import certs
from jnlpdiag.tui.loading import load_report

DATA = Path(__file__).resolve().parents[1] / "tui" / "data"
SHOTS = Path("/tmp/jnlpdiag-report-views")


def real_chain() -> list[dict]:
    """A leaf and its CA as tls.certificate describes them (certs.describe), from trustme."""
    from cryptography import x509

    ca = trustme.CA()
    leaf = ca.issue_cert("jenkins.example.com", "10.0.0.5")
    pems = [leaf.cert_chain_pems[0].bytes(), ca.cert_pem.bytes()]
    return [certs.describe(x509.load_pem_x509_certificate(p)) for p in pems]


def sample_report(name: str = "report-several.json") -> Report:
    report, _ = load_report(DATA / name)
    for f in report.findings:
        if f.id == "tls.versions":
            f.evidence = {**f.evidence, "chain": real_chain(), "verified_ca_file": None, "days_left": 29,
                          "handshake_ms": 1234.5, "session": {"resumed": False, "ticket": None}}
    return report


def fold_sections(md: str) -> list[str]:
    return re.findall(r"^## (.+)$", md, flags=re.M)


# -- Markdown ------------------------------------------------------------------------------------

def test_markdown_reads_verdict_cause_fix_then_the_rest():
    md = markdown.render(sample_report())
    assert md.startswith("# ✗ **FAIL** jnlpdiag: https://jenkins.example.com/")
    assert fold_sections(md) == ["Root causes", "What else was found", "What was checked",
                                 "Settings and where each came from", "Evidence"]
    first = md.index("/tmp is mounted noexec")
    assert first < md.index("mkdir -p /home/jenkins/tmp") < md.index("## What else was found")
    # what a root cause leads to is folded under it, once, with the one wording
    also = md.split("## What else was found")[1].split("## What was checked")[0]
    assert "controller accepts only TLS 1.3 leads to:" in also and "(`jnlp4.ping`)" in also
    assert "then:" not in md and "Consequences" not in md
    # a consequence is not listed again as passed or checked
    checked = md.split("## What was checked")[1].split("## Settings")[0]
    assert "jnlp4.handshake" not in checked and "tls.versions" in checked


def test_markdown_evidence_is_for_a_person():
    md = markdown.render(sample_report())
    evidence = md.split("## Evidence")[1]
    assert evidence.count("<details>") == len(sample_report().findings)
    assert "null" not in md and "None" not in md  # keys whose value is null are left out
    assert "verified_ca_file" not in md and "ticket" not in md
    assert "| Subject | Issuer | Valid | Key | Names (SAN) | SHA-256 |" in evidence  # the chain as a table
    assert "jenkins.example.com, 10.0.0.5" in evidence
    assert "days_left: `29 days`" in evidence and "handshake_ms: `1.23 s`" in evidence
    assert "free_bytes: `1 GiB`" in evidence
    assert "resumed: `no`" in evidence
    assert '"subject"' not in md  # no raw JSON


def test_markdown_table_cells_survive_pipes(tmp_path):
    report = sample_report()
    report.findings[0].title = "Broken | pipe"
    md = markdown.render(report)
    row = next(line for line in md.splitlines() if line.startswith("| name |"))
    assert row.count(" | ") == 2


# -- text ------------------------------------------------------------------------------------------

def test_text_summary_fits_80_columns_and_says_leads_to():
    out = text.render(sample_report())
    assert "leads to: jnlp4.handshake, jnlp4.ping" in out and "then:" not in out
    for line in out.splitlines():
        if len(line) > 80:  # only a single word longer than a line (a long URL) may stick out, whole
            assert line.split()[-1].startswith("https://") and len(line.split()[-1]) > 60, line
    # a command is wrapped between words, never inside one
    commands = [s for f in sample_report().findings for fix in f.fixes for s in fix.commands]
    words = {w for line in out.splitlines() for w in line.split()}
    assert all(w in words for c in commands for w in c.split()), commands


# -- HTML in a browser -------------------------------------------------------------------------------

def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


VIEWS = {"desktop": (1280, 800, False), "phone": (390, 844, True)}

DOM_FACTS = """(() => {
  const fold = innerHeight;
  const bottom = el => el ? el.getBoundingClientRect().bottom : 1e9;
  const details = [...document.querySelectorAll('details')];
  const inside = document.querySelector('#evidence details table');
  return {
    verdict: bottom(document.querySelector('#verdict')) <= fold,
    sentence: bottom(document.querySelector('#root-causes .cause .sentence')) <= fold,
    command: bottom(document.querySelector('#root-causes .cause pre.cmd')) <= fold,
    sentenceText: document.querySelector('#root-causes .cause .sentence').innerText,
    commandText: document.querySelector('#root-causes .cause pre.cmd').innerText,
    order: [...document.querySelectorAll('section')].map(s => s.id),
    details: details.length,
    collapsed: details.every(d => !d.open),
    evidenceVisible: inside ? inside.checkVisibility() : null,
    text: document.body.innerText,
    overflow: document.documentElement.scrollWidth - innerWidth,
    chainHeaders: [...document.querySelectorAll('table.chain th')].map(th => th.textContent),
  };
})()"""


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian chromium is not installed (apt-get install chromium)")
def test_html_first_screen_answers_what_is_wrong_and_what_to_do(tmp_path):
    from tests.reports.browser import Browser

    report = sample_report()
    page = tmp_path / "report.html"
    page.write_text(html.render(report), encoding="utf-8")
    SHOTS.mkdir(exist_ok=True)
    with Browser(tmp_path / "profile") as browser:
        for view, (width, height, mobile) in VIEWS.items():
            browser.open(page.as_uri(), width, height, mobile)
            facts = browser.js(DOM_FACTS)
            assert facts["verdict"] and facts["sentence"] and facts["command"], (view, facts)
            assert facts["sentenceText"].endswith("/tmp is mounted noexec: the JVM cannot load its native libraries")
            assert facts["commandText"].startswith("mkdir -p /home/jenkins/tmp")
            assert facts["order"] == ["root-causes", "also-found", "passed", "settings", "evidence"]
            assert facts["details"] == len(report.findings) and facts["collapsed"]
            assert facts["evidenceVisible"] is False  # evidence collapsed by default
            assert not re.search(r"\bnull\b|\bNone\b", facts["text"]), view
            assert facts["overflow"] <= 0, f"{view}: the page scrolls sideways by {facts['overflow']} px"
            assert facts["chainHeaders"] == ["Subject", "Issuer", "Valid", "Key", "Names (SAN)", "SHA-256"]
            shot = browser.screenshot(tmp_path / f"{view}.png")
            assert _png_size(shot) == (width, height) and shot.stat().st_size > 15_000
            shutil.copy(shot, SHOTS / f"report-{view}.png")  # for a person to look at after the run
        # Printing opens every section: the evidence is on paper, and the PDF is made.
        browser.open(page.as_uri(), 1280, 800)
        browser.media("print")
        assert browser.js("document.querySelector('#evidence details table').checkVisibility()") is True
        pdf = browser.pdf(tmp_path / "report.pdf")
        assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20_000


def test_html_is_self_contained_and_escaped():
    report = sample_report()
    report.findings[0].title = 'Careful <tag> & "quotes"'
    page = html.render(report)
    for needle in ("<script", "<link", "@import", "url(", " src="):
        assert needle not in page
    assert "default-src 'none'" in page
    assert "Careful &lt;tag&gt; &amp; &quot;quotes&quot;" in page
    assert "Leads to:" in page and "Consequences" not in page and "then:" not in page


def test_no_failure_report_says_so_first():
    report = sample_report("report-tls13.json")
    report.findings = [f for f in report.findings if f.status.value in ("pass", "skip")]
    for f in report.findings:
        f.caused_by = None
    md = markdown.render(report)
    assert fold_sections(md)[0] == "No problem found"
    page = html.render(report)
    assert page.index("No problem found") < page.index('id="evidence"')


def test_findings_round_trip_unchanged_in_json():
    """Only the human views are pruned: report.json keeps nulls and raw numbers for machines."""
    report = sample_report()
    data = json.loads(json.dumps(report.to_dict()))
    tls = next(f for f in data["findings"] if f["id"] == "tls.versions")
    assert tls["evidence"]["verified_ca_file"] is None and tls["evidence"]["handshake_ms"] == 1234.5
    assert Finding.from_dict(tls).evidence == tls["evidence"]


def test_docs_show_the_tui_and_the_report_as_png():
    docs = DATA.parents[2] / "docs"
    text = (docs / "output-formats.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]+\]\((images/[^)]+\.png)\)", text)
    assert {"images/tui-80x24.png", "images/report-first-screen.png"} <= set(images)
    for image in images:
        width, height = _png_size(docs / image)
        assert width >= 390 and height >= 600, image
