"""The runner: dependency order, concurrency, skips with caused_by, deadlines, errors, events."""

from __future__ import annotations

import asyncio
import time

import pytest

from jnlpdiag.findings import Finding, FindingError, Fix, Layer, Status, consequences, root_causes
from jnlpdiag.options import RunOptions
from jnlpdiag.probe_api import Context, Probe, probe
from jnlpdiag.runner import FindingEmitted, ProbeFinished, ProbeQueued, ProbeStarted, RunFinished, Runner, run_sync
from jnlpdiag.settings import Settings

FIX = [Fix("do the thing", steps=("thing --now",))]


def make(pid: str, status: str = "pass", layer: Layer = Layer.NETWORK, requires=(), after=(), delay: float = 0.0,
         boom: bool = False) -> type[Probe]:
    @probe(id=pid, layer=layer, description=f"test probe {pid}", requires=requires, after=after)
    async def run(ctx: Context):
        if delay:
            await asyncio.sleep(delay)
        if boom:
            raise RuntimeError("kaboom")
        ctx.publish(value=pid)
        yield ctx.finding(pid, status, f"{pid} says {status}", fixes=FIX if status in ("warn", "fail") else ())

    return run


def test_dependents_are_skipped_with_the_root_cause():
    a = make("a", "fail")
    b = make("b", requires=("a",))
    c = make("c", requires=("b",))
    report = run_sync([a, b, c], Settings(run=RunOptions(timeout=5)))
    by_id = {f.id: f for f in report.findings}
    assert by_id["b"].status is Status.SKIP and by_id["b"].caused_by == "a"
    assert by_id["c"].status is Status.SKIP and by_id["c"].caused_by == "a"
    assert [f.id for f in report.root_causes()] == ["a"]
    assert {f.id for f in consequences("a", report.findings)} == {"b", "c"}
    assert report.exit_code == 2


def test_probes_run_concurrently_and_in_dependency_order():
    order: list[str] = []

    def tracked(pid: str, requires=()):
        @probe(id=pid, layer="network", description="t", requires=requires)
        async def run(ctx: Context):
            await asyncio.sleep(0.3)
            order.append(pid)
            yield ctx.finding(pid, "pass", pid)

        return run

    t0 = time.monotonic()
    report = run_sync([tracked("x"), tracked("y"), tracked("z", requires=("x",))], Settings(run=RunOptions(timeout=5)))
    elapsed = time.monotonic() - t0
    assert order.index("z") > order.index("x")
    assert elapsed < 0.3 * 3  # x and y overlap; z waits only for x
    assert report.status is Status.PASS


def test_soft_dependency_reads_facts_and_runs_even_after_failure():
    seen = {}

    @probe(id="reader", layer="protocol", description="t", after=("a",))
    async def reader(ctx: Context):
        seen["value"] = ctx.facts("a").get("value")
        seen["failure"] = ctx.failure_of("a")
        yield ctx.finding("reader", "pass", "read")

    run_sync([make("a", "fail"), reader], Settings(run=RunOptions(timeout=5)))
    assert seen == {"value": "a", "failure": "a"}


def test_a_broken_probe_is_an_error_without_traceback_unless_debug():
    report = run_sync([make("bad", boom=True)], Settings(run=RunOptions(timeout=5)))
    f = report.findings[0]
    assert f.status is Status.ERROR and "RuntimeError: kaboom" in f.detail and "Traceback" not in f.detail
    assert report.exit_code == 3
    report = run_sync([make("bad", boom=True)], Settings(run=RunOptions(timeout=5, debug=True)))
    assert "Traceback" in report.findings[0].detail


def test_a_probe_that_yields_nothing_is_an_error():
    @probe(id="silent", layer="host", description="t")
    async def silent(ctx: Context):
        return
        yield  # pragma: no cover

    report = run_sync([silent], Settings(run=RunOptions(timeout=5)))
    assert report.findings[0].status is Status.ERROR


