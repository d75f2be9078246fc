"""Mask secret-bearing bytes in a capture file before it is saved (no scapy needed).

Plaintext HTTP can carry the agent secret (WebSocket ``Secret-Key`` headers, ``.jnlp`` downloads
over http, Basic-auth proxies). Each TCP direction is reassembled, the redactor finds the secret
spans in the byte stream — so a value split across two segments is still found — and the bytes
are overwritten with ``*`` in every captured segment that carries them. Lengths never change, so
sequence numbers, record lengths and the file's structure stay valid; the TCP checksums of the
changed segments are recomputed. Every frame is also masked on its own, for bytes that no
reassembled stream covers (a gap, a non-TCP frame).
"""

from __future__ import annotations

import struct

from jnlpdiag.analyze.packets import Segment, decode, tcp_checksum
from jnlpdiag.analyze.pcapfile import read_capture
from jnlpdiag.analyze.streams import connections
from jnlpdiag.redact import Redactor


def scrub_pcap(blob: bytes, redactor: Redactor) -> tuple[bytes, int]:
    """Return (scrubbed capture, number of frames changed). Raises PcapError on a bad file."""
    cap = read_capture(blob)
    out = bytearray(blob)
    by_index = {r.index: r for r in cap.records}
    segments: list[Segment] = []
    for record in cap.records:
        seg = decode(record)
        if seg is not None:
            segments.append(seg)
    changed: set[int] = set()

    for conn in connections(segments):
        for direction in (conn.to_server, conn.to_client):
            data = direction.data
            if not data:
                continue
            for start, end in redactor.spans(data.decode("latin-1")):
                for seg, lo, hi in direction.carriers(start, end):
                    at = by_index[seg.index].offset + seg.payload_offset
                    out[at + lo:at + hi] = b"*" * (hi - lo)
                    changed.add(seg.index)

    seg_by_index = {s.index: s for s in segments}
    for record in cap.records:
        seg = seg_by_index.get(record.index)
        lo = record.offset + (seg.payload_offset if seg else 0)
        hi = record.offset + len(record.data)
        masked = redactor.mask_bytes(bytes(out[lo:hi]))
        if masked != bytes(out[lo:hi]):
            out[lo:hi] = masked
            changed.add(record.index)

    for index in changed:
        seg = seg_by_index.get(index)
        if seg is None or not seg.complete:
            continue  # a cut segment has no checksum we could compute
        base = by_index[index].offset
        frame = out[base:base + len(by_index[index].data)]
        struct.pack_into(">H", out, base + seg.tcp_offset + 16, tcp_checksum(frame, seg))
    return bytes(out), len(changed)
