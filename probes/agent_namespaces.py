"""agent.namespaces: is jnlpdiag looking at the agent from the agent's side?

From a debug container (``kubectl debug --target``) or the node, the agent process is visible but
lives in other namespaces (:mod:`jnlpdiag.hostinfo.agentns`). This probe says which namespaces the
agent shares with jnlpdiag and what that means for the other verdicts: files are read through
``/proc/<pid>/root`` (host.noexec judges the agent's own mounts), while the network checks run from
jnlpdiag's network namespace; when that is not the agent's, their verdicts describe another place.
As root it then enters the agent's network namespace in a child (setns) for one TCP connect to the
controller, beside the same connect from jnlpdiag's, so the report says whether that matters.
It also reports the agent's ``JENKINS_*`` environment (never the secret) and the version of the
agent's java: run inside the agent's mount namespace when root (setns in a child), and from its
``release`` file in the agent's filesystem (read, not run), saying which.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from jnlpdiag.findings import Finding, Fix, Layer, Status
from jnlpdiag.hostinfo.agentns import (
    AgentNamespaces,
    agent_namespaces,
    connect_here,
    connect_in_netns,
    in_root,
    java_version_in_mount_ns,
)
from jnlpdiag.hostinfo.procenv import read_environ
from jnlpdiag.inboundimage import judged_variables
from jnlpdiag.probe_api import Context, Probe


def release_version(root: str, java: str | None) -> str | None:
    """JAVA_VERSION from ``<java home>/release`` in the agent's filesystem (``java`` as the agent names it)."""
    if not java:
        return None
    home = os.path.dirname(os.path.dirname(java))
    try:
        with open(in_root(root, os.path.join(home, "release")), encoding="utf-8", errors="replace") as fh:
            for line in fh.read(64 * 1024).splitlines():
                if line.startswith("JAVA_VERSION="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        return None
    return None


class AgentNamespacesProbe(Probe):
    id = "agent.namespaces"
    layer = Layer.HOST
    description = "Which namespaces the agent process shares with jnlpdiag, and from where the checks ran"

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        view = ctx.agent
        if view.pid is None:
            yield ctx.finding(self.id, Status.SKIP, "No agent process selected: everything is judged from this shell",
                              detail="Give --from-process PID (or auto) to judge a running agent from its own side.")
            return
        ns: AgentNamespaces = await asyncio.to_thread(agent_namespaces, view.pid)
        env = await asyncio.to_thread(read_environ, view.pid, judged_variables())
        exe = view.argv[0] if view.argv else None
        if ns.root is not None and view.java is not None:
            exe = view.java.executable
        java_release = await asyncio.to_thread(release_version, ns.root, exe) if ns.root else None
        java_run, java_how = None, None
        if ns.differs("mnt") and exe and os.geteuid() == 0:
            java_run, java_how = await asyncio.to_thread(java_version_in_mount_ns, view.pid, exe,
                                                         ctx.step_timeout(cap=20))
        evidence = {**ns.to_dict(), "agent_environment": env, "agent_java": exe,
                    "agent_java_version": java_release,
                    "agent_java_version_from": "its release file (read, not run)" if java_release else None,
                    "agent_java_run_version": java_run, "agent_java_run": java_how}
        where = []
        if ns.differs("mnt"):
            where.append(f"its files are read through {ns.root}" if ns.root else "its files are not readable from here")
        if ns.differs("pid"):
            where.append("it is in another PID namespace")
        if ns.differs("net"):
            yield await self._network(ctx, view.pid, evidence)
        shared = [k for k, v in ns.shared.items() if v]
        yield ctx.finding(
            self.id, Status.PASS,
            f"Agent process {view.pid}: " + ("; ".join(where) if where else "same namespaces as jnlpdiag")
            + (f"; java {java_run} (run inside its mount namespace)" if java_run
               else f"; java {java_release} (from its release file)" if java_release else ""),
            detail=f"Shared with jnlpdiag: {', '.join(shared) or 'none'}. Network checks ran "
                   + ("in the agent's network namespace." if ns.shared.get("net") else "from jnlpdiag's own namespace."),
            evidence=evidence)

    async def _network(self, ctx: Context, pid: int, evidence: dict[str, Any]) -> Finding:
        """The agent is in another network namespace. As root, one TCP connect to the controller from
        each namespace shows whether the difference matters; otherwise say what the verdicts describe."""
        fixes = [Fix("Run the checks inside the agent's network namespace",
                     (f"nsenter --target {pid} --net -- python3 jnlpdiag.pyz check --from-process {pid}",
                      "# Kubernetes: kubectl debug -it POD --image=... --target=jnlp (shares the pod's network)"))]
        fid = f"{self.id}.network"
        detail = ("Routes, DNS, proxies and egress policy can differ between the two namespaces; the discovery, tcp, "
                  "tls.* and websocket verdicts describe jnlpdiag's position.")
        url = ctx.jenkins_url()
        parts = urlsplit(url) if url else None
        if parts is None or not parts.hostname or os.geteuid() != 0:
            why = "not root: cannot enter it" if parts and parts.hostname else "no Jenkins URL to try from it"
            return ctx.finding(fid, Status.WARN,
                               f"The network checks ran from jnlpdiag's network namespace, not agent process {pid}'s",
                               detail=f"{detail} ({why}.)", evidence=evidence, fixes=fixes)
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        timeout = ctx.step_timeout(cap=10)
        theirs, ours = await asyncio.gather(asyncio.to_thread(connect_in_netns, pid, host, port, timeout),
                                            asyncio.to_thread(connect_here, host, port, timeout))
        evidence = {**evidence, "controller": f"{host}:{port}", "connect_from_agent_namespace": theirs,
                    "connect_from_jnlpdiag_namespace": ours}
        if theirs.startswith("setns"):
            return ctx.finding(fid, Status.WARN,
                               f"The network checks ran from jnlpdiag's network namespace, not agent process {pid}'s",
                               detail=f"{detail} Entering the agent's namespace failed ({theirs}).", evidence=evidence,
                               fixes=fixes)
        if theirs != "connected" and ours == "connected":
            return ctx.finding(
                fid, Status.FAIL,
                f"From agent process {pid}'s network namespace {host}:{port} is not reachable ({theirs}); "
                "from jnlpdiag's it is",
                detail=f"{detail} Here they differ: the agent's own route to the controller fails.",
                evidence=evidence, fixes=fixes)
        same = theirs == ours
        return ctx.finding(
            fid, Status.WARN,
            f"The network checks ran from jnlpdiag's network namespace, not agent process {pid}'s "
            f"({host}:{port} from the agent's: {theirs}; from jnlpdiag's: {ours})",
            detail=detail + (" A TCP connect to the controller gives the same result from both." if same else
                             " Failures above may be jnlpdiag's own; the agent reaches the controller."),
            evidence=evidence, fixes=fixes)
