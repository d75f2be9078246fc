"""``--format text``: a compact summary for a terminal or a log. Root causes first, with fixes."""

from __future__ import annotations

from jnlpdiag.model import Finding, Layer, Status, consequences
from jnlpdiag.report import Report

FORMAT = "text"


def _status(f: Finding) -> str:
    return f"{f.status.symbol} {f.status.value.upper():5}"


def _fixes(f: Finding, indent: str) -> list[str]:
    lines = []
    for fix in f.fixes:
        lines.append(f"{indent}fix: {fix.title}")
        lines += [f"{indent}    $ {step}" if "\n" not in step else f"{indent}    " + step.replace("\n", f"\n{indent}    ")
                  for step in fix.steps]
        lines += [f"{indent}    see {url}" for url in fix.docs]
    return lines


def render(report: Report) -> str:
    out: list[str] = []
    roots = report.root_causes()
    url = report.settings.get("url", {}).get("value")
    out.append(f"jnlpdiag {report.tool.get('version', '')}: {url or '(no Jenkins URL)'}"
               f" — {report.status.value.upper()} in {report.duration_ms / 1000:.1f} s")
    if roots:
        out.append("")
        out.append("Root cause" + ("s" if len(roots) > 1 else "") + ":")
        for f in roots:
            out.append(f"  {_status(f)} [{f.layer.value}] {f.title}  ({f.id})")
            if f.detail:
                out.append(f"      {f.detail.splitlines()[0]}")
            out += _fixes(f, "      ")
            follow = consequences(f.id, report.findings)
            if follow:
                out.append(f"      then: {', '.join(c.id for c in follow)}")
    warns = [f for f in report.findings if f.status is Status.WARN]
    if warns:
        out.append("")
        out.append("Warnings:")
        for f in warns:
            out.append(f"  {_status(f)} [{f.layer.value}] {f.title}  ({f.id})")
            out += _fixes(f, "      ")
    errors = [f for f in report.findings if f.status is Status.ERROR]
    if errors:
        out.append("")
        out.append("Probe errors (a bug or an unexpected condition, not a verdict):")
        for f in errors:
            out.append(f"  {_status(f)} {f.title}: {f.detail.splitlines()[0] if f.detail else ''}")
    out.append("")
    out.append("All findings:")
    for layer in Layer:
        layer_findings = [f for f in report.findings if f.layer is layer]
        if not layer_findings:
            continue
        out.append(f"  {layer.value}:")
        for f in layer_findings:
            out.append(f"    {_status(f)} {f.id}: {f.title}")
    counts = {s: sum(1 for f in report.findings if f.status is s) for s in Status}
    out.append("")
    out.append("  ".join(f"{s.value}={n}" for s, n in counts.items()) + f"  exit={report.exit_code}")
    return "\n".join(out) + "\n"
