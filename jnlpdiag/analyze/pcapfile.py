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

import struct
from dataclasses import dataclass

MAX_FILE_BYTES = 512 * 1024 * 1024
_MAX_RECORD = 256 * 1024  # larger than any snaplen in use (tcpdump's default is 262144)

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
    if len(blob) > MAX_FILE_BYTES:
        raise PcapError(f"{len(blob)} bytes is larger than the {MAX_FILE_BYTES // 2**20} MiB this tool reads")
    if len(blob) < 4:
        raise PcapError("the file is empty or too short to be a capture")
    if blob[:4] in _PCAP_MAGICS:
        return _read_pcap(blob)
    if struct.unpack("<I", blob[:4])[0] == _PCAPNG_SHB:
        return _read_pcapng(blob)
    raise PcapError(f"not a pcap or pcapng file (starts with {blob[:4].hex()}; "
                    "expected a1b2c3d4, a1b23c4d or 0a0d0d0a)")


def _read_pcap(blob: bytes) -> Capture:
    endian, scale = _PCAP_MAGICS[blob[:4]]
    if len(blob) < 24:
        raise PcapError("truncated pcap global header (the file is shorter than 24 bytes)")
    major, _minor, _zone, _sig, snaplen, network = struct.unpack(endian + "HHiIII", blob[4:24])
    if major != 2:
        raise PcapError(f"unsupported pcap version {major}")
    linktype = network & 0x0FFFFFFF  # the upper bits may carry FCS information
    records: list[Record] = []
    pos = 24
    limit = max(snaplen, _MAX_RECORD) if snaplen else _MAX_RECORD
    while pos < len(blob):
        if len(blob) - pos < 16:
            return Capture(records, "pcap", f"cut inside the header of packet {len(records) + 1}")
        sec, frac, incl, orig = struct.unpack(endian + "IIII", blob[pos:pos + 16])
        if incl > limit:
            raise PcapError(f"packet {len(records) + 1} claims {incl} bytes, more than the snap length: "
                            "the file is corrupt")
        if len(blob) - pos - 16 < incl:
            return Capture(records, "pcap", f"cut inside packet {len(records) + 1} "
                                            f"({len(blob) - pos - 16} of {incl} bytes present)")
        start = pos + 16
        records.append(Record(len(records) + 1, sec + frac * scale, linktype, blob[start:start + incl], orig, start))
        pos = start + incl
    return Capture(records, "pcap")


def _read_pcapng(blob: bytes) -> Capture:
    records: list[Record] = []
    endian = "<"
    interfaces: list[tuple[int, float]] = []  # (linktype, seconds per tick)
    pos = 0
    while pos < len(blob):
        if len(blob) - pos < 12:
            return Capture(records, "pcapng", f"cut inside a block header at byte {pos}")
        btype_raw = blob[pos:pos + 4]
        if struct.unpack("<I", btype_raw)[0] == _PCAPNG_SHB:
            bom = blob[pos + 8:pos + 12]
            if bom == b"\x4d\x3c\x2b\x1a":
                endian = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                endian = ">"
            else:
                raise PcapError("pcapng section header with an invalid byte-order magic")
            interfaces = []  # interface ids are per section
        btype, blen = struct.unpack(endian + "II", blob[pos:pos + 8])
        if blen < 12 or blen % 4:
            raise PcapError(f"pcapng block at byte {pos} has an invalid length {blen}")
        if len(blob) - pos < blen:
            return Capture(records, "pcapng", f"cut inside a block at byte {pos} ({len(blob) - pos} of {blen} bytes)")
        body = blob[pos + 8:pos + blen - 4]
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
                raise PcapError(f"packet {len(records) + 1} claims {cap} bytes, more than its block holds")
            linktype, tick = interfaces[iface]
            start = pos + 8 + 20
            records.append(Record(len(records) + 1, ((hi << 32) | lo) * tick, linktype, blob[start:start + cap],
                                  orig, start))
        elif btype == 3:  # Simple Packet Block: interface 0, no timestamp
            if not interfaces or len(body) < 4:
                raise PcapError("pcapng simple packet block without an interface")
            orig = struct.unpack(endian + "I", body[:4])[0]
            cap = min(orig, len(body) - 4)
            start = pos + 12
            records.append(Record(len(records) + 1, 0.0, interfaces[0][0], blob[start:start + cap], orig, start))
        elif btype == 2:  # obsolete Packet Block
            if len(body) < 20:
                raise PcapError("pcapng packet block too short")
            iface, _drops, hi, lo, cap, orig = struct.unpack(endian + "HHIIII", body[:20])
            if iface >= len(interfaces) or cap > len(body) - 20:
                raise PcapError("invalid obsolete packet block")
            linktype, tick = interfaces[iface]
            start = pos + 8 + 20
            records.append(Record(len(records) + 1, ((hi << 32) | lo) * tick, linktype, blob[start:start + cap],
                                  orig, start))
        pos += blen
    return Capture(records, "pcapng")


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
