"""Ctrl-C during a run: one line saying what finished, exit 130 (128 + SIGINT, as shells report it)."""

from __future__ import annotations

import time

from jnlpdiag.runner import Event, ProbeFinished, ProbeQueued

EXIT_INTERRUPTED = 130


class Progress:
    """An event handler that remembers which probes finished, with their status, for the one line
    printed when the run is interrupted."""

    def __init__(self) -> None:
        self._t0 = time.monotonic()
        self.queued: list[str] = []
        self.finished: dict[str, str] = {}

    def __call__(self, event: Event) -> None:
        if isinstance(event, ProbeQueued):
            self.queued.append(event.probe_id)
        elif isinstance(event, ProbeFinished):
            self.finished[event.probe_id] = event.status.value

    def interrupted_line(self) -> str:
        done = ", ".join(f"{pid} {status}" for pid, status in self.finished.items()) or "nothing"
        left = [pid for pid in self.queued if pid not in self.finished]
        tail = f"; not finished: {', '.join(left)}" if left else ""
        return (f"jnlpdiag: interrupted after {time.monotonic() - self._t0:.1f} s; "
                f"finished: {done}{tail}")
