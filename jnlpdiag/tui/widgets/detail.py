"""The detail of the selected finding: what was seen, the evidence as a table, and the fixes.

Each fix step is an option of a list so it can be picked and copied (``c`` or Enter); the command is
always printed in full as well, for terminals that do not let an application set the clipboard.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from jnlpdiag.findings import Finding
from jnlpdiag.output.evidence import CERT_COLUMNS, Chain, Readable, Rows
from jnlpdiag.output.evidence import evidence as readable_evidence
from jnlpdiag.output.wording import FOLLOWS_FROM, LEADS_TO, fix_commands, fix_notes
from jnlpdiag.tui.state import ProbeView, RunView
from jnlpdiag.tui.widgets.labels import probe_badge, seconds, status_badge
from jnlpdiag.tui.widgets.wrap import command_text, hanging

MAX_EVIDENCE_ROWS = 200


def flatten(value: Readable, prefix: str = "") -> list[tuple[str, str]]:
    """Evidence (pruned and labelled by :mod:`jnlpdiag.output.evidence`) as (key path, value) rows:
    nested objects become ``a.b``; a certificate chain one row per certificate."""
    if isinstance(value, str):
        return [(prefix, value)]
    if isinstance(value, Chain):
        return [(f"{prefix}[{i}]", "\n".join(f"{CERT_COLUMNS[j]}: {v}" for j, v in enumerate(row) if v))
                for i, row in enumerate(value.rows)]
    if isinstance(value, Rows):
        return [(f"{prefix}[{i}]", ", ".join(f"{value.columns[j]}: {v}" for j, v in enumerate(row) if v))
                for i, row in enumerate(value.rows)]
    rows: list[tuple[str, str]] = []
    for k, v in value.items():
        rows += flatten(v, f"{prefix}.{k}" if prefix else str(k))
    return rows


def evidence_table(evidence: dict[str, Any]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, expand=True, show_edge=False, pad_edge=False)
    table.add_column("Item", style="bold", ratio=1, overflow="fold")
    table.add_column("Value", ratio=2, overflow="fold")
    rows = flatten(readable_evidence(evidence))
    for key, value in rows[:MAX_EVIDENCE_ROWS]:
        table.add_row(Text(key), Text(value))
    if len(rows) > MAX_EVIDENCE_ROWS:
        table.add_row(Text("…"), Text(f"{len(rows) - MAX_EVIDENCE_ROWS} more rows"))
    return table


class FixList(OptionList):
    """Fix steps and docs; the option id is the text a copy puts on the clipboard."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands: dict[str, str] = {}

    def show(self, finding: Finding | None) -> None:
        self.clear_options()
        self.commands = {}
        if finding is None or not finding.fixes:
            self.display = False
            return
        self.display = True
        options: list[Option | None] = []
        for i, fix in enumerate(finding.fixes, 1):
            if i > 1:
                options.append(None)
            options.append(Option(hanging((Text(f"Fix {i}: ", style="bold"), Text(fix.title, style="bold"))),
                                  disabled=True))
            for j, step in enumerate(fix_commands(fix)):
                oid = f"fix{i}-step{j}"
                self.commands[oid] = step
                options.append(Option(hanging(("$ ", command_text(step))), id=oid))
            for note in fix_notes(fix):
                options.append(Option(hanging(("  ", Text(note, style="italic"))), disabled=True))
            for j, url in enumerate(fix.docs):
                oid = f"fix{i}-doc{j}"
                self.commands[oid] = url
                options.append(Option(hanging((Text("see ", style="dim"), Text(url, style="underline"))), id=oid))
        self.add_options(options)
        first = next((i for i in range(self.option_count) if not self.get_option_at_index(i).disabled), None)
        self.highlighted = first

    def current_command(self) -> str | None:
        """The highlighted step, else the first step of the first fix."""
        option = self.highlighted_option
        if option is not None and option.id in self.commands:
            return self.commands[option.id]
        return next(iter(self.commands.values()), None)


class DetailPane(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Static("", id="d-title")
        yield Static("", id="d-meta")
        yield Label("Recommended fixes (c: copy)", id="d-fixes-label", classes="section")
        yield FixList(id="d-fixes")
        yield Static("", id="d-detail")
        yield Label("Evidence", id="d-evidence-label", classes="section")
        yield Static("", id="d-evidence")

    def on_mount(self) -> None:
        self.border_title = "Detail"
        self.show_message("Select a finding to see its detail and fixes.")

    @property
    def fixes(self) -> FixList:
        return self.query_one(FixList)

    def _sections(self, evidence: bool, fixes: bool) -> None:
        self.query_one("#d-evidence-label").display = evidence
        self.query_one("#d-evidence").display = evidence
        self.query_one("#d-fixes-label").display = fixes

    def show_message(self, text: str) -> None:
        self.query_one("#d-title", Static).update(Text(text, style="italic"))
        self.query_one("#d-meta", Static).update("")
        self.query_one("#d-detail", Static).update("")
        self._sections(False, False)
        self.fixes.show(None)
        self.current: str | None = None

    def show_finding(self, f: Finding, model: RunView) -> None:
        self.current = f"finding:{f.id}"
        self.query_one("#d-title", Static).update(hanging((status_badge(f.status).append(" "),
                                                           Text(f.title, style="bold"))))
        probe = "" if f.probe == f.id else f" · probe {f.probe}"
        meta = Text(f"{f.id}{probe} · {f.layer.value} layer · {seconds(f.duration_ms / 1000)}", style="dim")
        if f.caused_by:
            cause = model.finding(f.caused_by)
            meta.append(f"\n{FOLLOWS_FROM.lower()}: ", style="dim")
            meta.append(f"{cause.title} ({cause.id})" if cause else f.caused_by)
        follow = model.consequences(f.id)
        if follow:
            meta.append(f"\n{LEADS_TO.lower()}: {', '.join(c.id for c in follow)}", style="dim")
        self.query_one("#d-meta", Static).update(meta)
        self.query_one("#d-detail", Static).update(Text(f.detail or "(no detail)"))
        self.query_one("#d-evidence", Static).update(evidence_table(f.evidence) if f.evidence else "")
        self._sections(bool(f.evidence), bool(f.fixes))
        self.fixes.show(f)
        self.scroll_home(animate=False)

    def show_probe(self, pv: ProbeView, model: RunView, frame: int = 0) -> None:
        findings = model.findings_of(pv.id)
        if findings:
            worst_first = sorted(findings, key=lambda f: -f.status.severity)
            self.show_finding(worst_first[0], model)
            self.current = f"probe:{pv.id}"
            return
        self.current = f"probe:{pv.id}"
        self.query_one("#d-title", Static).update(probe_badge(pv, frame).append(f" {pv.id}", style="bold"))
        self.query_one("#d-meta", Static).update(Text(f"layer {pv.layer.value} · {pv.word.lower()}", style="dim"))
        self.query_one("#d-detail", Static).update(Text(pv.description or ""))
        self._sections(False, False)
        self.fixes.show(None)
