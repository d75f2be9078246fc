"""``--format markdown``: a summary to paste into a ticket.

Order: the verdict, root causes with their fixes, warnings, then every finding with its evidence,
then the settings the run used and where each came from. The reader of a ticket is not on the
host, so nothing here refers to the terminal or to files that are not in the bundle.
"""

from __future__ import annotations

import json
from typing import Any

from jnlpdiag.model import Finding, Layer, Status, consequences
from jnlpdiag.report import Report

FORMAT = "markdown"


def _cell(text: object) -> str:
    """One table cell: pipes escaped, newlines as <br>, so a value never breaks the table."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def _code(text: str) -> str:
    """Inline code that survives backticks inside the value."""
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _block(text: str, lang: str = "") -> list[str]:
    fence = "````" if "```" in text else "```"
    return [f"{fence}{lang}", text.rstrip("\n"), fence]


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _status(f: Finding) -> str:
    return f"{f.status.symbol} **{f.status.value.upper()}**"


def _fixes(f: Finding) -> list[str]:
    out: list[str] = []
    for fix in f.fixes:
        out.append(f"**Fix: {fix.title}**")
        out.append("")
        if fix.steps:
            out += _block("\n".join(fix.steps), "sh")
            out.append("")
        for url in fix.docs:
            out.append(f"- see <{url}>")
        if fix.docs:
            out.append("")
    return out


def _evidence(f: Finding) -> list[str]:
    if not f.evidence:
        return []
    out = ["Evidence:", ""]
    for key, value in f.evidence.items():
        text = _value(value)
        if "\n" in text or len(text) > 200:
            out.append(f"- {_code(str(key))}:")
            out.append("")
            out += ["  " + line for line in _block(text)]
        else:
            out.append(f"- {_code(str(key))}: {_code(text)}")
    out.append("")
    return out


def _finding_section(f: Finding, findings: list[Finding], level: str) -> list[str]:
    out = [f"{level} {_status(f)} [{f.layer.value}] {f.title}", "",
           f"Finding {_code(f.id)} of probe {_code(f.probe)}."]
    if f.caused_by:
        out[-1] += f" Follows from {_code(f.caused_by)}."
    out.append("")
    if f.detail:
        out += [f.detail, ""]
    out += _evidence(f)
    out += _fixes(f)
    follow = consequences(f.id, findings)
    if follow and f.status is Status.FAIL:
        out += ["Consequences: " + ", ".join(_code(c.id) for c in follow), ""]
    return out


def render(report: Report) -> str:
    findings = report.findings
    url = (report.settings.get("url") or {}).get("value") or "(no Jenkins URL)"
    host = report.host
    out = [
        f"# jnlpdiag: {report.status.symbol} {report.status.value.upper()} for {url}",
        "",
        f"- Run: {report.started_at or '?'}, {report.duration_ms / 1000:.1f} s, exit code {report.exit_code}",
        f"- Tool: jnlpdiag {report.tool.get('version', '?')}",
        f"- Host: {host.get('name', '?')} ({host.get('os', '?')} {host.get('kernel', '')}, "
        f"{host.get('machine', '')}{', in a container' if host.get('in_container') else ''})",
        "",
    ]
    counts = {s: sum(1 for f in findings if f.status is s) for s in Status}
    out += ["| " + " | ".join(s.value for s in Status) + " |", "|" + "---|" * len(Status),
            "| " + " | ".join(str(counts[s]) for s in Status) + " |", ""]

    roots = report.root_causes()
    out.append("## Root cause" + ("s" if len(roots) > 1 else ""))
    out.append("")
    if not roots:
        out += ["No failing check." if report.status is not Status.ERROR else "No failing check (see probe errors).",
                ""]
    for f in roots:
        out += _finding_section(f, findings, "###")

    warns = [f for f in findings if f.status is Status.WARN]
    if warns:
        out += ["## Warnings", ""]
        for f in warns:
            out += _finding_section(f, findings, "###")

    errors = [f for f in findings if f.status is Status.ERROR]
    if errors:
        out += ["## Probe errors", "", "A probe broke: this is a bug or an unexpected condition, not a verdict.", ""]
        for f in errors:
            out += _finding_section(f, findings, "###")

    out += ["## All findings", "", "| Status | Layer | Finding | Title |", "|---|---|---|---|"]
    for layer in Layer:
        for f in (x for x in findings if x.layer is layer):
            out.append(f"| {f.status.symbol} {f.status.value} | {layer.value} | {_cell(_code(f.id))} "
                       f"| {_cell(f.title)} |")
    out.append("")

    out += ["## Details", ""]
    shown = {f.id for f in (*roots, *warns, *errors)}
    for f in findings:
        if f.id not in shown:
            out += _finding_section(f, findings, "###")

    if report.settings:
        out += ["## Settings", "", "| Setting | Value | From |", "|---|---|---|"]
        for name, entry in report.settings.items():
            entry = entry if isinstance(entry, dict) else {"value": entry}
            value = _cell(_code(_value(entry.get("value"))))
            out.append(f"| {_cell(name)} | {value} | {_cell(entry.get('origin', ''))} |")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
