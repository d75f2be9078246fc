"""What the TUI shows, kept apart from Textual: per-probe state fed by runner events, and findings.

The live view and ``jnlpdiag show`` both fill one :class:`RunView`: the first from the Runner's
events, the second from a saved report. Every string that enters the model is redacted and stripped
of terminal control characters here, once, so no widget can print a secret or an escape sequence
from a probe or from a hostile report file.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from jnlpdiag.escape import visible
from jnlpdiag.findings import Finding, Fix, Layer, Status, consequences, root_causes, verdict, worst
from jnlpdiag.probe_api import Probe
from jnlpdiag.redact import Redactor
from jnlpdiag.run_report import Report
from jnlpdiag.runner import Event, FindingEmitted, ProbeFinished, ProbeQueued, ProbeStarted, RunFinished

QUEUED = "queued"
RUNNING = "running"
DONE = "done"

MAX_TEXT = 20_000
MAX_ITEMS = 200
MAX_DEPTH = 8


def clean_text(value: object, redactor: Redactor, limit: int = MAX_TEXT) -> str:
    text = redactor(str(value))
    text = visible(text)  # the one escape of outside text (jnlpdiag.escape), as in every renderer
    if len(text) > limit:
        text = text[:limit] + f"… ({len(text) - limit} more characters)"
    return text


def clean_value(value: Any, redactor: Redactor, depth: int = 0) -> Any:
    """A JSON-like value made safe to show: redacted, no control characters, bounded size."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if depth >= MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        items = list(value.items())
        out = {clean_text(k, redactor, 200): clean_value(v, redactor, depth + 1) for k, v in items[:MAX_ITEMS]}
        if len(items) > MAX_ITEMS:
            out["…"] = f"{len(items) - MAX_ITEMS} more entries"
        return out
    if isinstance(value, (list, tuple)):
        cleaned = [clean_value(v, redactor, depth + 1) for v in list(value)[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            cleaned.append(f"… {len(value) - MAX_ITEMS} more")
        return cleaned
    return clean_text(value, redactor)


def clean_finding(f: Finding, redactor: Redactor) -> Finding:
    return Finding(
        id=clean_text(f.id, redactor, 200),
        probe=clean_text(f.probe, redactor, 200),
        layer=f.layer,
        status=f.status,
        title=clean_text(f.title, redactor, 500).replace("\n", " "),
        detail=clean_text(f.detail, redactor),
        evidence=clean_value(f.evidence, redactor) if isinstance(f.evidence, dict) else {},
        fixes=[
            Fix(
                title=clean_text(fix.title, redactor, 500),
                commands=tuple(clean_text(s, redactor, 4000) for s in fix.commands[:MAX_ITEMS]),
                notes=tuple(clean_text(s, redactor, 4000) for s in fix.notes[:MAX_ITEMS]),
                docs=tuple(clean_text(d, redactor, 1000) for d in fix.docs[:MAX_ITEMS]),
            )
            for fix in f.fixes[:MAX_ITEMS]
        ],
        caused_by=clean_text(f.caused_by, redactor, 200) if f.caused_by else None,
        duration_ms=f.duration_ms,
        rests_on=tuple(clean_text(p, redactor, 200) for p in f.rests_on[:MAX_ITEMS]),
        breaks=tuple(clean_text(p, redactor, 200) for p in f.breaks[:MAX_ITEMS]),
        informational=f.informational,
    )


def probe_status(findings: list[Finding]) -> Status:
    """A probe's verdict: its worst finding, but SKIP (not PASS) when it only skipped."""
    statuses = [f.status for f in findings]
    if statuses and all(s is Status.SKIP for s in statuses):
        return Status.SKIP
    return worst([s for s in statuses if s is not Status.SKIP])


@dataclass
class ProbeView:
    """One probe as the live view shows it."""

    id: str
    layer: Layer
    description: str = ""
    phase: str = QUEUED
    status: Status | None = None
    started: float | None = None  # time.monotonic()
    duration_ms: float | None = None
    order: int = 0

    def elapsed(self, now: float | None = None) -> float:
        if self.duration_ms is not None:
            return self.duration_ms / 1000.0
        if self.started is None:
            return 0.0
        return (now if now is not None else time.monotonic()) - self.started

    @property
    def word(self) -> str:
        """QUEUED / RUNNING / PASS / ...: never colour alone."""
        if self.phase == DONE and self.status is not None:
            return self.status.value.upper()
        return self.phase.upper()


def dependency_order(probes: Iterable[type[Probe]]) -> dict[str, int]:
    """Rank probes so that, within a layer, a probe comes after what it requires or waits for."""
    by_id = {p.id: p for p in probes}
    depth: dict[str, int] = {}

    def d(pid: str, seen: frozenset[str]) -> int:
        if pid in depth:
            return depth[pid]
        deps = [x for x in (*by_id[pid].requires, *by_id[pid].after) if x in by_id and x not in seen]
        value = 1 + max((d(x, seen | {pid}) for x in deps), default=-1)
        depth[pid] = value
        return value

    ranked = sorted(by_id, key=lambda pid: (by_id[pid].layer.rank, d(pid, frozenset()), pid))
    return {pid: i for i, pid in enumerate(ranked)}


@dataclass
class RunView:
    """Probe states and findings of the run on screen (live or loaded from a report)."""

    redactor: Redactor = field(default_factory=Redactor)
    probes: dict[str, ProbeView] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)  # Settings.public_dict() form
    report: Report | None = None
    running: bool = False
    runs: int = 0  # completed runs (a partial re-run counts)
    _raw: dict[str, Finding] = field(default_factory=dict, repr=False)
    _emitted: dict[str, Finding] = field(default_factory=dict, repr=False)  # the runner's own objects

    # -- filling the model -------------------------------------------------------------------

    def plan(self, probes: list[type[Probe]]) -> None:
        """Show every probe of the coming run as queued, in root-cause order, before it starts."""
        order = dependency_order(probes)
        for p in probes:
            self.probes[p.id] = ProbeView(p.id, p.layer, clean_text(p.description, self.redactor, 500),
                                          order=order[p.id])

    def set_settings(self, public: dict[str, Any]) -> None:
        self.settings = clean_value(public, self.redactor)

    def begin(self, probe_ids: set[str] | None = None) -> None:
        """Start a run of ``probe_ids`` (all when None): their old findings go, others stay."""
        self.running = True
        targets = set(self.probes) if probe_ids is None else probe_ids
        for pid in targets:
            pv = self.probes.get(pid)
            if pv is not None:
                pv.phase, pv.status, pv.started, pv.duration_ms = QUEUED, None, None, None
        self.findings = [f for f in self.findings if f.probe not in targets]
        self._raw = {k: v for k, v in self._raw.items() if v.probe not in targets}
        self._emitted = {k: v for k, v in self._emitted.items() if v.probe not in targets}

    def apply(self, event: Event) -> None:
        if isinstance(event, ProbeQueued):
            pv = self.probes.get(event.probe_id)
            if pv is None:
                pv = self.probes[event.probe_id] = ProbeView(
                    event.probe_id, Layer(event.layer), clean_text(event.description, self.redactor, 500),
                    order=len(self.probes) + 1000)
            pv.phase, pv.status, pv.started, pv.duration_ms = QUEUED, None, None, None
        elif isinstance(event, ProbeStarted):
            pv = self.probes.get(event.probe_id)
            if pv is not None:
                pv.phase, pv.started = RUNNING, time.monotonic()
        elif isinstance(event, FindingEmitted):
            self._add_finding(clean_finding(event.finding, self.redactor), event.finding)
        elif isinstance(event, ProbeFinished):
            pv = self.probes.get(event.probe_id)
            if pv is not None:
                mine = self.findings_of(pv.id)
                pv.phase, pv.duration_ms = DONE, event.duration_ms
                pv.status = probe_status(mine) if mine else event.status
        elif isinstance(event, RunFinished):
            self.running = False
            self.runs += 1
            # The runner folds once more at the end (a failure may land before the one explaining it).
            for f in self.findings:
                emitted = self._emitted.get(f.id)
                if emitted is not None and f.caused_by is None and emitted.caused_by:
                    f.caused_by = clean_text(emitted.caused_by, self.redactor, 200)
                    self._raw[f.id] = dataclasses.replace(self._raw[f.id], caused_by=emitted.caused_by)
            self.report = self._merged_report(event.report)

    def _add_finding(self, finding: Finding, raw: Finding | None = None) -> None:
        # Ids are unique within one run; across a partial re-run they must stay unique too.
        taken = {f.id for f in self.findings}
        base, n = finding.id, 2
        while finding.id in taken:
            finding.id = f"{base}#{n}"
            n += 1
        self.findings.append(finding)
        # The export gets the probe's own finding (the bundle writer redacts it), not the screen copy.
        self._raw[finding.id] = dataclasses.replace(raw, id=finding.id) if raw is not None else finding
        if raw is not None:
            self._emitted[finding.id] = raw
        pv = self.probes.get(finding.probe)
        if pv is None:  # a finding of a probe nobody announced (a report without "probes")
            self.probes[finding.probe] = ProbeView(finding.probe, finding.layer, phase=DONE,
                                                   status=finding.status, order=len(self.probes) + 1000)

    def _merged_report(self, latest: Report) -> Report:
        return Report(
            findings=[self._raw.get(f.id, f) for f in self.findings],
            settings=latest.settings,
            started_at=latest.started_at,
            duration_ms=latest.duration_ms,
            host=latest.host,
            tool=latest.tool,
            probes=[{"id": pv.id, "layer": pv.layer.value, "description": pv.description,
                     "status": (pv.status or Status.SKIP).value} for pv in self.ordered()],
        )

    def load_report(self, report: Report) -> None:
        """Fill the model from a saved report (``jnlpdiag show``): everything is finished."""
        self.probes.clear()
        self.findings = []
        self._raw = {}
        self._emitted = {}
        for i, p in enumerate(report.probes):
            if not isinstance(p, dict) or "id" not in p:
                continue
            try:
                layer = Layer(p.get("layer", "protocol"))
            except ValueError:
                layer = Layer.PROTOCOL
            pid = clean_text(p["id"], self.redactor, 200)
            raw_status = p.get("status")
            try:
                status: Status | None = Status(str(raw_status)) if raw_status else None
            except ValueError:
                status = None
            self.probes[pid] = ProbeView(pid, layer, clean_text(p.get("description", ""), self.redactor, 500),
                                         phase=DONE, status=status, order=layer.rank * 10_000 + i)
        for f in report.findings:
            self._add_finding(clean_finding(f, self.redactor))
        for pv in self.probes.values():
            mine = [f for f in self.findings if f.probe == pv.id]
            if mine:
                pv.status = probe_status(mine)
                pv.duration_ms = max(f.duration_ms for f in mine)
            elif pv.status is None:
                pv.status = Status.SKIP
        self.set_settings(report.settings)
        self.report = report
        self.running = False

    # -- questions the widgets ask -----------------------------------------------------------

    def ordered(self) -> list[ProbeView]:
        return sorted(self.probes.values(), key=lambda pv: (pv.layer.rank, pv.order, pv.id))

    def layers(self, show_passed: bool = True) -> list[tuple[Layer, list[ProbeView]]]:
        out = []
        for layer in Layer:
            views = [pv for pv in self.ordered() if pv.layer is layer
                     and (show_passed or not (pv.phase == DONE and pv.status is Status.PASS))]
            if views:
                out.append((layer, views))
        return out

    def findings_of(self, probe_id: str) -> list[Finding]:
        return [f for f in self.findings if f.probe == probe_id]

    def finding(self, finding_id: str) -> Finding | None:
        return next((f for f in self.findings if f.id == finding_id), None)

    def root_causes(self) -> list[Finding]:
        """Root causes by layer, then in probe order (stable while findings arrive in any order)."""
        order = {pv.id: (pv.order, i) for i, pv in enumerate(self.ordered())}
        return sorted(root_causes(self.findings), key=lambda f: (f.layer.rank, order.get(f.probe, (1 << 30, 0))))

    def consequences(self, finding_id: str) -> list[Finding]:
        return consequences(finding_id, self.findings)

    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.WARN]

    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.ERROR]

    def progress(self) -> tuple[int, int]:
        return sum(1 for pv in self.probes.values() if pv.phase == DONE), len(self.probes)

    @property
    def status(self) -> Status:
        return verdict(self.findings)

    def setting(self, name: str) -> Any:
        entry = self.settings.get(name)
        return entry.get("value") if isinstance(entry, dict) else None


