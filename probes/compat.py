"""compat: are the versions in play known to work together?

Observes, then hands everything to the data-driven rules engine (``jnlpdiag.compat``; rules and
tables with their sources live in ``jnlpdiag/data/compat-matrix.json``):

* controller: ``X-Jenkins`` and ``X-Remoting-Minimum-Version`` from the discovery probe, and the
  controller's own agent.jar — ``<url>jnlpJars/agent.jar`` (core ``Slave.JnlpJar``) downloaded into
  memory with a size cap, its manifest ``Version`` and the class-file version of
  ``hudson/remoting/Launcher`` read from the bytes;
* agent: the local JVM and agent.jar (facts of the host.java probe, else found here with
  ``jnlpdiag.jvm``), or — when ``--agent-image`` / ``--kubernetes-plugin`` describe a pod and this is
  not that pod — the image's JDK and agent.jar as the tag (or the plugin's default image) says.

Each fired rule becomes one finding ``compat.<rule-id>`` with the rule's fix and sources.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from jnlpdiag.compat import InputError, Observed, evaluate, load_data, observe
from jnlpdiag.compat.jar import AgentJarInfo, agent_jar_info, agent_jar_info_file
from jnlpdiag.findings import Finding, Fix, Layer, Status, resolve_root
from jnlpdiag.httpclient import HttpError, Response, request
from jnlpdiag.probe_api import Context, DeadlineExceeded, Facts, Option, Probe
from jnlpdiag.tls.agentssl import agent_ssl_context

from .discovery import DiscoveryProbe
from .host_java import HostJavaFacts, HostJavaProbe

MAX_AGENT_JAR = 16 * 1024 * 1024  # remoting jars are ~1.5 MB; anything far larger is not agent.jar
# Where inbound-agent images and the kubernetes-plugin's agent injection put agent.jar.
POD_AGENT_JARS = ("/usr/share/jenkins/agent.jar",)
_WEB_START = ("javaws", "com.sun.javaws", "net.sourceforge.jnlp", "openwebstart")


class _Inputs:
    """Observations for the engine; a value that does not parse is kept as a note, not raised."""

    def __init__(self) -> None:
        self.data = load_data()
        self.values: dict[str, Observed] = {}
        self.notes: list[str] = []

    def put(self, name: str, raw: Any, origin: str) -> None:
        if raw is None or raw == "":
            return
        try:
            self.values[name] = observe(self.data, name, raw, origin)
        except InputError as exc:
            self.notes.append(f"{origin}: {exc}")


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) with the scheme's default port filled in; None for a URL without one."""
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


async def _download_agent_jar(ctx: Context, jar_url: str) -> tuple[Response | HttpError, list[str]]:
    """GET agent.jar over the agent's route; notes say what happened.

    A redirect is followed only within the Jenkins origin (same scheme, host and port; at most 3);
    one to anywhere else is reported, never requested: a controller or proxy could point it at a
    cloud metadata address or an internal service.
    """
    s = ctx.settings
    notes: list[str] = []
    verify = not s.no_certificate_check
    url = jar_url
    home = _origin(jar_url)
    for _ in range(4):
        parts = urlsplit(url)
        route = ctx.agent.discovery_route(parts.scheme, parts.hostname or "")
        try:
            resp = await request(url, timeout=ctx.step_timeout(), proxy=route.proxy,
                                 ssl_context=agent_ssl_context(ctx.agent, verify), max_body=MAX_AGENT_JAR)
        except DeadlineExceeded:
            # The verdict needs no network: go on with the tables rather than lose it.
            return HttpError("timeout", "the run's deadline left no time to download it", "request"), notes
        except HttpError as exc:
            if verify and exc.stage == "tls" and "CERTIFICATE_VERIFY_FAILED" in exc.message:
                # The agent JVM has its own trust store (tls.java judges it); only the version is read here.
                notes.append(f"certificate not trusted by this host ({exc.message}); read without verification")
                verify = False
                continue
            return exc, notes
        if resp.status in (301, 302, 303, 307, 308) and resp.location:
            target = urljoin(url, resp.location)
            if home is None or _origin(target) != home:
                notes.append(f"HTTP {resp.status} redirect to {target}: not followed (another scheme, host or port "
                             "than the Jenkins URL)")
                return HttpError("redirect", f"{url} redirects to another place ({target}); not followed",
                                 "response"), notes
            url = target
            notes.append(f"HTTP {resp.status} redirect to {url}: followed (same scheme, host and port as the "
                         "Jenkins URL; curl needs -L)")
            continue
        return resp, notes
    return HttpError("protocol", "too many redirects", "response"), notes


