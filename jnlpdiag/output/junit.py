"""``--format junit``: JUnit XML, so a Jenkins pipeline can run jnlpdiag and show the verdict natively
(``junit 'jnlpdiag.xml'``).

One ``<testsuite>`` per layer, one ``<testcase>`` per finding. A failing or warning finding is a
``<failure>`` whose message is its first fix (type ``fail`` or ``warning``), a probe error is an
``<error>``, a skip is ``<skipped>``. The output validates against the JUnit schema the Jenkins
xUnit plugin checks reports with (jenkinsci/xunit-plugin
``src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/junit-10.xsd``, vendored in
tests/reports/ with its source): only the elements and attributes it declares are used, and times
follow its ``SUREFIRE_TIME`` pattern (at most three decimals).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from jnlpdiag.findings import Finding, Layer, Status
from jnlpdiag.run_report import Report

FORMAT = "junit"

# XML 1.0 forbids most control characters even escaped; a probe's evidence may carry raw bytes.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: object) -> str:
    return _INVALID_XML.sub("\ufffd", str(text))


def _seconds(ms: float) -> str:
    return f"{max(ms, 0.0) / 1000:.3f}"


def _describe(f: Finding) -> str:
    lines = [f"{f.status.symbol} {f.status.value.upper()} [{f.layer.value}] {f.title}"]
    if f.caused_by:
        lines.append(f"follows from: {f.caused_by}")
    if f.detail:
        lines += ["", f.detail]
    if f.evidence:
        lines += ["", "evidence:"]
        for key, value in f.evidence.items():
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
            lines.append(f"  {key}: {text}")
    for fix in f.fixes:
        lines += ["", f"fix: {fix.title}"]
        lines += [f"  $ {step}" for step in fix.commands]
        lines += [f"  {note}" for note in fix.notes]
        lines += [f"  see {url}" for url in fix.docs]
    return "\n".join(lines) + "\n"


def _testcase(parent: ET.Element, f: Finding) -> None:
    case = ET.SubElement(parent, "testcase", {
        "name": _clean(f"{f.id}: {f.title}"),
        "classname": _clean(f"jnlpdiag.{f.layer.value}.{f.probe}"),
        "time": _seconds(f.duration_ms),
    })
    text = _clean(_describe(f))
    first_fix = f.fixes[0].title if f.fixes else f.title
    if f.status is Status.FAIL:
        ET.SubElement(case, "failure", {"type": "fail", "message": _clean(first_fix)}).text = text
    elif f.status is Status.WARN:
        ET.SubElement(case, "failure", {"type": "warning", "message": _clean(f"warning: {first_fix}")}).text = text
    elif f.status is Status.ERROR:
        ET.SubElement(case, "error", {"type": "error", "message": _clean(f.title)}).text = text
    elif f.status is Status.SKIP:
        ET.SubElement(case, "skipped", {"message": _clean(f.title)}).text = text
    else:
        ET.SubElement(case, "system-out").text = text


def render(report: Report) -> str:
    findings = report.findings
    root = ET.Element("testsuites", {
        "name": "jnlpdiag",
        "tests": str(len(findings)),
        "failures": str(sum(1 for f in findings if f.status in (Status.FAIL, Status.WARN))),
        "errors": str(sum(1 for f in findings if f.status is Status.ERROR)),
        "time": _seconds(report.duration_ms),
    })
    url = (report.settings.get("url") or {}).get("value")
    for layer in Layer:
        mine = [f for f in findings if f.layer is layer]
        if not mine:
            continue
        suite = ET.SubElement(root, "testsuite", {
            "name": f"jnlpdiag.{layer.value}",
            "tests": str(len(mine)),
            "failures": str(sum(1 for f in mine if f.status in (Status.FAIL, Status.WARN))),
            "errors": str(sum(1 for f in mine if f.status is Status.ERROR)),
            "skipped": str(sum(1 for f in mine if f.status is Status.SKIP)),
            # Findings of one layer overlap in time (probes run concurrently): the suite's time is the
            # longest of them, never more than the run itself.
            "time": _seconds(max(f.duration_ms for f in mine)),
            "timestamp": _clean(report.started_at),
            "hostname": _clean(report.host.get("name", "")),
        })
        props = ET.SubElement(suite, "properties")
        for name, value in (("jnlpdiag.version", report.tool.get("version", "")), ("jenkins.url", url or ""),
                            ("jnlpdiag.status", report.status.value)):
            ET.SubElement(props, "property", {"name": name, "value": _clean(value)})
        for f in mine:
            _testcase(suite, f)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
