"""``check --targets FILE``: check many controllers/agents at once, with a bounded pool.

The file has one target per line: a Jenkins URL, optionally followed by an agent name, or a JSON
object with settings fields (``{"url": ..., "name": ..., "websocket": true, "tunnel": ...}``).
Blank lines and ``#`` comments are ignored.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import datetime as dt
import json
import math
import os
import time
from dataclasses import dataclass
from typing import IO, Any

from jnlpdiag.agent import build_agent_view
from jnlpdiag.findings import Finding, Fix, Layer, Status, worst
from jnlpdiag.probe_api import Probe
from jnlpdiag.redact import CachedRedactor, Redactor
from jnlpdiag.run_report import Report, exit_code_for
from jnlpdiag.runner import Runner, run_budget
from jnlpdiag.settings import Settings

MAX_TARGETS = 10_000
MAX_FILE_BYTES = 10 * 1024 * 1024
DEFAULT_POOL = 64
_TARGET_FIELDS = {"url", "name", "tunnel", "websocket", "direct", "instance_identity", "ca_file"}
SCHEMA_ID = "jnlpdiag.targets/1"


class TargetsError(ValueError):
    pass


@dataclass
class Target:
    label: str
    overrides: dict[str, Any]


def parse_targets(text: str) -> list[Target]:
    targets: list[Target] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TargetsError(f"line {lineno}: not valid JSON ({exc.msg})") from None
            if not isinstance(data, dict):
                raise TargetsError(f"line {lineno}: expected a JSON object")
            unknown = set(data) - _TARGET_FIELDS
            if unknown:
                raise TargetsError(f"line {lineno}: unknown field(s) {sorted(unknown)}; allowed: {sorted(_TARGET_FIELDS)}")
            label = str(data.get("url") or data.get("direct") or f"line {lineno}")
            targets.append(Target(label, data))
        else:
            parts = line.split()
            if len(parts) > 2 or "://" not in parts[0]:
                raise TargetsError(f"line {lineno}: expected 'URL [agent-name]' or a JSON object")
            overrides: dict[str, Any] = {"url": parts[0] if parts[0].endswith("/") else parts[0] + "/"}
            if len(parts) == 2:
                overrides["name"] = parts[1]
            targets.append(Target(parts[0], overrides))
        if len(targets) > MAX_TARGETS:
            raise TargetsError(f"more than {MAX_TARGETS} targets")
    if not targets:
        raise TargetsError("no targets in the file")
    return targets


def read_targets(path: str) -> list[Target]:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise TargetsError(f"{path}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise TargetsError(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return parse_targets(data.decode("utf-8", "replace"))


def settings_for(base: Settings, target: Target, run_deadline_s: float | None = None) -> Settings:
    s = copy.deepcopy(base)
    for key, value in target.overrides.items():
        setattr(s, key, value)
        s.origins[key] = "targets file"
    s.run = dataclasses.replace(s.run, deadline=run_deadline_s)  # each target's own; --deadline is the fleet's
    return s


def per_target_seconds(base: Settings, probes: list[type[Probe]] | None = None) -> float:
    """How long one target's run may take: ``--timeout`` (plus ``--hold``), as for a single check."""
    return run_budget(base, probes or [])


def default_deadline(base: Settings, count: int, pool: int, host_round: bool,
                     probes: list[type[Probe]] | None = None) -> float:
    """The fleet's deadline when ``--deadline`` is not given: one per-target run for each round of
    ``pool`` targets, and one more for the host checks when they run."""
    rounds = math.ceil(count / max(1, pool)) + (1 if host_round else 0)
    return per_target_seconds(base, probes) * rounds


@dataclass
class TargetResult:
    """One target's outcome, kept small: its status, its summary line and its report as redacted JSON
    (a fleet of thousands holds these, not the reports)."""

    label: str
    status: Status
    line: str
    json: str
    not_run: bool = False


@dataclass
class FleetResult:
    results: list[TargetResult]
    host: Report | None  # the host checks, run once for the whole fleet
    deadline_s: float
    elapsed_s: float = 0.0  # from the start of the process to the end of the checks
    started: float = 0.0  # time.monotonic() of the fleet clock's start (the process's start)

    def elapsed_now(self) -> float:
        """Seconds since the fleet's clock started, now (as the report is being written)."""
        return time.monotonic() - self.started if self.started else self.elapsed_s

    @property
    def status(self) -> Status:
        statuses = [r.status for r in self.results] + ([self.host.status] if self.host is not None else [])
        return worst(statuses) if statuses else Status.PASS

    @property
    def not_run(self) -> int:
        return sum(1 for r in self.results if r.not_run)


