"""``--capture``: record the probes' own traffic to ``capture.pcap`` with scapy.

The capture starts before the probes run and stops after them. Its BPF filter names the hosts the
run talks to (the Jenkins URL, ``-tunnel``, ``-direct``, the proxies), on the interfaces the kernel
routes them through; on loopback, where other programs share the addresses, only connections to the
run's ports (the settings' ports and every port a probe reported) are kept. Before the packets are
written, secret bytes are masked (see :mod:`jnlpdiag.capture.scrub`), and the unmasked packets are
never written to disk.

Capturing needs CAP_NET_RAW (root, or ``setcap``). Without it the run goes on and the report carries
a skip finding that says so with the fix. scapy is imported here only, never on the plain ``check``
path (it is heavy and prints warnings on import on some systems).
"""

from __future__ import annotations

import concurrent.futures
import io
import ipaddress
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from jnlpdiag.findings import Finding, Fix, Layer, Status
from jnlpdiag.hostport import split_host_port
from jnlpdiag.pycompat import Timeouts
from jnlpdiag.redact import Redactor
from jnlpdiag.settings import Settings

PROBE_ID = "capture"
MAX_PACKETS = 50_000  # bounds memory: a handful of handshakes needs a few hundred
_SETTLE_S = 0.3  # let the last FIN/RST of the probes arrive before stopping

NEED_RIGHTS_FIX = Fix(
    "Run the capture with the right to capture packets (CAP_NET_RAW)",
    commands=(
        "sudo jnlpdiag report --capture --out DIR ...",
        "sudo setcap cap_net_raw,cap_net_admin=eip \"$(readlink -f \"$(command -v python3)\")\"",
    ),
    notes=(
        "the setcap line grants the capability to the interpreter of a dedicated virtualenv (it affects every "
        "script that interpreter runs)",
        "or record with tcpdump yourself and analyse the file: sudo tcpdump -i any -w agent.pcap host <Jenkins host>, "
        "then jnlpdiag analyze agent.pcap",
    ),
    docs=("https://man7.org/linux/man-pages/man7/capabilities.7.html",),
)


@dataclass
class Target:
    host: str
    port: int
    addresses: list[str] = field(default_factory=list)


def _host_port(value: str | None, default_port: int) -> tuple[str, int] | None:
    if not value:
        return None
    try:
        parts = urlsplit(value if "://" in value else f"//{value}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    if port is None:
        port = {"https": 443, "wss": 443, "http": 80, "ws": 80}.get(parts.scheme, default_port)
    return host, port


def targets_for(settings: Settings) -> list[Target]:
    """Hosts and ports the run will contact, from the settings (before any probe ran)."""
    url = _host_port(settings.url, 80)
    found: list[tuple[str, int]] = []
    if url:
        found.append(url)
    for value in (settings.tunnel, settings.direct):
        if not value:
            continue
        try:  # read as agent.jar reads it (jnlpdiag.hostport)
            host, port = split_host_port(value)
        except ValueError:
            continue
        host = host or (url[0] if url else None)  # -tunnel :PORT means the URL's host
        if host and port:
            found.append((host, port))
    for value in (settings.http_proxy, settings.https_proxy, settings.jnlp_url):
        hp = _host_port(value, 3128 if value and "proxy" in (value or "") else 80)
        if hp:
            found.append(hp)
    unique: dict[tuple[str, int], Target] = {}
    for host, port in found:
        unique.setdefault((host, port), Target(host, port))
    return list(unique.values())


def _resolve(targets: list[Target], timeout: float) -> None:
    def lookup(host: str) -> list[str]:
        try:
            return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})
        except (OSError, UnicodeError):
            return []

    # getaddrinfo has no timeout of its own; a worker thread bounds it (and ends by itself).
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=4)
    futures = {t.host: pool.submit(lookup, t.host) for t in targets}
    for t in targets:
        try:
            t.addresses = futures[t.host].result(timeout=timeout)
        except Timeouts:
            t.addresses = []
    pool.shutdown(wait=False, cancel_futures=True)