def test_deadline_cuts_a_slow_probe_and_skips_its_dependents():
    slow = make("slow", delay=30)
    dep = make("dep", requires=("slow",))
    t0 = time.monotonic()
    report = run_sync([slow, dep], Settings(run=RunOptions(timeout=0.5)))
    assert time.monotonic() - t0 < 0.5 * 1.1 + 0.2
    by_id = {f.id: f for f in report.findings}
    assert by_id["slow"].status is Status.FAIL and "deadline" in by_id["slow"].title
    assert by_id["dep"].status is Status.SKIP


def test_step_timeout_never_passes_the_deadline():
    budgets = []

    @probe(id="steps", layer="network", description="t")
    async def steps(ctx: Context):
        budgets.append(ctx.step_timeout())
        await asyncio.sleep(0.3)
        budgets.append(ctx.step_timeout())
        yield ctx.finding("steps", "pass", "ok")

    run_sync([steps], Settings(run=RunOptions(timeout=1.0)))
    assert budgets[0] <= 1.0 and budgets[1] < 0.75


def test_dependency_cycle_is_reported_not_hung():
    report = run_sync([make("p", requires=("q",)), make("q", requires=("p",))], Settings(run=RunOptions(timeout=2)))
    assert {f.status for f in report.findings} == {Status.ERROR}


def test_excluded_requirement_skips_with_reason():
    report = run_sync([make("b", requires=("a",))], Settings(run=RunOptions(timeout=2)))
    assert report.findings[0].status is Status.SKIP and "not selected" in report.findings[0].title


def test_events_in_order():
    events = []
    asyncio.run(Runner([make("a"), make("b", requires=("a",))], Settings(run=RunOptions(timeout=2)), events.append).run())
    kinds = [type(e).__name__ for e in events]
    assert kinds[:2] == ["ProbeQueued", "ProbeQueued"]
    assert isinstance(events[-1], RunFinished)
    a_events = [e for e in events if getattr(e, "probe_id", None) == "a" or (
        isinstance(e, FindingEmitted) and e.finding.probe == "a")]
    assert [type(e) for e in a_events] == [ProbeQueued, ProbeStarted, FindingEmitted, ProbeFinished]


def test_root_causes_are_ordered_by_layer():
    findings = [
        Finding("p.1", "p", Layer.PROTOCOL, Status.FAIL, "proto", fixes=FIX),
        Finding("h.1", "h", Layer.HOST, Status.FAIL, "host", fixes=FIX),
        Finding("n.1", "n", Layer.NETWORK, Status.FAIL, "net", fixes=FIX, caused_by="h.1"),
    ]
    assert [f.id for f in root_causes(findings)] == ["h.1", "p.1"]


def test_model_refuses_a_failure_without_fix_and_multiline_titles():
    with pytest.raises(FindingError):
        Finding("x", "x", Layer.HOST, Status.FAIL, "no fix")
    with pytest.raises(FindingError):
        Finding("x", "x", Layer.HOST, Status.PASS, "two\nlines")


def test_finding_round_trips_through_dict():
    f = Finding("a.b", "a", Layer.HOST, Status.WARN, "t", "d", {"k": [1]}, FIX, None, 12.5)
    assert Finding.from_dict(f.to_dict()) == f


def test_worst_status():
    from jnlpdiag.findings import worst

    assert worst([]) is Status.PASS
    assert worst([Status.SKIP, Status.SKIP]) is Status.SKIP
    assert worst([Status.SKIP, Status.PASS]) is Status.PASS
    assert worst([Status.PASS, Status.WARN, Status.SKIP]) is Status.WARN
    assert worst([Status.FAIL, Status.ERROR]) is Status.ERROR


def test_titles_quoting_outside_text_stay_one_bounded_line():
    @probe(id="quoting", layer="network", description="t")
    async def quoting(ctx: Context):
        yield ctx.finding("quoting", "fail", "server said: HTTP/1.1 400 Bad\r\nX-Evil: 1\n" + "x" * 1000, fixes=FIX)

    f = run_sync([quoting], Settings(run=RunOptions(timeout=2))).findings[0]
    assert f.status is Status.FAIL and "\n" not in f.title and len(f.title) <= 300
