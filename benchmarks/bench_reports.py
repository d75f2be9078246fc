"""Throughput of `jnlpdiag analyze` and `jnlpdiag logs` on large inputs, beside a peer reading the same file.

* analyze: a 2,000-connection capture (the real captures/tls12-alert-unknown-ca.pcap repeated with a new
  client port each time, ~22,000 packets) against `tcpdump -nr FILE` (which only decodes and prints).
* logs: 200,000 lines of the real excerpts in tests/reports/logs/ against `grep -cE` with every
  signature pattern (which only finds lines, without grouping events or choosing root causes).

Prints medians and ratios; asserts nothing. Run: python benchmarks/bench_reports.py
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median_seconds, peak_rss_mb  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def big_capture(path: Path, copies: int = 2000) -> int:
    blob = (ROOT / "captures" / "tls12-alert-unknown-ca.pcap").read_bytes()
    header, body = blob[:24], blob[24:]
    records = []
    pos = 0
    while pos < len(body):
        incl = struct.unpack("<I", body[pos + 8:pos + 12])[0]
        records.append(bytearray(body[pos:pos + 16 + incl]))
        pos += 16 + incl
    client_port = struct.unpack(">H", records[0][16 + 14 + 20:16 + 14 + 22])[0]
    out = bytearray(header)
    for i in range(copies):
        port = 20000 + i
        for rec in records:
            r = bytearray(rec)
            tcp = 16 + 14 + 20  # pcap record header, Ethernet, IPv4 without options
            for off in (tcp, tcp + 2):
                if struct.unpack(">H", r[off:off + 2])[0] == client_port:
                    r[off:off + 2] = struct.pack(">H", port)
            out += r
    path.write_bytes(out)
    return copies * len(records)


def big_log(path: Path, lines: int = 200_000) -> None:
    text = "".join(p.read_text() for p in sorted((ROOT / "tests" / "reports" / "logs").glob("*.log")))
    chunk = text.splitlines(keepends=True)
    with path.open("w") as fh:
        for i in range(lines):
            fh.write(chunk[i % len(chunk)])


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        pcap, log = Path(d) / "big.pcap", Path(d) / "big.log"
        packets = big_capture(pcap)
        big_log(log)
        ours = median_seconds([sys.executable, "-m", "jnlpdiag", "analyze", "--json", str(pcap)], runs=3)
        peer = median_seconds(["tcpdump", "-nr", str(pcap)], runs=3)
        rss = peak_rss_mb([sys.executable, "-m", "jnlpdiag", "analyze", "--json", str(pcap)])
        print(f"analyze: {packets} packets, {pcap.stat().st_size / 2**20:.1f} MiB: jnlpdiag {ours:.2f} s, "
              f"tcpdump -nr {peer:.2f} s, ratio {ours / peer:.1f}x; peak RSS {rss or 0:.0f} MiB")
        sigs = json.loads((ROOT / "jnlpdiag" / "data" / "log-signatures.json").read_text())["signatures"]
        pattern = "|".join(re.sub(r"\(\?P<\w+>", "(?:", s["pattern"]) for s in sigs)
        check = subprocess.run(["grep", "-cP", pattern, str(log)], capture_output=True, text=True)
        assert check.returncode in (0, 1), check.stderr  # the peer must really run the patterns
        ours = median_seconds([sys.executable, "-m", "jnlpdiag", "logs", "--json", str(log)], runs=3)
        peer = median_seconds(["grep", "-cP", pattern, str(log)], runs=3)
        rss = peak_rss_mb([sys.executable, "-m", "jnlpdiag", "logs", "--json", str(log)])
        print(f"logs: {log.stat().st_size / 2**20:.1f} MiB, 200000 lines: jnlpdiag {ours:.2f} s, "
              f"grep -cP {peer:.2f} s, "
              f"ratio {ours / peer:.1f}x; peak RSS {rss or 0:.0f} MiB")


if __name__ == "__main__":
    main()