def sanitized_report(report: Report, redactor: Redactor) -> Report:
    """A copy of a (possibly hostile) report that is safe to print: redacted, no control characters."""
    return Report(
        findings=[clean_finding(f, redactor) for f in report.findings],
        settings=clean_value(report.settings, redactor),
        started_at=clean_text(report.started_at, redactor, 100),
        duration_ms=report.duration_ms,
        host=clean_value(report.host, redactor),
        tool=clean_value(report.tool, redactor),
        probes=[clean_value(p, redactor) for p in report.probes if isinstance(p, dict)],
    )


def summary(model: RunView, exported: object = None) -> str:
    """What stays on the terminal after the TUI closes: the verdict, root causes and first fixes,
    wrapped to 80 columns as the text format is."""
    from jnlpdiag.output.columns import hang
    from jnlpdiag.output.wording import fix_commands

    if model.report is None:
        return "jnlpdiag: no run finished; no verdict.\n"
    status = model.status
    lines = hang("jnlpdiag: ", f"{status.symbol} {status.value.upper()} ({model.setting('url') or 'no Jenkins URL'})")
    for f in model.root_causes():
        lines += hang("  root cause: ", f"{f.title} ({f.id})")
        steps = [s for fix in f.fixes for s in fix_commands(fix)][:2]
        for step in steps:
            lines += hang("    fix: $ ", step)
        if not steps and f.fixes:
            lines += hang("    fix: ", f.fixes[0].title)
    if exported:
        lines += hang("  report written to ", str(exported))
    return "\n".join(lines) + "\n"
