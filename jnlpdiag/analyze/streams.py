"""Group TCP segments into connections and reassemble each direction's byte stream.

A connection is identified by its 4-tuple; a new SYN on a tuple whose previous connection ended
(FIN or RST) starts a new one, as with port reuse. The client is the side that sent the first SYN
(or, when the capture began mid-connection, the side with the higher port). Reassembly follows
sequence numbers relative to the first byte (mod 2**32), keeps the first copy of retransmitted
bytes and stops at a gap; each stream byte remembers which captured segments carry it, so the
scrubber can mask a secret that straddles two packets.

State per connection is bounded when a :class:`Limits` is given (``analyze`` reads captures of any
size as a stream): each direction stores at most ``per_direction`` payload bytes (what the analysis
reads: JNLP4 preamble, TLS handshake and certificates, HTTP heads, early WebSocket frames) and
counts the rest, the connection keeps its first ``events`` segments (handshake, the reset after a
ClientHello) and counts the others, all stored payload together stays under ``total``, and
connections past ``connections`` are counted, not tracked. The scrubber, which must see every
byte, gives no limits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from jnlpdiag.analyze.packets import ACK, FIN, RST, SYN, Segment

MAX_STREAM_BYTES = 16 * 1024 * 1024


@dataclass
class Limits:
    per_direction: int = 256 * 1024
    events: int = 16
    total: int = 48 * 1024 * 1024
    connections: int = 2_000
    stored: int = 0  # payload bytes stored so far, all connections together


@dataclass
class Direction:
    segments: list[Segment] = field(default_factory=list)
    isn: int | None = None  # sequence number of the first data byte
    gap: bool = False
    bytes_seen: int = 0  # payload bytes captured in this direction, stored or not
    bytes_stored: int = 0
    _data: bytes | None = None
    _pieces: list[tuple[int, int, Segment]] | None = None  # (stream offset, length, segment)

    @property
    def capped(self) -> bool:
        return self.bytes_stored < self.bytes_seen

    def add(self, seg: Segment, limits: Limits | None = None) -> None:
        if seg.has(SYN) and self.isn is None:
            self.isn = (seg.seq + 1) & 0xFFFFFFFF
        if not seg.payload:
            return
        self.bytes_seen += len(seg.payload)
        if limits is not None:
            if self.bytes_stored + len(seg.payload) > limits.per_direction or \
                    limits.stored + len(seg.payload) > limits.total:
                return
            limits.stored += len(seg.payload)
        self.bytes_stored += len(seg.payload)
        self.segments.append(seg)
        self._data = None

    def _assemble(self) -> None:
        if self._data is not None:
            return
        with_data = [s for s in self.segments if s.payload]
        pieces: list[tuple[int, int, Segment]] = []
        if not with_data:
            self._data, self._pieces = b"", pieces
            return
        base = self.isn if self.isn is not None else with_data[0].seq
        for s in with_data:
            rel = (s.seq - base) & 0xFFFFFFFF
            if rel < MAX_STREAM_BYTES:  # anything else is a wrapped/old segment: ignore it
                pieces.append((rel, len(s.payload), s))
        pieces.sort(key=lambda p: p[0])
        buf = bytearray()
        for rel, length, s in pieces:
            if rel > len(buf):
                self.gap = True
                break
            if rel + length > len(buf):
                buf += s.payload[len(buf) - rel:]
        self._data, self._pieces = bytes(buf), pieces

    @property
    def data(self) -> bytes:
        self._assemble()
        assert self._data is not None
        return self._data

    def carriers(self, start: int, end: int) -> list[tuple[Segment, int, int]]:
        """Segments holding stream bytes [start, end): (segment, from, to) within its payload."""
        self._assemble()
        out = []
        for rel, length, s in self._pieces or []:
            lo, hi = max(start, rel), min(end, rel + length)
            if lo < hi:
                out.append((s, lo - rel, hi - rel))
        return out


@dataclass
class Connection:
    number: int
    client: tuple[str, int]
    server: tuple[str, int]
    to_server: Direction = field(default_factory=Direction)
    to_client: Direction = field(default_factory=Direction)
    events: list[tuple[str, Segment]] = field(default_factory=list)  # ("c"|"s", segment) in capture order
    closed: bool = False
    packets: int = 0  # every segment, kept in ``events`` or not
    first_ts: float = 0.0

    def add(self, seg: Segment, limits: Limits | None = None) -> None:
        side = "c" if (seg.src, seg.sport) == self.client else "s"
        (self.to_server if side == "c" else self.to_client).add(seg, limits)
        if not self.packets:
            self.first_ts = seg.ts
        self.packets += 1
        if limits is None or len(self.events) < limits.events:
            self.events.append((side, seg))
        if seg.has(RST) or seg.has(FIN):
            self.closed = True


def _key(seg: Segment) -> tuple[tuple[str, int], tuple[str, int]]:
    a, b = (seg.src, seg.sport), (seg.dst, seg.dport)
    return (a, b) if a <= b else (b, a)


class Tracker:
    """Segments in, connections out, one segment at a time (see :class:`Limits`)."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits
        self.connections: list[Connection] = []
        self.untracked = 0  # segments of connections past ``limits.connections``
        self._current: dict[tuple[tuple[str, int], tuple[str, int]], Connection] = {}

    def add(self, seg: Segment) -> None:
        key = _key(seg)
        conn = self._current.get(key)
        fresh_syn = seg.has(SYN) and not seg.has(ACK)
        if conn is None or (fresh_syn and conn.closed and (seg.src, seg.sport) == conn.client) or (
                fresh_syn and conn is not None and conn.to_server.isn is not None
                and (seg.seq + 1) & 0xFFFFFFFF != conn.to_server.isn):
            if self.limits is not None and len(self.connections) >= self.limits.connections:
                self.untracked += 1
                return
            if fresh_syn or seg.has(SYN) and seg.has(ACK):
                client = (seg.src, seg.sport) if fresh_syn else (seg.dst, seg.dport)
            else:
                # Mid-connection start: guess the client as the side with the ephemeral (higher) port.
                client = (seg.src, seg.sport) if seg.sport > seg.dport else (seg.dst, seg.dport)
            server = (seg.dst, seg.dport) if client == (seg.src, seg.sport) else (seg.src, seg.sport)
            conn = Connection(len(self.connections) + 1, client, server)
            self.connections.append(conn)
            self._current[key] = conn
        conn.add(seg, self.limits)


def connections(segments: Iterable[Segment], limits: Limits | None = None) -> list[Connection]:
    tracker = Tracker(limits)
    for seg in segments:
        tracker.add(seg)
    return tracker.connections
