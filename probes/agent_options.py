"""agent.options: would agent.jar even accept this command line?

args4j refuses option combinations before the agent connects at all (remoting ``Launcher.java``
``@Option(depends=..., forbids=...)``); the inbound-agent image and the Kubernetes plugin can
produce such combinations from environment variables (e.g. ``JENKINS_TUNNEL`` with
``JENKINS_WEB_SOCKET=true``, which the plugin only warns about in its form validation). The rules
are data: ``jnlpdiag/data/agent-options.json``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from functools import cache
from importlib.resources import files
from typing import Any

from jnlpdiag import fixcatalog
from jnlpdiag.findings import Finding, Fix, Layer, Status
from jnlpdiag.fixcatalog import fix
from jnlpdiag.probe_api import Context, Probe
from jnlpdiag.settings import Settings

_CATALOG = "agent_options"


@cache
def _rules() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(files("jnlpdiag").joinpath("data/agent-options.json").read_text())
    return loaded


def options_in_effect(settings: Settings) -> dict[str, str]:
    """agent.jar options the agent would get, each with the origin of the setting behind it."""
    present: dict[str, str] = {}
    for option, rule in _rules()["options"].items():
        name = rule.get("setting")
        if name and getattr(settings, name, None) not in (None, False, [], ""):
            present[option] = settings.origin(name)
    # Options seen on a real command line that have no setting of their own (e.g. -credentials).
    for option in settings.agent_options:
        present.setdefault(option, settings.origin("agent_options"))
    return present


def conflicts(present: dict[str, str]) -> list[dict[str, str]]:
    found = []
    for option, rule in _rules()["options"].items():
        if option not in present:
            continue
        for other in rule.get("forbids", []):
            if other in present:
                found.append({"option": option, "conflicts_with": other, "kind": "forbids",
                              "message": f'option "{option}" cannot be used with the option(s) [{other}]'})
        for needed in rule.get("depends", []):
            if needed not in present:
                found.append({"option": option, "conflicts_with": needed, "kind": "depends",
                              "message": f'option "{option}" requires the option(s) [{needed}]'})
    return found


class AgentOptionsProbe(Probe):

    id = "agent.options"
    layer = Layer.PROTOCOL
    description = "agent.jar option combinations that args4j refuses (-webSocket with -tunnel, -direct alone, ...)"

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        present = options_in_effect(ctx.settings)
        evidence: dict[str, Any] = {"options": present}
        found = conflicts(present)
        for c in found:
            a, b = c["option"], c["conflicts_with"]
            origins = f"{a} from {present[a]}" + (f", {b} from {present[b]}" if b in present else "")
            key = c["kind"]
            if key == "forbids" and {a, b} == {"-webSocket", "-tunnel"}:
                key = "forbids_websocket_tunnel"
            yield ctx.finding(f"agent.options.{a.lstrip('-')}", Status.FAIL,
                              f"agent.jar refuses its command line: {c['message']}",
                              detail=f"args4j rejects this before connecting ({origins}). Source: {_rules()['source']}",
                              evidence={**evidence, **c}, fixes=[fix(_CATALOG, key, option=a, other=b, origins=origins)])
        for option, info in _rules()["deprecated"].items():
            if option in present:
                yield ctx.finding(f"agent.options.deprecated.{option.lstrip('-')}", Status.WARN,
                                  f"{option} is deprecated", detail=info["message"],
                                  evidence={**evidence, "source": info["source"]},
                                  fixes=[self._deprecated_fix(ctx, option, info["fix"])])
        if not found:
            yield ctx.finding("agent.options", Status.PASS,
                              f"agent.jar accepts the options in effect ({', '.join(sorted(present)) or 'none'})",
                              evidence=evidence)

    @staticmethod
    def _deprecated_fix(ctx: Context, option: str, spec: dict[str, str]) -> Fix:
        """The replacement command when the settings give every value it needs, else the note."""
        values = {"url": ctx.settings.url, "name": ctx.settings.name}
        if spec.get("command") and all(values.values()):
            return fix(_CATALOG, "deprecated", option=option, replacement=fixcatalog.fill(spec["command"], values),
                       keep=spec["note"])
        return fix(_CATALOG, "deprecated_note", option=option, replacement=spec["note"])