NOT_RUN = "fleet.not_run"
# When the deadline is shorter than one target's time, a target is started only with at least this
# much of it left: a run cut at once would report nothing but the cut.
_MIN_START_S = 1.0
# The end of the fleet's deadline is kept for stopping and writing the results and for the process's
# exit: a fixed part (cancelling what is in flight, a timer served late by a busy loop) and a part per
# target (5,000 targets: ~0.2 s to write 30 MB of reports and ~0.25 s of interpreter exit, measured on
# a loaded 2-core machine; the reserve, 1.3 s for 5,000, is about twice that).
_EMIT_FIXED_S = 0.3
_EMIT_PER_TARGET_S = 0.0002
# Work cancelled at the end is given this long to run its own clean-up (``finally``) before the
# results are written without it.
_CANCEL_WAIT_S = 0.2


def emit_reserve(count: int) -> float:
    """Seconds kept at the end of the fleet's deadline for stopping and writing ``count`` results."""
    return _EMIT_FIXED_S + _EMIT_PER_TARGET_S * count


def process_age() -> float:
    """Seconds since this process started (Linux: /proc/self/stat), so that the fleet's deadline
    counts the interpreter's start-up and imports too; 0.0 where that cannot be read."""
    try:
        with open("/proc/self/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22, starttime, in clock ticks since boot; fields[0] is field 3
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0
    return min(max(age, 0.0), 30.0)


def _not_run(deadline_s: float, total: int, cut: bool = False) -> Report:
    """The report of a target the fleet's deadline left unchecked (or cut mid-check); the same for
    every such target, so it is built once per fleet (thousands of them must cost next to nothing)."""
    if cut:
        title = f"Not checked: the fleet's deadline ({deadline_s:g} s) passed while this target was being checked"
        detail = "Its probes were stopped at the deadline before they could conclude; nothing is proven about it."
    else:
        title = f"Not checked: the fleet's deadline ({deadline_s:g} s) passed before this target's turn"
        detail = "It was not started: the deadline passed first, so nothing is known about it."
    finding = Finding(
        NOT_RUN, "fleet", Layer.NETWORK, Status.WARN, title, detail=detail,
        evidence={"reason": "fleet deadline", "deadline_s": deadline_s, "targets": total, "started": cut},
        fixes=[Fix("Give the fleet more time, or check more targets at once",
                   ("jnlpdiag check --targets FILE --deadline <seconds> --pool <targets at once>",))],
    )
    return Report(findings=[finding], settings={},
                  started_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),  # noqa: UP017 - 3.9
                  duration_ms=0.0)


class _NotRun:
    """Not-run entries from one redacted template per kind; per target only its own fields change."""

    def __init__(self, deadline_s: float, total: int, redactor: Redactor | CachedRedactor) -> None:
        self.redactor = redactor
        self.templates = {cut: redactor.data(_not_run(deadline_s, total, cut).to_dict()) for cut in (False, True)}
        self.line_titles = {cut: self.templates[cut]["findings"][0]["title"] for cut in (False, True)}

    def result(self, target: Target, cut: bool) -> TargetResult:
        report = dict(self.templates[cut])
        report["settings"] = self.redactor.data({k: {"value": v, "origin": "targets file"}
                                                 for k, v in target.overrides.items()
                                                 if k in ("url", "name", "tunnel", "direct", "websocket")})
        label = self.redactor(target.label)
        entry = {"target": label, "status": Status.WARN.value, "report": report}
        line = f"{Status.WARN.symbol} {Status.WARN.value.upper():5} {label} — {self.line_titles[cut]}"
        return TargetResult(target.label, Status.WARN, line, json.dumps(entry, default=str), True)


def _keep(target: Target, report: Report, redactor: Redactor | CachedRedactor) -> TargetResult:
    roots = report.root_causes()
    not_run = any(f.id == NOT_RUN for f in report.findings)
    first = roots[0] if roots else next((f for f in report.findings if f.id == NOT_RUN), None)
    cause = f" — {first.title}" if first is not None else ""
    line = redactor(f"{report.status.symbol} {report.status.value.upper():5} {target.label}{cause}")
    entry = {"target": target.label, "status": report.status.value, "report": report.to_dict()}
    return TargetResult(target.label, report.status, line, json.dumps(redactor.data(entry), default=str), not_run)