def missing_rights() -> str | None:
    """Why this process cannot capture, or None when it can (opens and closes a raw socket)."""
    if not hasattr(socket, "AF_PACKET"):
        return "packet capture through AF_PACKET needs Linux"
    try:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    except PermissionError:
        return "this process has no right to capture packets (it needs root or CAP_NET_RAW)"
    except OSError as exc:
        return f"cannot open a packet socket: {exc.strerror or exc}"
    s.close()
    return None


def _finding(status: Status, title: str, detail: str = "", evidence: dict[str, Any] | None = None,
             fixes: tuple[Fix, ...] = ()) -> Finding:
    return Finding(id=PROBE_ID, probe=PROBE_ID, layer=Layer.NETWORK, status=status, title=title, detail=detail,
                   evidence=evidence or {}, fixes=list(fixes))


def _ports_in(value: Any, out: set[int]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, int) and not isinstance(v, bool) and 0 < v < 65536 and "port" in str(k).lower():
                out.add(v)
            else:
                _ports_in(v, out)
    elif isinstance(value, list):
        for v in value:
            _ports_in(v, out)


class PacketCapture:
    """``start()`` before the run, ``stop(findings)`` after it; then ``pcap`` and ``finding``."""

    def __init__(self, settings: Settings, redactor: Redactor, resolve_timeout: float = 2.0) -> None:
        self.settings = settings
        self.redactor = redactor
        self.resolve_timeout = resolve_timeout
        self.targets: list[Target] = []
        self.pcap: bytes | None = None
        self.finding: Finding | None = None
        self._sniffer: Any = None
        self._filter = ""
        self._ifaces: list[str] = []

    def start(self) -> bool:
        reason = missing_rights()
        if reason:
            self.finding = _finding(Status.SKIP, "Packet capture skipped: no permission to capture packets",
                                    detail=f"--capture was asked for, but {reason}. The checks ran without it.",
                                    fixes=(NEED_RIGHTS_FIX,))
            return False
        self.targets = targets_for(self.settings)
        _resolve(self.targets, self.resolve_timeout)
        addresses = sorted({a for t in self.targets for a in t.addresses})
        if not addresses:
            self.finding = _finding(
                Status.SKIP, "Packet capture skipped: no target address to capture",
                detail="No Jenkins URL, tunnel, direct address or proxy resolved to an address.",
                evidence={"targets": [f"{t.host}:{t.port}" for t in self.targets]},
            )
            return False
        try:
            import logging

            logging.getLogger("scapy").setLevel(logging.ERROR)  # scapy warns on stderr about interface types
            from scapy.config import conf
            from scapy.sendrecv import AsyncSniffer

            ifaces: set[str] = set()
            for addr in addresses:
                route = conf.route6.route(addr) if ":" in addr else conf.route.route(addr)
                ifaces.add(str(route[0]))
            self._ifaces = sorted(ifaces)
            self._filter = "tcp and (" + " or ".join(f"host {a}" for a in addresses) + ")"
            started = threading.Event()
            self._sniffer = AsyncSniffer(
                iface=self._ifaces if len(self._ifaces) > 1 else self._ifaces[0],
                filter=self._filter, store=True, count=MAX_PACKETS, started_callback=started.set,
            )
            self._sniffer.start()
            if not started.wait(5.0):
                raise RuntimeError("the sniffer did not start within 5 s")
        except Exception as exc:  # scapy reports BPF/socket problems with assorted exception types
            self._sniffer = None
            self.finding = _finding(
                Status.SKIP, "Packet capture skipped: the capture could not start",
                detail=f"{type(exc).__name__}: {exc}",
                evidence={"filter": self._filter, "interfaces": self._ifaces},
                fixes=(Fix("Make sure libpcap/tcpdump is installed (scapy compiles BPF filters with it)",
                           commands=("sudo apt-get install tcpdump",)),),
            )
            return False
        return True

    def stop(self, findings: list[Finding]) -> None:
        if self._sniffer is None:
            return
        time.sleep(_SETTLE_S)
        try:
            self._sniffer.stop()
        except Exception:
            pass
        packets = list(self._sniffer.results or [])
        self._sniffer = None
        self._finish(packets, findings)

    def _finish(self, packets: list[Any], findings: list[Finding]) -> None:
        from jnlpdiag.analyze.packets import decode
        from jnlpdiag.analyze.pcapfile import PcapError, Record
        from jnlpdiag.capture.scrub import scrub_pcap

        loopback = any(ipaddress.ip_address(a.split("%")[0]).is_loopback
                       for t in self.targets for a in t.addresses)
        ports = {t.port for t in self.targets}
        for f in findings:
            _ports_in(f.evidence, ports)
        frames: list[tuple[float, bytes, int]] = []
        streams: set[tuple[tuple[str, int], ...]] = set()
        previous: tuple[float, bytes] | None = None
        for pkt in packets:
            # scapy's dissection is not needed (and fails on some loopback types): keep the raw frame
            # and read it with our own decoder.
            raw = bytes(getattr(pkt, "original", None) or bytes(pkt))
            iface = str(getattr(pkt, "sniffed_on", "") or self._ifaces[0])
            linktype = _linktype(iface)
            # A packet socket sees each loopback packet twice (sent, then received), byte for byte;
            # libpcap drops the outgoing copy on loopback, and so do we.
            if previous and previous[1] == raw and float(pkt.time) - previous[0] < 0.001 and _is_loopback(iface):
                previous = None
                continue
            previous = (float(pkt.time), raw)
            seg = decode(Record(0, 0.0, linktype, raw, len(raw), 0))
            if seg is None:
                continue
            if loopback and not ({seg.sport, seg.dport} & ports):
                continue  # another program's loopback traffic
            streams.add(tuple(sorted(((seg.src, seg.sport), (seg.dst, seg.dport)))))
            frames.append((float(pkt.time), raw, linktype))
        if frames:
            common = max({lt for _, _, lt in frames}, key=lambda lt: sum(1 for f in frames if f[2] == lt))
            frames = [f for f in frames if f[2] == common]  # one link type per classic pcap file
        else:
            common = 1
        blob = write_pcap(frames, common)
        try:
            self.pcap, masked = scrub_pcap(blob, self.redactor)
        except PcapError as exc:  # our own writer's output; a failure here is a bug, reported as such
            self.pcap = None
            self.finding = _finding(Status.ERROR, "Packet capture could not be saved", detail=str(exc))
            return
        self.finding = _finding(
            Status.PASS, f"Captured {len(frames)} packets in {len(streams)} TCP connections",
            detail="The probes' traffic is in capture.pcap; analyse it with `jnlpdiag analyze capture.pcap` "
                   "or open it in Wireshark. Secret bytes in plaintext packets were masked with '*'.",
            evidence={"packets": len(frames), "tcp_connections": len(streams), "filter": self._filter,
                      "interfaces": self._ifaces, "frames_masked": masked,
                      "loopback_ports_kept": sorted(ports) if loopback else None},
        )


