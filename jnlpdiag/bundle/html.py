"""The bundle's ``report.html``: one self-contained page (inline CSS, no script, no external asset).

Read by a support engineer who opens a ticket's attachment: the first screen says what is wrong and
what to do (the verdict, each root cause in one sentence, its fix commands), then what else was found
(what each root cause leads to, warnings, probe errors), what was checked and passed, the settings
with their origins, and last the evidence, collapsed. Printing opens every section.

The page carries a Content-Security-Policy that forbids every fetch, so opening it from a ticket
cannot call out anywhere; every value is HTML-escaped. Status is shown by word and symbol, never
by colour alone.
"""

from __future__ import annotations

from html import escape

from jnlpdiag.escape import for_humans, visible
from jnlpdiag.findings import Finding, Fix, Layer, Status, consequences
from jnlpdiag.output.evidence import CERT_COLUMNS, Chain, Readable, Rows, duration_ms, evidence, settings_rows
from jnlpdiag.output.wording import FOLLOWS_FROM, LEADS_TO, fix_commands, fix_notes
from jnlpdiag.run_report import Report

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

_CSS = """
:root { --fg:#1b1f24; --muted:#57606a; --bg:#fff; --card:#f6f8fa; --line:#d0d7de;
  --pass:#1a7f37; --skip:#57606a; --warn:#9a6700; --fail:#cf222e; --error:#8250df; }
@media (prefers-color-scheme: dark) { :root { --fg:#e6edf3; --muted:#9198a1; --bg:#0d1117;
  --card:#161b22; --line:#30363d; --pass:#3fb950; --skip:#9198a1; --warn:#d29922; --fail:#f85149; --error:#a371f7; } }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); margin: 0 auto; max-width: 1100px; padding: 16px 24px; overflow-wrap: anywhere; }
h1 { font-size: 1.5em; margin: 0 0 4px; line-height: 1.3; }
h2 { font-size: 1.2em; border-bottom: 1px solid var(--line); padding-bottom: 4px; margin: 24px 0 8px; }
h3 { font-size: 1em; margin: 12px 0 4px; }
.meta { color: var(--muted); margin: 0 0 8px; font-size: .9em; }
.badge { display: inline-block; font-weight: 700; padding: 0 8px; border-radius: 10px;
  border: 1px solid currentColor; white-space: nowrap; }
.pass { color: var(--pass); } .skip { color: var(--skip); } .warn { color: var(--warn); }
.fail { color: var(--fail); } .error { color: var(--error); }
.counts span { margin-right: 14px; white-space: nowrap; }
.card { background: var(--card); border: 1px solid var(--line); border-left: 5px solid currentColor;
  border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
.card > * { color: var(--fg); }
.sentence { font-size: 1.1em; font-weight: 600; margin: 0 0 6px; }
.fix { margin: 8px 0 0; } .fix > b { display: block; }
.id { color: var(--muted); font-weight: normal; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px;
  overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; margin: 6px 0;
  font: 13px/1.4 ui-monospace, "SFMono-Regular", monospace; }
pre.cmd { white-space: pre; overflow-wrap: normal; }
code { font: 13px ui-monospace, "SFMono-Regular", monospace; }
ul.leads, ul.found, ul.passed { margin: 4px 0; padding-left: 20px; }
.leads li, .found li, .passed li { margin: 2px 0; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; font-size: .95em; }
th, td { text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); padding: 3px 8px; }
th { color: var(--muted); font-weight: 600; }
td.k { white-space: nowrap; color: var(--muted); width: 1%; }
.scroll { overflow-x: auto; }
details { border-bottom: 1px solid var(--line); padding: 4px 0; }
summary { cursor: pointer; }
@media (max-width: 600px) {
  body { padding: 10px 12px; font-size: 14px; }
  h1 { font-size: 1.25em; }
  td.k { white-space: normal; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; color: #000; background: #fff; }
  :root { --fg:#000; --muted:#444; --bg:#fff; --card:#fff; --line:#999; }
  details::details-content { content-visibility: visible; display: block; }
  details { break-inside: avoid-page; }
  summary { list-style: none; font-weight: 600; }
  .card, pre, tr { break-inside: avoid; }
  pre.cmd { white-space: pre-wrap; overflow-wrap: anywhere; }
  h2 { break-after: avoid; }
  a { color: inherit; }
}
"""


