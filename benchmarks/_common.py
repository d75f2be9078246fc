"""Shared helpers for the benchmark scripts: whole-process timing and peak RSS.

Timing: median wall time of N runs of a whole command (subprocess, no shell). Peak RSS: GNU time's
``Maximum resident set size`` from ``/usr/bin/time -v``. Every figure is printed beside a peer
measured in the same run, as a ratio, never asserted.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time


def env() -> dict[str, str]:
    drop = ("JENKINS_", "JAVA_OPTS", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def median_seconds(cmd: list[str], runs: int = 7, warmup: int = 1) -> float:
    for _ in range(warmup):
        subprocess.run(cmd, capture_output=True, env=env())
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env())
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def peak_rss_mb(cmd: list[str]) -> float | None:
    if not os.path.exists("/usr/bin/time"):
        return None
    out = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env())
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)
    return int(m.group(1)) / 1024 if m else None


def jnlpdiag(*args: str) -> list[str]:
    return [sys.executable, "-m", "jnlpdiag", *args]


def row(name: str, value: float, unit: str, peer_name: str, peer: float, target: str) -> None:
    ratio = value / peer if peer else float("nan")
    print(f"{name:<44} {value:9.3f} {unit:<3} | {peer_name:<34} {peer:9.3f} {unit:<3} | ratio {ratio:6.2f}  ({target})")


def self_rss_mb(args: list[str]) -> float:
    """Peak RSS of the jnlpdiag process alone (RUSAGE_SELF), without its child processes."""
    code = ("import sys, io, contextlib, resource\n"
            "from jnlpdiag.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(sys.argv[1:])\n    except SystemExit:\n        pass\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env())
    return int(out.stdout.strip().splitlines()[-1]) / 1024
