"""tcp: can this host open a TCP connection to the agent port, and is it really the agent port?

The target is what agent.jar would use: ``-direct HOST:PORT``, else the discovered agent host and
port with ``-tunnel`` applied on top (remoting ``HostPort``: ``HOST:PORT``, ``HOST:``, ``:PORT``,
``[v6]:PORT``). Every resolved address (IPv4 and IPv6) is tried separately, in parallel, because
a dual-stack name with one broken family is a classic half-failure. Through an HTTP proxy when
remoting would use one (``JnlpAgentEndpoint.open`` sends ``CONNECT``).

Once connected, it asks the port what it is: the Jenkins agent listener answers a plain
``GET / HTTP/1.0`` with its protocols, version, session and the client address it sees (core
``TcpSlaveAgentListener.ConnectionHandler.respondHello``), which also reveals NAT.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from jnlpdiag.findings import Finding, Layer, Status
from jnlpdiag.fixcatalog import fix
from jnlpdiag.hostport import split_host_port
from jnlpdiag.httpclient import Proxy, resolve
from jnlpdiag.jnlp4 import ack
from jnlpdiag.jnlp4.session import Jnlp4Session, StepFailed
from jnlpdiag.neterrors import CONNECTED, DNS, classify
from jnlpdiag.probe_api import Context, DeadlineExceeded, Facts, Probe
from jnlpdiag.pycompat import Timeouts

from .discovery import DiscoveryProbe

_CATALOG = "tcp"
_HELLO = b"GET / HTTP/1.0\r\n\r\n"  # >= 10 bytes, or the listener blocks in readFully
_MAX_HELLO_ANSWER = 8192
# The premises a failure here disproves (model.PREMISES): what rests on them is folded under it.
_UNREACHABLE = ("agent-port-reachable", "agent-port-is-listener")
_NOT_LISTENER = ("agent-port-is-listener",)


def parse_hello(data: bytes) -> dict[str, str] | None:
    """The listener's plain-text answer as a dict, or None when it is not that answer."""
    if not data.startswith(b"HTTP/1.0 200"):
        return None
    _, _, body = data.partition(b"\r\n\r\n")
    fields: dict[str, str] = {}
    for line in body.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields if "Jenkins-Agent-Protocols" in fields or "Jenkins-Version" in fields else None


def describe_answer(data: bytes) -> str:
    """Name the service from its first bytes (for 'something else answers on the agent port')."""
    if not data:
        return "closed the connection without answering"
    first_line = data.split(b"\r\n", 1)[0].decode("latin-1")
    if data.startswith(b"HTTP/"):
        return f"an HTTP server ({first_line[:60]})"
    if data[:1] == b"\x15" and data[1:2] == b"\x03":
        return "a TLS server (it answered with a TLS alert)"
    if data[:1] == b"\x16" and data[1:2] == b"\x03":
        return "a TLS server"
    if data.startswith(b"SSH-"):
        return f"an SSH server ({first_line[:40]})"
    return f"an unknown service (first bytes {data[:8].hex()})"


@dataclass
class TcpFacts(Facts):
    """The agent port as tcp reached it."""

    host: str | None = None
    port: int | None = None
    source: str | None = None  # where host:port came from (-direct, -tunnel, discovery)
    result: str | None = None  # connected, refused, timeout, dns, proxy_refused, ...
    connected: bool = False
    addresses: list[str] | None = None  # the addresses that connected
    via_proxy: str | None = None  # "host:port" of the HTTP proxy the connection went through
    listener_hello: dict[str, Any] | None = None  # what the listener said (tcp.listener evidence)


