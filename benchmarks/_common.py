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


def tui_rss_mb(args: list[str], settle_s: float = 8.0) -> float | None:
    """Peak RSS of the TUI driven like a person would: in a detached 80x24 tmux session, quit with q.

    Returns None when tmux or /usr/bin/time is missing.
    """
    import shutil
    import tempfile

    if not shutil.which("tmux") or not os.path.exists("/usr/bin/time"):
        return None
    out = tempfile.NamedTemporaryFile(prefix="jnlpdiag-tui-rss-", suffix=".txt", delete=False).name
    session = f"jnlpdiag-bench-{os.getpid()}"
    cmd = " ".join(["/usr/bin/time", "-v", "-o", out, sys.executable, "-m", "jnlpdiag", "tui", *args])
    try:
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", cmd], check=True, env=env())
        time.sleep(settle_s)  # the run finishes and the screen settles
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=False)
        for _ in range(100):
            text = open(out).read() if os.path.exists(out) else ""
            if "Maximum resident set size" in text:
                m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
                return int(m.group(1)) / 1024 if m else None
            time.sleep(0.1)
        return None
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        if os.path.exists(out):
            os.unlink(out)
