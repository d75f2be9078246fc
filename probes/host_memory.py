"""host.memory: will the agent JVM fit in its container, and has the OOM killer struck already?

Agents in containers die silently when the kernel's OOM killer picks them: no stack trace, the
controller just sees the channel close. This probe reads the memory cgroup of the agent (the
running agent's, else jnlpdiag's own: run it in the agent's container) for the hard limit,
current use and the OOM-kill count (:mod:`jnlpdiag.hostinfo.cgroup`), asks the agent's JVM how big
its heap may grow with the agent's options (``-Xmx``, ``-XX:MaxRAMPercentage``...,
:mod:`jnlpdiag.hostinfo.jvmheap`), and compares heap plus an estimate of non-heap memory with
the limit.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

from jnlpdiag.findings import Finding, Layer, Status
from jnlpdiag.fixcatalog import fix
from jnlpdiag.hostinfo.cgroup import CgroupError, MemoryCgroup, read_memory_cgroup
from jnlpdiag.hostinfo.data import hostchecks
from jnlpdiag.hostinfo.jvmheap import (
    JvmSizing,
    ask_jvm,
    estimate_max_heap,
    estimate_overhead,
    heap_options,
    host_memory_bytes,
)
from jnlpdiag.hostinfo.units import human_bytes
from jnlpdiag.probe_api import Context, Probe

from .host_java import HostJavaProbe

_CATALOG = "host_memory"
_MIB = 1 << 20


def _java8_update(version: str | None) -> int | None:
    """``1.8.0_181`` -> 181 (None for other versions)."""
    m = re.match(r"^1\.8\.0_(\d+)", version or "")
    return int(m.group(1)) if m else None


class HostMemoryProbe(Probe):
    id = "host.memory"
    layer = Layer.HOST
    description = "Container/cgroup memory limit, OOM kills, and the agent JVM's heap against that limit"
    after = ("host.java",)

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        view = ctx.agent
        whose = (f"agent process {view.pid}" if view.pid
                 else "jnlpdiag's own (run it in the agent's container)")
        try:
            cg: MemoryCgroup | None = await asyncio.to_thread(read_memory_cgroup, view.proc)
        except CgroupError as exc:
            cg = None
            yield ctx.finding(f"{self.id}.limit", Status.SKIP, f"No memory cgroup to read: {exc}",
                              detail=f"Cgroup of {whose}.", evidence={"reason": str(exc)})
        ram = host_memory_bytes()
        limit = cg.limit_bytes if cg else None
        if cg is not None:
            evidence: dict[str, Any] = {**cg.to_dict(), "whose": whose, "host_ram_bytes": ram}
            if limit is None:
                yield ctx.finding(f"{self.id}.limit", Status.PASS,
                                  f"No memory limit on cgroup {cg.cgroup_path} (host RAM {human_bytes(ram)})",
                                  evidence=evidence)
            else:
                usage = cg.usage_bytes
                pct = round(100 * usage / limit) if usage is not None and limit else None
                values = {"percent": pct, "usage": human_bytes(usage), "limit": human_bytes(limit),
                          "directory": cg.directory}
                near = pct is not None and pct >= 100 * hostchecks()["memory"]["usage_warn_fraction"]
                yield ctx.finding(
                    f"{self.id}.limit", Status.WARN if near else Status.PASS,
                    f"Memory limit {human_bytes(limit)}, {human_bytes(usage)} in use ({pct}%)" if pct is not None
                    else f"Memory limit {human_bytes(limit)}",
                    detail=f"cgroup v{cg.version} {cg.cgroup_path}; the limit is set at {cg.limit_set_at}.",
                    evidence=evidence, fixes=[fix(_CATALOG, "near_limit", **values)] if near else [],
                )
            if cg.oom_kills is None:
                yield ctx.finding(f"{self.id}.oom", Status.SKIP, "This kernel does not count OOM kills per cgroup",
                                  detail="memory.events (v2) / memory.oom_control oom_kill (v1, Linux 4.13+) "
                                         "is absent.")
            elif cg.oom_kills > 0:
                events_file = f"{cg.directory}/" + ("memory.events" if cg.version == 2 else "memory.oom_control")
                yield ctx.finding(
                    f"{self.id}.oom", Status.WARN,
                    f"The OOM killer has killed {cg.oom_kills} process{'es' if cg.oom_kills > 1 else ''} "
                    "in this cgroup",
                    detail="An agent or build process killed this way disappears without a Java stack trace; the "
                           "controller only sees the channel close.",
                    evidence={"oom_kills": cg.oom_kills, "oom_events": cg.oom_events, "max_events": cg.max_events,
                              "failcnt": cg.failcnt, "file": events_file},
                    fixes=[fix(_CATALOG, "oom_kills", count=cg.oom_kills, events_file=events_file)],
                )
            else:
                yield ctx.finding(f"{self.id}.oom", Status.PASS, "No OOM kills recorded in this cgroup",
                                  evidence={"oom_kills": 0, "file_values": cg.files.get("memory.events")
                                            or cg.files.get("memory.oom_control")})

        # The heap: asked of the agent's JVM with the agent's sizing options, else estimated.
        java_facts = ctx.facts(HostJavaProbe)
        java = java_facts.java_executable
        if java is None and view.java is not None:
            java = view.java.executable
        opts = heap_options(view.jvm_words)
        sizing: JvmSizing | None = None
        if java is not None and limit is not None:  # without a limit, the options alone tell enough
            # When jnlpdiag is not in the agent's cgroup, tell the JVM the agent's limit.
            max_ram = None
            if view.pid and limit is not None and opts.max_ram is None:
                try:
                    mine = await asyncio.to_thread(read_memory_cgroup, "self")
                    max_ram = None if mine.directory == cg.directory else limit  # type: ignore[union-attr]
                except CgroupError:
                    max_ram = limit
            sizing = await ask_jvm(java, opts.sizing_words, ctx.step_timeout(cap=30), max_ram, env=view.env)
        visible = limit if limit is not None and opts.use_container_support is not False else ram
        if sizing is not None and sizing.error is None and sizing.size("MaxHeapSize"):
            heap = sizing.size("MaxHeapSize") or 0
            source = f"{java} -XX:+PrintFlagsFinal with {' '.join(opts.sizing_words) or 'no sizing options'}"
        elif visible is not None:
            heap, how = estimate_max_heap(opts, visible)
            source = f"estimated from the options ({how})"
        else:
            yield ctx.finding(f"{self.id}.heap", Status.SKIP, "Cannot tell the JVM's heap size",
                              detail="No JVM to ask and no memory size to estimate from.")
            return
        overhead = estimate_overhead(heap, sizing if sizing and sizing.error is None else None)
        total = heap + sum(overhead.values())
        evidence = {"heap_max_bytes": heap, "heap_source": source, "jvm_options": opts.sizing_words,
                    "non_heap_estimate": overhead, "heap_plus_non_heap_bytes": total, "limit_bytes": limit}
        if sizing is not None:
            evidence["jvm"] = sizing.to_dict()
        suggest_heap = f"{max(64, int((limit or ram or 0) * 0.5) // _MIB)}m"
        values = {"limit": human_bytes(limit), "heap": human_bytes(heap), "overhead": human_bytes(total - heap),
                  "suggest_heap": suggest_heap, "suggest_limit": f"{-(-total // (64 * _MIB)) * 64}Mi",
                  "ram": human_bytes(ram), "version": java_facts.java_version}
        update = _java8_update(java_facts.java_version)
        if limit is None:
            if ram is not None and heap > ram:
                yield ctx.finding(f"{self.id}.heap", Status.WARN,
                                  f"The heap may grow to {human_bytes(heap)}, more than this host's {human_bytes(ram)}",
                                  evidence=evidence, fixes=[fix(_CATALOG, "heap_over_ram", **values)])
            else:
                yield ctx.finding(f"{self.id}.heap", Status.PASS,
                                  f"Heap up to {human_bytes(heap)}; no cgroup memory limit", evidence=evidence)
            return
        fixes = [fix(_CATALOG, "heap_over_limit", **values)]
        if update is not None and update < 191 and opts.max_heap is None:
            fixes.insert(0, fix(_CATALOG, "jvm_ignores_limit", **values))
        if heap >= limit:
            yield ctx.finding(
                f"{self.id}.heap", Status.FAIL,
                f"The heap may grow to {human_bytes(heap)}, at or above the {human_bytes(limit)} memory limit",
                detail="Once the heap fills past the limit the kernel OOM-kills the agent: it vanishes without a "
                       "Java error.", evidence=evidence, fixes=fixes)
        elif total > limit:
            yield ctx.finding(
                f"{self.id}.heap", Status.WARN,
                f"Heap {human_bytes(heap)} plus ~{human_bytes(total - heap)} non-heap exceeds the "
                f"{human_bytes(limit)} limit",
                detail="Metaspace, code cache, thread stacks and GC structures live outside the heap and count "
                       "against the same limit (as do build processes in the same container).",
                evidence=evidence, fixes=fixes)
        else:
            yield ctx.finding(f"{self.id}.heap", Status.PASS,
                              f"Heap up to {human_bytes(heap)} plus ~{human_bytes(total - heap)} non-heap fits the "
                              f"{human_bytes(limit)} limit", evidence=evidence)
