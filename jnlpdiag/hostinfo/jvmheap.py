"""How big the agent JVM's heap may grow, from its options, asked of the JVM itself when possible.

The authority is the JVM: ``java <the agent's sizing options> -XX:+PrintFlagsFinal -version``
prints ``MaxHeapSize`` as HotSpot's ergonomics computed it (container-aware since JDK 10 and
8u191, ``-XX:+UseContainerSupport``). When no JVM can be run, :func:`estimate_max_heap` follows
HotSpot's ``Arguments::set_heap_size`` (src/hotspot/share/runtime/arguments.cpp, JDK 17):
``-Xmx``/``-XX:MaxHeapSize`` if given; else ``MaxRAMPercentage`` (default 25) of the memory the JVM
sees (``-XX:MaxRAM`` if given, else the container limit or host RAM), except on small machines
where ``MinRAMPercentage`` (default 50) of it is used when that is below the default
``MaxHeapSize`` (96 MiB scaled by 1.3 on 64-bit: ``ScaleForWordSize``). ``-XX:MaxRAMFraction=N``
(Java 8) means ``100/N`` percent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jnlpdiag.jvmrun import run_jvm

_SIZE = re.compile(r"^(\d+)([kKmMgGtT]?)$")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
DEFAULT_MAX_HEAP_64 = 130023424  # ScaleForWordSize(96 MiB) on 64-bit HotSpot
# Options that change heap or non-heap sizing; only these are passed to the JVM we ask.
_SIZING = re.compile(
    r"^-(Xmx|Xms|Xss|XX:(MaxHeapSize|InitialHeapSize|MaxRAM|MaxRAMPercentage|MinRAMPercentage|InitialRAMPercentage|"
    r"MaxRAMFraction|MinRAMFraction|[+-]UseContainerSupport|MaxMetaspaceSize|ReservedCodeCacheSize|"
    r"MaxDirectMemorySize|ThreadStackSize|[+-]Use\w+GC|ActiveProcessorCount)\b)"
)


def parse_size(text: str) -> int | None:
    """A HotSpot memory size: ``512m``, ``2G``, ``1048576``; None when malformed."""
    m = _SIZE.match(text.strip())
    return int(m.group(1)) * _UNITS[m.group(2).lower()] if m else None


@dataclass
class HeapOptions:
    max_heap: int | None = None
    max_heap_option: str | None = None
    max_ram: int | None = None
    max_ram_percentage: float | None = None
    min_ram_percentage: float | None = None
    max_ram_fraction: int | None = None
    use_container_support: bool | None = None
    thread_stack: int | None = None
    sizing_words: list[str] = field(default_factory=list)


def heap_options(words: list[str]) -> HeapOptions:
    """The sizing options among the JVM's option words; later ones win, as in HotSpot."""
    opts = HeapOptions()
    for word in words:
        if not _SIZING.match(word):
            continue
        opts.sizing_words.append(word)
        key, _, value = word.partition("=")
        if word.startswith("-Xmx"):
            opts.max_heap, opts.max_heap_option = parse_size(word[4:]), word
        elif key == "-XX:MaxHeapSize":
            opts.max_heap, opts.max_heap_option = parse_size(value), word
        elif word.startswith("-Xss"):
            opts.thread_stack = parse_size(word[4:])
        elif key == "-XX:MaxRAM":
            opts.max_ram = parse_size(value)
        elif key in ("-XX:MaxRAMPercentage", "-XX:MinRAMPercentage"):
            try:
                pct = float(value)
            except ValueError:
                continue
            if key == "-XX:MaxRAMPercentage":
                opts.max_ram_percentage = pct
            else:
                opts.min_ram_percentage = pct
        elif key == "-XX:MaxRAMFraction" and value.isdigit() and int(value) > 0:
            opts.max_ram_fraction = int(value)
        elif word.endswith("UseContainerSupport"):
            opts.use_container_support = word.startswith("-XX:+")
    return opts