def _local_agent_jar(ctx: Context, host_java: HostJavaFacts) -> str | None:
    # settings.agent_jar already holds JENKINS_AGENT_FILE / the agent process's -jar (settings gather).
    for candidate in (host_java.agent_jar_path, ctx.settings.agent_jar):
        if candidate:
            return str(candidate)
    for path in POD_AGENT_JARS:
        if os.path.isfile(path):
            return path
    return None


@dataclass
class CompatFacts(Facts):
    """The compatibility verdict: status, the facts the rules read, the rules that fired."""

    status: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    fired: list[str] = field(default_factory=list)


class CompatProbe(Probe[CompatFacts]):
    id = "compat"
    layer = Layer.COMPATIBILITY
    description = ("Jenkins x remoting (agent.jar) x Java x kubernetes-plugin versions against the sourced "
                   "compatibility matrix")
    after = ("discovery", "host.java")
    options = (Option("kubernetes_plugin", "kubernetes-plugin version, for the compat matrix", metavar="VERSION"),
               Option("agent_image", "inbound-agent image tag, for the compat matrix", metavar="TAG"))

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        s = ctx.settings
        inputs = _Inputs()
        disc = ctx.facts(DiscoveryProbe)
        host_java = ctx.facts(HostJavaProbe)
        evidence: dict[str, Any] = {}
        url = disc.url or s.url

        # --- the controller
        inputs.put("jenkins", disc.jenkins_version, "X-Jenkins header")
        if disc.listener_ok:
            inputs.put("min_remoting", disc.min_remoting, "X-Remoting-Minimum-Version header")
            inputs.put("min_remoting_advertised", bool(disc.min_remoting), "/tcpSlaveAgentListener/ headers")
            inputs.put("instance_identity_advertised", bool(disc.instance_identity),
                       "/tcpSlaveAgentListener/ headers")
        if url:
            inputs.put("jenkins_url", url if url.endswith("/") else url + "/", s.origin("url"))
            inputs.put("tls", urlsplit(url).scheme == "https", "the Jenkins URL")

        # --- the agent: in the described image, or on this host
        in_pod = ctx.agent.in_kubernetes
        plugin, image = ctx.option("kubernetes_plugin"), ctx.option("agent_image")
        describes_pod = bool(image or plugin)
        inputs.put("kubernetes_plugin", plugin, s.run.origin("kubernetes_plugin"))
        inputs.put("agent_image", image, s.run.origin("agent_image"))
        local_agent = not describes_pod or in_pod
        evidence["agent_side"] = ("this host (inside the pod)" if in_pod and describes_pod else
                                  "the described image" if describes_pod else "this host")

        tasks: list[Any] = []
        jar_url = urljoin(url if url.endswith("/") else url + "/", "jnlpJars/agent.jar") if url else None
        discovery_failed = self._discovery_failure(ctx)
        if jar_url and discovery_failed is None and disc.jenkins_version:
            tasks.append(_download_agent_jar(ctx, jar_url))
        else:
            tasks.append(asyncio.sleep(0, result=None))
        # host.java, when it ran, has already looked at the JVM and agent.jar (and reported their problems).
        host_java_ran = bool(ctx.findings_of("host.java"))
        find_local = local_agent and not host_java_ran
        tasks.append(self._local_java(ctx, host_java) if local_agent else asyncio.sleep(0, result=None))
        jar_path = _local_agent_jar(ctx, host_java) if find_local else None
        tasks.append(asyncio.to_thread(agent_jar_info_file, jar_path) if jar_path else asyncio.sleep(0, result=None))
        download, java, local_jar = await asyncio.gather(*tasks)

        jar_findings: list[Finding] = []
        if download is not None:
            jar_findings += self._controller_jar(ctx, inputs, evidence, jar_url or "", *download)
        if java is not None:
            version, feature, origin = java
            inputs.put("agent_java", version or feature, origin)
            inputs.put("agent_java_version", version, origin)
        if isinstance(local_jar, AgentJarInfo):
            evidence["agent_jar"] = {"path": jar_path, **local_jar.to_dict()}
            if local_jar.error:
                jar_findings.append(ctx.finding(
                    "compat.local_agent_jar", Status.WARN, f"{jar_path} is not a usable agent.jar: {local_jar.error}",
                    evidence={"path": jar_path, **local_jar.to_dict()},
                    fixes=[Fix("Replace it with the controller's agent.jar",
                               commands=(f"curl -fsSLo {jar_path} {jar_url}",) if jar_url else (),
                               notes=() if jar_url else ("download agent.jar from <your Jenkins URL>/jnlpJars/agent.jar",))],
                ))
            inputs.put("remoting", local_jar.version, f"manifest of {jar_path}")
            inputs.put("remoting_java", local_jar.java, f"class file version in {jar_path}")
        elif local_agent and host_java_ran:
            where = f"host.java probe ({host_java.agent_jar_path})"
            inputs.put("remoting", host_java.agent_jar_version, where)
            inputs.put("remoting_java", host_java.agent_jar_min_java, where)

        # --- how the agent connects
        inputs.put("transport", "websocket" if s.websocket else "tcp", s.origin("websocket"))
        inputs.put("agent_cert_options", bool(s.agent_certs or s.no_certificate_check), "agent options")
        if s.protocols:
            inputs.put("agent_protocols", list(s.protocols), s.origin("protocols"))
        if s.jnlp_url or "-jnlpUrl" in s.agent_options:
            inputs.put("jnlp_url_used", True, s.origin("jnlp_url") if s.jnlp_url else "agent options")
        if s.agent_argv:
            argv = " ".join(s.agent_argv)
            inputs.put("java_web_start", any(w in argv for w in _WEB_START), "the agent process")
            inputs.put("jnlp_main_used", "hudson.remoting.jnlp.Main" in argv, "the agent process")

        for f in jar_findings:
            yield f
        for finding in self._verdict(ctx, inputs, evidence, discovery_failed):
            yield finding

    # ----------------------------------------------------------------------------------------------

    @staticmethod
    def _discovery_failure(ctx: Context) -> str | None:
        """Id of the finding that explains why the controller could not be read, if any."""
        mine = ctx.findings_of("discovery")
        bad = [f for f in mine if f.status in (Status.FAIL, Status.ERROR)]
        return resolve_root(bad[0].id, mine) if bad else None

    @staticmethod
    async def _local_java(ctx: Context, host_java: HostJavaFacts) -> tuple[str | None, int | None, str] | None:
        if host_java.java_version:
            return host_java.java_version, host_java.java_feature, "host.java probe"
        if ctx.findings_of("host.java"):
            return None  # host.java ran and could not tell: it says why
        install = ctx.agent.java
        if install is None:
            return None
        try:
            timeout = ctx.step_timeout(cap=15.0)
        except DeadlineExceeded:
            return None
        info = await ctx.agent.java_info(timeout)
        if info is None or info.version is None:
            return None
        return info.version, info.feature, f"{install.executable} ({install.origin})"

    @staticmethod
    def _controller_jar(ctx: Context, inputs: _Inputs, evidence: dict[str, Any], jar_url: str,
                        resp: Response | HttpError, notes: list[str]) -> list[Finding]:
        fix = Fix("Make the controller's agent.jar downloadable: agents and images fetch it from there",
                  commands=(f"curl -fsSLO {jar_url}",),
                  notes=("a reverse proxy or SSO in front of Jenkins must let /jnlpJars/ through unauthenticated",))
        ev: dict[str, Any] = {"url": jar_url, "notes": notes}
        if isinstance(resp, HttpError) and resp.kind == "redirect":
            fix = Fix("Serve agent.jar at the Jenkins URL itself, without a redirect to another host or port",
                      commands=(f"curl -sI {jar_url}",),
                      notes=("a reverse proxy in front of Jenkins must pass /jnlpJars/ to Jenkins, not redirect it",))
        if isinstance(resp, HttpError):
            ev["error"] = resp.message
            return [ctx.finding("compat.agent_jar", Status.WARN,
                                f"Cannot download the controller's agent.jar: {resp.message}",
                                detail="Versions are taken from the release tables instead.", evidence=ev, fixes=[fix])]
        ev.update(http_status=resp.status, bytes=len(resp.body), content_type=resp.headers.get("Content-Type"))
        if resp.status != 200:
            return [ctx.finding("compat.agent_jar", Status.WARN,
                                f"{jar_url} answers HTTP {resp.status} instead of agent.jar",
                                detail="Agents that download agent.jar from the controller cannot do so.", evidence=ev,
                                fixes=[fix])]
        if resp.body_truncated:
            return [ctx.finding("compat.agent_jar", Status.WARN,
                                f"{jar_url} is larger than {MAX_AGENT_JAR // (1024 * 1024)} MB: not an agent.jar",
                                evidence=ev, fixes=[fix])]
        info = agent_jar_info(resp.body)
        evidence["controller_agent_jar"] = {"url": jar_url, **info.to_dict(), "notes": notes}
        if info.error or not info.version:
            ev.update(info.to_dict())
            return [ctx.finding("compat.agent_jar", Status.WARN,
                                f"{jar_url} is {info.error or 'a jar without a remoting Version'}",
                                evidence=ev, fixes=[fix])]
        inputs.put("bundled_remoting", info.version, f"manifest of {jar_url}")
        inputs.put("bundled_remoting_java", info.java, f"class file version in {jar_url}")
        return []

    def _verdict(self, ctx: Context, inputs: _Inputs, evidence: dict[str, Any],
                 discovery_failed: str | None) -> list[Finding]:
        observed = {k: v for k, v in inputs.values.items() if k not in ("transport", "tls", "agent_cert_options",
                                                                         "jenkins_url")}
        if not observed:
            reason = ("the controller could not be read (see discovery)" if discovery_failed
                      else "no Jenkins version, Java, agent.jar, image or kubernetes-plugin version is known")
            return [ctx.finding("compat", Status.SKIP, f"Skipped: {reason}", caused_by=discovery_failed,
                                evidence={"notes": inputs.notes, **evidence})]
        ev = evaluate(inputs.data, inputs.values)
        ctx.publish(status=ev.status.value, facts=ev.facts.to_dict(), fired=[r.id for r in ev.fired])
        out: list[Finding] = []
        for r in ev.fired:
            if r.status is Status.PASS:
                continue
            cause = f"compat.{r.caused_by}" if r.caused_by else None
            if cause is None and r.same_as_finding:
                # Another probe saw the same problem first-hand: that finding is the cause.
                owner = r.same_as_finding.rsplit(".", 1)[0]
                if any(f.id == r.same_as_finding and f.status.needs_fix for f in ctx.findings_of(owner)):
                    cause = r.same_as_finding
            detail = r.detail + (f"\nSymptom: {r.symptom}" if r.symptom else "")
            out.append(ctx.finding(
                f"compat.{r.id}", r.status, r.title, detail=detail,
                evidence={"facts": {name: {"value": value, "origin": ev.facts.origins.get(name)}
                                    for name, value in r.facts.items()},
                          "sources": list(r.sources), "known_failure": r.known_failure},
                fixes=r.fixes, caused_by=cause,
            ))
        summary_evidence = {
            "data_version": inputs.data.version, "facts": ev.facts.to_dict(),
            "passed": [r.title for r in ev.passed],
            "notes": [r.title for r in ev.fired if r.status is Status.PASS] + inputs.notes,
            "not_evaluated": {r.id: r.missing for r in ev.unknown}, **evidence,
        }
        if "jenkins" not in ev.facts.values:
            if discovery_failed:
                why = "the controller could not be read"
            elif not ctx.findings_of("discovery"):
                why = "the discovery probe did not run (add --probe discovery)" if ctx.settings.url else "no --url"
            else:
                why = "the controller does not send X-Jenkins"
            out.append(ctx.finding("compat", Status.SKIP, f"Controller-side compatibility not checked: {why}",
                                   detail="Check a known version offline: jnlpdiag matrix --jenkins <version> ...",
                                   caused_by=discovery_failed, evidence=summary_evidence))
        elif not [r for r in ev.fired if r.status is not Status.PASS]:
            parts = [f"Jenkins {ev.facts.display('jenkins')}"]
            if ev.facts.get("remoting") is not None:
                parts.append(f"agent.jar {ev.facts.display('remoting')}")
            if ev.facts.get("agent_java") is not None:
                parts.append(f"Java {ev.facts.display('agent_java')}")
            if ev.facts.get("kubernetes_plugin") is not None:
                parts.append(f"kubernetes-plugin {ev.facts.display('kubernetes_plugin')}")
            out.append(ctx.finding("compat", Status.PASS,
                                   f"No known incompatibility: {', '.join(parts)} ({len(ev.passed)} checks passed)",
                                   evidence=summary_evidence))
        else:
            out.append(ctx.finding("compat", Status.PASS,
                                   f"Compatibility checked against data {inputs.data.version}: "
                                   f"{len(out)} problem(s) listed separately, {len(ev.passed)} checks passed",
                                   evidence=summary_evidence))
        return out
