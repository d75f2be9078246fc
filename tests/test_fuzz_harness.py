"""Every atheris target of fuzz/fuzz_parsers.py, for a bounded budget, in its own process.

Each target starts from its seed inputs (valid captures, reports, headers ...), runs 2000 inputs of
at most 4 KB with a per-input timeout, and must exit 0: libFuzzer exits non-zero on an exception the
parser does not document, on an input slower than the timeout, or on running out of memory. Longer
runs are for humans (see the harness's docstring).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris", reason="atheris is in the test extra: pip install -e '.[test]'")

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "fuzz" / "fuzz_parsers.py"
RUNS = 2000
BUDGET_S = 180  # per target, start-up and instrumentation included; far above what 2000 runs take


def _targets() -> list[str]:
    out = subprocess.run([sys.executable, str(HARNESS), "--list"], capture_output=True, text=True, check=True)
    return out.stdout.split()


TARGETS = _targets()


def test_every_target_is_listed():
    # The parsers issue 9 names, plus the core's and the transport's.
    for name in ("jnlp", "http_head", "report", "saved_report_file", "versions", "java_security", "mountinfo",
                 "log_signatures", "log_reader", "pcap", "pcap_stream", "jnlp4_headers"):
        assert name in TARGETS


# Targets that find a known bug within the budget; strict, so the mark goes once the owner fixes it.
KNOWN: dict[str, str] = {}  # target -> reason, for a known bug still open (strict xfail)


@pytest.mark.parametrize("target", [
    pytest.param(t, marks=pytest.mark.xfail(strict=True, reason=KNOWN[t])) if t in KNOWN else t for t in TARGETS])
def test_target_survives_a_bounded_run(target, tmp_path):
    seeds, out = tmp_path / "seeds", tmp_path / "out"
    out.mkdir()
    subprocess.run([sys.executable, str(HARNESS), "--seeds", target, str(seeds)], check=True, timeout=60)
    proc = subprocess.run(
        [sys.executable, str(HARNESS), target, f"-runs={RUNS}", "-max_len=4096", "-timeout=10", "-rss_limit_mb=1024",
         f"-artifact_prefix={tmp_path}/", "-seed=1", str(out), str(seeds)],
        capture_output=True, text=True, timeout=BUDGET_S, cwd=tmp_path,
        env={**os.environ, "PYTHONHASHSEED": "0"},  # with -seed=1: the same inputs in the same order every run
    )
    crash = [p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-", "slow-unit-"))]
    assert proc.returncode == 0 and not crash, (
        f"{target}: exit {proc.returncode}, artifacts {crash}\n{proc.stderr[-4000:]}")
    assert f"Done {RUNS} runs" in proc.stderr or "DONE" in proc.stderr, proc.stderr[-2000:]
