"""Write large captures for the streaming tests and benchmarks, without holding them in memory.

Classic pcap (https://wiki.wireshark.org/Development/LibpcapFileFormat: global header, then per
packet ``ts_sec ts_usec incl_len orig_len`` and the bytes), link type 101 (raw IP,
https://www.tcpdump.org/linktypes.html), IPv4 (RFC 791) and TCP (RFC 9293) headers with checksums
left 0 (no reader here checks them). Each connection: SYN, SYN-ACK, ACK, a TLS-looking ClientHello
record header from the client, then ``segments`` data segments of ``size`` bytes from the server,
then FIN from both sides.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def _packet(src: int, dst: int, sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes) -> bytes:
    tcp = struct.pack(">HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 1, 0, 64, 6, 0,
                     src.to_bytes(4, "big"), dst.to_bytes(4, "big"))
    return ip + tcp + payload


def write_capture(fh: BinaryIO, connections: int, segments: int, size: int = 1400) -> int:
    """Write the capture; returns the number of packets."""
    fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 101))
    count = 0
    ts = 1_700_000_000

    def put(data: bytes) -> None:
        nonlocal count
        count += 1
        fh.write(struct.pack("<IIII", ts + count // 100000, count % 100000 * 10, len(data), len(data)) + data)

    client, server = 0x7F000001, 0x7F000002
    body = bytes(range(256)) * (size // 256 + 1)
    for n in range(connections):
        sport, dport = 40000 + n % 20000, 443
        cseq, sseq = 1000 + n, 5000 + n
        put(_packet(client, server, sport, dport, cseq, 0, SYN, b""))
        put(_packet(server, client, dport, sport, sseq, cseq + 1, SYN | ACK, b""))
        put(_packet(client, server, sport, dport, cseq + 1, sseq + 1, ACK, b""))
        hello = b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"
        put(_packet(client, server, sport, dport, cseq + 1, sseq + 1, PSH | ACK, hello))
        offset = 0
        for _ in range(segments):
            put(_packet(server, client, dport, sport, sseq + 1 + offset, cseq + 1 + len(hello), ACK, body[:size]))
            offset += size
        put(_packet(server, client, dport, sport, sseq + 1 + offset, cseq + 1 + len(hello), FIN | ACK, b""))
        put(_packet(client, server, sport, dport, cseq + 1 + len(hello), sseq + 2 + offset, FIN | ACK, b""))
    return count
