"""host.java: the JVM the agent runs, and whether it can start the agent.jar in use.

The JVM is the agent view's (``ctx.agent.java``: ``--java``, the running agent's executable,
``JENKINS_JAVA_BIN``, ``JAVA_HOME``, ``PATH``), run once per run for its properties. The agent.jar
(``--agent-jar``, the running agent's ``-jar``, ``JENKINS_AGENT_FILE``, else the inbound-agent
image's ``/usr/share/jenkins/agent.jar``) is read, never run: its manifest
``Version``, ``hudson-version.properties`` and the class-file major version of
``hudson/remoting/Launcher.class`` (:mod:`jnlpdiag.hostinfo.jar`). A JVM older than that class
level fails at start with ``UnsupportedClassVersionError``; this probe says so before it happens.

Publishes ``java_version``, ``java_feature``, ``java_vendor``, ``java_home``, ``java_is_jdk``,
``java_executable``, ``agent_jar_path``, ``agent_jar_version``, ``agent_jar_class_major`` and
``agent_jar_min_java`` for the compatibility checks.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from jnlpdiag.findings import Finding, Layer, Status
from jnlpdiag.fixcatalog import fix
from jnlpdiag.hostinfo.jar import AgentJar, JarError, read_agent_jar
from jnlpdiag.jvm import JavaInfo
from jnlpdiag.localfile import LocalFileError, check_regular
from jnlpdiag.probe_api import Context, Facts, Probe

_CATALOG = "host_java"
IMAGE_AGENT_JAR = "/usr/share/jenkins/agent.jar"  # jenkinsci/docker-agents inbound-agent image


def predicted_error(jar: AgentJar, feature: int) -> str:
    """The JVM's message (HotSpot ClassFileParser), as it will print it."""
    name = (jar.launcher_class or "").removesuffix(".class")
    return (f"java.lang.UnsupportedClassVersionError: {name} has been compiled by a more recent version "
            f"of the Java Runtime (class file version {jar.class_major}.{jar.class_minor}), this version of "
            f"the Java Runtime only recognizes class file versions up to {feature + 44}.0")


@dataclass
class HostJavaFacts(Facts):
    """The agent's JVM as it answered, and the agent.jar it runs."""

    java_executable: str | None = None
    java_version: str | None = None
    java_feature: int | None = None
    java_vendor: str | None = None
    java_home: str | None = None
    java_is_jdk: bool | None = None
    agent_jar_path: str | None = None
    agent_jar_version: str | None = None
    agent_jar_class_major: int | None = None
    agent_jar_min_java: int | None = None