def _status_html(status: Status) -> str:
    return f'<span class="badge {status.value}">{escape(status.symbol)} {status.value.upper()}</span>'


def _link(f: Finding) -> str:
    return f'<a href="#ev-{escape(f.id, quote=True)}">{escape(f.title)}</a> <code class="id">{escape(f.id)}</code>'


def _readable(value: Readable) -> str:
    if isinstance(value, str):
        if "\n" in value or len(value) > 160:
            return f"<pre>{escape(value)}</pre>"
        return escape(value)
    if isinstance(value, Chain):
        head = "".join(f"<th>{escape(c)}</th>" for c in CERT_COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>" for row in value.rows)
        return f'<div class="scroll"><table class="chain"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    if isinstance(value, Rows):
        head = "".join(f"<th>{escape(c)}</th>" for c in value.columns)
        body = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>" for row in value.rows)
        return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    rows = "".join(f'<tr><td class="k">{escape(k)}</td><td>{_readable(v)}</td></tr>' for k, v in value.items())
    return f"<table><tbody>{rows}</tbody></table>"


def _fix(fix: Fix) -> str:
    commands = fix_commands(fix)
    # Commands scroll sideways rather than break inside a word (print wraps them: paper cannot scroll).
    steps = f'<pre class="cmd">{escape(chr(10).join(commands))}</pre>' if commands else ""
    notes = "".join(f"<p>{escape(n)}</p>" for n in fix_notes(fix))
    docs = "".join(f'<div>see <a href="{escape(url, quote=True)}" rel="noreferrer">{escape(url)}</a></div>'
                   for url in fix.docs)
    return f'<div class="fix"><b>Fix: {escape(fix.title)}</b>{steps}{notes}{docs}</div>'


def _cause(f: Finding, findings: list[Finding]) -> str:
    """A root cause (or a warning) on the first screen: one sentence, its fixes, what it leads to."""
    follow = consequences(f.id, findings)
    leads = ""
    if follow:  # listed in full under "What else was found"
        links = ", ".join(f'<a href="#ev-{escape(c.id, quote=True)}"><code>{escape(c.id)}</code></a>' for c in follow)
        leads = f'<p class="then">{LEADS_TO}: {links}</p>'
    return (f'<div class="card cause {f.status.value}" id="{escape(f.id, quote=True)}">'
            f'<p class="sentence">{_status_html(f.status)} {escape(f.title)}</p>'
            f'<p class="meta">{escape(f.layer.value)} layer · <a href="#ev-{escape(f.id, quote=True)}">evidence</a>'
            f" · <code>{escape(f.id)}</code></p>"
            + "".join(_fix(x) for x in f.fixes) + leads + "</div>")


def _evidence_entry(f: Finding, findings: list[Finding]) -> str:
    parts = [f'<p class="meta">{escape(f.layer.value)} layer · probe <code>{escape(f.probe)}</code>'
             f" · {duration_ms(f.duration_ms)}</p>"]
    if f.caused_by:
        cause = next((c for c in findings if c.id == f.caused_by), None)
        target = _link(cause) if cause else f"<code>{escape(f.caused_by)}</code>"
        parts.append(f'<p class="then">{FOLLOWS_FROM}: {target}</p>')
    if f.detail:
        parts.append(f"<pre>{escape(f.detail)}</pre>" if "\n" in f.detail else f"<p>{escape(f.detail)}</p>")
    shown = evidence(f.evidence)
    parts.append(_readable(shown) if shown else '<p class="meta">No evidence recorded.</p>')
    return (f'<details id="ev-{escape(f.id, quote=True)}"><summary>{_status_html(f.status)} {escape(f.title)} '
            f'<code class="id">{escape(f.id)}</code></summary>{"".join(parts)}</details>')


def _settings(report: Report) -> str:
    rows = [f'<tr><td class="k">{escape(name)}</td><td><code>{escape(shown)}</code></td><td>{escape(origin)}</td></tr>'
            for name, shown, origin in settings_rows(report.settings)]
    if not rows:
        return "<p>None given.</p>"
    return ("<table><thead><tr><th>Setting</th><th>Value</th><th>From</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def render(report: Report, notes: list[str] | None = None) -> str:
    # HTML-escaping stops markup; the terminal-style escape (the one shared by every human renderer)
    # stops bidi overrides and controls that a browser would honour or a copy-paste would carry.
    report = for_humans(report)
    notes = [visible(n) for n in notes or []]
    findings = report.findings
    url = (report.settings.get("url") or {}).get("value") or "(no Jenkins URL)"
    host = report.host
    roots = report.root_causes()
    warns = [f for f in findings if f.status is Status.WARN]
    errors = [f for f in findings if f.status is Status.ERROR]
    folded = {c.id for r in roots for c in consequences(r.id, findings)}
    counts = " ".join(f'<span class="{s.value}">{escape(s.symbol)} {s.value}: '
                      f"{sum(1 for f in findings if f.status is s)}</span>" for s in Status)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>jnlpdiag {escape(report.status.value.upper())}: {escape(str(url))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<h1 id="verdict">{_status_html(report.status)} <code>{escape(str(url))}</code></h1>',
        f'<p class="meta">jnlpdiag {escape(str(report.tool.get("version", "?")))} · run '
        f'{escape(report.started_at or "?")} · {duration_ms(report.duration_ms)} · exit code {report.exit_code} · host '
        f"{escape(str(host.get('name', '?')))} ({escape(str(host.get('os', '')))} {escape(str(host.get('kernel', '')))}"
        f"{', in a container' if host.get('in_container') else ''})</p>",
    ]
    parts += [f'<p class="meta">{escape(note)}</p>' for note in notes or []]

    parts.append('<section id="root-causes">')
    if roots:
        parts.append("<h2>Root cause" + ("s" if len(roots) > 1 else "") + "</h2>")
        parts += [_cause(f, findings) for f in roots]
    elif warns or errors:
        parts.append("<h2>No failure; look at these</h2>")
        parts += [_cause(f, findings) for f in (*warns, *errors)]
    else:
        parts.append("<h2>No problem found</h2><p>Every check passed or was skipped; see what was checked below.</p>")
    parts.append("</section>")

    also = []
    for r in roots:
        follow = consequences(r.id, findings)
        if follow:
            items = "".join(f"<li>{_status_html(c.status)} {_link(c)}</li>" for c in follow)
            also.append(f"<h3>{escape(r.title)} {LEADS_TO.lower()}:</h3><ul class=\"found\">{items}</ul>")
    if roots:
        extra = [f for f in (*warns, *errors) if f.id not in folded]
        if extra:
            also.append("<h3>Warnings and probe errors</h3>")
            also += [_cause(f, findings) for f in extra]
    if also:
        parts.append('<section id="also-found"><h2>What else was found</h2>' + "".join(also) + "</section>")

    passed = [f for f in findings if f.status in (Status.PASS, Status.SKIP) and f.id not in folded]
    if passed:
        parts.append('<section id="passed"><h2>What was checked</h2><p class="counts">' + counts + "</p>")
        for layer in Layer:
            mine = [f for f in passed if f.layer is layer]
            if mine:
                items = "".join(f"<li>{_status_html(f.status)} {_link(f)}</li>" for f in mine)
                parts.append(f"<h3>{escape(layer.value)}</h3><ul class=\"passed\">{items}</ul>")
        parts.append("</section>")

    parts.append('<section id="settings"><h2>Settings and where each came from</h2>' + _settings(report) + "</section>")
    parts.append('<section id="evidence"><h2>Evidence</h2><p class="meta">Every finding, collapsed: open one to '
                 "see what was observed.</p>")
    for layer in Layer:
        mine = [f for f in findings if f.layer is layer]
        if mine:
            parts.append(f"<h3>{escape(layer.value)}</h3>")
            parts += [_evidence_entry(f, findings) for f in mine]
    parts.append("</section></body></html>")
    return "\n".join(parts) + "\n"
