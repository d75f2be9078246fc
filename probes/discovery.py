"""discovery: find Jenkins at the agent's URL the way agent.jar does.

agent.jar (TCP mode) fetches ``<url>tcpSlaveAgentListener/`` and reads the agent port, host,
protocols, instance identity and minimum remoting version from its headers
(remoting ``JnlpAgentEndpointResolver.resolve``; core ``TcpSlaveAgentListener/index.jelly``).
The root page tells whether this is Jenkins at all (``X-Jenkins`` is sent even on a 403, core
``Functions.advertiseHeaders``). Both are fetched over the route the agent would take.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from jnlpdiag.findings import Finding, Fix, Layer, Status
from jnlpdiag.fixcatalog import fix
from jnlpdiag.httpclient import HttpError, Response, request
from jnlpdiag.javaint import parse_int, python_reads
from jnlpdiag.probe_api import Context, Facts, Probe
from jnlpdiag.proxyroute import Route
from jnlpdiag.tls.agentssl import agent_ssl_context, presented_entry
from jnlpdiag.tls.clientauth import alert_name, http_refusal

_CATALOG = "discovery"
# Reverse proxies name themselves in Server / Via; used to explain "the URL host is a proxy".
_PROXY_SERVERS = ("nginx", "apache", "haproxy", "envoy", "traefik", "caddy", "cloudflare", "awselb", "istio")


def identity_fingerprint(der: bytes) -> str:
    """remoting ``KeyUtils.fingerprint``: MD5 of the SubjectPublicKeyInfo DER, hex pairs joined by ':'."""
    return ":".join(f"{b:02x}" for b in hashlib.md5(der).digest())  # noqa: S324 - matches remoting


def parse_identity(value: str) -> tuple[bytes, str] | str:
    """(DER, fingerprint) of an ``X-Instance-Identity`` value, or why it is invalid.

    remoting ``JnlpEndpointResolver.getIdentity``: base64 of an X.509 RSA public key.
    """
    try:
        der = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return "not valid base64"
    try:
        key = load_der_public_key(der)
    except (ValueError, TypeError, UnsupportedAlgorithm):  # the last: a key type OpenSSL does not know
        return "not a DER SubjectPublicKeyInfo"
    if not isinstance(key, rsa.RSAPublicKey):
        return "not an RSA key"
    return der, identity_fingerprint(der)


async def _get(ctx: Context, url: str, route: Route, verify: bool, headers: dict[str, str]) -> Response | HttpError:
    # With the agent's client certificate; the first call blocks (key store): before the step's clock.
    context = agent_ssl_context(ctx.agent, verify)
    try:
        return await request(url, headers=headers, timeout=ctx.step_timeout(), proxy=route.proxy,
                             ssl_context=context, max_body=64 * 1024)
    except HttpError as exc:
        return exc


def _is_jenkins(resp: Response) -> bool:
    return resp.headers.get("X-Jenkins") is not None or resp.headers.get("X-Hudson") is not None


def _proxy_name(resp: Response | HttpError) -> str | None:
    if not isinstance(resp, Response):
        return None
    for value in (resp.headers.get("Server") or "", resp.headers.get("Via") or ""):
        low = value.lower()
        if any(p in low for p in _PROXY_SERVERS):
            return value[:80]
    return None


def _page_title(resp: Response) -> str | None:
    text = resp.text(8192)
    lo = text.lower()
    start = lo.find("<title>")
    if start < 0:
        return None
    end = lo.find("</title>", start)
    return " ".join(text[start + 7 : end if end > 0 else start + 87].split())[:80] or None


@dataclass
class DiscoveryFacts(Facts):
    """What discovery learned about the controller, for the probes that follow it."""

    jenkins_url_field: ClassVar[str] = "url"  # the role ctx.jenkins_url() reads

    mode: str | None = None  # "direct": agent.jar -direct does no HTTP discovery
    url: str | None = None  # the Jenkins URL after redirects
    scheme: str | None = None
    route: str | None = None  # the agent's route to it, described
    root_headers: dict[str, str] | None = None
    jenkins_version: str | None = None
    server_date: str | None = None  # the root page's Date header
    listener_headers: dict[str, str] | None = None
    listener_ok: bool | None = None  # /tcpSlaveAgentListener/ answered with usable headers
    min_remoting: str | None = None
    agent_host: str | None = None
    agent_port: int | None = None
    protocols: list[str] | None = None
    instance_identity: str | None = None  # base64, as advertised
    identity_fingerprint: str | None = None
    identity_der: bytes | None = None
    client_cert_refusal: str | None = None  # two-way TLS refused the request: how (alert, front page)


class DiscoveryProbe(Probe[DiscoveryFacts]):
    id = "discovery"
    layer = Layer.NETWORK
    description = "Jenkins at the URL (X-Jenkins) and /tcpSlaveAgentListener/ headers, over the agent's proxy route"
    # The listener's headers mean something only when Jenkins answers at the URL.
    rests_on = ("url-answers", "jenkins-at-url")
    _NO_URL = ("url-answers", "jenkins-at-url", "agent-listener-published")

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        s = ctx.settings
        if not s.url:
            if s.direct:
                ctx.publish(mode="direct")
                yield ctx.finding("discovery", Status.SKIP, "Direct mode: agent.jar -direct does no HTTP discovery",
                                  evidence={"direct": s.direct})
                return
            yield ctx.finding("discovery", Status.FAIL, "No Jenkins URL: the agent has nowhere to connect",
                              detail="No --url flag, .jnlp file, agent process or JENKINS_URL variable gave a URL.",
                              fixes=[fix(_CATALOG, "give_url")], breaks=self._NO_URL)
            return
        parts = urlsplit(s.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            yield ctx.finding("discovery", Status.FAIL, f"Not an http(s) URL: {s.url[:100]}",
                              evidence={"url": s.url}, fixes=[fix(_CATALOG, "bad_url")], breaks=self._NO_URL)
            return
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
        listener_url = urljoin(s.url, "tcpSlaveAgentListener/")
        values: dict[str, Any] = {"url": s.url, "host": host, "port": port, "listener_url": listener_url,
                                  "path_prefix": parts.path or "/"}

        route = ctx.agent.discovery_route(parts.scheme, host)
        curl = ctx.agent.curl_route(parts.scheme, host)
        headers = {"Node-Name": s.name} if s.name else {}
        verify = not s.no_certificate_check
        root, listener = await asyncio.gather(
            _get(ctx, s.url, route, verify, {}), _get(ctx, listener_url, route, verify, headers)
        )

        # HTTPS that this host's CA store rejects: report it, then look further without verifying,
        # since the agent's JVM has its own trust store (tls.java says what the JVM decides).
        if isinstance(root, HttpError) and root.stage == "tls" and "CERTIFICATE_VERIFY_FAILED" in root.message:
            yield ctx.finding(
                "discovery.https", Status.WARN, f"HTTPS certificate of {host} is not trusted by this host's CA store",
                detail=f"{root.message}. Discovery continued without verification; whether the agent's JVM "
                       "trusts it is the tls.java probe's verdict.",
                evidence={"error": root.message, "ca_file": s.ca_file}, fixes=[fix(_CATALOG, "untrusted_https", **values)],
                rests_on=("tls-session-acceptable",),
            )
            root, listener = await asyncio.gather(
                _get(ctx, s.url, route, False, {}), _get(ctx, listener_url, route, False, headers)
            )

        yield self._route_finding(ctx, route, curl, root, values)
        jenkins = self._root_finding(ctx, root, values)
        yield jenkins
        for finding in self._listener_findings(ctx, listener, root, jenkins, values):
            yield finding

    # -- the route the agent takes vs curl ------------------------------------------------------

    def _route_finding(self, ctx: Context, route: Route, curl: Route, root: Response | HttpError,
                       values: dict[str, Any]) -> Finding:
        differs = (route.proxy is None) != (curl.proxy is None) or (
            route.proxy is not None and curl.proxy is not None
            and (route.proxy.host, route.proxy.port) != (curl.proxy.host, curl.proxy.port))
        evidence = {"agent": route.describe(), "curl": curl.describe(), "differs": differs}
        ctx.publish(route=route.describe())
        if not differs:
            return ctx.finding("discovery.route", Status.PASS, f"Agent and curl take the same route: {route.describe()}",
                               evidence=evidence, rests_on=())
        if route.proxy:
            curl_cmd = f"curl -sI --proxy http://{route.proxy.host}:{route.proxy.port} {values['url']}"
        else:
            curl_cmd = f"curl -sI --noproxy '*' {values['url']}"
        detail = (f"agent.jar: {route.describe()}; curl: {curl.describe()}. A curl test from this shell does not "
                  "reproduce what the agent sees.")
        ok = isinstance(root, Response)
        return ctx.finding(
            "discovery.route", Status.PASS if ok else Status.WARN,
            "The agent takes a different route than curl would" + ("" if ok else " (and that route failed)"),
            detail=detail, evidence=evidence,
            fixes=[] if ok else [fix(_CATALOG, "route_differs", curl_command=curl_cmd)], rests_on=(),
        )

    # -- is it Jenkins? --------------------------------------------------------------------------

    def _network_error(self, ctx: Context, fid: str, err: HttpError, what: str, values: dict[str, Any],
                       breaks: tuple[str, ...], rests_on: tuple[str, ...]) -> Finding:
        key = {"dns": "dns", "refused": "refused", "timeout": "timeout", "proxy": "proxy_refused",
               "tls": "https_error"}.get(err.kind, "network_other")
        if err.kind == "tls":
            # Whether the agent's JVM takes this TLS session is tls.java's verdict: when it refuses
            # too, that failure explains this one; nothing here says no HTTP server answers.
            breaks = tuple(b for b in breaks if b != "url-answers")
            rests_on = (*rests_on, "tls-session-acceptable")
        return ctx.finding(
            fid, Status.FAIL, f"{what}: {err.message}"[:200],
            detail=f"Stage: {err.stage or 'request'}. Class: {err.kind}.",
            evidence={"error_class": err.kind, "stage": err.stage, "error": err.message, "url": values["url"]},
            fixes=[fix(_CATALOG, key, **values)], breaks=breaks, rests_on=rests_on,
        )

    def _client_cert_refusal(self, ctx: Context, root: Response | HttpError, values: dict[str, Any]) -> Finding | None:
        """Two-way TLS refused the request, at the TLS layer or at a front's HTTP layer."""
        answer = None
        if isinstance(root, HttpError):
            alert = alert_name(root.message) if root.stage in ("tls", "response") else None
            # handshake_failure alone is also a cipher mismatch: tls.client_auth tells them apart.
            reason = f"TLS alert {alert}" if alert and alert != "handshake_failure" else None
            evidence: dict[str, Any] = {"error": root.message, "stage": root.stage, "url": values["url"]}
        else:
            answer = http_refusal(root.status, {k.lower(): v for k, v in root.headers.items}, root.text(4096))
            reason = answer.reason if answer else None
            evidence = {"http_status": root.status, "server": root.headers.get("Server"), "url": values["url"]}
        if reason is None:
            return None
        sent = presented_entry(ctx.agent) is not None
        evidence["client_certificate_sent"] = sent
        ctx.publish(client_cert_refusal=reason)
        if not isinstance(root, HttpError) and answer is not None and answer.refusal == "post_handshake":
            title = (f"{values['url']} requires a client certificate only after the TLS 1.3 handshake, "
                     f"which the agent's JVM cannot give ({reason})")
        elif sent:
            title = f"{values['url']} refuses the agent's client certificate ({reason})"
        else:
            title = f"{values['url']} requires a client certificate, and the agent sent none ({reason})"
        return ctx.finding(
            "discovery.jenkins", Status.FAIL, title[:200],
            detail="Two-way TLS: agent.jar gets the same answer, and reports it only as an invalid response. "
                   "tls.client_auth says which certificate the server wants and why this one does not do.",
            evidence=evidence, caused_by="tls.client_auth",
            fixes=[fix("tls", "client_auth_required", **values)],
            # Only jenkins-at-url: breaking url-answers would fold tls.client_auth back under this.
            breaks=("jenkins-at-url",), rests_on=("tls-session-acceptable",),
        )

    def _root_finding(self, ctx: Context, root: Response | HttpError, values: dict[str, Any]) -> Finding:
        refused = self._client_cert_refusal(ctx, root, values)
        if refused is not None:
            return refused
        if isinstance(root, HttpError):
            return self._network_error(ctx, "discovery.jenkins", root, f"Cannot reach {values['url']}", values,
                                       breaks=("url-answers", "jenkins-at-url"), rests_on=())
        evidence: dict[str, Any] = {
            "http_status": root.status, "jenkins_version": root.headers.get("X-Jenkins"),
            "server": root.headers.get("Server"), "reverse_proxy": _proxy_name(root),
            "tls": {"version": root.tls.version, "cipher": root.tls.cipher} if root.tls else None,
            # Only the first 64 KB of a page is read; a body that goes on (or never ends) is cut there.
            "body_truncated_at": len(root.body) if root.body_truncated else None,
        }
        ctx.publish(root_headers=root.headers.to_dict(), jenkins_version=evidence["jenkins_version"],
                    server_date=root.headers.get("Date"))
        if _is_jenkins(root):
            version = root.headers.get("X-Jenkins") or "(version hidden)"
            note = " (anonymous read is denied, which is normal)" if root.status == 403 else ""
            return ctx.finding("discovery.jenkins", Status.PASS, f"Jenkins {version} answers at {values['url']}{note}",
                               evidence=evidence, rests_on=())
        if 300 <= root.status < 400 and root.location:
            target = urljoin(values["url"], root.location)
            evidence["location"] = target
            same_host = urlsplit(target).hostname == values["host"]
            return ctx.finding(
                "discovery.jenkins", Status.FAIL, f"{values['url']} redirects ({root.status}) to {target[:100]}",
                detail=("The redirect stays on this host" if same_host else "The redirect leads to another host")
                + "; it was reported, not followed. agent.jar does not follow a redirect that changes the scheme.",
                evidence=evidence,
                fixes=[fix(_CATALOG, "redirect", location=target, location_root=target)],
                breaks=("jenkins-at-url",), rests_on=(),
            )
        title = _page_title(root)
        evidence["page_title"] = title
        server = root.headers.get("Server")
        # Only what the answer had: never "Server None".
        seen = ", ".join([f"HTTP {root.status}", f"Server {server!r}" if server else "no Server header",
                          f"page title {title!r}" if title else "no page title"])
        if root.status in (401, 403, 407):
            return ctx.finding(
                "discovery.jenkins", Status.FAIL,
                f"An authentication wall answers {root.status} at {values['url']}, not Jenkins",
                detail="Jenkins sends X-Jenkins even on its own 403; this answer has none, so a gateway (SSO, "
                       f"WAF, proxy) answered ({seen}).",
                evidence=evidence, fixes=[fix(_CATALOG, "auth_wall", **values)],
                breaks=("jenkins-at-url",), rests_on=(),
            )
        return ctx.finding(
            "discovery.jenkins", Status.FAIL, f"Not Jenkins: {values['url']} answers without an X-Jenkins header",
            detail=f"{seen}.",
            evidence=evidence, fixes=[fix(_CATALOG, "not_jenkins", **values)],
            breaks=("jenkins-at-url",), rests_on=(),
        )

    # -- the TCP agent listener's headers ---------------------------------------------------------

    def _listener_findings(self, ctx: Context, listener: Response | HttpError, root: Response | HttpError,
                           jenkins: Finding, values: dict[str, Any]) -> list[Finding]:
        s = ctx.settings
        root_failed = jenkins.status is Status.FAIL
        listener_broken = ("agent-listener-published",)
        if isinstance(listener, HttpError):
            return [self._network_error(ctx, "discovery", listener, f"Cannot fetch {values['listener_url']}", values,
                                        breaks=listener_broken, rests_on=self.rests_on)]
        h = listener.headers
        evidence: dict[str, Any] = {
            "http_status": listener.status,
            "jenkins_version": (root.headers.get("X-Jenkins") if isinstance(root, Response) else None),
            "agent_port": None, "agent_host": None, "protocols": [], "min_remoting": h.get("X-Remoting-Minimum-Version"),
            "instance_identity": None, "listener_url": values["listener_url"],
        }
        ctx.publish(listener_headers=h.to_dict(), url=values["url"], scheme=urlsplit(values["url"]).scheme,
                    min_remoting=evidence["min_remoting"], listener_ok=False)

        def fail(title: str, key: str, detail: str = "", extra: list[Fix] | None = None, **kw: Any) -> list[Finding]:
            return [ctx.finding("discovery", Status.FAIL, title, detail=detail, evidence=evidence,
                                fixes=[fix(_CATALOG, key, **{**values, **kw}), *(extra or [])], breaks=listener_broken)]

        if listener.status == 404:
            if root_failed:
                return fail(f"{values['listener_url']} is invalid: 404 (the URL is not Jenkins)", "not_jenkins")
            if s.websocket:
                return [ctx.finding("discovery", Status.PASS,
                                    "TCP agent port is disabled (404); this agent uses WebSocket, which does not need it",
                                    evidence=evidence)]
            return fail("The TCP port for inbound agents is disabled (tcpSlaveAgentListener/ is 404)", "tcp_disabled_websocket",
                        detail="agent.jar reports: '<url>tcpSlaveAgentListener/ is invalid: 404 Not Found'. Jenkins answers "
                               "404 here when the inbound TCP port is disabled (-1) or could not be bound.",
                        extra=[fix(_CATALOG, "tcp_disabled_enable", **values)])
        if 300 <= listener.status < 400:
            target = urljoin(values["listener_url"], listener.location or "")
            evidence["location"] = target
            return fail(f"{values['listener_url']} is invalid: {listener.status} (redirect to {target[:80]})", "redirect",
                        detail="agent.jar treats any answer but 200 as invalid when the redirect changes the scheme.",
                        location=target, location_root=target.replace("tcpSlaveAgentListener/", ""))
        if listener.status in (401, 403, 407):
            return fail(f"{values['listener_url']} is refused ({listener.status}): a gateway blocks the agent endpoint",
                        "auth_wall",
                        detail="Jenkins serves tcpSlaveAgentListener/ to anonymous users (ALWAYS_READABLE_PATHS), so "
                               "this refusal comes from something in front of it.")
        if listener.status != 200:
            return fail(f"{values['listener_url']} is invalid: {listener.status} {listener.reason}"[:160], "listener_invalid")

        port_raw = h.get("X-Jenkins-JNLP-Port") or h.get("X-Hudson-JNLP-Port")
        if port_raw is None:
            stripped = not root_failed
            return fail(f"{values['url']} is not Jenkins: no X-Jenkins-JNLP-Port header on tcpSlaveAgentListener/",
                        "headers_stripped" if stripped else "not_jenkins",
                        detail=("The root page is Jenkins, so a proxy in between strips the headers." if stripped
                                else "Neither page looks like Jenkins."))
        # remoting reads the port with Integer.parseInt: read it the same way (18_601 is refused there).
        java_port = parse_int(port_raw.strip())
        port = -1 if java_port is None else java_port
        if java_port is None and python_reads(port_raw.strip()) is not None:
            evidence["agent_port"] = port_raw
            return fail(f"{values['url']} is publishing an invalid port: {port_raw[:20]} (agent.jar cannot read it)",
                        "bad_port", port_raw=port_raw[:20],
                        detail=f"X-Jenkins-JNLP-Port is {port_raw[:20]!r}. A lenient parser reads "
                               f"{python_reads(port_raw.strip())}, but agent.jar reads the header with Java's "
                               "Integer.parseInt, which refuses it: the agent stops with '<url> is publishing an "
                               "invalid port'.")
        if not 1 <= port <= 65535:
            evidence["agent_port"] = port_raw
            if port == -1 and s.websocket:
                return [ctx.finding("discovery", Status.PASS, "TCP agent port is disabled (-1); WebSocket does not need it",
                                    evidence=evidence)]
            return fail(f"{values['url']} is publishing an invalid port: {port_raw[:20]}", "bad_port", port_raw=port_raw[:20])
        agent_host = h.get("X-Jenkins-JNLP-Host") or values["host"]
        protocols = [p.strip() for p in (h.get("X-Jenkins-Agent-Protocols") or "").split(",") if p.strip()]
        evidence.update(agent_port=port, agent_host=agent_host, protocols=protocols,
                        agent_host_source="X-Jenkins-JNLP-Host" if h.get("X-Jenkins-JNLP-Host") else "URL host")
        ctx.publish(agent_port=port, agent_host=agent_host, protocols=protocols)

        out: list[Finding] = []
        identity_raw = h.get("X-Instance-Identity")
        identity = parse_identity(identity_raw) if identity_raw else "header missing"
        if isinstance(identity, tuple):
            der, fp = identity
            evidence["instance_identity"] = {"fingerprint": fp, "base64": identity_raw}
            ctx.publish(instance_identity=identity_raw, identity_fingerprint=fp, identity_der=der)
        elif not s.websocket:
            evidence["instance_identity"] = {"error": identity}
            return fail(f"{values['url']} appears to be publishing an invalid X-Instance-Identity ({identity})",
                        "bad_identity")

        if not s.websocket:
            if not protocols:
                out.append(ctx.finding("discovery.protocols", Status.WARN,
                                       "X-Jenkins-Agent-Protocols is empty (JENKINS-41730): a proxy may have mangled it",
                                       evidence={"protocols": protocols}, fixes=[fix(_CATALOG, "empty_protocols", **values)]))
            elif "JNLP4-connect" not in protocols:
                return fail(f"The controller does not offer JNLP4-connect (offers: {', '.join(protocols)[:80]})", "no_jnlp4")

        ctx.publish(listener_ok=True)
        proxy = _proxy_name(root)
        detail = f"The agent will connect to {agent_host}:{port} ({evidence['agent_host_source']})."
        if proxy and not h.get("X-Jenkins-JNLP-Host"):
            detail += (f" The URL is served through a reverse proxy ({proxy}); the agent connects to the same host on "
                       f"port {port}, so that host must forward TCP {port} to the controller (or the controller must set "
                       "-Dhudson.TcpSlaveAgentListener.hostName).")
        title = f"Agent listener at {agent_host}:{port}, protocols {', '.join(protocols) or 'none'}"
        out.insert(0, ctx.finding("discovery", Status.PASS, title, detail=detail, evidence=evidence))
        return out


__all__ = ["DiscoveryProbe", "identity_fingerprint", "parse_identity"]
