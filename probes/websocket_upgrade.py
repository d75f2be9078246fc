"""websocket.upgrade: the WebSocket transport (agent.jar -webSocket), as agent.jar makes it.

1. ``GET <url>login`` must answer 200 (remoting ``Engine.pingSuccessful``; otherwise agent.jar
   loops on ``<url>login is not ready: <status>``).
2. The upgrade to ``<url>wsagents/`` (``ws://`` or ``wss://``) with the library ``websockets``,
   through the proxy remoting would use (``Engine.runWebSocket``: ``http.proxyHost`` else env
   ``proxy_host``, http only).
   - Without ``--auth-check`` no agent header is sent: Jenkins answers 400 "This endpoint is only
     for use from agent.jar in WebSocket mode", which proves the request reached Jenkins'
     ``/wsagents/`` (core ``WebSocketAgents.doIndex``) - but not that a proxy passes ``Upgrade``.
   - With ``--auth-check`` the agent's headers are sent (``Node-Name``, ``Secret-Key``,
     ``X-Remoting-Capability``; never ``Connection-Cookie``). A ``101`` then means the controller
     has started the agent's channel: the node is online until we close, which we do at once
     (or after ``--hold`` seconds). Jenkins' own texts tell a dropped ``Upgrade`` ("only WS
     connections accepted here") from a missing node or a wrong secret.
3. Without ``--auth-check`` the upgrade itself is proven through a proxy without the secret on
   ``<url>cli/ws`` (core ``hudson/cli/CLIAction.doWs``, jenkinsci/jenkins
   ff9430ee1dc6e319349a488650d914444fe141f3): it upgrades anonymous callers whose ``Origin`` equals
   the configured Jenkins URL without its trailing slash (and context path); else 403 with the
   reason in ``X-CLI-Error`` ("Unexpected request origin (check your reverse proxy settings)",
   "WebSocket support for CLI disabled for this controller", "Jenkins URL is not configured ...")
   or 404 "WebSocket is not supported in this servlet container ...". A request that reaches Jenkins
   without ``Upgrade`` gets Jetty's 400 "only WS connections accepted here"
   (``websocket/jetty12-ee9/.../Jetty12EE9Provider.handle``). The CLI socket is opened, sent
   nothing, and closed cleanly (or held with ``--hold``); no command runs and no node goes online.
When the agent does not use WebSocket, this runs as a comparison and reports at most a warning.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from jnlpdiag.findings import Finding, Fix, Layer, Status
from jnlpdiag.httpclient import USER_AGENT, HttpError, Proxy, request
from jnlpdiag.jnlp4.catalog import fix, proxy_snippet
from jnlpdiag.probe_api import Context, Option, Probe
from jnlpdiag.proxyroute import should_proxy
from jnlpdiag.tls.agentssl import agent_ssl_context
from jnlpdiag.wsagent import capability
from jnlpdiag.wsagent import upgrade as ws

from .discovery import DiscoveryProbe

_JENKINS_PING_INTERVAL = 30.0  # core WebSocketSession: jenkins.websocket.pingInterval


def _ssl_context(ctx: Context) -> ssl.SSLContext:
    # agent.jar -noCertificateCheck also covers wss://; the agent's client certificate goes with it.
    return agent_ssl_context(ctx.agent, verify=not ctx.settings.no_certificate_check)


def _proxy_subject(proxy: str) -> str:
    """A sentence subject for the proxy: its own name as it gave it ("nginx/1.22.1"), never re-cased."""
    return "The reverse proxy in front of Jenkins" if proxy.startswith("the ") else f"The proxy {proxy}"


def _cli_error(r: ws.Attempt) -> str | None:
    """CLIAction.statusWithExplanation puts its reason in the X-CLI-Error header."""
    return next((v for k, v in r.headers.items() if k.lower() == "x-cli-error"), None)


def _ws_proxy(url: str, ctx: Context, props: dict[str, str]) -> str | None:
    """remoting Engine.runWebSocket: http.proxyHost else env proxy_host; http URLs only."""
    parts = urlsplit(url)
    host = props.get("http.proxyHost") or ctx.settings.proxy_host
    if not host or parts.scheme != "http" or not should_proxy(parts.hostname or "", ctx.settings.no_proxy):
        return None
    port = props.get("http.proxyPort")
    return f"http://{host}:{port}" if port else f"http://{host}"


class WebSocketUpgradeProbe(Probe):
    id = "websocket.upgrade"
    layer = Layer.PROTOCOL
    description = ("WebSocket transport like agent.jar -webSocket: GET <url>login, then the upgrade to <url>wsagents/ "
                   "(agent headers only with --auth-check, which brings the node online for a moment)")
    after = ("discovery",)
    options = (Option("hold", "keep an accepted WebSocket open for S seconds to find idle timeouts", kind="seconds",
                      extends_deadline=True),)
    rests_on = ("url-answers", "jenkins-at-url", "tls-session-acceptable", "websocket-upgrade-unhindered")

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        s = ctx.settings
        url = ctx.jenkins_url()
        if not url or urlsplit(url).scheme not in ("http", "https"):
            yield ctx.finding(self.id, Status.SKIP, "No http(s) Jenkins URL to test WebSocket against",
                              caused_by=ctx.failure_of("discovery"))
            return
        url = url if url.endswith("/") else url + "/"
        comparison = not s.websocket
        if comparison and ctx.failure_of("discovery") and not ctx.facts(DiscoveryProbe).root_headers:
            yield ctx.finding(self.id, Status.SKIP, "The Jenkins URL is unreachable; no WebSocket comparison",
                              caused_by=ctx.failure_of("discovery"))
            return
        parts = urlsplit(url)
        values: dict[str, Any] = {
            "url": url, "host": parts.hostname, "login_url": urljoin(url, "login"), "ws_url": ws.ws_url(url),
            "ws_http_url": urljoin(url, "wsagents/"), "path_prefix": parts.path or "/", "name": s.name or "<name>",
        }
        props = ctx.agent.props

        login = await self._login(ctx, values, props)
        yield self._maybe_soften(login, comparison)

        # The agent's headers only when the agent itself uses WebSocket: a comparison run must not
        # bring a TCP agent's node online over another transport.
        auth = s.run.auth_check and s.websocket and bool(s.name and s.secret)
        headers: dict[str, str] = {}
        if auth:
            assert s.name and s.secret
            headers = {"Node-Name": s.name, "Secret-Key": s.secret.reveal(), capability.KEY: capability.to_ascii()}
        proxy = _ws_proxy(url, ctx, props)
        result = await ws.attempt(values["ws_url"], headers, ssl_context=_ssl_context(ctx), proxy=proxy,
                                  timeout=ctx.step_timeout(), ping_interval=_JENKINS_PING_INTERVAL,
                                  user_agent=USER_AGENT)
        kind, proxy_value = ws.proxy_name(result.headers)
        evidence: dict[str, Any] = {
            "ws_url": values["ws_url"], "status_code": result.status, "reached_jenkins": None,
            "proxy": proxy_value or (f"forward proxy {proxy}" if proxy else None), "closed_after_s": None,
            "auth_check": auth, "agent_headers_sent": sorted(headers), "comparison_only": comparison,
            "elapsed_ms": round(result.elapsed_ms, 1),
        }
        if result.http_version != "HTTP/1.1":
            evidence["http_version"] = result.http_version
        if result.body:
            evidence["body_excerpt"] = " ".join(result.body.split())[:300]
        if result.status is not None and 300 <= result.status < 400:  # reported, never followed
            evidence["location"] = next((v for k, v in result.headers.items() if k.lower() == "location"), None)
        if result.error_kind:
            evidence.update(error_class=result.error_kind, error=result.error)
        if proxy and not proxy_value:
            kind = None
        values["proxy"] = proxy_value or "the reverse proxy in front of Jenkins"
        cli: ws.Attempt | None = None
        try:
            found = ws.jenkins_text(result.body) if result.status is not None else None
            if not auth and result.status == 400 and found and found[0] == "missing_headers":
                # Jenkins' /wsagents/ answered, but without agent headers that says nothing about
                # Upgrade: prove the upgrade on cli/ws, which anonymous callers may open.
                cli, origin = await self._cli_upgrade(ctx, url, proxy)
                findings = self._cli_findings(ctx, cli, origin, evidence, values, kind)
            else:
                findings = self._classify(ctx, result, login, evidence, values, auth, kind)
            for finding in findings:
                yield self._maybe_soften(finding, comparison)
            held = cli if cli is not None and cli.upgraded else result if result.upgraded else None
            if held is not None and not comparison:
                async for finding in self._after_upgrade(ctx, held, evidence, values):
                    yield finding
        finally:
            for attempt in (result, cli):
                if attempt is not None and attempt.connection is not None:
                    await attempt.connection.close()

    # -- GET <url>login --------------------------------------------------------------------------

    async def _login(self, ctx: Context, values: dict[str, Any], props: dict[str, str]) -> Finding:
        parts = urlsplit(values["url"])
        # Engine.pingSuccessful uses a plain URL.openConnection: only the JVM's proxy settings apply.
        route = ctx.agent.discovery_route(parts.scheme, parts.hostname or "") \
            if props.get(f"{parts.scheme}.proxyHost") else None
        proxy: Proxy | None = route.proxy if route else None
        try:
            resp = await request(values["login_url"], timeout=ctx.step_timeout(), proxy=proxy,
                                 ssl_context=_ssl_context(ctx), max_body=16 * 1024)
        except HttpError as exc:
            key = "ws_tls" if exc.kind == "tls" else "ws_network"
            return ctx.finding("websocket.login", Status.FAIL, f"{values['login_url']} is not ready: {exc.message}",
                               evidence={"login_url": values["login_url"], "error_class": exc.kind,
                                         "stage": exc.stage, "status_code": None},
                               fixes=[fix(key, message=exc.message, **values)])
        evidence = {"login_url": values["login_url"], "status_code": resp.status, "location": resp.location}
        if resp.status == 200:
            return ctx.finding("websocket.login", Status.PASS, f"{values['login_url']} answers 200", evidence=evidence)
        return ctx.finding(
            "websocket.login", Status.FAIL, f"{values['login_url']} is not ready: {resp.status}",
            detail="agent.jar -webSocket first needs GET <url>login to answer 200 and retries forever otherwise "
                   "(redirects are not followed).", evidence=evidence,
            fixes=[fix("ws_login_not_ready", status=resp.status, **values)])

    # -- what the upgrade answer means -------------------------------------------------------------

    def _classify(self, ctx: Context, r: ws.Attempt, login: Finding, evidence: dict[str, Any],
                  values: dict[str, Any], auth: bool, kind: str | None) -> list[Finding]:
        fid = self.id

        def fail(title: str, key: str, detail: str = "", extra: list[Fix] | None = None, **kw: Any) -> list[Finding]:
            return [ctx.finding(fid, Status.FAIL, title, detail=detail, evidence=evidence,
                                fixes=[fix(key, **{**values, **kw}), *(extra or [])])]

        if r.upgraded:
            capability_seen = any(k.lower() == capability.KEY.lower() for k in r.headers)
            evidence["reached_jenkins"] = capability_seen
            evidence["upgrade_proven"] = True
            if not auth:
                return [ctx.finding(fid, Status.WARN, "Something upgraded /wsagents/ without agent headers",
                                    detail="Jenkins never upgrades without Node-Name/Secret-Key; another WebSocket "
                                           "application answers on this path.", evidence=evidence,
                                    fixes=[fix("ws_not_websocket", status=101, why="not Jenkins", **values)])]
            return [ctx.finding(fid, Status.PASS,
                                f"WebSocket agent {values['name']} accepted at {values['ws_url']} (101)",
                                detail="The controller accepted the name and secret and opened the channel: the node "
                                       "was online for a moment; the connection was closed right away"
                                       + (" after --hold" if ctx.option("hold") else "") + ".",
                                evidence=evidence)]
        if r.status is None:
            return self._network_failure(ctx, r, login, evidence, values)

        found = ws.jenkins_text(r.body)
        evidence["reached_jenkins"] = bool(found) or (r.status == 403 and auth and "HTTP ERROR 403" in r.body)
        meaning = found[0] if found else None
        snippets = {k: proxy_snippet(k, **values) for k in ([kind] if kind in ("nginx", "apache", "haproxy") else
                                                             ["nginx", "apache", "haproxy"])}
        if kind == "nginx":
            snippets["ingress"] = proxy_snippet("ingress", **values)
        if meaning == "missing_headers":
            if not auth:
                evidence["upgrade_proven"] = False
                return [ctx.finding(
                    fid, Status.PASS,
                    f"The upgrade request reaches Jenkins' /wsagents/ at {values['ws_url']}",
                    detail="Jenkins answered 400 'This endpoint is only for use from agent.jar in WebSocket mode': "
                           "its own refusal of a request without agent headers, so the path is routed to Jenkins "
                           "and WebSocket support is on. No secret was sent; whether a proxy passes Upgrade is only "
                           "proven by a completed upgrade (--auth-check).", evidence=evidence)]
            return fail(f"The agent headers do not reach Jenkins through {values['proxy']}", "ws_proxy_drops_upgrade",
                        detail="Jenkins saw the request without Node-Name/Secret-Key/X-Remoting-Capability: "
                               "something in between strips custom headers.")
        if meaning in ("upgrade_dropped", "upgrade_failed"):
            evidence["snippets"] = snippets
            detail = (f"Jenkins answered {r.status} '{found[1] if found else ''}': the request reached it without its "
                      f"Upgrade header, so {values['proxy']} dropped Upgrade/Connection.\n\n"
                      + "\n\n".join(v for v in snippets.values() if v))
            subject = _proxy_subject(values["proxy"])
            return fail(f"{subject} drops the WebSocket upgrade before Jenkins (HTTP {r.status})",
                        "ws_proxy_drops_upgrade", detail=detail)
        if meaning == "no_such_agent":
            return fail(f"Jenkins has no agent named {values['name']}", "ws_no_such_agent")
        if meaning == "refused":
            reason = " ".join(r.body.split())
            for line in r.body.splitlines():
                if found and found[1] in line:
                    reason = line.split(">")[-2].split("<")[0] if ">" in line else line
                    break
            return fail(f"Jenkins refuses the WebSocket agent: {reason}"[:200], "ws_refused", reason=reason)
        if r.status == 403:
            if auth and evidence["reached_jenkins"]:
                why = "the secret is wrong for this agent (Jenkins answers a bare 403)"
            else:
                why = f"a gateway in front of Jenkins refuses the request ({values['proxy']})"
            return fail(f"{values['ws_http_url']} answers 403: {why}", "ws_forbidden", why=why)
        if r.status == 404:
            return fail(f"{values['ws_http_url']} is 404: no WebSocket endpoint there", "ws_not_found")
        if r.status >= 500:
            why = ws.status_meaning(r.status) or "server error"
            return fail(f"{values['ws_http_url']} answers {r.status}: {why}", "ws_server_error",
                        status=r.status, why=why)
        why = ws.status_meaning(r.status) or f"HTTP {r.status}"
        evidence["snippets"] = snippets
        return fail(f"{values['ws_http_url']} answers {r.status} instead of upgrading ({why})", "ws_not_websocket",
                    detail="\n\n".join(v for v in snippets.values() if v), status=r.status, why=why)

    def _network_failure(self, ctx: Context, r: ws.Attempt, login: Finding, evidence: dict[str, Any],
                         values: dict[str, Any]) -> list[Finding]:
        http_ok = login.status is Status.PASS or (login.evidence.get("status_code") is not None)
        if r.error_kind in ("reset", "closed") and http_ok:
            return [ctx.finding(
                self.id, Status.FAIL, f"The WebSocket upgrade to {values['host']} is cut ({r.error_kind}) while plain "
                                      "HTTP works", detail=f"{r.error}. GET <url>login got an answer on the same "
                                                           "address; a middlebox acts on the upgrade request.",
                evidence={**evidence, "stage": "upgrade-request"}, fixes=[fix("ws_reset", **values)])]
        if r.error_kind == "protocol":  # an answer came, but not HTTP/1.1: the host was reached
            return [ctx.finding(self.id, Status.FAIL,
                                f"{values['ws_http_url']} answers the upgrade with something that is not HTTP/1.1",
                                detail=f"{r.error}.", evidence=evidence,
                                fixes=[fix("ws_bad_answer", message=r.error, **values)])]
        key = "ws_tls" if r.error_kind == "tls" else "ws_network"
        return [ctx.finding(self.id, Status.FAIL, f"WebSocket connection to {values['ws_url']} failed: {r.error}",
                            evidence=evidence, fixes=[fix(key, message=r.error, **values)])]

    # -- proving the upgrade without the secret: <url>cli/ws -------------------------------------------

    async def _cli_upgrade(self, ctx: Context, url: str, proxy: str | None) -> tuple[ws.Attempt, str]:
        """The upgrade to <url>cli/ws with the Origin CLIAction.doWs expects; the context path is
        unknown from here, so a refused origin is tried once more with the URL's path."""
        parts = urlsplit(url)
        cli_url = ws.ws_url(url)[: -len("wsagents/")] + "cli/ws"
        origins = [f"{parts.scheme}://{parts.netloc}"]
        if parts.path.rstrip("/"):
            origins.append(f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}")
        result, origin = ws.Attempt(url=cli_url), origins[0]
        for origin in origins:
            result = await ws.attempt(cli_url, {"Origin": origin}, ssl_context=_ssl_context(ctx), proxy=proxy,
                                      timeout=ctx.step_timeout(), ping_interval=_JENKINS_PING_INTERVAL,
                                      user_agent=USER_AGENT)
            if _cli_error(result) != "Unexpected request origin (check your reverse proxy settings)":
                break
        return result, origin

    def _cli_findings(self, ctx: Context, r: ws.Attempt, origin: str, evidence: dict[str, Any],
                      values: dict[str, Any], kind: str | None) -> list[Finding]:
        fid = self.id
        values["origin"] = origin
        cli_error = _cli_error(r)
        evidence.update(reached_jenkins=True, cli_ws_url=r.url, cli_ws_origin=origin, cli_ws_status=r.status,
                        cli_ws_error=cli_error or r.error, upgrade_proven=r.upgraded)
        if r.upgraded:
            return [ctx.finding(
                fid, Status.PASS, f"The WebSocket upgrade reaches Jenkins: {r.url} upgraded (101) without the secret",
                detail="Jenkins' /wsagents/ answers for itself (400 'This endpoint is only for use from agent.jar in "
                       "WebSocket mode') and an anonymous upgrade of its CLI WebSocket completed through the same "
                       "path, so Upgrade/Connection reach Jenkins. The CLI socket was closed without a command"
                       + (" after --hold" if ctx.option("hold") else "") + "; no node went online.",
                evidence=evidence)]
        found = ws.jenkins_text(r.body) if r.status is not None else None
        if r.status == 400 and found and found[0] in ("upgrade_dropped", "upgrade_failed"):
            snippets = {k: proxy_snippet(k, **values) for k in ([kind] if kind in ("nginx", "apache", "haproxy")
                                                                 else ["nginx", "apache", "haproxy"])}
            if kind == "nginx":
                snippets["ingress"] = proxy_snippet("ingress", **values)
            evidence["snippets"] = snippets
            subject = _proxy_subject(values["proxy"])
            return [ctx.finding(
                fid, Status.FAIL, f"{subject} drops the WebSocket upgrade before Jenkins (HTTP 400 on cli/ws)",
                detail=f"Jenkins answered {r.url} with 400 '{found[1]}': the request reached it without its Upgrade "
                       f"header, so {values['proxy']} dropped Upgrade/Connection. agent.jar -webSocket fails the same "
                       "way on /wsagents/.\n\n" + "\n\n".join(v for v in snippets.values() if v),
                evidence=evidence, fixes=[fix("ws_proxy_drops_upgrade", **values)])]
        if r.status == 404 and cli_error and "not supported in this servlet container" in cli_error:
            return [ctx.finding(
                fid, Status.FAIL, "Jenkins runs in a servlet container without WebSocket support",
                detail=f"{r.url} answered 404 '{cli_error}'. agent.jar -webSocket cannot connect to this controller.",
                evidence=evidence, fixes=[fix("ws_container_unsupported", **values)])]
        findings: list[Finding] = []
        why = cli_error or (r.error if r.status is None else f"HTTP {r.status}")
        if cli_error and cli_error.startswith("Unexpected request origin"):
            findings.append(ctx.finding(
                "websocket.jenkins_url", Status.WARN,
                f"The Jenkins URL setting differs from the URL the agent uses ({values['url']})",
                detail=f"Jenkins refused Origin {origin} on cli/ws with 403 '{cli_error}': the URL set in Manage "
                       "Jenkins > System > Jenkins URL is not this one. Links, redirects and the CLI use that setting.",
                evidence={"url": values["url"], "origin_sent": origin, "cli_ws_error": cli_error},
                fixes=[fix("ws_jenkins_url_differs", **values)]))
        findings.insert(0, ctx.finding(
            fid, Status.WARN, f"The WebSocket upgrade to Jenkins is not proven: {r.url} answered {why}"[:200],
            detail="Jenkins' /wsagents/ answers for itself, but without the agent's headers it refuses before any "
                   "upgrade, and the anonymous CLI WebSocket that would prove Upgrade passes could not be opened.",
            evidence=evidence, fixes=[fix("ws_upgrade_not_proven", **values)]))
        return findings

    # -- after a 101 --------------------------------------------------------------------------------

    async def _after_upgrade(self, ctx: Context, r: ws.Attempt, evidence: dict[str, Any],
                             values: dict[str, Any]) -> AsyncIterator[Finding]:
        wanted = ctx.option("hold")
        if not wanted:
            return
        budget = max(0.0, ctx.remaining() - 1.0)
        seconds = min(wanted, budget)
        cut_after, code, how = await ws.hold(r.connection, seconds)
        hold_ev = {**evidence, "hold_s": wanted, "held_s": round(cut_after if cut_after is not None else seconds, 2),
                   "closed_after_s": round(cut_after, 2) if cut_after is not None else None, "close_code": code,
                   "how": how, "hold_capped_by_deadline": seconds < wanted}
        if cut_after is None:
            note = (f" (capped at {seconds:.1f} s by the run deadline: pass --deadline {wanted + 10:g})"
                    if seconds < wanted else "")
            yield ctx.finding("websocket.hold", Status.PASS, f"The WebSocket stayed open for {seconds:.1f} s{note}",
                              detail="Pings every 30 s, as Jenkins sends them.", evidence=hold_ev)
            return
        yield ctx.finding(
            "websocket.hold", Status.FAIL, f"The idle WebSocket was cut after {cut_after:.1f} s: {how}",
            detail=f"Jenkins pings every {_JENKINS_PING_INTERVAL:g} s; an idle timeout shorter than that in "
                   f"{values['proxy']} disconnects agents.", evidence=hold_ev,
            fixes=[fix("ws_idle_cut", closed_after_s=f"{cut_after:.1f}", **values)])

    @staticmethod
    def _maybe_soften(finding: Finding, comparison: bool) -> Finding:
        """The agent does not use WebSocket: a broken WebSocket path is worth knowing, not a failure.

        Also: a verdict read from an HTTP answer (a status code came back over this host's TLS) does
        not rest on the agent's JVM accepting that session; one that got no answer does.
        """
        if finding.evidence.get("status_code") is not None:
            finding.rests_on = tuple(p for p in finding.rests_on if p != "tls-session-acceptable")
        if comparison and finding.status is not Status.PASS:
            # Information only: it never raises the exit code and is never a root cause.
            finding.informational = True
            unproven = finding.evidence.get("cli_ws_status") is not None and not finding.evidence.get("upgrade_proven")
            if finding.status is Status.WARN and (unproven or finding.id == "websocket.jenkins_url"):
                # For a TCP agent an unproven WebSocket path is no warning at all: a skip that says why.
                finding.status = Status.SKIP
            if finding.status is Status.FAIL:
                finding.status = Status.WARN
            if not finding.title.startswith("(comparison"):
                finding.title = ("(comparison; the agent uses TCP) " + finding.title)[:200]
        return finding