class HostJavaProbe(Probe[HostJavaFacts]):
    id = "host.java"
    layer = Layer.HOST
    description = "The agent's JVM (version, vendor, JRE/JDK) and whether it can run the agent.jar in use"

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        settings = ctx.settings
        view = ctx.agent
        url = settings.url or "<JENKINS_URL>/"
        info: JavaInfo | None = None
        install = view.java
        rid = f"{self.id}.runtime"
        if install is None:
            yield ctx.finding(rid, Status.FAIL, "No Java runtime found for the agent",
                              detail="Looked at --java, a running agent, JENKINS_JAVA_BIN, JAVA_HOME and PATH.",
                              evidence={"JAVA_HOME": view.env.get("JAVA_HOME"), "PATH": view.env.get("PATH")},
                              fixes=[fix(_CATALOG, "no_java")])
        else:
            evidence: dict[str, Any] = {"executable": install.executable, "origin": install.origin}
            not_a_program = None
            if os.path.exists(install.executable):
                try:
                    check_regular(install.executable)
                except LocalFileError as exc:  # a FIFO, device or directory: a broken setting, not missing rights
                    not_a_program = str(exc)
            info = await view.java_info(ctx.step_timeout(cap=30)) if not_a_program is None else None
            if info is None:
                yield ctx.finding(rid, Status.FAIL, f"The agent's java is not a program: {not_a_program}",
                                  evidence=evidence, fixes=[fix(_CATALOG, "java_broken", java=install.executable)])
            elif info.error and ("Permission denied" in info.error or "not permitted" in info.error):
                yield ctx.finding(rid, Status.SKIP, f"Cannot run {install.executable} as uid {os.geteuid()}",
                                  detail=f"{info.error}. Run jnlpdiag as the agent's user.", evidence=evidence)
                info = None
            elif info.error and "did not answer" in info.error:
                yield ctx.finding(rid, Status.WARN, f"The agent's java is slow: {info.error}", evidence=evidence,
                                  fixes=[fix(_CATALOG, "java_slow", java=install.executable)])
                info = None
            elif info.error:
                yield ctx.finding(rid, Status.FAIL, f"The agent's java does not run: {info.error}",
                                  evidence=evidence, fixes=[fix(_CATALOG, "java_broken", java=install.executable)])
                info = None
            else:
                kind = "JDK" if info.is_jdk else "JRE (no jcmd/jstack for diagnosing a stuck agent)"
                evidence.update(version=info.version, feature=info.feature, vendor=info.vendor,
                                runtime=info.runtime_name, java_home=info.java_home, is_jdk=info.is_jdk,
                                vm=info.properties.get("java.vm.name"), os_arch=info.properties.get("os.arch"))
                yield ctx.finding(rid, Status.PASS, f"Java {info.version} ({info.vendor or 'unknown vendor'}), {kind}",
                                  detail=f"{install.executable} (found via {install.origin})", evidence=evidence)
                ctx.publish(java_executable=install.executable, java_version=info.version, java_feature=info.feature,
                            java_vendor=info.vendor, java_home=info.java_home, java_is_jdk=info.is_jdk)

        jid = f"{self.id}.agent-jar"
        path, origin = view.setting_path("agent_jar"), settings.origin("agent_jar")
        if path is None and os.path.isfile(IMAGE_AGENT_JAR):
            path, origin = IMAGE_AGENT_JAR, "the inbound-agent image's default location"
        if path is None:
            yield ctx.finding(jid, Status.SKIP, "No agent.jar to check",
                              detail="Name it with --agent-jar PATH (or run jnlpdiag next to a running agent).")
            return
        evidence = {"path": path, "origin": origin}
        try:
            jar = await asyncio.to_thread(read_agent_jar, path)
        except PermissionError as exc:
            yield ctx.finding(jid, Status.SKIP, f"Cannot read {path} as uid {os.geteuid()}: {exc.strerror}",
                              detail="Run jnlpdiag as the agent's user.", evidence=evidence)
            return
        except (OSError, JarError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            yield ctx.finding(jid, Status.FAIL, f"agent.jar {path} cannot be used: {reason}", evidence=evidence,
                              fixes=[fix(_CATALOG, "bad_jar", path=path, reason=reason, url=url)])
            return
        evidence.update(jar.to_dict())
        ctx.publish(agent_jar_path=path, agent_jar_version=jar.version, agent_jar_class_major=jar.class_major,
                    agent_jar_min_java=jar.min_java)
        if jar.class_major is None:
            yield ctx.finding(jid, Status.FAIL, f"{path} has no hudson/remoting/Launcher.class", evidence=evidence,
                              fixes=[fix(_CATALOG, "no_launcher", path=path, url=url)])
            return
        label = f"agent.jar {jar.version or '(no version)'}"
        needs = f"class file {jar.class_major}, Java {jar.min_java}+"
        if info is None or info.feature is None:
            yield ctx.finding(jid, Status.PASS, f"{label} ({needs}); the JVM could not be checked against it",
                              evidence=evidence)
            return
        evidence["java_feature"] = info.feature
        if jar.min_java is not None and info.feature < jar.min_java:
            evidence["predicted_error"] = predicted_error(jar, info.feature)
            yield ctx.finding(
                jid, Status.FAIL, f"Java {info.feature} cannot start {label}: it needs Java {jar.min_java}+",
                detail=f"The agent will die at start with: {evidence['predicted_error']}",
                evidence=evidence,
                fixes=[fix(_CATALOG, "too_old", min_java=jar.min_java, major=jar.class_major, feature=info.feature,
                           max_major=info.feature + 44, suggest_jdk=max(jar.min_java, 21), url=url)],
            )
            return
        yield ctx.finding(jid, Status.PASS, f"Java {info.feature} can run {label} ({needs})", evidence=evidence)
