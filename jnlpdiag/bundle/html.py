"""The bundle's ``report.html``: one self-contained page (inline CSS, no script, no external asset).

The page carries a Content-Security-Policy that forbids every fetch, so opening it from a ticket
cannot call out anywhere; every value is HTML-escaped. Status is shown by word and symbol, never
by colour alone.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from jnlpdiag.escape import for_humans, visible
from jnlpdiag.model import Finding, Layer, Status, consequences
from jnlpdiag.report import Report

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

_CSS = """
:root { --fg:#1b1f24; --muted:#57606a; --bg:#fff; --card:#f6f8fa; --line:#d0d7de;
  --pass:#1a7f37; --skip:#57606a; --warn:#9a6700; --fail:#cf222e; --error:#8250df; }
@media (prefers-color-scheme: dark) { :root { --fg:#e6edf3; --muted:#9198a1; --bg:#0d1117;
  --card:#161b22; --line:#30363d; --pass:#3fb950; --skip:#9198a1; --warn:#d29922; --fail:#f85149; --error:#a371f7; } }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { border-bottom: 1px solid var(--line); padding-bottom: 4px; margin-top: 32px; }
.meta { color: var(--muted); margin: 0 0 16px; }
.badge { display: inline-block; font-weight: 700; padding: 1px 8px; border-radius: 10px;
  border: 1px solid currentColor; }
.pass { color: var(--pass); } .skip { color: var(--skip); } .warn { color: var(--warn); }
.fail { color: var(--fail); } .error { color: var(--error); }
.counts span { margin-right: 14px; }
.card { background: var(--card); border: 1px solid var(--line); border-left: 5px solid currentColor;
  border-radius: 6px; padding: 12px 16px; margin: 12px 0; }
.card > * { color: var(--fg); } .card h3 { margin: 0 0 6px; font-size: 1.1em; }
.fix { margin: 10px 0 0; } .fix b { display: block; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px;
  overflow-x: auto; white-space: pre-wrap; word-break: break-word; margin: 6px 0;
  font: 13px/1.4 ui-monospace, "SFMono-Regular", monospace; }
code { font: 13px ui-monospace, "SFMono-Regular", monospace; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); padding: 4px 8px; }
td.k { white-space: nowrap; color: var(--muted); width: 1%; }
details { border-bottom: 1px solid var(--line); padding: 4px 0; }
summary { cursor: pointer; } summary .id { color: var(--muted); }
.then { color: var(--muted); }
@media print { details { display: block; } details > * { display: block; } }
"""


def _status_html(status: Status) -> str:
    return f'<span class="badge {status.value}">{escape(status.symbol)} {status.value.upper()}</span>'


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1, default=str)
    if "\n" in text or len(text) > 120:
        return f"<pre>{escape(text)}</pre>"
    return f"<code>{escape(text)}</code>"


def _evidence(f: Finding) -> str:
    if not f.evidence:
        return ""
    rows = "".join(f'<tr><td class="k">{escape(str(k))}</td><td>{_value(v)}</td></tr>' for k, v in f.evidence.items())
    return f"<table><tbody>{rows}</tbody></table>"


def _fixes(f: Finding) -> str:
    parts = []
    for fix in f.fixes:
        steps = f"<pre>{escape(chr(10).join(fix.steps))}</pre>" if fix.steps else ""
        docs = "".join(f'<div>see <a href="{escape(url, quote=True)}" rel="noreferrer">{escape(url)}</a></div>'
                       for url in fix.docs)
        parts.append(f'<div class="fix"><b>Fix: {escape(fix.title)}</b>{steps}{docs}</div>')
    return "".join(parts)


def _body(f: Finding, findings: list[Finding]) -> str:
    html = ""
    if f.caused_by:
        html += f'<p class="then">Follows from <code>{escape(f.caused_by)}</code>.</p>'
    if f.detail:
        html += f"<pre>{escape(f.detail)}</pre>" if "\n" in f.detail else f"<p>{escape(f.detail)}</p>"
    html += _evidence(f) + _fixes(f)
    follow = consequences(f.id, findings) if f.status is Status.FAIL else []
    if follow:
        html += '<p class="then">Consequences: ' + ", ".join(f"<code>{escape(c.id)}</code>" for c in follow) + "</p>"
    return html


def _card(f: Finding, findings: list[Finding]) -> str:
    return (f'<div class="card {f.status.value}" id="{escape(f.id, quote=True)}"><h3>{_status_html(f.status)} '
            f"[{escape(f.layer.value)}] {escape(f.title)} <code>{escape(f.id)}</code></h3>{_body(f, findings)}</div>")


def render(report: Report, notes: list[str] | None = None) -> str:
    # HTML-escaping stops markup; the terminal-style escape stops bidi overrides and controls that a
    # browser would honour or that a copy-paste carries to a shell.
    report = for_humans(report)
    notes = [visible(n) for n in notes or []]
    findings = report.findings
    url = (report.settings.get("url") or {}).get("value") or "(no Jenkins URL)"
    host = report.host
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
        f"<h1>{_status_html(report.status)} jnlpdiag report for <code>{escape(str(url))}</code></h1>",
        f'<p class="meta">Run {escape(report.started_at or "?")} · {report.duration_ms / 1000:.1f} s · exit code '
        f"{report.exit_code} · jnlpdiag {escape(str(report.tool.get('version', '?')))} · host "
        f"{escape(str(host.get('name', '?')))} ({escape(str(host.get('os', '')))} {escape(str(host.get('kernel', '')))}"
        f"{', in a container' if host.get('in_container') else ''})</p>",
        f'<p class="counts">{counts}</p>',
    ]
    for note in notes or []:
        parts.append(f'<p class="meta">{escape(note)}</p>')
    roots = report.root_causes()
    parts.append("<h2>Root cause" + ("s" if len(roots) > 1 else "") + "</h2>")
    parts += [_card(f, findings) for f in roots] or ["<p>No failing check.</p>"]
    warns = [f for f in findings if f.status is Status.WARN]
    if warns:
        parts.append("<h2>Warnings</h2>")
        parts += [_card(f, findings) for f in warns]
    errors = [f for f in findings if f.status is Status.ERROR]
    if errors:
        parts.append("<h2>Probe errors</h2><p>A probe broke: a bug or an unexpected condition, not a verdict.</p>")
        parts += [_card(f, findings) for f in errors]
    parts.append("<h2>All findings</h2>")
    for layer in Layer:
        mine = [f for f in findings if f.layer is layer]
        if not mine:
            continue
        parts.append(f"<h3>{escape(layer.value)}</h3>")
        for f in mine:
            parts.append(f'<details><summary>{_status_html(f.status)} {escape(f.title)} <span class="id">'
                         f"{escape(f.id)}</span></summary>{_body(f, findings)}</details>")
    if report.settings:
        parts.append("<h2>Settings</h2><table><thead><tr><th>Setting</th><th>Value</th><th>From</th></tr></thead><tbody>")
        for name, entry in report.settings.items():
            entry = entry if isinstance(entry, dict) else {"value": entry}
            parts.append(f'<tr><td class="k">{escape(str(name))}</td><td>{_value(entry.get("value"))}</td>'
                         f"<td>{escape(str(entry.get('origin', '')))}</td></tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
