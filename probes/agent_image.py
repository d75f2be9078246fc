"""agent.image: does the inbound-agent image in use act on the variables the agent was given?

The jenkins/inbound-agent entrypoint turns ``JENKINS_*`` variables into agent.jar options, but each
variable only from the image release that first read it (``data/inbound-agent-image.json``, each row
with its upstream commit). A variable that the image ignores makes the rest of the diagnosis answer
the wrong question: ``JENKINS_WEB_SOCKET=true`` on an image older than 4.0.1-1 leaves the agent on
the TCP port while jnlpdiag checks WebSocket. The image is read from the agent's own filesystem
(``/proc/<pid>/root`` when the agent process is known, else ``/``): its entrypoint script says which
variables it reads, agent.jar's manifest which remoting it ships.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

from jnlpdiag.findings import Finding, Layer, Status
from jnlpdiag.fixcatalog import fix
from jnlpdiag.hostinfo.procenv import read_environ
from jnlpdiag.inboundimage import ImageFacts, ignored_variables, judged_variables, name_variable, read_image
from jnlpdiag.probe_api import Context, Probe

_CATALOG = "agent_image"


class AgentImageProbe(Probe):
    id = "agent.image"
    layer = Layer.COMPATIBILITY
    description = "The inbound-agent image's entrypoint: which JENKINS_* variables the image in use honours"

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        view = ctx.agent
        root, env, whose = "/", {k: view.env[k] for k in judged_variables() if k in view.env}, "this shell's"
        if view.pid is not None:
            theirs = await asyncio.to_thread(read_environ, view.pid, judged_variables())
            proc_root = f"/proc/{view.pid}/root"
            if theirs is not None:
                env, whose = theirs, f"agent process {view.pid}'s"
            if os.access(proc_root, os.R_OK | os.X_OK):
                root = proc_root
        facts: ImageFacts | None = await asyncio.to_thread(read_image, root)
        if facts is None:
            yield ctx.finding(f"{self.id}.entrypoint", Status.SKIP,
                              "Not an inbound-agent image: no /usr/local/bin/jenkins-agent entrypoint",
                              detail=f"Looked in the agent's filesystem at {root}.", evidence={"root": root})
            return
        evidence = {**facts.to_dict(), "environment": whose}
        span = (f"image {facts.at_least} or newer" if facts.older_than is None
                else f"image {facts.at_least} or newer, older than {facts.older_than}")
        jar = f", agent.jar {facts.remoting}" if facts.remoting else ""
        if facts.legacy_script_name:
            yield ctx.finding(
                f"{self.id}.deprecated", Status.WARN,
                "The agent runs the deprecated jenkins/jnlp-slave image (entrypoint jenkins-slave)",
                detail="jenkins/jnlp-slave was renamed jenkins/inbound-agent in 4.3-2 (April 2020) and gets no "
                       f"new releases; its entrypoint ignores the variables added since ({span}{jar}).",
                evidence=evidence, fixes=[fix(_CATALOG, "deprecated_image")])
        for item in ignored_variables(env, facts):
            shown = item.value if len(item.value) <= 80 else item.value[:77] + "..."
            consequence = (" The agent connects over the TCP agent port, so the WebSocket checks answer the wrong "
                           "question." if item.variable == "JENKINS_WEB_SOCKET" else "")
            yield ctx.finding(
                f"{self.id}.ignored.{item.variable.lower()}", Status.WARN,
                f"{item.variable}={shown} is ignored by the image in use: {item.why}",
                detail=f"The entrypoint turns it into {item.option} only from image {item.since} ({item.source})."
                       f" This image: {span}{jar}.{consequence}",
                evidence={**evidence, "variable": item.variable, "since": item.since, "source": item.source},
                fixes=[fix(_CATALOG, "ignored_variable", variable=item.variable, since=item.since, option=item.option)])
        both = env.get("JENKINS_NAME") and env.get("JENKINS_AGENT_NAME")
        if both and env["JENKINS_NAME"] != env["JENKINS_AGENT_NAME"]:
            yield ctx.finding(
                f"{self.id}.name", Status.WARN,
                f"JENKINS_NAME ({env['JENKINS_NAME']}) overrides JENKINS_AGENT_NAME ({env['JENKINS_AGENT_NAME']})",
                detail="The entrypoint sets JENKINS_AGENT_NAME=\"$JENKINS_NAME\" when JENKINS_NAME is set, so the agent "
                       "connects as JENKINS_NAME with JENKINS_SECRET: a secret issued for the other node is refused.",
                evidence={**evidence, "name_from": name_variable(env)},
                fixes=[fix(_CATALOG, "name_conflict", name=env["JENKINS_NAME"], agent_name=env["JENKINS_AGENT_NAME"])])
        yield ctx.finding(
            f"{self.id}.entrypoint", Status.PASS,
            f"inbound-agent entrypoint {facts.entrypoint}: {span}{jar}",
            detail=f"It reads {', '.join(sorted(facts.reads)) or 'no JENKINS_* variable'}; read from {root}.",
            evidence=evidence)
