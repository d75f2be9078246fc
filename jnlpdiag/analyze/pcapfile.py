"""Read capture files: classic pcap (tcpdump, scapy) and pcapng (Wireshark, dumpcap).

Formats: classic pcap per https://wiki.wireshark.org/Development/LibpcapFileFormat (and
draft-ietf-opsawg-pcap); pcapng per draft-ietf-opsawg-pcapng (blocks SHB 0x0A0D0D0A, IDB 1, EPB 6,
SPB 3, obsolete PB 2). Each record keeps the file offset of its packet bytes, so that the capture
scrubber can overwrite bytes in place without rewriting the file's structure.

A file is untrusted input: every length is checked against what is left, and a record larger than
any real packet is refused, so a hostile or cut file gives :class:`PcapError`, not a crash or a
runaway allocation.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

MAX_FILE_BYTES = 512 * 1024 * 1024
_MAX_RECORD = 256 * 1024  # larger than any snaplen in use (tcpdump's default is 262144)
# A pcapng block: a packet and its options. Larger blocks (huge option or name blocks) are corrupt
# or hostile; refusing them bounds what one read allocates.
_MAX_BLOCK = _MAX_RECORD + 64 * 1024

_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
_PCAPNG_SHB = 0x0A0D0D0A


class PcapError(ValueError):
    """The file is not a capture we can read; the message says why in one line."""


@dataclass
class Record:
    index: int  # 1-based, as Wireshark numbers frames
    ts: float
    linktype: int
    data: bytes
    orig_len: int
    offset: int  # file offset of data[0]


@dataclass
class Capture:
    records: list[Record]
    format: str  # "pcap" | "pcapng"
    truncated: str | None = None  # why reading stopped early, if it did


def read_capture(blob: bytes) -> Capture:
    """Every record of a capture held in memory (the scrubber rewrites bytes at their offsets)."""
    if len(blob) > MAX_FILE_BYTES:
        raise PcapError(f"{len(blob)} bytes is larger than the {MAX_FILE_BYTES // 2**20} MiB this tool reads")
    reader = CaptureReader(io.BytesIO(blob))
    records = list(reader)
    return Capture(records, reader.format, reader.truncated)


class CaptureReader:
    """The records of a capture, read from a binary stream one at a time: memory does not grow with
    the file. ``format`` is known after construction; ``truncated`` says why reading stopped early,
    once the iteration is over. Raises :class:`PcapError` for a file that is not a capture or is
    corrupt (a cut file is not an error: the records before the cut are yielded)."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._pos = 0
        self.truncated: str | None = None
        self.count = 0
        head = self._read(4)
        if len(head) < 4:
            raise PcapError("the file is empty or too short to be a capture")
        self._head = head
        if head in _PCAP_MAGICS:
            self.format = "pcap"
        elif struct.unpack("<I", head)[0] == _PCAPNG_SHB:
            self.format = "pcapng"
        else:
            raise PcapError(f"not a pcap or pcapng file (starts with {head.hex()}; "
                            "expected a1b2c3d4, a1b23c4d or 0a0d0d0a)")

    def _read(self, n: int) -> bytes:
        data = self._fh.read(n)
        self._pos += len(data)
        return data

    def __iter__(self) -> Iterator[Record]:
        return self._pcap() if self.format == "pcap" else self._pcapng()

    def _record(self, ts: float, linktype: int, data: bytes, orig: int, offset: int) -> Record:
        self.count += 1
        return Record(self.count, ts, linktype, data, orig, offset)

    def _pcap(self) -> Iterator[Record]:
        endian, scale = _PCAP_MAGICS[self._head]
        rest = self._read(20)
        if len(rest) < 20:
            raise PcapError("truncated pcap global header (the file is shorter than 24 bytes)")
        major, _minor, _zone, _sig, snaplen, network = struct.unpack(endian + "HHiIII", rest)
        if major != 2:
            raise PcapError(f"unsupported pcap version {major}")
        linktype = network & 0x0FFFFFFF  # the upper bits may carry FCS information
        limit = max(snaplen, _MAX_RECORD) if snaplen else _MAX_RECORD
        while True:
            header = self._read(16)
            if not header:
                return
            if len(header) < 16:
                self.truncated = f"cut inside the header of packet {self.count + 1}"
                return
            sec, frac, incl, orig = struct.unpack(endian + "IIII", header)
            if incl > limit:
                raise PcapError(f"packet {self.count + 1} claims {incl} bytes, more than the snap length: "
                                "the file is corrupt")
            start = self._pos
            data = self._read(incl)
            if len(data) < incl:
                self.truncated = f"cut inside packet {self.count + 1} ({len(data)} of {incl} bytes present)"
                return
            yield self._record(sec + frac * scale, linktype, data, orig, start)

    def _pcapng(self) -> Iterator[Record]:
        endian = "<"
        interfaces: list[tuple[int, float]] = []  # (linktype, seconds per tick)
        pending = self._head
        while True:
            pos = self._pos - len(pending)
            header = pending + self._read(12 - len(pending))
            pending = b""
            if not header:
                return
            if len(header) < 12:
                self.truncated = f"cut inside a block header at byte {pos}"
                return
            if struct.unpack("<I", header[:4])[0] == _PCAPNG_SHB:
                bom = header[8:12]
                if bom == b"\x4d\x3c\x2b\x1a":
                    endian = "<"
                elif bom == b"\x1a\x2b\x3c\x4d":
                    endian = ">"
                else:
                    raise PcapError("pcapng section header with an invalid byte-order magic")
                interfaces = []  # interface ids are per section
            btype, blen = struct.unpack(endian + "II", header[:8])
            if blen < 12 or blen % 4:
                raise PcapError(f"pcapng block at byte {pos} has an invalid length {blen}")
            if blen > _MAX_BLOCK:
                raise PcapError(f"pcapng block at byte {pos} claims {blen} bytes, more than any packet block")
            rest = self._read(blen - 12)
            if len(rest) < blen - 12:
                self.truncated = f"cut inside a block at byte {pos} ({12 + len(rest)} of {blen} bytes)"
                return
            body = (header[8:] + rest)[:blen - 12]
            if btype == 1:  # Interface Description Block
                if len(body) < 8:
                    raise PcapError("pcapng interface block too short")
                linktype = struct.unpack(endian + "H", body[:2])[0]
                interfaces.append((linktype, _tsresol(body[8:], endian)))
            elif btype == 6:  # Enhanced Packet Block
                if len(body) < 20:
                    raise PcapError("pcapng packet block too short")
                iface, hi, lo, cap, orig = struct.unpack(endian + "IIIII", body[:20])
                if iface >= len(interfaces):
                    raise PcapError(f"packet refers to interface {iface}, which is not described")
                if cap > len(body) - 20 or cap > _MAX_RECORD:
                    raise PcapError(f"packet {self.count + 1} claims {cap} bytes, more than its block holds")
                linktype, tick = interfaces[iface]
                yield self._record(((hi << 32) | lo) * tick, linktype, body[20:20 + cap], orig, pos + 8 + 20)
            elif btype == 3:  # Simple Packet Block: interface 0, no timestamp
                if not interfaces or len(body) < 4:
                    raise PcapError("pcapng simple packet block without an interface")
                orig = struct.unpack(endian + "I", body[:4])[0]
                cap = min(orig, len(body) - 4)
                yield self._record(0.0, interfaces[0][0], body[4:4 + cap], orig, pos + 12)
            elif btype == 2:  # obsolete Packet Block
                if len(body) < 20:
                    raise PcapError("pcapng packet block too short")
                iface, _drops, hi, lo, cap, orig = struct.unpack(endian + "HHIIII", body[:20])
                if iface >= len(interfaces) or cap > len(body) - 20:
                    raise PcapError("invalid obsolete packet block")
                linktype, tick = interfaces[iface]
                yield self._record(((hi << 32) | lo) * tick, linktype, body[20:20 + cap], orig, pos + 8 + 20)


def _tsresol(options: bytes, endian: str) -> float:
    """Seconds per timestamp tick from the IDB's if_tsresol option (code 9); default microseconds."""
    pos = 0
    while pos + 4 <= len(options):
        code, length = struct.unpack(endian + "HH", options[pos:pos + 4])
        if code == 0:
            break
        if code == 9 and length >= 1:
            v = options[pos + 4]
            return 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
        pos += 4 + length + (-length % 4)
    return 1e-6
