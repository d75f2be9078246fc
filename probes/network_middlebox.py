"""network.middlebox: tell a middlebox (firewall, DPI/IPS, forward proxy policy) from a dead service.

Each signature compares two things that differ only in what a middlebox looks at:

- agent port, TLS: the listener answers the JNLP4 ACK (so Jenkins is alive), then the connection
  is reset, closed or stalls right after the TLS ClientHello: a DPI rule acting on TLS
  (remoting sends the ClientHello only after the ACK, ``AckFilterLayer``);
- agent port, drop: the TCP connect to the agent port times out while the HTTP(S) port of the
  same URL answers: a firewall rule for that port, not a dead host;
- forward proxy: ``CONNECT`` to the agent port is refused while ``CONNECT`` to the URL's port
  passes: the proxy's port policy (squid ``SSL_ports``, tinyproxy ``ConnectPort``);
- WebSocket: the upgrade request to ``<url>wsagents/`` is reset while ``GET <url>login`` is
  answered: a DPI rule on ``Upgrade: websocket``.
Evidence names the stage where the connection died.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from jnlpdiag.findings import Finding, Layer, Status
from jnlpdiag.httpclient import HttpError, request
from jnlpdiag.jnlp4.catalog import fix
from jnlpdiag.jnlp4.session import Jnlp4Session, StepFailed
from jnlpdiag.neterrors import classify
from jnlpdiag.probe_api import Context, Probe
from jnlpdiag.pycompat import Timeouts
from jnlpdiag.tls.agentssl import agent_ssl_context
from jnlpdiag.wsagent import upgrade as ws

from .discovery import DiscoveryProbe
from .tcp import TcpProbe

_DPI_TLS = {"tls_reset_after_hello": "reset", "tls_closed_after_hello": "closed", "tls_timeout": "stalled"}


class MiddleboxProbe(Probe):
    id = "network.middlebox"
    layer = Layer.NETWORK
    description = ("Middlebox or dead service? Reset after the TLS ClientHello or the WebSocket upgrade (DPI), "
                   "agent port dropped while HTTP(S) answers (firewall), proxy CONNECT refused for the agent port")
    after = ("discovery", "tcp")

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        s = ctx.settings
        tcp = ctx.facts(TcpProbe)
        url = ctx.jenkins_url()
        url_host, url_port = None, None
        if url:
            parts = urlsplit(url)
            url_host, url_port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        values: dict[str, Any] = {"host": tcp.host, "port": tcp.port, "url": url or "",
                                  "url_host": url_host, "url_port": url_port}
        emitted = False
        if tcp.host and tcp.port:
            result = tcp.result
            if tcp.connected and not tcp.via_proxy:
                yield await self._tls_signature(ctx, values)
                emitted = True
            elif result == "timeout" and url_host:
                yield await self._drop_signature(ctx, values)
                emitted = True
            elif result == "proxy_refused" and url_host:
                finding = await self._proxy_signature(ctx, values)
                if finding:
                    yield finding
                    emitted = True
        if url and (s.websocket or ctx.facts(DiscoveryProbe).root_headers):
            yield await self._websocket_signature(ctx, url, values)
            emitted = True
        if not emitted:
            yield ctx.finding(self.id, Status.SKIP,
                              "Nothing to compare: no agent port was reached and the URL did not answer"
                              if url else "Nothing to compare: no agent port result and no URL",
                              caused_by=ctx.failure_of("tcp") or ctx.failure_of("discovery"))

    # -- the agent port: ACK answered, then TLS cut? ----------------------------------------------------

    async def _tls_signature(self, ctx: Context, values: dict[str, Any]) -> Finding:
        session = Jnlp4Session(str(values["host"]), int(values["port"]))
        evidence: dict[str, Any] = {"target": f"{values['host']}:{values['port']}", "stage": None, "result": None}
        try:
            await session.connect(ctx.step_timeout())
            await session.preamble_and_ack(ctx.step_timeout(cap=5.0))
            evidence["stage"] = "ack"
            await session.tls_handshake(ctx.step_timeout(cap=5.0))
        except StepFailed as exc:
            evidence.update(failed_at=exc.stage, cause=exc.cause, error=exc.message)
            if exc.stage == "tls" and exc.cause in _DPI_TLS:
                evidence.update(stage="client_hello", result=_DPI_TLS[exc.cause])
                return ctx.finding(
                    self.id, Status.FAIL,
                    f"Middlebox on {values['host']}:{values['port']}: the ACK came back, then TLS was "
                    f"{_DPI_TLS[exc.cause]} right after the ClientHello",
                    detail="The Jenkins listener is alive (it answered the plaintext ACK); the connection died when "
                           "the TLS ClientHello went out. That is the signature of a DPI/IPS rule, not of Jenkins.",
                    evidence=evidence, fixes=[fix("middlebox_dpi_tls", **values)])
            evidence["result"] = "inconclusive"
            return ctx.finding(self.id, Status.PASS,
                               f"No middlebox signature on {values['host']}:{values['port']} "
                               f"(the exchange ended at the {exc.stage} step for another reason)",
                               detail=exc.message, evidence=evidence)
        finally:
            await session.close()
        evidence.update(stage="tls", result="passed")
        return ctx.finding(self.id, Status.PASS,
                           f"TLS passes on the agent port {values['host']}:{values['port']}: no DPI in the way",
                           evidence=evidence)

    # -- the agent port dropped, the web port fine? -----------------------------------------------------

    async def _drop_signature(self, ctx: Context, values: dict[str, Any]) -> Finding:
        evidence: dict[str, Any] = {"target": f"{values['host']}:{values['port']}", "stage": "connect",
                                    "agent_port_result": "timeout"}
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(values["url_host"], values["url_port"]),
                                               ctx.step_timeout())
            writer.close()
            web = "connected"
        except (*Timeouts, OSError) as exc:
            web = classify(exc)[0]
        evidence["url_port_result"] = web
        if web == "connected":
            return ctx.finding(
                self.id, Status.FAIL,
                f"Firewall: {values['host']}:{values['port']} drops the connection while "
                f"{values['url_host']}:{values['url_port']} answers",
                detail="The SYN to the agent port gets no answer at all, yet the web port of the same Jenkins "
                       "connects: a rule drops the agent port (security group, NetworkPolicy, host firewall).",
                evidence=evidence, fixes=[fix("middlebox_firewall", **values)],
                # The same fault as tcp's timeout, told more precisely: folded under it.
                rests_on=("agent-port-reachable",))
        return ctx.finding(self.id, Status.PASS,
                           f"Not a port-specific filter: {values['url_host']}:{values['url_port']} is {web} too",
                           evidence=evidence)

    # -- a forward proxy's port policy ----------------------------------------------------------------------

    async def _proxy_signature(self, ctx: Context, values: dict[str, Any]) -> Finding | None:
        route = ctx.agent.tcp_route(str(values["host"]))
        if route.proxy is None:
            return None
        proxy = route.proxy
        evidence: dict[str, Any] = {"stage": "proxy_connect", "proxy": f"{proxy.host}:{proxy.port}"}
        session = Jnlp4Session(str(values["url_host"]), int(values["url_port"]), proxy=proxy)
        try:
            await session.connect(ctx.step_timeout())
            evidence["url_port_connect"] = "200"
        except StepFailed as exc:
            evidence["url_port_connect"] = exc.data.get("proxy_status") or exc.cause
        finally:
            await session.close()
        status = next((f.evidence.get("proxy_status") for f in ctx.findings_of("tcp")
                       if f.evidence.get("proxy_status")), None) or "refused"
        if evidence["url_port_connect"] == "200":
            return ctx.finding(
                self.id, Status.FAIL,
                f"Proxy {proxy.host}:{proxy.port} refuses CONNECT to the agent port {values['port']} but allows "
                f"{values['url_port']}", evidence=evidence,
                fixes=[fix("middlebox_proxy_connect", proxy=f"{proxy.host}:{proxy.port}", status=status, **values)],
                rests_on=("agent-port-reachable",))
        return ctx.finding(self.id, Status.PASS,
                           f"Proxy {proxy.host}:{proxy.port} refuses CONNECT to the URL's port too: not a port policy",
                           evidence=evidence)

    # -- WebSocket: upgrade cut, plain HTTP fine? -------------------------------------------------------------

    async def _websocket_signature(self, ctx: Context, url: str, values: dict[str, Any]) -> Finding:
        fid = "network.middlebox.websocket"
        base = url if url.endswith("/") else url + "/"
        evidence: dict[str, Any] = {"stage": None, "ws_url": ws.ws_url(base)}
        # Trust is the TLS probes' business; here only resets count.
        context = agent_ssl_context(ctx.agent, verify=False)  # as the agent: with its certificate
        try:
            resp = await request(urljoin(base, "login"), timeout=ctx.step_timeout(), ssl_context=context,
                                 max_body=4096)
            evidence["plain_http"] = resp.status
        except HttpError as exc:
            evidence.update(plain_http=None, plain_http_error=exc.kind, stage="http")
            return ctx.finding(fid, Status.SKIP, f"Plain HTTP to {values['url_host']} fails too ({exc.kind}): "
                                                 "no middlebox comparison possible",
                               evidence=evidence, caused_by=ctx.failure_of("discovery"))
        result = await ws.attempt(evidence["ws_url"], {}, ssl_context=context, proxy=None,
                                  timeout=ctx.step_timeout(cap=5.0), ping_interval=None)
        if result.connection is not None:
            await result.connection.close()
        evidence.update(upgrade_status=result.status, upgrade_error=result.error_kind)
        if result.status is None and result.error_kind in ("reset", "closed", "timeout"):
            evidence["stage"] = "upgrade_request"
            comparison = not ctx.settings.websocket
            # The agent uses TCP: the WebSocket path is a comparison, information only (a warning
            # that neither raises the exit code nor becomes a root cause).
            return ctx.finding(
                fid, Status.WARN if comparison else Status.FAIL,
                ("(comparison; the agent uses TCP) " if comparison else "")
                + f"Middlebox: the WebSocket upgrade to {values['url_host']}:{values['url_port']} is "
                f"{result.error_kind} while plain HTTP gets {resp.status}",
                detail=f"{result.error}. The same address answers GET <url>login; only the request carrying "
                       "'Upgrade: websocket' dies: a DPI/IPS rule.",
                evidence=evidence, fixes=[fix("middlebox_dpi_ws", **values)],
                breaks=("websocket-upgrade-unhindered",), informational=comparison)
        evidence["stage"] = "response"
        return ctx.finding(fid, Status.PASS, "The WebSocket upgrade request gets an HTTP answer: no DPI reset",
                           evidence=evidence)