def estimate_max_heap(opts: HeapOptions, visible_memory: int) -> tuple[int, str]:
    """(bytes, how) per HotSpot's ergonomics, for a JVM that sees ``visible_memory`` bytes."""
    if opts.max_heap is not None:
        return opts.max_heap, f"{opts.max_heap_option}"
    phys = opts.max_ram if opts.max_ram is not None else visible_memory
    pct = opts.max_ram_percentage
    if pct is None:
        pct = 100.0 / opts.max_ram_fraction if opts.max_ram_fraction else 25.0
    min_pct = opts.min_ram_percentage if opts.min_ram_percentage is not None else 50.0
    reasonable_max = int(phys * pct / 100)
    reasonable_min = int(phys * min_pct / 100)
    if reasonable_min < DEFAULT_MAX_HEAP_64:
        return reasonable_min, f"MinRAMPercentage={min_pct:g}% of {phys} bytes (small memory)"
    return max(reasonable_max, DEFAULT_MAX_HEAP_64), f"MaxRAMPercentage={pct:g}% of {phys} bytes"


def parse_flags_final(text: str) -> dict[str, str]:
    """``-XX:+PrintFlagsFinal`` lines ``type name = value {origin}`` as name -> value."""
    flags = {}
    for line in text.splitlines():
        m = re.match(r"^\s*\S+\s+(\w+)\s+:?=\s+(\S*)", line)
        if m:
            flags[m.group(1)] = m.group(2)
    return flags


@dataclass
class JvmSizing:
    flags: dict[str, str] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)
    error: str | None = None

    def size(self, name: str) -> int | None:
        value = self.flags.get(name)
        return int(value) if value is not None and value.isdigit() else None

    def to_dict(self) -> dict[str, Any]:
        keep = ("MaxHeapSize", "MaxRAM", "MaxRAMPercentage", "UseContainerSupport", "MaxMetaspaceSize",
                "ReservedCodeCacheSize", "MaxDirectMemorySize", "ThreadStackSize")
        out: dict[str, Any] = {k: self.flags[k] for k in keep if k in self.flags}
        if self.error:
            out["error"] = self.error
        return out


async def ask_jvm(java: str, sizing_words: list[str], timeout: float, max_ram: int | None = None,
                  env: Mapping[str, str] | None = None) -> JvmSizing:
    """Run ``java <sizing words> -XX:+PrintFlagsFinal -version`` (in ``env``, the agent's) and read
    the flags it settled on."""
    extra = [f"-XX:MaxRAM={max_ram}"] if max_ram is not None else []
    cmd = [java, *sizing_words, *extra, "-XX:+PrintFlagsFinal", "-version"]
    result = JvmSizing(command=cmd)
    run = await run_jvm(cmd, timeout, env=env)
    if run.error:
        result.error = run.error
        return result
    result.flags = parse_flags_final(run.stdout)
    if run.returncode != 0 or "MaxHeapSize" not in result.flags:
        tail = (run.stderr.strip().splitlines() or ["no output"])[0]
        result.error = f"{java} refused the options (exit {run.returncode}): {tail[:300]}"
    return result


def host_memory_bytes() -> int | None:
    """``MemTotal`` from ``/proc/meminfo``."""
    try:
        with open("/proc/meminfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def estimate_overhead(heap: int, sizing: JvmSizing | None) -> dict[str, int]:
    """Resident memory outside the heap, by category (``data/hostchecks.json`` ``jvm_overhead``).

    A category the JVM caps lower (``-XX:MaxMetaspaceSize``, ``-XX:ReservedCodeCacheSize``) uses
    that cap instead of the estimate.
    """
    from jnlpdiag.hostinfo.data import hostchecks

    est = hostchecks()["jvm_overhead"]
    metaspace = int(est["metaspace_bytes"])
    code = int(est["code_cache_bytes"])
    if sizing is not None:
        for name, current in (("MaxMetaspaceSize", metaspace), ("ReservedCodeCacheSize", code)):
            cap = sizing.size(name)
            if cap is not None and cap < current:
                if name == "MaxMetaspaceSize":
                    metaspace = cap
                else:
                    code = cap
    return {
        "metaspace": metaspace,
        "code_cache": code,
        "thread_stacks": int(est["threads"]) * int(est["resident_stack_bytes_per_thread"]),
        "gc": int(heap * float(est["gc_fraction_of_heap"])),
        "other": int(est["other_bytes"]),
    }
