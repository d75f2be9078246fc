"""``--format markdown``: a summary to paste into a ticket, in the order a support engineer reads it.

The verdict, each root cause in one sentence with its fix commands, what else was found (what each
root cause leads to, warnings, probe errors), what was checked and passed, the settings with their
origins, then the evidence of every finding, each in a ``<details>`` block (collapsed where the
Markdown is rendered, e.g. GitHub, GitLab). The reader of a ticket is not on the host, so nothing
here refers to the terminal or to files that are not in the bundle.
"""

from __future__ import annotations

from jnlpdiag.findings import Finding, Layer, Status, consequences
from jnlpdiag.output.evidence import CERT_COLUMNS, Chain, Readable, Rows, duration_ms, evidence, settings_rows
from jnlpdiag.output.wording import FOLLOWS_FROM, LEADS_TO, fix_commands, fix_notes
from jnlpdiag.run_report import Report

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


def _status(status: Status) -> str:
    return f"{status.symbol} **{status.value.upper()}**"


def _ref(f: Finding) -> str:
    return f"{_status(f.status)} {f.title} ({_code(f.id)})"


def _fixes(f: Finding) -> list[str]:
    out: list[str] = []
    for fix in f.fixes:
        out += [f"**Fix: {fix.title}**", ""]
        commands = fix_commands(fix)
        if commands:
            out += _block("\n".join(commands), "sh") + [""]
        out += [note for n in fix_notes(fix) for note in (n, "")]
        out += [f"- see <{url}>" for url in fix.docs]
        if fix.docs:
            out.append("")
    return out


def _cause(f: Finding, findings: list[Finding], level: str = "###") -> list[str]:
    out = [f"{level} {_status(f.status)} {f.title}", "", f"{f.layer.value} layer, finding {_code(f.id)}.", ""]
    out += _fixes(f)
    follow = consequences(f.id, findings)
    if follow:  # listed in full under "What else was found"
        out += [f"{LEADS_TO}: " + ", ".join(_code(c.id) for c in follow), ""]
    return out


def _readable(value: Readable, indent: str = "") -> list[str]:
    """Evidence as nested bullet lists; certificate chains and uniform lists as tables."""
    if isinstance(value, str):
        if "\n" in value:
            return [indent + line for line in _block(value)]
        return [f"{indent}{_code(value)}"]
    if isinstance(value, (Chain, Rows)):
        columns = list(CERT_COLUMNS) if isinstance(value, Chain) else value.columns
        rows = [list(r) for r in value.rows]
        return ([indent + "| " + " | ".join(_cell(c) for c in columns) + " |",
                 indent + "|" + "---|" * len(columns)]
                + [indent + "| " + " | ".join(_cell(v) for v in row) + " |" for row in rows])
    out: list[str] = []
    for key, item in value.items():
        if isinstance(item, str) and "\n" not in item:
            out.append(f"{indent}- {key}: {_code(item)}")
        else:
            out += [f"{indent}- {key}:", ""] + _readable(item, indent + "  ") + [""]
    return out


def _evidence_entry(f: Finding, findings: list[Finding]) -> list[str]:
    out = ["<details>", f"<summary>{f.status.symbol} {f.status.value.upper()} {_cell(f.title)} ({_cell(f.id)})</summary>",
           "", f"{f.layer.value} layer, probe {_code(f.probe)}, {duration_ms(f.duration_ms)}.", ""]
    if f.caused_by:
        cause = next((c for c in findings if c.id == f.caused_by), None)
        out += [f"{FOLLOWS_FROM}: " + (_ref(cause) if cause else _code(f.caused_by)), ""]
    if f.detail:
        out += (_block(f.detail) if "\n" in f.detail else [f.detail]) + [""]
    shown = evidence(f.evidence)
    out += (_readable(shown) if shown else ["No evidence recorded."]) + ["", "</details>", ""]
    return out


def render(report: Report) -> str:
    findings = report.findings
    url = (report.settings.get("url") or {}).get("value") or "(no Jenkins URL)"
    host = report.host
    roots = report.root_causes()
    warns = [f for f in findings if f.status is Status.WARN]
    errors = [f for f in findings if f.status is Status.ERROR]
    folded = {c.id for r in roots for c in consequences(r.id, findings)}
    out = [
        f"# {_status(report.status)} jnlpdiag: {url}",
        "",
        f"jnlpdiag {report.tool.get('version', '?')}, run {report.started_at or '?'}, "
        f"{duration_ms(report.duration_ms)}, exit code {report.exit_code}; host {host.get('name', '?')} "
        f"({host.get('os', '?')} {host.get('kernel', '')}{', in a container' if host.get('in_container') else ''}).",
        "",
    ]
    if roots:
        out += ["## Root cause" + ("s" if len(roots) > 1 else ""), ""]
        for f in roots:
            out += _cause(f, findings)
    elif warns or errors:
        out += ["## No failure; look at these", ""]
        for f in (*warns, *errors):
            out += _cause(f, findings)
    else:
        out += ["## No problem found", "", "Every check passed or was skipped.", ""]

    also: list[str] = []
    for r in roots:
        follow = consequences(r.id, findings)
        if follow:
            also += [f"{r.title} {LEADS_TO.lower()}:", ""] + [f"- {_ref(c)}" for c in follow] + [""]
    extra = [f for f in (*warns, *errors) if f.id not in folded] if roots else []
    for f in extra:
        also += _cause(f, findings)
    if also:
        out += ["## What else was found", ""] + also

    passed = [f for f in findings if f.status in (Status.PASS, Status.SKIP) and f.id not in folded]
    if passed:
        counts = ", ".join(f"{sum(1 for f in findings if f.status is s)} {s.value}" for s in Status)
        out += ["## What was checked", "", f"{counts}.", ""]
        for layer in Layer:
            mine = [f for f in passed if f.layer is layer]
            if mine:
                out += [f"- {layer.value}:"] + [f"  - {_ref(f)}" for f in mine]
        out.append("")

    rows = [f"| {_cell(name)} | {_cell(_code(shown))} | {_cell(origin)} |"
            for name, shown, origin in settings_rows(report.settings)]
    if rows:
        out += ["## Settings and where each came from", "", "| Setting | Value | From |", "|---|---|---|", *rows, ""]

    out += ["## Evidence", ""]
    for layer in Layer:
        for f in (x for x in findings if x.layer is layer):
            out += _evidence_entry(f, findings)
    return "\n".join(out).rstrip("\n") + "\n"
