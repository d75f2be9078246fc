"""The inbound-agent image's own rules: which of its variables the image in use honours.

The rules are data (``data/inbound-agent-image.json``: one row per variable with the first image
release whose entrypoint reads it and the upstream commit). The image in use is judged from inside
the agent's filesystem (``/`` or ``/proc/<pid>/root``): its entrypoint script
(``/usr/local/bin/jenkins-agent``, ``jenkins-slave`` before the 2019 rename) says exactly which
variables it reads, and the agent.jar manifest says which remoting the image ships (the image tag
is ``<remoting>-<build>``). Image labels are not readable from inside a container.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

from jnlpdiag.versions import VersionNumber

_SCRIPT_CAP = 256 * 1024
_NAME = re.compile(r"\$\{?([A-Z][A-Z0-9_]*)")


@cache
def rules() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(files("jnlpdiag").joinpath("data/inbound-agent-image.json").read_text("utf-8"))
    return loaded


def variables_read(script: str) -> set[str]:
    """Variables a shell script expands, comments aside (the header lists variables it may not read)."""
    names: set[str] = set()
    for line in script.splitlines():
        code = line.split("#", 1)[0] if line.lstrip().startswith("#") else line
        names.update(_NAME.findall(code))
    return names


@dataclass
class ImageFacts:
    root: str  # where the agent's filesystem was read: "/" or "/proc/<pid>/root"
    entrypoint: str | None = None  # path inside the agent's filesystem
    reads: set[str] = field(default_factory=set)
    agent_jar: str | None = None
    remoting: str | None = None  # agent.jar manifest Version
    at_least: str | None = None  # newest release whose variable the script reads
    older_than: str | None = None  # oldest release whose variable the script lacks
    legacy_script_name: bool = False  # only jenkins-slave: the image was published as jenkins/jnlp-slave

    def to_dict(self) -> dict[str, Any]:
        return {"root": self.root, "entrypoint": self.entrypoint, "variables_read": sorted(self.reads),
                "agent_jar": self.agent_jar, "remoting": self.remoting, "image_at_least": self.at_least,
                "image_older_than": self.older_than, "legacy_script_name": self.legacy_script_name}


def _read_text(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return fh.read(_SCRIPT_CAP).decode("utf-8", "replace")
    except OSError:
        return None


def read_image(root: str = "/") -> ImageFacts | None:
    """The image facts under ``root``; None when no inbound-agent entrypoint is there."""
    from jnlpdiag.hostinfo.jar import read_agent_jar

    facts = ImageFacts(root=root)
    found = []
    for path in rules()["entrypoints"]:
        text = _read_text(os.path.join(root, path.lstrip("/")))
        if text is not None:
            found.append((path, text))
    if not found:
        return None
    # jenkins-slave is a symlink to jenkins-agent after the rename: the real script is read either way.
    facts.entrypoint, script = found[0]
    facts.legacy_script_name = facts.entrypoint.endswith("jenkins-slave")
    facts.reads = variables_read(script) & {row["variable"] for row in rules()["variables"]}
    for jar in rules()["agent_jars"]:
        full = os.path.join(root, jar.lstrip("/"))
        if os.path.isfile(full):
            facts.agent_jar = jar
            try:
                facts.remoting = read_agent_jar(full).version
            except Exception:  # an unreadable jar leaves the version unknown
                facts.remoting = None
            break
    honoured = [r["since"] for r in rules()["variables"] if r["variable"] in facts.reads]
    missing = [r["since"] for r in rules()["variables"] if r["variable"] not in facts.reads]
    facts.at_least = max(honoured, key=_release_key) if honoured else None
    later = [s for s in missing if facts.at_least is None or _release_key(s) > _release_key(facts.at_least)]
    facts.older_than = min(later, key=_release_key) if later else None
    return facts


def _release_key(release: str) -> tuple[VersionNumber, int]:
    """Image tags ``<remoting>-<build>`` in release order (remoting compares as Maven versions)."""
    remoting, _, build = release.rpartition("-") if "-" in release else (release, "", "0")
    return (VersionNumber(remoting), int(build) if build.isdigit() else 0)


@dataclass
class Ignored:
    variable: str
    value: str  # never a secret: JENKINS_SECRET is not judged
    since: str
    option: str
    source: str
    why: str


def ignored_variables(env: dict[str, str], facts: ImageFacts) -> list[Ignored]:
    """Variables set in the agent's environment that this image's entrypoint does not act on."""
    out = []
    for row in rules()["variables"]:
        name = row["variable"]
        value = env.get(name, "")
        if name == "JENKINS_SECRET" or not value:
            continue
        if name not in facts.reads:
            out.append(Ignored(name, value, row["since"], row["option"], row["source"],
                               f"this image's {facts.entrypoint} does not read it (read since image {row['since']})"))
        elif name == "JENKINS_WEB_SOCKET" and value != "true":
            out.append(Ignored(name, value, row["since"], row["option"], row["source"],
                               "the entrypoint adds -webSocket only for the exact value true"))
    return out


def name_variable(env: dict[str, str]) -> str | None:
    """The variable the entrypoint takes the agent name from: JENKINS_NAME wins when set and non-empty."""
    if env.get("JENKINS_NAME"):
        return "JENKINS_NAME"
    return "JENKINS_AGENT_NAME" if env.get("JENKINS_AGENT_NAME") else None


def judged_variables() -> tuple[str, ...]:
    """The variables this module reads from the agent's environment (never the secret)."""
    return tuple(r["variable"] for r in rules()["variables"] if r["variable"] != "JENKINS_SECRET")
