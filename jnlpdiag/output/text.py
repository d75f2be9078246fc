"""``--format text``: a compact summary for a terminal or a log, 80 columns wide. Root causes first,
each with its fixes and what it leads to; then warnings, probe errors and every finding in one line."""

from __future__ import annotations

from jnlpdiag.findings import Finding, Layer, Status, consequences
from jnlpdiag.output.columns import hang
from jnlpdiag.output.wording import LEADS_TO, fix_commands, fix_notes
from jnlpdiag.run_report import Report

FORMAT = "text"


def _status(f: Finding) -> str:
    return f"{f.status.symbol} {f.status.value.upper():5}"


def _fixes(f: Finding, indent: str) -> list[str]:
    lines: list[str] = []
    for fix in f.fixes:
        lines += hang(f"{indent}fix: ", fix.title)
        for step in fix_commands(fix):
            lines += hang(f"{indent}    $ ", step)
        for note in fix_notes(fix):
            lines += hang(f"{indent}    ", note)
        lines += hang(f"{indent}    see ", " ".join(fix.docs)) if fix.docs else []
    return lines


def _line(f: Finding, indent: str, layer: bool = True) -> list[str]:
    where = f"[{f.layer.value}] " if layer else ""
    return hang(f"{indent}{_status(f)} ", f"{where}{f.title}  ({f.id})")


def render(report: Report) -> str:
    out: list[str] = []
    roots = report.root_causes()
    url = report.settings.get("url", {}).get("value")
    out += hang("", f"jnlpdiag {report.tool.get('version', '')}: {url or '(no Jenkins URL)'}"
                f" — {report.status.value.upper()} in {report.duration_ms / 1000:.1f} s", indent=2)
    if roots:
        out.append("")
        out.append("Root cause" + ("s" if len(roots) > 1 else "") + ":")
        for f in roots:
            out += _line(f, "  ")
            if f.detail:
                out += hang("      ", f.detail.splitlines()[0])
            out += _fixes(f, "      ")
            follow = consequences(f.id, report.findings)
            if follow:
                out += hang(f"      {LEADS_TO.lower()}: ", ", ".join(c.id for c in follow))
    warns = [f for f in report.findings if f.status is Status.WARN]
    if warns:
        out.append("")
        out.append("Warnings:")
        for f in warns:
            out += _line(f, "  ")
            out += _fixes(f, "      ")
    errors = [f for f in report.findings if f.status is Status.ERROR]
    if errors:
        out.append("")
        out.append("Probe errors (a bug or an unexpected condition, not a verdict):")
        for f in errors:
            out += hang(f"  {_status(f)} ", f"{f.title}: {f.detail.splitlines()[0] if f.detail else ''}".rstrip(": "))
    out.append("")
    out.append("All findings:")
    for layer in Layer:
        layer_findings = [f for f in report.findings if f.layer is layer]
        if not layer_findings:
            continue
        out.append(f"  {layer.value}:")
        for f in layer_findings:
            out += hang(f"    {_status(f)} ", f"{f.id}: {f.title}")
    counts = {s: sum(1 for f in report.findings if f.status is s) for s in Status}
    out.append("")
    out.append("  ".join(f"{s.value}={n}" for s, n in counts.items()) + f"  exit={report.exit_code}")
    return "\n".join(out) + "\n"
