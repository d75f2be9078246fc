"""Run probes concurrently on asyncio, in dependency order, within one deadline; emit events.

The headless path and the TUI consume the same events: ``ProbeQueued`` for every probe, then
``ProbeStarted``, ``FindingEmitted`` (one per finding) and ``ProbeFinished`` per probe, and finally
``RunFinished`` with the report.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar, Union

from jnlpdiag.agent import AgentView, build_agent_view
from jnlpdiag.findings import Finding, Fix, Status, claim_id, fold, resolve_root, worst
from jnlpdiag.httpclient import HttpError
from jnlpdiag.probe_api import Context, DeadlineExceeded, Probe, RunState
from jnlpdiag.pycompat import Timeouts
from jnlpdiag.run_report import Report
from jnlpdiag.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class ProbeQueued:
    probe_id: str
    layer: str
    description: str


@dataclass(frozen=True)
class ProbeStarted:
    probe_id: str


@dataclass(frozen=True)
class FindingEmitted:
    finding: Finding


@dataclass(frozen=True)
class ProbeFinished:
    probe_id: str
    status: Status
    duration_ms: float


@dataclass(frozen=True)
class RunFinished:
    report: Report


Event = Union[ProbeQueued, ProbeStarted, FindingEmitted, ProbeFinished, RunFinished]
EventHandler = Callable[[Event], None]

_DEPENDENCY_GRACE = 0.05  # seconds a dependent waits past the deadline for a cut dependency's finding
_MIN_START = 0.05  # a probe left less than this beyond the step reserve is not started

_RAISE_TIMEOUT_FIX = Fix(
    "Give the slow step more time, or find out why the peer is slow",
    commands=("jnlpdiag check --timeout 30 ...",),
)


def run_deadline(settings: Settings, probes: Iterable[type[Probe]] = ()) -> float:
    """Seconds the whole run may take: ``--deadline`` if given, else ``--timeout`` (plus ``--hold``).

    A health check that asks for ``--timeout 5`` expects an answer in about five seconds, so the
    run-level deadline equals the step timeout; probes' own steps are bounded to end just before
    it, so a slow step is reported by the probe that met it.
    """
    return settings.run.deadline or run_budget(settings, probes)


def run_budget(settings: Settings, probes: Iterable[type[Probe]] = ()) -> float:
    """``--timeout``, plus what an option such as ``--hold`` asks a probe to wait on purpose."""
    run = settings.run
    waits = {o.name: run.value(o) for p in probes for o in p.options if o.extends_deadline}
    return run.timeout + sum(float(v) for v in waits.values() if v)


class Runner:
    def __init__(
        self,
        probes: list[type[Probe]],
        settings: Settings,
        on_event: EventHandler | None = None,
        *,
        agent: AgentView | None = None,
        given: RunState | None = None,
    ) -> None:
        self.probe_classes = probes
        self.settings = settings
        self.on_event = on_event or (lambda event: None)
        self.agent = agent
        # A fleet run judges this host once: ``given`` is that run's state, whose facts and findings
        # the probes here see as if those probes had run in this run (they are not reported again).
        self.given = given
        self.state: RunState | None = None
        self._done: dict[str, asyncio.Event] = {}
        self._ids: set[str] = set()

    def _emit(self, event: Event) -> None:
        try:
            self.on_event(event)
        except Exception:  # a consumer's bug must not break the run
            pass

    def _record(self, state: RunState, finding: Finding) -> None:
        claim_id(finding, self._ids)  # finding ids are unique within a report
        finding.caused_by = fold(state.findings, finding)
        state.findings.append(finding)
        self._emit(FindingEmitted(finding))

    async def run(self) -> Report:
        started_wall = dt.datetime.now(dt.timezone.utc)
        t0 = time.monotonic()
        state = RunState(
            settings=self.settings,
            timeout=self.settings.run.timeout,
            deadline=t0 + run_deadline(self.settings, self.probe_classes),
            # One view of the agent for every probe of this run (from these settings, as they are now).
            agent=self.agent or build_agent_view(self.settings),
            facts_types={p.id: p.facts_type for p in self.probe_classes if p.facts_type is not None},
        )
        self.state = state
        inherited = 0
        if self.given is not None:
            state.facts.update(self.given.facts)
            state.facts_types = {**self.given.facts_types, **state.facts_types}
            state.findings.extend(self.given.findings)
            inherited = len(state.findings)
            self._ids.update(f.id for f in self.given.findings)
        selected = {p.id: p for p in self.probe_classes}
        self._done = {pid: asyncio.Event() for pid in selected}
        for p in self.probe_classes:
            self._emit(ProbeQueued(p.id, p.layer.value, p.description))
        cycles = _find_cycle_members(self.probe_classes)
        statuses: dict[str, Status] = {}
        await asyncio.gather(
            *(self._run_one(p, selected, state, cycles, statuses) for p in self.probe_classes)
        )
        # Probes run concurrently: a failure may have landed before the one that explains it.
        for finding in state.findings[inherited:]:  # (given findings belong to the run that made them)
            finding.caused_by = fold(state.findings, finding)
        report = Report(
            findings=state.findings[inherited:],
            settings=self.settings.public_dict(self.probe_classes),
            started_at=started_wall.isoformat(timespec="seconds"),
            duration_ms=(time.monotonic() - t0) * 1000.0,
            probes=[
                {"id": p.id, "layer": p.layer.value, "description": p.description,
                 "status": statuses.get(p.id, Status.SKIP).value}
                for p in self.probe_classes
            ],
        )
        self._emit(RunFinished(report))
        return report

    async def _run_one(
        self,
        cls: type[Probe],
        selected: dict[str, type[Probe]],
        state: RunState,
        cycles: set[str],
        statuses: dict[str, Status],
    ) -> None:
        ctx = Context(state, cls.id, cls.layer, getattr(cls, "rests_on", ()), cls.facts_type, cls.options)
        cancelled = False
        try:
            if cls.id in cycles:
                self._record(state, ctx.finding(
                    cls.id, Status.ERROR, f"Probe {cls.id} is part of a dependency cycle",
                    detail="Its requires/after declarations form a loop; it was not run.",
                ))
                return
            deps = [d for d in (*cls.requires, *cls.after) if d in self._done]
            if deps:
                try:
                    # A dependency still running at the deadline is cut then; the grace lets its own
                    # "did not finish" finding land first, so this probe can point at it.
                    await asyncio.wait_for(asyncio.gather(*(self._done[d].wait() for d in deps)),
                                           timeout=max(0.0, ctx.remaining()) + _DEPENDENCY_GRACE)
                except Timeouts:
                    pass
            blocker = self._blocking_dependency(cls, selected, state)
            if blocker is not None:
                reason, caused_by = blocker
                self._record(state, ctx.finding(cls.id, Status.SKIP, f"Skipped: {reason}", caused_by=caused_by))
                return
            left = ctx.remaining()
            if deps and left <= ctx.reserve() + _MIN_START:
                # Too late for any network step (each leaves the reserve before the deadline):
                # starting would only run set-up code past the deadline; say why it did not run.
                causes = [c for c in (ctx.failure_of(d) for d in deps) if c]
                self._record(state, ctx.finding(
                    cls.id, Status.SKIP,
                    f"Not started: {max(left, 0.0):.2f} s of the run deadline "
                    f"({run_deadline(self.settings, self.probe_classes):g} s) "
                    f"was left after waiting for {', '.join(deps)}",
                    caused_by=causes[0] if causes else None,
                ))
                return
            self._emit(ProbeStarted(cls.id))
            await self._drive(cls, ctx, state)
        except asyncio.CancelledError:
            cancelled = True  # the run was cancelled (Ctrl-C): this probe did not finish
            raise
        finally:
            mine = [f.status for f in state.findings if f.probe == cls.id]
            statuses[cls.id] = worst(mine) if mine else Status.SKIP
            self._done[cls.id].set()
            if not cancelled:
                self._emit(ProbeFinished(cls.id, statuses[cls.id], (time.monotonic() - ctx._started) * 1000))

    def _blocking_dependency(
        self, cls: type[Probe], selected: dict[str, type[Probe]], state: RunState
    ) -> tuple[str, str | None] | None:
        """Why ``cls`` cannot run (reason, root finding id), or None when all it requires succeeded."""
        for dep in cls.requires:
            if dep not in selected:
                return f"it requires probe {dep}, which was not selected (--probe/--skip)", None
            dep_findings = [f for f in state.findings if f.probe == dep]
            if not self._done[dep].is_set():
                return f"probe {dep}, which it requires, did not finish before the deadline", dep
            bad = [f for f in dep_findings if f.status in (Status.FAIL, Status.ERROR)]
            if bad:
                root = resolve_root(bad[0].id, state.findings)
                return f"it requires {dep}, which failed ({bad[0].title})", root
            if dep_findings and all(f.status is Status.SKIP for f in dep_findings):
                first = dep_findings[0]
                root = resolve_root(first.id, state.findings) if first.caused_by else first.id
                return f"it requires {dep}, which was skipped", root
        return None

    async def _drive(self, cls: type[Probe], ctx: Context, state: RunState) -> None:
        count = 0
        try:
            instance = cls()

            async def consume() -> None:
                nonlocal count
                async for finding in instance.run(ctx):
                    if not isinstance(finding, Finding):
                        raise TypeError(f"probe yielded {type(finding).__name__}, not a Finding")
                    count += 1
                    self._record(state, finding)

            await asyncio.wait_for(consume(), timeout=max(0.001, ctx.remaining()))
        except (*Timeouts, DeadlineExceeded):
            budget = run_deadline(self.settings, self.probe_classes)
            # A dependency that failed (often by using up the budget on a peer that never answered)
            # is the cause; this probe only ran out of what was left.
            causes = [c for c in (ctx.failure_of(d) for d in (*cls.requires, *cls.after)) if c]
            self._record(state, ctx.finding(
                cls.id, Status.FAIL,
                f"{cls.id} did not finish within the run deadline ({budget:g} s)",
                detail="The run's deadline passed while this probe was still waiting on the network.",
                evidence={"deadline_s": budget},
                fixes=[_RAISE_TIMEOUT_FIX],
                caused_by=causes[0] if causes else None,
            ))
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            detail = f"{type(exc).__name__}: {exc}"
            if self.settings.run.debug:
                detail += "\n" + traceback.format_exc()
            self._record(state, ctx.finding(
                cls.id, Status.ERROR, f"Probe {cls.id} broke: {type(exc).__name__}",
                detail=detail,
            ))
            return
        if count == 0:
            self._record(state, ctx.finding(
                cls.id, Status.ERROR, f"Probe {cls.id} produced no finding",
                detail="Every probe must report at least one finding; this is a bug in the probe.",
            ))


def _find_cycle_members(probes: list[type[Probe]]) -> set[str]:
    graph = {p.id: [d for d in (*p.requires, *p.after)] for p in probes}
    members: set[str] = set()
    for start in graph:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, []):
                if nxt == start:
                    members.update(path)
                elif nxt not in path and nxt in graph:
                    stack.append((nxt, [*path, nxt]))
    return members


class _DaemonThreads(ThreadPoolExecutor):
    """The loop's default executor for a headless run: blocking calls (``asyncio.to_thread``,
    ``getaddrinfo``) on daemon worker threads, and no waiting for them at shutdown.

    The runner abandons a probe at the deadline, but a thread stuck in a blocking call (a peer that
    never answers, an ``open()`` of a FIFO named by hostile settings) cannot be stopped; the stock
    executor would then keep the finished process alive forever, at ``asyncio.run``'s executor
    shutdown and again at interpreter exit.

    A worker that finished its call takes the next; a new one is started only when none is idle
    (``Thread.start()`` waits in the loop's thread until the new thread runs, and a fleet's hundreds
    of targets each starting a thread per call on a saturated machine stalled the loop). There is no
    cap: as before, every call runs at once, and a stuck call never delays another.
    """

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self._jobs: deque[tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = deque()
        self._ready = threading.Condition(threading.Lock())
        self._idle = 0  # workers waiting in _ready.wait() (a notified one counts until it wakes)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._ready:
            self._jobs.append((future, fn, args, kwargs))
            # Every job not yet taken has a waiting worker of its own, or a new one is started.
            start = self._idle < len(self._jobs)
            if not start:
                self._ready.notify()
        if start:
            threading.Thread(target=self._work, name="jnlpdiag-blocking", daemon=True).start()
        return future

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._jobs:
                    self._idle += 1
                    try:
                        self._ready.wait()
                    finally:
                        self._idle -= 1
                future, fn, args, kwargs = self._jobs.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)
            del future, fn, args, kwargs  # nothing of a finished job is kept while waiting for the next

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        return None


def _quiet_cancellations(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Ctrl-C cancels the run: futures that end cancelled (gathers of waiting dependents) are
    expected then, not errors to print with a traceback ("exception was never retrieved")."""
    exc = context.get("exception")
    if isinstance(exc, asyncio.CancelledError):
        return
    # A network step abandoned when the run's deadline cut its probe may end with its own error
    # (a connect that timed out) that nobody is left to read: expected, and already reported as
    # the probe's "did not finish" finding.
    if "never retrieved" in str(context.get("message", "")) and isinstance(exc, (OSError, TimeoutError, HttpError)):
        return
    loop.default_exception_handler(context)


