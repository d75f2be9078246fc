"""The memory cgroup of a process: limit, usage, and how often the OOM killer struck.

cgroup v2 (kernel ``Documentation/admin-guide/cgroup-v2.rst``, "Memory Interface Files"):
``memory.max`` ("max" or bytes; a hard limit, the OOM killer runs when it is reached),
``memory.high``, ``memory.current``, ``memory.peak``, and ``memory.events`` with the keys ``low``,
``high``, ``max``, ``oom``, ``oom_kill`` ("The number of processes belonging to this cgroup killed
by any kind of OOM killer"; hierarchical unless mounted with ``memory_localevents``). The path of
a process's cgroup is the ``0::<path>`` line of ``/proc/<pid>/cgroup`` (same document, "Processes").
A parent's ``memory.max`` also binds its children, so the effective limit is the smallest on the
way up to the root of the mount.

cgroup v1 (``Documentation/admin-guide/cgroup-v1/memory.rst``): ``memory.limit_in_bytes``,
``memory.usage_in_bytes``, ``memory.max_usage_in_bytes``, ``memory.failcnt``, ``memory.oom_control``
(``oom_kill`` since Linux 4.13) and ``memory.stat`` whose ``hierarchical_memory_limit`` is the
effective limit including the parents'. "No limit" is a huge page-rounded number there
(``PAGE_COUNTER_MAX``), shown as None here.

Paths under ``/sys/fs/cgroup`` come from ``/proc/<pid>/mountinfo``: the cgroup path minus the
mount's root, under the mount point (the same mapping container runtimes rely on).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from jnlpdiag.hostinfo import mountinfo

_UNLIMITED_V1 = 1 << 60  # anything this large is "no limit" (PAGE_COUNTER_MAX * page size)
_MAX_FILE = 64 * 1024


class CgroupError(Exception):
    """The memory cgroup cannot be read; ``reason`` says why (for a skip finding)."""


@dataclass
class MemoryCgroup:
    version: int
    cgroup_path: str
    directory: str
    limit_bytes: int | None = None  # effective hard limit; None: unlimited
    limit_set_at: str | None = None  # directory whose limit is the effective one (v2)
    high_bytes: int | None = None
    usage_bytes: int | None = None
    peak_bytes: int | None = None
    oom_kills: int | None = None
    oom_events: int | None = None  # v2 "oom": times the limit was hit and reclaim failed
    max_events: int | None = None  # v2 "max": times usage was about to exceed memory.max
    failcnt: int | None = None  # v1: times the limit was hit
    swap_limit_bytes: int | None = None
    files: dict[str, str] = field(default_factory=dict)  # file -> raw first line, for evidence

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v != {}}


def _read(path: str) -> str:
    with open(path, encoding="ascii", errors="replace") as fh:
        return fh.read(_MAX_FILE)


def _int_or_max(text: str) -> int | None:
    value = text.strip()
    if value == "max":
        return None
    number = int(value)
    return None if number >= _UNLIMITED_V1 else number


def _keyed(text: str) -> dict[str, int]:
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            out[key] = int(value)
    return out


def parse_proc_cgroup(text: str) -> tuple[str | None, str | None]:
    """(v2 path, v1 memory path) from ``/proc/<pid>/cgroup`` lines ``id:controllers:path``."""
    v2 = v1 = None
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hid, controllers, path = parts
        if hid == "0" and controllers == "":
            v2 = path
        elif "memory" in controllers.split(","):
            v1 = path
    return v2, v1


def _directory(mount: mountinfo.Mount, cgroup_path: str, fs_root: str) -> str:
    root = mount.root.rstrip("/")
    if not root:
        rel = cgroup_path
    elif cgroup_path == root or cgroup_path.startswith(root + "/"):
        rel = cgroup_path[len(root):]
    else:
        rel = "/"  # our cgroup lies outside what the mount shows (common in containers): its top
    return os.path.normpath(fs_root + mount.mount_point + "/" + rel.lstrip("/"))


def read_memory_cgroup(pid: int | str = "self", proc_root: str = "/proc", fs_root: str = "") -> MemoryCgroup:
    """The memory cgroup of ``pid``. ``proc_root``/``fs_root`` let tests point at a fixture tree."""
    try:
        proc_text = _read(f"{proc_root}/{pid}/cgroup")
        mounts = mountinfo.parse(_read(f"{proc_root}/{pid}/mountinfo"))
    except OSError as exc:
        raise CgroupError(f"cannot read /proc/{pid}/cgroup or mountinfo: {exc.strerror or exc}") from None
    v2_path, v1_path = parse_proc_cgroup(proc_text)
    v1_mount = next((m for m in mounts if m.fstype == "cgroup" and "memory" in m.super_options), None)
    v2_mount = next((m for m in mounts if m.fstype == "cgroup2"), None)
    if v1_path is not None and v1_mount is not None:
        return _read_v1(v1_path, _directory(v1_mount, v1_path, fs_root))
    if v2_path is not None and v2_mount is not None:
        top = os.path.normpath(fs_root + v2_mount.mount_point)
        return _read_v2(v2_path, _directory(v2_mount, v2_path, fs_root), top)
    raise CgroupError("no memory cgroup: neither a cgroup v1 memory hierarchy nor cgroup v2 is mounted")


def _read_v2(cgroup_path: str, directory: str, top: str) -> MemoryCgroup:
    cg = MemoryCgroup(2, cgroup_path, directory)
    try:
        controllers = _read(os.path.join(directory, "cgroup.controllers")).split()
    except OSError as exc:
        raise CgroupError(f"cannot read {directory}/cgroup.controllers: {exc.strerror or exc}") from None
    if "memory" not in controllers and not os.path.exists(os.path.join(directory, "memory.max")):
        raise CgroupError(f"the memory controller is not enabled for {cgroup_path} (cgroup.controllers: "
                          f"{' '.join(controllers) or 'empty'})")
    # The effective limit: the smallest memory.max from here up to the top of the mount.
    here = directory
    while True:
        try:
            raw = _read(os.path.join(here, "memory.max"))
        except FileNotFoundError:
            raw = ""  # the root cgroup has no memory.max
        except OSError as exc:
            raise CgroupError(f"cannot read {here}/memory.max: {exc.strerror or exc}") from None
        if raw.strip():
            if here == directory:
                cg.files["memory.max"] = raw.strip()
            limit = _int_or_max(raw)
            if limit is not None and (cg.limit_bytes is None or limit < cg.limit_bytes):
                cg.limit_bytes, cg.limit_set_at = limit, here
        if here == top or len(here) <= len(top):
            break
        here = os.path.dirname(here)
    _read_optional(cg, directory, (("memory.high", "high_bytes"), ("memory.current", "usage_bytes"),
                                   ("memory.peak", "peak_bytes"), ("memory.swap.max", "swap_limit_bytes")))
    try:
        events = _keyed(_read(os.path.join(directory, "memory.events")))
        cg.files["memory.events"] = " ".join(f"{k}={v}" for k, v in events.items())
        cg.oom_kills, cg.oom_events, cg.max_events = events.get("oom_kill"), events.get("oom"), events.get("max")
    except OSError:
        pass
    return cg


def _read_optional(cg: MemoryCgroup, directory: str, files: tuple[tuple[str, str], ...]) -> None:
    """Interface files a kernel may lack (memory.peak, memsw, ...): each read into ``cg`` if present."""
    for name, attr in files:
        try:
            raw = _read(os.path.join(directory, name))
        except OSError:
            continue
        cg.files[name] = raw.strip()
        try:
            setattr(cg, attr, int(raw) if attr == "failcnt" else _int_or_max(raw))
        except ValueError:
            pass


def _read_v1(cgroup_path: str, directory: str) -> MemoryCgroup:
    cg = MemoryCgroup(1, cgroup_path, directory)
    try:
        raw = _read(os.path.join(directory, "memory.limit_in_bytes"))
    except OSError as exc:
        raise CgroupError(f"cannot read {directory}/memory.limit_in_bytes: {exc.strerror or exc}") from None
    cg.files["memory.limit_in_bytes"] = raw.strip()
    try:
        cg.limit_bytes = _int_or_max(raw)
        cg.limit_set_at = directory if cg.limit_bytes is not None else None
    except ValueError:
        pass
    try:
        stat = _keyed(_read(os.path.join(directory, "memory.stat")))
        hier = stat.get("hierarchical_memory_limit")
        if hier is not None and hier < _UNLIMITED_V1 and (cg.limit_bytes is None or hier < cg.limit_bytes):
            cg.limit_bytes, cg.limit_set_at = hier, "a parent cgroup (memory.stat hierarchical_memory_limit)"
    except OSError:
        pass
    _read_optional(cg, directory, (("memory.usage_in_bytes", "usage_bytes"),
                                   ("memory.max_usage_in_bytes", "peak_bytes"), ("memory.failcnt", "failcnt"),
                                   ("memory.memsw.limit_in_bytes", "swap_limit_bytes")))
    try:
        oom = _keyed(_read(os.path.join(directory, "memory.oom_control")))
        cg.files["memory.oom_control"] = " ".join(f"{k}={v}" for k, v in oom.items())
        cg.oom_kills = oom.get("oom_kill")
    except OSError:
        pass
    return cg