async def run_targets(base: Settings, targets: list[Target], probes: list[type[Probe]],
                      pool: int = DEFAULT_POOL, deadline: float | None = None,
                      redactor: Redactor | None = None, started: float | None = None) -> FleetResult:
    """Check every target, ``pool`` at a time, all within ``deadline`` seconds (default:
    :func:`default_deadline`) counted from ``started`` (a ``time.monotonic()``; default: now).
    Host probes (they judge this machine, not a target) run once, first; every target's probes see
    their facts. The checks end :func:`emit_reserve` before the deadline, so that the results are
    written by then: a target is started only if its whole per-target time fits before that end
    (or, with a deadline shorter than one target's time, at least :data:`_MIN_START_S`); what is
    still running at that end is cancelled and reported as cut; the rest is reported not run."""
    t0 = time.monotonic() if started is None else started
    host_probes = [p for p in probes if p.layer is Layer.HOST]
    target_probes = [p for p in probes if p.layer is not Layer.HOST]
    budget = deadline if deadline is not None else default_deadline(base, len(targets), pool, bool(host_probes), probes)
    work_end = t0 + budget - emit_reserve(len(targets))
    per_target = per_target_seconds(base, probes)
    # The time a target needs left to be started: all of its own, unless the deadline is shorter.
    need = per_target if per_target <= work_end - time.monotonic() else min(_MIN_START_S, per_target)
    shared = build_agent_view(base)  # one agent (its java run once) for the host and every target

    def left() -> float:
        return work_end - time.monotonic()

    host_report: Report | None = None
    given = None
    if host_probes:
        host_settings = copy.deepcopy(base)
        host_settings.run.deadline = max(0.001, min(per_target, left()))
        runner = Runner(host_probes, host_settings, agent=shared)
        host_report = await runner.run()
        given = runner.state

    sem = asyncio.Semaphore(max(1, pool))
    # Thousands of reports share their titles, details and keys: redact each distinct text once.
    redact = CachedRedactor(redactor or Redactor())
    not_run = _NotRun(budget, len(targets), redact)
    results: dict[int, TargetResult] = {}
    started_ids: set[int] = set()
    late = False  # once one target's turn comes too late, every later one's does too

    async def one(i: int, target: Target) -> None:
        nonlocal late
        async with sem:
            remaining = left()
            if late or not target_probes or remaining < need:
                late = late or bool(target_probes)
                results[i] = not_run.result(target, cut=False)
                return
            started_ids.add(i)
            settings = settings_for(base, target, min(per_target, remaining))
            view = dataclasses.replace(shared, settings=settings)
            report = await Runner(target_probes, settings, agent=view, given=given).run()
            results[i] = _keep(target, report, redact)

    # Each target's own run ends by its deadline, but on a saturated machine the loop serves its
    # timers late: at the end of the checks whatever is still running is cancelled (its ``finally``
    # paths get a moment to clean up) and reported as cut; nothing waits past that end.
    tasks = [asyncio.ensure_future(one(i, t)) for i, t in enumerate(targets)]
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, left()))
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=_CANCEL_WAIT_S)
    for i, target in enumerate(targets):
        if i not in results:
            results[i] = not_run.result(target, cut=i in started_ids)
    return FleetResult([results[i] for i in range(len(targets))], host_report, budget, time.monotonic() - t0, t0)


def write_json(fleet: FleetResult, out: IO[str], redactor: Redactor) -> None:
    """The ``jnlpdiag.targets/1`` document, written target by target (each already redacted JSON)."""
    status = fleet.status
    head = {"schema": SCHEMA_ID, "status": status.value, "exit_code": exit_code_for(status),
            "deadline_s": fleet.deadline_s, "elapsed_s": round(fleet.elapsed_now(), 3), "not_run": fleet.not_run,
            "host": redactor.data(fleet.host.to_dict()) if fleet.host is not None else None}
    text = json.dumps(head, indent=2, default=str)
    out.write(text[:-2] + ',\n  "targets": [')
    for i, result in enumerate(fleet.results):
        out.write(("," if i else "") + "\n    " + result.json)
    out.write("\n  ]\n}\n")


def summary_text(fleet: FleetResult, redactor: Redactor) -> str:
    lines = []
    if fleet.host is not None:
        roots = fleet.host.root_causes()
        cause = f" — {roots[0].title}" if roots else ""
        lines.append(redactor(f"{fleet.host.status.symbol} {fleet.host.status.value.upper():5} this host "
                              f"(checked once){cause}"))
    lines += [r.line for r in fleet.results]
    status = fleet.status
    not_run = f", {fleet.not_run} not run (deadline {fleet.deadline_s:g} s)" if fleet.not_run else ""
    lines.append(f"{len(fleet.results)} targets in {fleet.elapsed_now():.1f} s{not_run}, worst: {status.value}, "
                 f"exit={exit_code_for(status)}")
    return "\n".join(lines) + "\n"