_signalled: set[int] = set()  # ids of main tasks cancelled by SIGINT/SIGTERM


def _on_signal(task: asyncio.Task[Any]) -> None:
    _signalled.add(id(task))
    task.cancel()


def prepare_loop() -> None:
    """The running loop as every run needs it: daemon worker threads, quiet cancellations, and
    SIGINT/SIGTERM cancelling the main task (so every ``finally`` of every probe runs and temp
    files are removed) instead of raising wherever the interpreter happens to be, which can break
    asyncio's own state midway. Call it first thing in the coroutine given to :func:`run_main`."""
    loop = asyncio.get_running_loop()
    loop.set_default_executor(_DaemonThreads())
    loop.set_exception_handler(_quiet_cancellations)
    main = asyncio.current_task()
    if main is None or threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, _on_signal, main)
        except (NotImplementedError, RuntimeError, ValueError):
            pass


def run_main(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run`` of ``make()`` with :func:`prepare_loop`; a signal ends it as KeyboardInterrupt."""

    async def main() -> T:
        prepare_loop()
        task = asyncio.current_task()
        try:
            return await make()
        except asyncio.CancelledError:
            if id(task) in _signalled:
                raise KeyboardInterrupt from None
            raise
        finally:
            _signalled.discard(id(task))

    return asyncio.run(main())


def run_sync(
    probes: list[type[Probe]], settings: Settings, on_event: EventHandler | None = None,
    *, agent: AgentView | None = None,
) -> Report:
    return run_main(lambda: Runner(probes, settings, on_event, agent=agent).run())