class TcpProbe(Probe[TcpFacts]):
    id = "tcp"
    layer = Layer.NETWORK
    description = "TCP connect to the agent port (IPv4 and IPv6 apart, through the agent's proxy) and ask what answers"
    after = ("discovery",)
    rests_on = ("agent-listener-published",)

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        s = ctx.settings
        if s.websocket and not s.direct:
            yield ctx.finding("tcp.agent_port", Status.SKIP,
                              "WebSocket agent: the TCP agent port is not used (the HTTP(S) port carries the channel)")
            return
        if s.direct:  # -direct names the port itself: nothing rests on discovery
            ctx.rests_on = ()
        target = self._target(ctx)
        if isinstance(target, Finding):
            yield target
            return
        host, port, source = target
        values = {"host": host, "port": port, "url": s.url or ""}
        route = ctx.agent.tcp_route(host)
        if route.proxy is not None:
            async for finding in self._via_proxy(ctx, host, port, source, route.proxy, route.describe(), values):
                yield finding
            return

        try:
            infos = await asyncio.wait_for(resolve(host, port), ctx.step_timeout())
        except (*Timeouts, OSError) as exc:
            kind, msg = classify(exc)
            kind = DNS if kind in (DNS, "error") else kind
            ctx.publish(host=host, port=port, source=source, result=kind, connected=False)
            yield ctx.finding("tcp.agent_port", Status.FAIL, f"Cannot resolve {host}: {msg}",
                              evidence={"result": kind, "host": host, "port": port, "source": source},
                              fixes=[fix(_CATALOG, "dns", **values)], breaks=_UNREACHABLE)
            return
        addresses = list(dict.fromkeys((int(info[0]), str(info[4][0])) for info in infos))
        timeout = ctx.step_timeout()
        results = await asyncio.gather(*(self._connect(fam, addr, port, timeout) for fam, addr in addresses))
        connected = [r for r in results if r["result"] == CONNECTED]
        overall = CONNECTED if connected else results[0]["result"]
        ctx.publish(host=host, port=port, source=source, result=overall, connected=bool(connected),
                    addresses=[r["address"] for r in connected])
        evidence: dict[str, Any] = {"result": overall, "host": host, "port": port, "source": source,
                                    "route": route.describe(), "addresses": [
                                        {k: v for k, v in r.items() if k != "writer"} for r in results]}
        for r in results:
            if r.get("writer"):
                r["writer"].close()
        if not connected:
            first = results[0]
            yield ctx.finding("tcp.agent_port", Status.FAIL,
                              f"TCP {host}:{port} ({source}): {first['error']}",
                              detail=self._explain(overall, source),
                              evidence=evidence, fixes=[fix(_CATALOG, overall if overall in (
                                  "refused", "timeout", "reset", "unreachable") else "refused",
                                  address=first["address"], **values)], breaks=_UNREACHABLE)
            return
        failed = [r for r in results if r["result"] != CONNECTED]
        best = min(connected, key=lambda r: r["latency_ms"])
        if failed:
            fams = ", ".join(f"{r['address']} {r['result']}" for r in failed)
            yield ctx.finding("tcp.agent_port", Status.WARN,
                              f"TCP {host}:{port} connects on {best['address']} but not on every address ({fams})",
                              detail="The JVM may try the failing address first (java.net.preferIPv6Addresses) and "
                                     "lose time or fail.",
                              evidence=evidence, fixes=[fix(_CATALOG, failed[0]["result"] if failed[0]["result"] in (
                                  "refused", "timeout", "reset", "unreachable") else "refused",
                                  address=failed[0]["address"], **values)])
        else:
            yield ctx.finding("tcp.agent_port", Status.PASS,
                              f"TCP {host}:{port} ({source}) connects in {best['latency_ms']:.1f} ms",
                              evidence=evidence)
        yield await self._identify(ctx, best["family"], best["address"], port, values, None)

    # -- target ---------------------------------------------------------------------------------

    def _target(self, ctx: Context) -> tuple[str, int, str] | Finding:
        s = ctx.settings

        def bad(option: str, value: str, title: str) -> Finding:
            return ctx.finding("tcp.agent_port", Status.FAIL, title, evidence={option: value},
                               fixes=[fix(_CATALOG, "bad_target", value=value)], breaks=_UNREACHABLE, rests_on=())

        if s.direct:
            try:
                host, port = split_host_port(s.direct)
            except ValueError as exc:
                return bad("direct", s.direct, f"Invalid -direct value: {exc}")
            if host and port:
                return host, port, "direct"
            return bad("direct", s.direct, f"-direct needs HOST:PORT, got {s.direct!r}")
        d = ctx.facts(DiscoveryProbe)
        host, port = d.agent_host, d.agent_port
        source = "discovery"
        if s.tunnel:
            try:
                t_host, t_port = split_host_port(s.tunnel)
            except ValueError as exc:
                return bad("tunnel", s.tunnel, f"Invalid -tunnel value: {exc}")
            host, port, source = t_host or host, t_port or port, "tunnel"
        if host and port:
            return str(host), int(port), source
        root = ctx.failure_of("discovery")
        return ctx.finding("tcp.agent_port", Status.SKIP,
                           "No agent port to test: discovery did not find one" if root else
                           "No agent port to test (no discovery result, no -tunnel or -direct)",
                           caused_by=root)

    @staticmethod
    def _explain(result: str, source: str) -> str:
        where = {"discovery": "the advertised agent host/port", "tunnel": "the -tunnel address",
                 "direct": "the -direct address"}[source]
        return {
            "refused": f"A reset answered the SYN at {where}: nothing listens there, or a firewall rejects it. "
                       "agent.jar logs 'provided port:<port> is not reachable'.",
            "timeout": f"No answer to the SYN at {where}: packets are dropped (firewall/blackhole).",
            "reset": "The connection was reset.",
            "unreachable": "The kernel has no route to that address.",
        }.get(result, "")

    async def _connect(self, family: int, address: str, port: int, timeout: float) -> dict[str, Any]:
        t0 = time.monotonic()
        fam = "IPv6" if family == socket.AF_INET6 else "IPv4"
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(address, port), timeout)
        except (*Timeouts, OSError) as exc:
            kind, msg = classify(exc)
            return {"address": address, "family": fam, "result": kind, "error": msg,
                    "latency_ms": round((time.monotonic() - t0) * 1000, 1)}
        return {"address": address, "family": fam, "result": CONNECTED, "error": None,
                "latency_ms": round((time.monotonic() - t0) * 1000, 1), "writer": writer}

    # -- through a proxy ------------------------------------------------------------------------

    async def _via_proxy(self, ctx: Context, host: str, port: int, source: str, proxy: Proxy, route: str,
                         values: dict[str, Any]) -> AsyncIterator[Finding]:
        evidence: dict[str, Any] = {"host": host, "port": port, "source": source, "route": route,
                                    "proxy": f"{proxy.host}:{proxy.port}"}
        t0 = time.monotonic()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(proxy.host, proxy.port), ctx.step_timeout())
        except (*Timeouts, OSError) as exc:
            kind, msg = classify(exc)
            evidence["result"] = kind
            ctx.publish(host=host, port=port, source=source, result=kind, connected=False)
            yield ctx.finding("tcp.agent_port", Status.FAIL, f"Cannot reach the proxy {proxy.host}:{proxy.port}: {msg}",
                              evidence=evidence, fixes=[fix(_CATALOG, "proxy_refused", **values)], breaks=_UNREACHABLE)
            return
        try:
            # JnlpAgentEndpoint.open: "CONNECT host:port HTTP/1.1\r\nHost: host\r\n[Proxy-Authorization]\r\n\r\n"
            req = f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}\r\n"
            if proxy.auth_header():
                req += f"Proxy-Authorization: {proxy.auth_header()}\r\n"
            writer.write((req + "\r\n").encode())
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), ctx.step_timeout())
            while True:  # skip the proxy's response headers
                line = await asyncio.wait_for(reader.readline(), ctx.step_timeout())
                if line in (b"\r\n", b"\n", b""):
                    break
        except (*Timeouts, OSError) as exc:
            writer.close()
            kind, msg = classify(exc)
            evidence["result"] = kind
            ctx.publish(host=host, port=port, source=source, result=kind, connected=False)
            yield ctx.finding("tcp.agent_port", Status.FAIL, f"Proxy {proxy.host}:{proxy.port} did not answer CONNECT: {msg}",
                              evidence=evidence, fixes=[fix(_CATALOG, "proxy_refused", **values)], breaks=_UNREACHABLE)
            return
        status = status_line.decode("latin-1").strip()
        evidence["proxy_status"] = status
        parts = status.split()
        if len(parts) < 2 or parts[1] != "200":
            writer.close()
            evidence["result"] = "proxy_refused"
            ctx.publish(host=host, port=port, source=source, result="proxy_refused", connected=False)
            yield ctx.finding("tcp.agent_port", Status.FAIL,
                              f"Proxy refuses CONNECT to {host}:{port}: {status[:80] or 'Proxy socket closed'}",
                              detail="agent.jar reports 'Got a bad response from proxy: ...' (remoting JnlpAgentEndpoint).",
                              evidence=evidence, fixes=[fix(_CATALOG, "proxy_refused", **values)], breaks=_UNREACHABLE)
            return
        evidence.update(result=CONNECTED, latency_ms=round((time.monotonic() - t0) * 1000, 1))
        ctx.publish(host=host, port=port, source=source, result=CONNECTED, connected=True, via_proxy=evidence["proxy"])
        yield ctx.finding("tcp.agent_port", Status.PASS, f"TCP {host}:{port} connects through proxy {evidence['proxy']}",
                          evidence=evidence)
        yield await self._identify(ctx, "proxy", host, port, values, (reader, writer))

    # -- what answers on the port ---------------------------------------------------------------

    async def _predict_agent_log(self, ctx: Context, address: str, port: int, evidence: dict[str, Any]) -> str:
        """Send agent.jar's own JNLP4-connect preamble and ACK, and say what agent.jar will log from
        what comes back (remoting ``AckFilterLayer``, jenkinsci/remoting fa5f12a8: a wrong first byte
        aborts at once with "Incorrect acknowledgement sequence, expected 0x000341434b got 0x<bytes>";
        silence hits the 10 s handshake timeout, "Timeout waiting for ACK", and the channel closes with
        "Connection closed before acknowledgement sent"). A server that answers any bytes at once
        (nginx) and one that waits for a full request line (python's http.server) differ here."""
        wait = ack.HANDSHAKE_TIMEOUT
        session = Jnlp4Session(address, port)
        try:
            await session.connect(ctx.step_timeout())
            await session.preamble_and_ack(ctx.step_timeout(cap=3.0))
            evidence["agent_preamble_answer"] = "ack"
            return "It answered agent.jar's own preamble with the JNLP4 ACK, though."
        except StepFailed as exc:
            got = bytes.fromhex(str(exc.data.get("received_hex") or ""))
            evidence["agent_preamble_answer"] = exc.cause
            if got:
                evidence["agent_preamble_first_bytes"] = got[:16].hex()
            if exc.cause in ("not_jnlp", "ack_partial") and got:
                line = f"Incorrect acknowledgement sequence, expected 0x{ack.ACK.hex()} got 0x{got[:5].hex()}"
                evidence["predicted_agent_log"] = [line]
                return f"It answers agent.jar's preamble at once, so agent.jar will log '{line}'."
            if exc.cause == "ack_timeout":
                lines = ["Timeout waiting for ACK", "Connection closed before acknowledgement sent"]
                evidence["predicted_agent_log"] = lines
                return (f"It does not answer agent.jar's preamble (it waits for more, as a web server waits for a "
                        f"full request line), so after {wait:g} s agent.jar will log '{lines[0]}' and then "
                        f"'{lines[1]}'.")
            if exc.cause == "ack_closed":
                evidence["predicted_agent_log"] = ["Connection closed before acknowledgement sent"]
                return ("It closes the connection on agent.jar's preamble, so agent.jar will log 'Connection "
                        "closed before acknowledgement sent'.")
            return f"agent.jar's preamble got: {exc.message}."
        except DeadlineExceeded:
            return ""
        finally:
            await session.close()

    async def _identify(self, ctx: Context, family: str, address: str, port: int, values: dict[str, Any],
                        stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> Finding:
        evidence: dict[str, Any] = {"address": address, "port": port}
        data = b""
        writer = None
        local: Any = None
        try:
            if stream is None:
                stream = await asyncio.wait_for(asyncio.open_connection(address, port), ctx.step_timeout())
            reader, writer = stream
            local = writer.get_extra_info("sockname")
            writer.write(_HELLO)
            await writer.drain()
            end = time.monotonic() + ctx.step_timeout(cap=5.0)
            while len(data) < _MAX_HELLO_ANSWER:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                chunk = await asyncio.wait_for(reader.read(_MAX_HELLO_ANSWER - len(data)), left)
                if not chunk:
                    break
                data += chunk
        except (*Timeouts, OSError) as exc:
            kind, msg = classify(exc)
            evidence.update(answer=None, error=msg, result=kind)
            if data:
                evidence["first_bytes"] = data[:16].hex()
            what = "stayed silent" if kind == "timeout" else msg
            silent = kind == "timeout" and not data
            return ctx.finding("tcp.listener", Status.FAIL,
                               f"The service on {address}:{port} {what} when asked what it is (not a Jenkins agent listener)",
                               detail="A Jenkins agent listener answers 'GET / HTTP/1.0' at once with its protocols. "
                                      + ("This one accepted the connection and sent nothing: agent.jar would log "
                                         "'Timeout waiting for ACK' after 10 s." if silent else
                                         "A reset here means another service, a load balancer without a healthy "
                                         "backend, or a middlebox."),
                               evidence=evidence, breaks=_NOT_LISTENER,
                               fixes=[fix(_CATALOG, "silent_listener" if silent else "not_jenkins_port",
                                          **{**values, "host": address})])
        finally:
            if writer is not None:
                writer.close()
        hello = parse_hello(data)
        if hello is None:
            what = describe_answer(data)
            evidence.update(answer=what, first_bytes=data[:16].hex())
            predicted = await self._predict_agent_log(ctx, address, port, evidence) if data else ""
            return ctx.finding("tcp.listener", Status.FAIL, f"Not a Jenkins agent port: {address}:{port} is {what}",
                               detail=predicted,
                               evidence=evidence, fixes=[fix(_CATALOG, "not_jenkins_port", **values)], breaks=_NOT_LISTENER)
        client = hello.get("Client")
        local_ip = local[0] if isinstance(local, tuple) and family != "proxy" else None
        nat = bool(client and local_ip and client != local_ip)
        evidence.update(answer="jenkins", jenkins_version=hello.get("Jenkins-Version"),
                        protocols=[p.strip() for p in hello.get("Jenkins-Agent-Protocols", "").split(",") if p.strip()],
                        session=hello.get("Jenkins-Session"), client_seen=client, local_address=local_ip, nat=nat,
                        server=hello.get("Server"), min_remoting=hello.get("Remoting-Minimum-Version"))
        ctx.publish(listener_hello=evidence)
        root_session = (ctx.facts(DiscoveryProbe).root_headers or {}).get("X-Jenkins-Session")
        if root_session and evidence["session"] and root_session != evidence["session"]:
            return ctx.finding("tcp.listener", Status.FAIL,
                               "The agent port belongs to another Jenkins instance than the URL (session differs)",
                               detail=f"X-Jenkins-Session at the URL is {root_session}; the agent port reports "
                                      f"{evidence['session']}.",
                               evidence=evidence, fixes=[fix(_CATALOG, "other_controller", **values)], breaks=_NOT_LISTENER)
        note = (f" The controller sees this host as {client} (local address {local_ip}): NAT or a proxy in between."
                if nat else "")
        return ctx.finding("tcp.listener", Status.PASS,
                           f"Jenkins agent listener answers on {address}:{port} (Jenkins {evidence['jenkins_version']})",
                           detail=("Protocols: " + ", ".join(evidence["protocols"]) + "." + note).strip(),
                           evidence=evidence)
