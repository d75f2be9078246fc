"""The one escape of outside text (jnlpdiag.escape) and that no renderer for people can skip it.

Every renderer the registry knows (today and any added later), the bundle's HTML and Markdown, the
plain finding listing of ``analyze``/``logs`` and the TUI's model get a report whose every string
carries ESC/OSC/BEL/CSI, C1 CSI and U+202E; none may let one through raw. JSON keeps the exact value.
"""

from __future__ import annotations

import io
import json

import pytest

from jnlpdiag.escape import VisibleWriter, for_humans, has_unsafe, json_text, visible
from jnlpdiag.findings import Finding, Fix, Layer, Status
from jnlpdiag.output import renderers
from jnlpdiag.redact import Redactor
from jnlpdiag.run_report import Report

# What hostile peers sent in the field: a window-title OSC, a clear-screen CSI, BEL, a C1 CSI, an RTL
# override, a bare CR (overwrites the line), NUL and DEL.
EVIL = "A\x1b]0;PWNED\x07B\x1b[2JC\x9b31mD\u202eE\rF\x00G\x7fH"


def hostile_report() -> Report:
    fix = Fix(f"fix {EVIL}", (f"echo {EVIL}",), (f"https://example.test/{EVIL}",))
    findings = [
        Finding(f"x.fail{EVIL}", f"x{EVIL}", Layer.NETWORK, Status.FAIL, f"title {EVIL}", detail=f"detail {EVIL}\nl2",
                evidence={f"key{EVIL}": f"value {EVIL}", "list": [EVIL, {"n": EVIL}]}, fixes=[fix]),
        Finding("x.warn", "x", Layer.PROTOCOL, Status.WARN, f"warn {EVIL}", fixes=[fix], caused_by=f"x.fail{EVIL}"),
        Finding("x.error", "x", Layer.HOST, Status.ERROR, f"error {EVIL}", detail=EVIL),
        Finding("x.skip", "x", Layer.COMPATIBILITY, Status.SKIP, f"skip {EVIL}", detail=EVIL),
        Finding("x.pass", "x", Layer.HOST, Status.PASS, f"pass {EVIL}", evidence={"e": EVIL}),
    ]
    return Report(findings=findings, settings={"url": {"value": f"http://h/{EVIL}", "origin": EVIL}, EVIL: EVIL},
                  started_at=f"2026-01-01T00:00:00+00:00{EVIL}", duration_ms=1.0,
                  host={"name": EVIL, "os": EVIL, "kernel": EVIL, "machine": EVIL},
                  tool={"name": "jnlpdiag", "version": EVIL}, probes=[{"id": EVIL}])


def test_visible_shows_each_control_as_an_escape():
    assert visible(EVIL) == "A\\x1b]0;PWNED\\x07B\\x1b[2JC\\x9b31mD\\u202eE\\rF\\x00G\\x7fH"
    assert visible("line1\nline2\tcol") == "line1\nline2\tcol"  # layout stays
    assert visible(visible(EVIL)) == visible(EVIL)  # idempotent: escaping twice shows the same
    assert visible("\udc9b \u2066 \u200f \ufeff") == "\\udc9b \\u2066 \\u200f \\ufeff"
    assert not has_unsafe(visible(EVIL)) and has_unsafe(EVIL)


def test_json_text_keeps_exact_values():
    raw = json.dumps({"v": EVIL}, ensure_ascii=False)
    text = json_text(raw)
    assert not has_unsafe(text.replace("\n", ""))
    assert json.loads(text)["v"] == EVIL


@pytest.mark.parametrize("fmt", sorted(renderers()))
def test_no_renderer_lets_a_control_through(fmt):
    out = renderers()[fmt](hostile_report())
    bad = sorted({hex(ord(c)) for c in out if has_unsafe(c)})
    assert not bad, f"--format {fmt} printed raw {bad}"
    if fmt == "json":
        doc = json.loads(out)
        assert doc["findings"][0]["title"] == f"title {EVIL}"  # data: the exact value
        assert doc["host"]["name"] == EVIL
    else:
        assert "PWNED" in out and ("\\x1b" in out or "\\\\x1b" in out), f"--format {fmt} dropped the text"


def test_every_registered_renderer_is_exact_or_escaped():
    """A renderer module added later is wrapped by the registry unless it declares EXACT (data)."""
    import importlib
    import pkgutil

    import jnlpdiag.output as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        mod = importlib.import_module(f"jnlpdiag.output.{info.name}")
        fmt = getattr(mod, "FORMAT", None)
        if not fmt:
            continue
        wrapped = renderers()[fmt]
        if getattr(mod, "EXACT", False):
            assert wrapped is mod.render and fmt == "json"
        else:
            assert getattr(wrapped, "__wrapped__", None) is mod.render


def test_bundle_files_html_and_markdown_are_escaped_json_exact(tmp_path):
    from jnlpdiag.bundle import write_bundle

    out = write_bundle(hostile_report(), tmp_path / "b", Redactor())
    for name in ("summary.md", "report.html", "report.json", "manifest.json"):
        text = (out / name).read_text(encoding="utf-8")
        assert not has_unsafe(text.replace("\n", "").replace("\t", "")), name
    assert json.loads((out / "report.json").read_text())["findings"][0]["detail"].startswith(f"detail {EVIL}")
    assert "PWNED" in (out / "report.html").read_text()


def test_finding_listing_and_tui_model_are_escaped():
    from jnlpdiag.output.findingtext import render_findings
    from jnlpdiag.tui.state import sanitized_report, summary

    report = hostile_report()
    text = render_findings(report.findings, [f"header {EVIL}"])
    assert not has_unsafe(text.replace("\n", "")) and "PWNED" in text
    safe = sanitized_report(report, Redactor())
    for f in safe.findings:
        fix_text = f.fixes and " ".join(f.fixes[0].commands + f.fixes[0].notes)
        for value in (f.title, f.detail, json.dumps(f.evidence, ensure_ascii=False), fix_text):
            assert not has_unsafe(str(value).replace("\n", ""))
    from jnlpdiag.tui.state import RunView

    model = RunView()
    model.load_report(safe)
    assert not has_unsafe(summary(model).replace("\n", ""))


def test_for_humans_walks_every_field():
    human = for_humans(hostile_report())
    blob = json.dumps(human.to_dict(), ensure_ascii=False)
    assert not has_unsafe(blob)


def test_cli_streams_are_guarded():
    buf = io.StringIO()
    VisibleWriter(buf).write(f"jnlpdiag: {EVIL}\n")
    assert buf.getvalue() == f"jnlpdiag: {visible(EVIL)}\n"
