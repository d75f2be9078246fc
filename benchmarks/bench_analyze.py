"""``jnlpdiag analyze`` on large captures: MB/s and peak RSS, beside tcpdump reading the same file.

Two captures are written to a temporary directory (tests/peers/pcapgen.py: classic pcap, raw IP):

* big: 8 connections of long server-to-client streams, SIZE MB in all (default 1024);
* many records: 400,000 small packets over 20,000 connections (the case that peaked at 403 MB).

Each is read by ``jnlpdiag analyze --json`` (GNU time: wall and maximum RSS; target: under 100 MB
for 1 GB, flat in the number of packets) and, in the same run, by ``tcpdump -n -r FILE`` (and
``tshark -r FILE`` when installed), whose output goes to /dev/null: the ratio of their MB/s is
printed. Asserts nothing.

Run: python benchmarks/bench_analyze.py [SIZE_MB]
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import env  # noqa: E402
from tests.peers.pcapgen import write_capture  # noqa: E402


def measure(cmd: list[str]) -> tuple[float, float | None, int]:
    t0 = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-v", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True, env=env())
    wall = time.perf_counter() - t0
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)
    status = re.search(r"Exit status: (\d+)", out.stderr)
    return wall, (int(m.group(1)) / 1024 if m else None), int(status.group(1)) if status else -1


def compare(label: str, path: Path) -> None:
    mb = path.stat().st_size / 2**20
    wall, rss, code = measure([sys.executable, "-m", "jnlpdiag", "analyze", "--json", str(path)])
    print(f"{label}: {mb:.0f} MB")
    print(f"  jnlpdiag analyze  {wall:7.1f} s  {mb / wall:7.1f} MB/s  peak RSS {rss or float('nan'):6.1f} MB "
          f"(target < 100 MB)  exit {code}")
    for peer in (["tcpdump", "-n", "-r", str(path)], ["tshark", "-n", "-r", str(path)]):
        if shutil.which(peer[0]) is None:
            print(f"  {peer[0]:<17} not installed")
            continue
        pwall, prss, _ = measure(peer)
        print(f"  {peer[0]:<17} {pwall:7.1f} s  {mb / pwall:7.1f} MB/s  peak RSS {prss or float('nan'):6.1f} MB   "
              f"ratio jnlpdiag/{peer[0]} MB/s {(mb / wall) / (mb / pwall):5.2f}")


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    with tempfile.TemporaryDirectory(prefix="jnlpdiag-bench-analyze-") as tmp:
        big = Path(tmp) / "big.pcap"
        per_conn = size_mb * 2**20 // (8 * 1456)  # 1400 bytes of payload + 56 of headers per record
        with open(big, "wb") as fh:
            write_capture(fh, connections=8, segments=per_conn)
        compare("big (8 long connections)", big)
        os.unlink(big)
        many = Path(tmp) / "many.pcap"
        with open(many, "wb") as fh:
            write_capture(fh, connections=20_000, segments=13, size=40)  # 20 records each (2,000 are analysed)
        compare("many records (400,000 packets, 20,000 connections)", many)


if __name__ == "__main__":
    main()
