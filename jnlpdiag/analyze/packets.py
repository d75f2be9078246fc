"""Decode a captured frame down to its TCP segment: link layer, IPv4/IPv6, TCP.

Link types (https://www.tcpdump.org/linktypes.html): 0 NULL and 108 LOOP (BSD loopback), 1
Ethernet (with 802.1Q/802.1ad tags), 12/14/101 raw IP, 113 Linux cooked SLL, 228 IPv4, 229 IPv6,
276 Linux cooked SLL2. IPv4 per RFC 791, IPv6 per RFC 8200 (extension headers 0, 43, 60 skipped),
TCP per RFC 9293. Anything else (UDP, ARP, fragments after the first) is not a TCP segment and is
passed over.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from jnlpdiag.analyze.pcapfile import Record

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


@dataclass
class Segment:
    index: int
    ts: float
    src: str
    dst: str
    sport: int
    dport: int
    seq: int
    ack: int
    flags: int
    ttl: int
    payload: bytes
    payload_offset: int  # offset of payload[0] in the record's data
    ip_offset: int
    tcp_offset: int
    ip_version: int
    tcp_length: int  # TCP header + payload length per the IP header
    complete: bool  # the whole segment was captured (snaplen did not cut it)

    def has(self, flag: int) -> bool:
        return bool(self.flags & flag)


def _ip_offset(linktype: int, data: bytes) -> int | None:
    """Offset of the IP header in ``data`` for this link type, or None when not IP."""
    if linktype in (0, 108):
        if len(data) < 4:
            return None
        fam_le, fam_be = struct.unpack("<I", data[:4])[0], struct.unpack(">I", data[:4])[0]
        return 4 if {fam_le, fam_be} & {2, 24, 28, 30} else None
    if linktype == 1:
        off = 12
        while len(data) >= off + 2:
            ethertype = struct.unpack(">H", data[off:off + 2])[0]
            if ethertype in (0x8100, 0x88A8, 0x9100):
                off += 4
                continue
            return off + 2 if ethertype in (0x0800, 0x86DD) else None
        return None
    if linktype in (12, 14, 101, 228, 229):
        return 0
    if linktype == 113:
        return 16 if len(data) >= 16 and struct.unpack(">H", data[14:16])[0] in (0x0800, 0x86DD) else None
    if linktype == 276:
        return 20 if len(data) >= 20 and struct.unpack(">H", data[0:2])[0] in (0x0800, 0x86DD) else None
    return None


def decode(record: Record) -> Segment | None:
    data = record.data
    ip = _ip_offset(record.linktype, data)
    if ip is None or len(data) < ip + 20:
        return None
    version = data[ip] >> 4
    if version == 4:
        ihl = (data[ip] & 0x0F) * 4
        total = struct.unpack(">H", data[ip + 2:ip + 4])[0]
        frag = struct.unpack(">H", data[ip + 6:ip + 8])[0]
        if ihl < 20 or data[ip + 9] != 6 or frag & 0x1FFF:
            return None
        ttl = data[ip + 8]
        src = socket.inet_ntop(socket.AF_INET, data[ip + 12:ip + 16])
        dst = socket.inet_ntop(socket.AF_INET, data[ip + 16:ip + 20])
        tcp = ip + ihl
        tcp_length = total - ihl
    elif version == 6:
        if len(data) < ip + 40:
            return None
        plen = struct.unpack(">H", data[ip + 4:ip + 6])[0]
        nxt, ttl = data[ip + 6], data[ip + 7]
        src = socket.inet_ntop(socket.AF_INET6, data[ip + 8:ip + 24])
        dst = socket.inet_ntop(socket.AF_INET6, data[ip + 24:ip + 40])
        tcp = ip + 40
        while nxt in (0, 43, 60) and len(data) >= tcp + 2:
            nxt, hlen = data[tcp], (data[tcp + 1] + 1) * 8
            tcp += hlen
            plen -= hlen
        if nxt != 6:
            return None
        tcp_length = plen
    else:
        return None
    if len(data) < tcp + 20 or tcp_length < 20:
        return None
    sport, dport, seq, ack, off_flags = struct.unpack(">HHIIH", data[tcp:tcp + 14])
    hlen = (off_flags >> 12) * 4
    if hlen < 20:
        return None
    start = tcp + hlen
    end = min(len(data), tcp + tcp_length)
    payload = data[start:end] if end > start else b""
    return Segment(
        index=record.index, ts=record.ts, src=src, dst=dst, sport=sport, dport=dport, seq=seq, ack=ack,
        flags=off_flags & 0x3F, ttl=ttl, payload=payload, payload_offset=start, ip_offset=ip, tcp_offset=tcp,
        ip_version=version, tcp_length=tcp_length, complete=len(data) >= tcp + tcp_length,
    )


def tcp_checksum(data: bytes | bytearray, seg: Segment) -> int:
    """The RFC 9293 checksum of ``seg`` as laid out in ``data`` (with its checksum field zeroed)."""
    ip, tcp, length = seg.ip_offset, seg.tcp_offset, seg.tcp_length
    if seg.ip_version == 4:
        pseudo = bytes(data[ip + 12:ip + 20]) + struct.pack(">BBH", 0, 6, length)
    else:
        pseudo = bytes(data[ip + 8:ip + 40]) + struct.pack(">IxxxB", length, 6)
    segment = bytearray(data[tcp:tcp + length])
    segment[16:18] = b"\0\0"
    blob = pseudo + bytes(segment) + (b"\0" if length % 2 else b"")
    total = sum(struct.unpack(f">{len(blob) // 2}H", blob))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF
