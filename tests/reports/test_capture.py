"""Packet capture with scapy on loopback, and the masking of secret bytes in the saved packets.

Peer: a real nginx. The test sends a plaintext WebSocket-style request whose ``Secret-Key`` header is
split across two TCP segments (TCP_NODELAY, two sends), so only stream reassembly can find it.
"""

from __future__ import annotations

import socket
import struct
import subprocess
import time

import pytest

from jnlpdiag.analyze.packets import decode, tcp_checksum
from jnlpdiag.analyze.pcapfile import read_capture
from jnlpdiag.capture import PacketCapture, targets_for
from jnlpdiag.redact import Redactor
from jnlpdiag.settings import Settings
from tests.conftest import is_root
from tests.peers.nginx import Nginx
from tests.peers.util import free_port
from tests.reports.secrets import hits

SECRET = "5e" * 32


@pytest.fixture(scope="module")
def site():
    port = free_port()
    with Nginx(f"server {{ listen 127.0.0.1:{port}; location / {{ return 403; }} }}", [port]):
        yield port


def _send_split(port: int) -> None:
    head = (f"GET /wsagents/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Node-Name: a1\r\nSecret-Key: {SECRET}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").encode()
    cut = head.index(SECRET.encode()) + 20  # in the middle of the secret
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(head[:cut])
        time.sleep(0.05)
        s.sendall(head[cut:])
        s.recv(4096)


@pytest.mark.skipif(not is_root(), reason="capturing packets needs root or CAP_NET_RAW (CI runs as root)")
def test_capture_masks_a_secret_split_across_segments(site, tmp_path):
    settings = Settings(url=f"http://127.0.0.1:{site}/")
    cap = PacketCapture(settings, Redactor([SECRET]))
    assert cap.start(), cap.finding
    _send_split(site)
    cap.stop([])
    assert cap.finding is not None and cap.finding.status.value == "pass", cap.finding
    assert cap.pcap is not None
    assert hits(cap.pcap, SECRET) == []
    # The two halves were really in two packets, and both are masked.
    capture = read_capture(cap.pcap)
    segs = [s for s in (decode(r) for r in capture.records) if s and s.payload]
    carriers = [s for s in segs if b"*" * 8 in s.payload]
    assert len(carriers) == 2, [s.payload[:60] for s in segs]
    stream = b"".join(s.payload for s in segs if s.dport == site)
    assert b"Secret-Key: " + b"*" * len(SECRET) + b"\r\n" in stream
    assert b"Node-Name: a1" in stream  # the rest is intact
    # Checksums of the changed segments were recomputed, and tcpdump reads the file.
    for rec in capture.records:
        seg = decode(rec)
        if seg and seg in carriers or (seg and b"*" * 8 in seg.payload):
            stored = struct.unpack(">H", rec.data[seg.tcp_offset + 16:seg.tcp_offset + 18])[0]
            assert stored == tcp_checksum(rec.data, seg)
    path = tmp_path / "c.pcap"
    path.write_bytes(cap.pcap)
    out = subprocess.run(["tcpdump", "-nr", str(path)], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and f".{site}:" in out.stdout
    # Every packet appears once (the loopback duplicates of a packet socket are dropped).
    syns = [s for s in (decode(r) for r in capture.records) if s and s.flags == 0x02]
    assert len(syns) == 1


def test_targets_come_from_the_settings():
    s = Settings(url="https://jenkins.example.test/jenkins/", tunnel=":50000", direct="agents.example.test:50001",
                 https_proxy="http://proxy.example.test:3128")
    got = {(t.host, t.port) for t in targets_for(s)}
    assert got == {("jenkins.example.test", 443), ("jenkins.example.test", 50000),
                   ("agents.example.test", 50001), ("proxy.example.test", 3128)}


def test_scapy_is_not_imported_on_the_check_path():
    import sys

    code = ("import sys, jnlpdiag.cli as c; c.build_parser(); import jnlpdiag.commands.check, jnlpdiag.output; "
            "jnlpdiag.output.renderers(); print('scapy' in ' '.join(sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "False", out.stderr
