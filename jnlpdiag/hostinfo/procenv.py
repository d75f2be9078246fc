"""Another process's environment, by name: only the variables asked for are kept.

``/proc/<pid>/environ`` also holds ``JENKINS_SECRET``; callers name the variables they judge and
nothing else is returned. Needs the process's user or ``CAP_SYS_PTRACE`` (ptrace read access).
"""

from __future__ import annotations

from collections.abc import Iterable

_MAX_ENVIRON = 256 * 1024


def read_environ(pid: int, names: Iterable[str]) -> dict[str, str] | None:
    """``names`` from the environment ``pid`` started with; None when it cannot be read."""
    wanted = set(names)
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            raw = fh.read(_MAX_ENVIRON)
    except OSError:
        return None
    out: dict[str, str] = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        name = key.decode("utf-8", "replace")
        if sep and name in wanted:
            out[name] = value.decode("utf-8", "replace")
    return out
