"""Plain-text listing of findings with their evidence and fixes, for commands that have no run report
(``analyze``, ``logs``). Not a ``--format`` renderer (no ``FORMAT``). Lines fit 80 columns as in the
text format: wrapped at spaces under a hanging indent, a command never broken inside a word."""

from __future__ import annotations

import json

from jnlpdiag.escape import visible, visible_obj
from jnlpdiag.findings import Finding, Status
from jnlpdiag.output.columns import hang


def finding_lines(f: Finding, verbose: bool = True, indent: str = "") -> list[str]:
    f = visible_obj(f)  # outside text (log lines, packet payloads) shown with visible escapes
    head = f"{indent}{f.status.symbol} {f.status.value.upper():5} "
    out = hang(head, f"[{f.layer.value}] {f.title}  ({f.id})")
    if not verbose:
        return out
    body = indent + " " * 6
    if f.caused_by:
        out += hang(f"{body}follows from: ", f.caused_by)
    for line in f.detail.splitlines():
        out += hang(body, line)
    for key, value in f.evidence.items():
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            # Quoted lines (logs `matched`) read as text, one per line, not as a JSON list.
            out.append(f"{body}{key}:")
            for v in value:
                out += hang(f"{body}  ", v)
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        if "\n" in text:
            out.append(f"{body}{key}:")
            for line in text.splitlines():
                out += hang(f"{body}  ", line)
        else:
            out += hang(f"{body}{key}: ", text, indent=len(body) + 2)
    for fix in f.fixes:
        out += hang(f"{body}fix: ", fix.title)
        for step in fix.commands:
            out += hang(f"{body}    $ ", step)
        for note in fix.notes:
            out += hang(f"{body}    ", note)
        for url in fix.docs:
            out += hang(f"{body}    see ", url)
    return out


def render_findings(findings: list[Finding], header: list[str]) -> str:
    """Problems first (with everything), then passes and skips as one line each."""
    out: list[str] = []
    for line in header:
        # Stream rows keep their columns (two leading spaces); a long one wraps under its text.
        out += hang("", visible(line), indent=4 if line.startswith("  ") else 2)
    bad = [f for f in findings if f.status in (Status.FAIL, Status.ERROR, Status.WARN)]
    bad.sort(key=lambda f: -f.status.severity)
    good = [f for f in findings if f not in bad]
    if bad:
        out += ["", "Problems:"]
        for f in bad:
            out += finding_lines(f, indent="  ")
    if good:
        out += ["", "Other findings:"]
        for f in good:
            out += finding_lines(f, verbose=False, indent="  ")
    counts = {s: sum(1 for f in findings if f.status is s) for s in Status}
    out += ["", "  ".join(f"{s.value}={n}" for s, n in counts.items())]
    return "\n".join(out) + "\n"