# Linux ARPHRD_* interface types (include/uapi/linux/if_arp.h) -> pcap link types (tcpdump.org/linktypes):
# loopback and Ethernet frames carry an Ethernet header; "none" (tun, WireGuard) carries bare IP.
_ARPHRD_TO_LINKTYPE = {1: 1, 772: 1, 65534: 101, 776: 101, 778: 101}


def _is_loopback(iface: str) -> bool:
    try:
        with open(f"/sys/class/net/{iface}/type") as fh:
            return fh.read().strip() == "772"
    except OSError:
        return iface == "lo"


def _linktype(iface: str) -> int:
    try:
        with open(f"/sys/class/net/{iface}/type") as fh:
            return _ARPHRD_TO_LINKTYPE.get(int(fh.read().strip()), 1)
    except (OSError, ValueError):
        return 1


def write_pcap(frames: list[tuple[float, bytes, int]], linktype: int) -> bytes:
    """A classic little-endian microsecond pcap (the libpcap file format, version 2.4)."""
    out = io.BytesIO()
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
    for ts, raw, _ in frames:
        sec = int(ts)
        out.write(struct.pack("<IIII", sec, int(round((ts - sec) * 1e6)) % 1_000_000, len(raw), len(raw)))
        out.write(raw)
    return out.getvalue()
