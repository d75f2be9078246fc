"""``jnlpdiag logs`` on large logs: MB/s and peak RSS, beside grep reading the same file in the same run.

Two logs of SIZE MB each (default 200) are written to a temporary directory:

* day: what an agent writes in a long day: java.util.logging records (status lines, pings, work
  directory, build output) with the real excerpts of tests/reports/logs/ mixed in (0.2 % of records);
* flood: a retry loop, ``kubectl logs --timestamps`` style, one ``java.io.IOException: Connection
  refused`` per line (the 200 MB case of issue 17 that took 23.5 s and matched nothing).

Each is read by ``jnlpdiag logs --json`` (wall time and GNU time's maximum RSS) and by
``grep -c -F -f NEEDLES`` (the same needle prefilter, counting lines, no grouping or matching), and
``grep -c 'Connection refused'``. Prints MB/s and the ratio; asserts nothing.

Run: python benchmarks/bench_logs.py [SIZE_MB]
"""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import env, peak_rss_mb  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def day_log(path: Path, size: int) -> None:
    rnd = random.Random(1)
    excerpts = [p.read_text(errors="replace") for p in sorted((ROOT / "tests" / "reports" / "logs").glob("*.log"))]
    noise = [
        "Dec 06, 2026 {t} PM hudson.remoting.Launcher$CuiListener status\nINFO: Connected\n",
        "Dec 06, 2026 {t} PM hudson.slaves.ChannelPinger$1 onDead\nINFO: Ping succeeded\n",
        "[Pipeline] sh\n+ make -j4 all\ngcc -O2 -c foo.c -o foo.o\n",
        "Dec 06, 2026 {t} PM org.jenkinsci.remoting.engine.WorkDirManager initializeWorkDir\n"
        "INFO: Using /home/jenkins/agent/remoting as a remoting work directory\n",
    ]
    written = 0
    with path.open("w") as fh:
        while written < size:
            if rnd.random() < 0.002:
                text = rnd.choice(excerpts)
            else:
                text = rnd.choice(noise).replace("{t}", f"{rnd.randint(1, 12)}:{rnd.randint(0, 59):02d}:00")
            fh.write(text)
            written += len(text)


def flood_log(path: Path, size: int) -> None:
    t0 = dt.datetime(2026, 12, 6)
    written, i = 0, 0
    with path.open("w") as fh:
        while written < size:
            stamp = (t0 + dt.timedelta(milliseconds=44 * i)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
            line = f"{stamp} java.io.IOException: Connection refused\n"
            fh.write(line)
            written += len(line)
            i += 1


def seconds(cmd: list[str], runs: int = 3) -> float:
    best = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env())
        best.append(time.perf_counter() - t)
    return sorted(best)[len(best) // 2]


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    needles = json.loads((ROOT / "jnlpdiag" / "data" / "log-signatures.json").read_text())["needles"]
    with tempfile.TemporaryDirectory() as d:
        needle_file = Path(d) / "needles.txt"
        needle_file.write_text("\n".join(needles) + "\n")
        for name, make in (("day", day_log), ("flood", flood_log)):
            log = Path(d) / f"{name}.log"
            make(log, size_mb * 1_000_000)
            mb = log.stat().st_size / 1e6
            ours_cmd = [sys.executable, "-m", "jnlpdiag", "logs", "--json", str(log)]
            out = subprocess.run(ours_cmd, capture_output=True, text=True, env=env())
            doc = json.loads(out.stdout)
            ours = seconds(ours_cmd)
            rss = peak_rss_mb(ours_cmd)
            grep_f = seconds(["grep", "-c", "-F", "-f", str(needle_file), str(log)])
            grep_1 = seconds(["grep", "-c", "Connection refused", str(log)])
            found = ", ".join(f"{f['id']} x{f['evidence'].get('occurrences', 1)}" for f in doc["findings"][:4])
            print(f"{name}: {mb:.0f} MB, {doc['lines']} lines -> {found}")
            print(f"  jnlpdiag logs        {ours:7.2f} s {mb / ours:8.1f} MB/s  peak RSS {rss or 0:.0f} MiB")
            print(f"  grep -c -F -f needles {grep_f:6.2f} s {mb / grep_f:8.1f} MB/s  ratio {grep_f / ours:.3f}")
            print(f"  grep -c 'Connection refused' {grep_1:6.2f} s {mb / grep_1:8.1f} MB/s  ratio {grep_1 / ours:.3f}")


if __name__ == "__main__":
    main()
