"""``analyze`` reads captures as a stream with bounded state per connection: a long connection keeps
its first bytes and counts the rest, connections past the cap are counted, and the memory of the
process does not grow with the packets (two captures, 10x apart in size, peak within a few MB)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from jnlpdiag.analyze import analyze_bytes, analyze_stream
from jnlpdiag.analyze.streams import Limits, Tracker
from tests.peers.pcapgen import write_capture
from tests.peers.util import run_cli

PEAK = ("import resource, sys\nfrom jnlpdiag.cli import main\nimport io, contextlib\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    code = main(['analyze', '--json', sys.argv[1]])\n"
        "print(code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")


def _peak_kb(path: Path) -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True, timeout=300)
    code, kb = out.stdout.split()[-2:]
    return int(code), int(kb)


def test_long_connection_is_capped_and_counted(tmp_path):
    path = tmp_path / "long.pcap"
    with open(path, "wb") as fh:
        packets = write_capture(fh, connections=1, segments=2000)  # 2.8 MB from the server
    res = run_cli("analyze", "--json", str(path))
    doc = res.json()
    assert doc["packets"] == packets and doc["tcp_packets"] == packets
    stream = doc["streams"][0]
    assert stream["packets"] == packets
    assert stream["bytes_to_client"] == 2000 * 1400  # every byte counted
    assert stream["payload_stored"]["to_client"] <= Limits().per_direction  # only the first ones kept
    assert any(f["id"] == "stream1.tcp" and f["status"] == "pass" for f in doc["findings"])


def test_connections_past_the_cap_are_counted_not_tracked():
    buf = io.BytesIO()
    write_capture(buf, connections=30, segments=1)
    analysis_all = analyze_bytes(buf.getvalue())
    assert len(analysis_all.streams) == 30
    tracker = Tracker(Limits(connections=10))
    from jnlpdiag.analyze.packets import decode
    from jnlpdiag.analyze.pcapfile import CaptureReader

    for record in CaptureReader(io.BytesIO(buf.getvalue())):
        seg = decode(record)
        if seg is not None:
            tracker.add(seg)
    assert len(tracker.connections) == 10 and tracker.untracked == 20 * 7


def test_stream_and_memory_reads_agree_on_the_real_captures():
    captures = Path(__file__).resolve().parents[2] / "captures"
    for path in sorted(captures.glob("*.pcap")):
        blob = path.read_bytes()
        a, b = analyze_bytes(blob, path.name), analyze_stream(io.BytesIO(blob), path.name)
        assert json.dumps(a.to_dict(), default=str) == json.dumps(b.to_dict(), default=str), path.name


def test_memory_is_flat_in_the_number_of_packets(tmp_path):
    small, large = tmp_path / "small.pcap", tmp_path / "large.pcap"
    with open(small, "wb") as fh:
        write_capture(fh, connections=4, segments=500)  # ~3 MB
    with open(large, "wb") as fh:
        write_capture(fh, connections=4, segments=5000)  # ~29 MB, 10x the packets
    code_s, kb_small = _peak_kb(small)
    code_l, kb_large = _peak_kb(large)
    assert code_s == code_l and code_s in (0, 1, 2)
    # The per-direction cap (256 KB x 4 connections) is reached by both; the rest is counted.
    assert kb_large - kb_small < 16 * 1024, (kb_small, kb_large)
