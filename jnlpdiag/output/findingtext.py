"""Plain-text listing of findings with their evidence and fixes, for commands that have no run report
(``analyze``, ``logs``). Not a ``--format`` renderer (no ``FORMAT``)."""

from __future__ import annotations

import json

from jnlpdiag.escape import visible, visible_obj
from jnlpdiag.model import Finding, Status


def finding_lines(f: Finding, verbose: bool = True) -> list[str]:
    f = visible_obj(f)  # outside text (log lines, packet payloads) shown with visible escapes
    out = [f"{f.status.symbol} {f.status.value.upper():5} [{f.layer.value}] {f.title}  ({f.id})"]
    if not verbose:
        return out
    if f.caused_by:
        out.append(f"      follows from: {f.caused_by}")
    for line in f.detail.splitlines():
        out.append(f"      {line}")
    for key, value in f.evidence.items():
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            # Quoted lines (logs `matched`) read as text, one per line, not as a JSON list.
            out.append(f"      {key}:")
            out += [f"        {v}" for v in value]
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        if "\n" in text:
            out.append(f"      {key}:")
            out += [f"        {line}" for line in text.splitlines()]
        else:
            out.append(f"      {key}: {text}")
    for fix in f.fixes:
        out.append(f"      fix: {fix.title}")
        out += [f"          $ {step}" for step in fix.commands]
        out += [f"          {note}" for note in fix.notes]
        out += [f"          see {url}" for url in fix.docs]
    return out


def render_findings(findings: list[Finding], header: list[str]) -> str:
    """Problems first (with everything), then passes and skips as one line each."""
    out = [visible(line) for line in header]
    bad = [f for f in findings if f.status in (Status.FAIL, Status.ERROR, Status.WARN)]
    bad.sort(key=lambda f: -f.status.severity)
    good = [f for f in findings if f not in bad]
    if bad:
        out += ["", "Problems:"]
        for f in bad:
            out += ["  " + line for line in finding_lines(f)]
    if good:
        out += ["", "Other findings:"]
        for f in good:
            out += ["  " + line for line in finding_lines(f, verbose=False)]
    counts = {s: sum(1 for f in findings if f.status is s) for s in Status}
    out += ["", "  ".join(f"{s.value}={n}" for s, n in counts.items())]
    return "\n".join(out) + "\n"
