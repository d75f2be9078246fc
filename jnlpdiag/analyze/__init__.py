"""Offline analysis of a packet capture (jnlpdiag's own, tcpdump's or Wireshark's).

Per TCP connection: the TCP handshake (SYN unanswered, reset answering the SYN), then what ran on
top — JNLP4-connect (preamble and ACK), TLS (versions offered and chosen, alerts by name, the
server certificate when it is in clear, a reset right after the ClientHello), HTTP (requests,
statuses, WebSocket upgrades, upgrade headers removed by a proxy) and WebSocket close codes. Each
outcome becomes a :class:`~jnlpdiag.findings.Finding`; titles, details and fixes come from
``jnlpdiag/data/capture-findings.json``, ``tls-alerts.json`` and ``websocket-close-codes.json``.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, BinaryIO

from jnlpdiag.analyze import httpws, tls
from jnlpdiag.analyze.packets import ACK, FIN, RST, SYN, decode
from jnlpdiag.analyze.pcapfile import MAX_FILE_BYTES, Capture, CaptureReader, PcapError, Record
from jnlpdiag.analyze.streams import Connection, Direction, Limits, Tracker
from jnlpdiag.findings import Finding, Fix, Layer, Status, claim_id
from jnlpdiag.jnlp4.ack import ACK as JNLP_ACK

__all__ = ["Analysis", "PcapError", "analyze_bytes", "analyze_file", "analyze_stream"]

PROBE = "analyze"
# remoting AgentProtocolClientFilterLayer: writeUTF("Protocol:JNLP4-connect") then AckFilterLayer's "ACK".
JNLP4_PREAMBLE = b"\x00\x16Protocol:JNLP4-connect"


@cache
def _data(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(resources.files("jnlpdiag").joinpath(f"data/{name}").read_text("utf-8"))
    return loaded


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _fmt(text: str, facts: Mapping[str, Any]) -> str:
    """Fill ``{name}`` placeholders; other braces (nginx config in fix steps) stay as written."""
    return _PLACEHOLDER.sub(lambda m: str(facts[m.group(1)]) if m.group(1) in facts else m.group(0), text)


def _fix(spec: dict[str, Any] | None, facts: Mapping[str, Any]) -> list[Fix]:
    if not spec:
        return []
    return [Fix(_fmt(spec["title"], facts), tuple(_fmt(s, facts) for s in spec.get("steps", ())),
                commands=tuple(_fmt(s, facts) for s in spec.get("commands", ())),
                notes=tuple(_fmt(s, facts) for s in spec.get("notes", ())),
                docs=tuple(spec.get("docs", ())))]


@dataclass
class Analysis:
    file: str
    format: str
    packets: int
    tcp_packets: int
    streams: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    truncated: str | None = None

    @property
    def status(self) -> Status:
        from jnlpdiag.findings import worst

        return worst([f.status for f in self.findings])

    def to_dict(self) -> dict[str, Any]:
        from jnlpdiag.run_report import exit_code_for

        return {
            "schema": "jnlpdiag.analyze/1",
            "file": self.file,
            "format": self.format,
            "packets": self.packets,
            "tcp_packets": self.tcp_packets,
            "truncated": self.truncated,
            "status": self.status.value,
            "exit_code": exit_code_for(self.status),
            "streams": self.streams,
            "findings": [f.to_dict() for f in self.findings],
        }


class _Stream:
    """Builds the findings of one connection."""

    def __init__(self, conn: Connection, t0: float, out: list[Finding], ids: set[str]) -> None:
        self.c = conn
        self.t0 = t0
        self.out = out
        self.ids = ids
        self.kind = "tcp"
        self.summary: dict[str, Any] = {}
        self.facts: dict[str, Any] = {
            "client": f"{_addr(conn.client)}", "server": f"{_addr(conn.server)}",
            "server_host": conn.server[0], "server_port": conn.server[1], "sni": conn.server[0],
        }
        self.requests: list[tuple[httpws.HttpMessage, str]] = []  # (request, finding id)

    @property
    def prefix(self) -> str:
        return f"stream{self.c.number}"

    def emit(self, aspect: str, outcome: str, caused_by: str | None = None, evidence: dict[str, Any] | None = None,
             fixes: list[Fix] | None = None, status: Status | None = None, **facts: Any) -> Finding:
        spec = _data("capture-findings.json")["outcomes"][outcome]
        merged = {**self.facts, **facts}
        st = status or Status(spec["status"])
        fx = fixes if fixes is not None else _fix(spec.get("fix"), merged)
        if st.needs_fix and not fx:
            fx = [Fix("Compare with a capture taken next to the server", commands=("sudo tcpdump -i any -w server.pcap",))]
        finding = Finding(
            id=f"{self.prefix}.{aspect}", probe=PROBE, layer=Layer(spec["layer"]), status=st,
            title=" ".join(_fmt(spec["title"], merged).split()), detail=_fmt(spec.get("detail", ""), merged),
            evidence={"stream": self.c.number, "client": self.facts["client"], "server": self.facts["server"],
                      **(evidence or {})},
            fixes=fx, caused_by=caused_by,
        )
        claim_id(finding, self.ids)  # unique within the analysis, as the runner makes them
        self.out.append(finding)
        return finding

    # --- TCP -------------------------------------------------------------------------------------

    def tcp(self) -> bool:
        """Emit the TCP outcome; True when application data can follow."""
        ev = self.c.events
        syns = [s for side, s in ev if side == "c" and s.has(SYN) and not s.has(ACK)]
        synack = next((s for side, s in ev if side == "s" and s.has(SYN) and s.has(ACK)), None)
        srv_rst = next((s for side, s in ev if side == "s" and s.has(RST)), None)
        evidence = {"packets": self.c.packets, "start_s": round(self.c.first_ts - self.t0, 6)}
        if syns and synack is None:
            if srv_rst is not None:
                self.kind = "refused"
                self.emit("tcp", "syn_refused", evidence={**evidence, "rst_packet": srv_rst.index})
            else:
                self.kind = "unanswered"
                self.emit("tcp", "syn_unanswered", syns=len(syns),
                          evidence={**evidence, "syn_packets": [s.index for s in syns],
                                    "waited_s": round(syns[-1].ts - syns[0].ts, 3)})
            return False
        if synack is not None:
            self.facts["synack_ttl"] = synack.ttl
            self.emit("tcp", "tcp_established", evidence={**evidence, "handshake_ms": round(
                (synack.ts - syns[0].ts) * 1000, 3) if syns else None})
        else:
            self.emit("tcp", "tcp_midstream", evidence=evidence)
        return True

    # --- Application -----------------------------------------------------------------------------

    def application(self) -> None:
        up, down = self.c.to_server.data, self.c.to_client.data
        if up.startswith(JNLP4_PREAMBLE[:8]):
            self.kind = "jnlp4"
            if not self.jnlp4(up, down):
                return
            up, down = up[len(JNLP4_PREAMBLE) + len(JNLP_ACK):], down[len(JNLP_ACK):]
        if tls.looks_like_tls(up):
            self.kind = "tls" if self.kind == "tcp" else self.kind
            self.tls(up, down)
        elif httpws.looks_like_http_request(up):
            self.kind = "http"
            self.http(up, down)

    def jnlp4(self, up: bytes, down: bytes) -> bool:
        reply = down[:40]
        shown = reply.decode("latin-1").split("\r\n")[0][:40]
        if down.startswith(JNLP_ACK):
            self.emit("jnlp4", "jnlp4_ok")
            return True
        if down.startswith(b"HTTP/"):
            self.emit("jnlp4", "jnlp4_http", reply=shown, evidence={"reply_hex": reply[:8].hex()})
        elif tls.looks_like_tls(down):
            self.emit("jnlp4", "jnlp4_tls", evidence={"reply_hex": reply[:8].hex()})
        elif down.startswith((b"Unknown protocol", b"Unrecognized protocol", b"Disabled protocol")):
            self.emit("jnlp4", "jnlp4_refused", reply=shown)
        else:
            self.emit("jnlp4", "jnlp4_no_ack", evidence={"reply_hex": reply[:8].hex() or None,
                                                         "closed": self.c.closed})
        return False

    def tls(self, up: bytes, down: bytes) -> None:
        client = tls.parse(up)
        server = tls.parse(down) if tls.looks_like_tls(down) else tls.TlsSide()
        sni = client.server_name or self.c.server[0]
        self.facts["sni"] = sni
        offered = ", ".join(client.versions) or "?"
        evidence: dict[str, Any] = {"offered": client.versions, "sni": client.server_name}
        if client.alpn:
            evidence["alpn_offered"] = client.alpn
        self.summary["tls_offered"] = client.versions
        cert_facts: dict[str, Any] = {}
        if server.certificates:
            cert_facts = tls.certificate_summary(server.certificates[0])
            if cert_facts:
                evidence["certificate"] = cert_facts
                self.summary["certificate_subject"] = cert_facts.get("subject")
        first_alert: Finding | None = None
        for sender, side in (("server", server), ("client", client)):
            for alert in side.alerts:
                if alert.code == 0:
                    continue  # close_notify: an orderly close
                info = tls.alert_names().get(alert.code, {})
                fixes = _fix(_data("tls-alerts.json")["fixes"].get(info.get("fix") or ""), self.facts)
                who = self.facts["server"] if sender == "server" else self.facts["client"]
                f = self.emit("tls", "tls_alert", alert=alert.name, code=alert.code, sender=sender, who=who,
                              meaning=info.get("meaning", "An alert the registry does not name."),
                              status=Status.FAIL if alert.level == "fatal" else Status.WARN,
                              fixes=fixes, evidence={**evidence, "level": alert.level, **(
                                  {"chosen": server.versions} if server.hello else {})},
                              caused_by=first_alert.id if first_alert else None)
                first_alert = first_alert or f
                self.summary.setdefault("tls_alerts", []).append(f"{alert.name} from {sender}")
        if first_alert is not None:
            return
        if client.hello == "client_hello" and server.hello is None:
            if self.reset_after_hello(evidence):
                return
        if server.hello in ("server_hello", "hello_retry_request") and server.versions:
            chosen = server.versions[0]
            evidence.update({"chosen": chosen, "cipher_suite": f"0x{server.cipher_suite:04x}"
                             if server.cipher_suite is not None else None})
            if not server.certificates and chosen == "TLS 1.3":
                evidence["certificate"] = "encrypted (TLS 1.3)"
            self.summary["tls_chosen"] = chosen
            outcome = "tls_old_version" if chosen in ("TLS 1.0", "TLS 1.1", "SSL 3.0") else "tls_ok"
            self.emit("tls", outcome, chosen=chosen, offered=offered, evidence=evidence)
            return
        progress = "ClientHello sent, no ServerHello" if client.hello else "no ClientHello"
        self.emit("tls", "tls_incomplete", progress=progress, evidence=evidence)

    def reset_after_hello(self, evidence: dict[str, Any]) -> bool:
        """A reset (or close) from the server side right after the ClientHello, with no answer."""
        ev = self.c.events
        hello_at = next((i for i, (side, s) in enumerate(ev) if side == "c" and s.payload), None)
        if hello_at is None:
            return False
        hello = ev[hello_at][1]
        for side, seg in ev[hello_at + 1:]:
            if side == "s" and seg.payload:
                return False
            if side == "s" and (seg.has(RST) or seg.has(FIN)):
                delay = round((seg.ts - hello.ts) * 1000, 3)
                synack_ttl = self.facts.get("synack_ttl")
                ttl_note = ""
                if synack_ttl is not None and synack_ttl != seg.ttl:
                    ttl_note = (f"The reset's IP TTL ({seg.ttl}) differs from the server's SYN-ACK ({synack_ttl}): "
                                "it was sent by a different device than the server.")
                elif synack_ttl is not None:
                    ttl_note = (f"The reset has the same IP TTL as the server's SYN-ACK ({seg.ttl}): the device "
                                "is the server host itself or sits at the same hop distance.")
                ev2 = {**evidence, "client_hello_packet": hello.index, "reset_packet": seg.index,
                       "delay_ms": delay, "reset_ttl": seg.ttl, "synack_ttl": synack_ttl}
                outcome = "reset_after_client_hello" if seg.has(RST) else "closed_after_client_hello"
                self.kind = "tls-reset" if seg.has(RST) else "tls-closed"
                self.emit("tls", outcome, delay_ms=delay, ttl_note=ttl_note, evidence=ev2)
                return True
        return False

    def http(self, up: bytes, down: bytes) -> None:
        requests = httpws.messages(up, requests=True)
        responses = httpws.messages(down, requests=False)
        for i, req in enumerate(requests):
            resp = responses[i] if i < len(responses) else None
            method_path = " ".join(req.start_line.split(" ")[:2])
            host = req.headers.get("host", self.facts["server"])
            path = req.start_line.split(" ")[1] if " " in req.start_line else "/"
            url = f"http://{host}{path}"
            status = resp.start_line.split(" ")[1] if resp and " " in resp.start_line else ""
            facts: dict[str, Any] = {"request": method_path, "status_line": resp.start_line if resp else "", "url": url}
            evidence: dict[str, Any] = {"request": req.start_line, "request_headers": req.header_names}
            if resp:
                evidence["response"] = resp.start_line
                evidence["response_headers"] = {k: v for k, v in resp.headers.items()}
                if resp.body_preview.strip():
                    evidence["response_body"] = resp.body_preview.strip()[:200]
            for k in ("upgrade", "connection", "sec-websocket-key"):
                if k in req.headers:
                    evidence.setdefault("upgrade_headers", {})[k] = req.headers[k]
            is_upgrade = req.headers.get("upgrade", "").lower() == "websocket"
            self.summary.setdefault("http", []).append(f"{method_path} -> {status or 'no response'}")
            if is_upgrade:
                self.kind = "websocket"
                if status == "101":
                    f = self.emit("websocket", "ws_upgrade_ok", evidence=evidence, **facts)
                    self.requests.append((req, f.id))
                    self.websocket(up, down)
                    continue
                if resp is None:
                    f = self.emit("http", "http_no_response", evidence=evidence, **facts)
                else:
                    table = _data("capture-findings.json")["upgrade_status"]
                    entry = table.get(status) or (table["5xx"] if status.startswith("5") else table["other"])
                    f = self.emit("websocket", "ws_upgrade_refused", meaning=entry["meaning"],
                                  fixes=_fix(entry["fix"], {**self.facts, **facts}), evidence=evidence, **facts)
                self.requests.append((req, f.id))
                continue
            if "sec-websocket-key" in req.headers:
                self.requests.append((req, ""))  # a WebSocket request stripped of its upgrade: see _stripped_upgrades
                continue
            if resp is None:
                f = self.emit("http", "http_no_response", evidence=evidence, **facts)
            elif status[:1] in ("4", "5"):
                f = self.emit("http", "http_error", evidence=evidence, **facts)
            else:
                f = self.emit("http", "http_exchange", evidence=evidence, **facts)
            self.requests.append((req, f.id))

    def websocket(self, up: bytes, down: bytes) -> None:
        codes = {c["code"]: c for c in _data("websocket-close-codes.json")["codes"]}
        ws_fixes = _data("websocket-close-codes.json")["fixes"]
        for sender, data in (("server", down), ("client", up)):
            start = httpws.upgrade_offset(data)
            if start is None:
                continue
            frames = httpws.ws_frames(data[start:])
            if frames.close is None:
                continue
            code = frames.close.code
            info = codes.get(code or 0, {"name": "no_status", "meaning": "A close frame without a status code.",
                                         "status": "warn", "fix": None})
            if code and 3000 <= code < 5000:
                info = {"name": "application", "meaning": "An application-defined close code.", "status": "warn",
                        "fix": "server"}
            self.summary.setdefault("websocket_close", []).append(f"{code} from {sender}")
            self.emit("close", "ws_close", sender=sender, code=code if code is not None else "-",
                      name=info["name"], reason=f" ({frames.close.reason})" if frames.close.reason else "",
                      meaning=info["meaning"], status=Status(info["status"]),
                      fixes=_fix(ws_fixes.get(info.get("fix") or ""), self.facts),
                      evidence={"code": code, "reason": frames.close.reason, "frames_before_close": frames.frames - 1})
            break


def _addr(ep: tuple[str, int]) -> str:
    return f"[{ep[0]}]:{ep[1]}" if ":" in ep[0] else f"{ep[0]}:{ep[1]}"


def _stripped_upgrades(streams: list[_Stream], out: list[Finding]) -> None:
    """A WebSocket request without Upgrade headers: a proxy removed them (matched by Sec-WebSocket-Key)."""
    with_upgrade: dict[str, tuple[_Stream, str]] = {}
    for st in streams:
        for req, fid in st.requests:
            key = req.headers.get("sec-websocket-key")
            if key and req.headers.get("upgrade", "").lower() == "websocket":
                with_upgrade[key] = (st, fid)
    for st in streams:
        for req, fid in st.requests:
            key = req.headers.get("sec-websocket-key")
            if not key or req.headers.get("upgrade", "").lower() == "websocket":
                continue
            origin = with_upgrade.get(key)
            counterpart = (f" The same key came with the upgrade headers in stream {origin[0].c.number} "
                           f"({origin[0].facts['client']} -> {origin[0].facts['server']}): the proxy between the two "
                           "removed them.") if origin else ""
            method_path = " ".join(req.start_line.split(" ")[:2])
            stripped = st.emit("upgrade", "ws_upgrade_stripped", request=method_path, counterpart=counterpart,
                               evidence={"request_headers": req.header_names, "sec_websocket_key": key,
                                         "client_leg_stream": origin[0].c.number if origin else None})
            # The refusal seen by the client follows from the stripped headers; so does this leg's answer.
            for f in out:
                if f.id == fid or (origin and f.id == origin[1] and f.status is not Status.PASS):
                    f.caused_by = stripped.id


def analyze_capture(cap: Capture, name: str = "") -> Analysis:
    """Analyse records already read (kept for callers that hold a :class:`Capture`)."""
    return _analyze(iter(cap.records), cap.format, lambda: cap.truncated, name)


def analyze_stream(fh: BinaryIO, name: str = "", limits: Limits | None = None) -> Analysis:
    """Analyse a capture read from a binary stream, one record at a time: memory stays flat in the
    number of packets (per-connection state is bounded, see :class:`~jnlpdiag.analyze.streams.Limits`).
    Raises PcapError when it is not a capture at all."""
    reader = CaptureReader(fh)
    return _analyze(iter(reader), reader.format, lambda: reader.truncated, name, limits)


def analyze_file(path: str, name: str = "") -> Analysis:
    """Analyse a capture file as a stream (a FIFO or device is refused: LocalFileError)."""
    from jnlpdiag.localfile import open_regular

    with open_regular(path) as fh:
        return analyze_stream(fh, name)


def _analyze(records: Iterator[Record], fmt: str, truncated: Callable[[], str | None], name: str,
             limits: Limits | None = None) -> Analysis:
    tracker = Tracker(limits or Limits())
    count = tcp = 0
    t0: float | None = None
    for record in records:
        count += 1
        if t0 is None:
            t0 = record.ts
        seg = decode(record)
        if seg is not None:
            tcp += 1
            tracker.add(seg)
    cut = truncated()
    result = Analysis(file=name, format=fmt, packets=count, tcp_packets=tcp, truncated=cut)
    built: list[_Stream] = []
    ids: set[str] = set()
    for conn in tracker.connections:
        st = _Stream(conn, t0 or 0.0, result.findings, ids)
        if st.tcp():
            st.application()
        built.append(st)
        summary: dict[str, Any] = {
            "id": conn.number, "client": st.facts["client"], "server": st.facts["server"], "kind": st.kind,
            "start_s": round(conn.first_ts - (t0 or 0.0), 6), "packets": conn.packets,
            "bytes_to_server": _stream_bytes(conn.to_server), "bytes_to_client": _stream_bytes(conn.to_client),
            **st.summary,
        }
        if conn.to_server.capped or conn.to_client.capped:
            summary["payload_stored"] = {"to_server": conn.to_server.bytes_stored,
                                         "to_client": conn.to_client.bytes_stored}
        result.streams.append(summary)
    _stripped_upgrades(built, result.findings)
    if tracker.untracked:
        limit = tracker.limits.connections if tracker.limits else 0
        result.findings.append(Finding(
            id="capture.untracked", probe=PROBE, layer=Layer.NETWORK, status=Status.SKIP,
            title=f"{tracker.untracked} TCP packets of connections after the first {limit} were counted, not analysed",
            detail="Each connection keeps some state; past this many connections, later ones are not followed, so "
                   "that memory stays bounded. Filter the capture on the Jenkins host to analyse them.",
            evidence={"connections_analysed": limit, "packets_not_analysed": tracker.untracked},
        ))
    if cut:
        result.findings.append(Finding(
            id="capture.truncated", probe=PROBE, layer=Layer.NETWORK, status=Status.ERROR,
            title=f"The capture file is truncated: {cut}",
            detail=f"{count} complete packets were read and analysed; the rest of the file is missing "
                   "(the capture was cut while being written, or the file was copied partly).",
        ))
    if not tcp:
        result.findings.append(Finding(
            id="capture.empty", probe=PROBE, layer=Layer.NETWORK, status=Status.WARN,
            title=f"No TCP packet in the capture ({count} frames)",
            detail="Nothing to analyse: the capture filter or interface missed the agent's traffic.",
            fixes=[Fix("Capture on the interface the agent uses, filtered on the Jenkins host",
                       notes=("sudo tcpdump -i any -w agent.pcap host <the Jenkins host>, then jnlpdiag analyze "
                              "agent.pcap",))],
        ))
    return result


def _stream_bytes(direction: Direction) -> int:
    """Bytes of the direction: reassembled (retransmissions once) when all were kept, else as counted."""
    return direction.bytes_seen if direction.capped else len(direction.data)


def analyze_bytes(blob: bytes, name: str = "") -> Analysis:
    """Analyse a capture held in memory. Raises PcapError when it is not a capture at all."""
    if len(blob) > MAX_FILE_BYTES:
        raise PcapError(f"{len(blob)} bytes is larger than the {MAX_FILE_BYTES // 2**20} MiB this tool reads")
    return analyze_stream(io.BytesIO(blob), name)
