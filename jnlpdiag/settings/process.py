"""Find a running inbound agent (``java ... -jar agent.jar ...``) and read its command line.

Only ``/proc/<pid>/cmdline`` and ``/proc/<pid>/exe`` are read; processes we may not inspect are
passed over silently (the tool runs unprivileged).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Jar names the controller serves (core Slave.JnlpJar) and the inbound-agent image's path.
_AGENT_JARS = ("agent.jar", "slave.jar", "remoting.jar")
# Main classes of agent.jar: current Launcher and the pre-3176 jnlp.Main (remoting).
_AGENT_MAIN_CLASSES = ("hudson.remoting.Launcher", "hudson.remoting.jnlp.Main")


@dataclass
class AgentProcess:
    pid: int
    executable: str | None
    jvm_args: list[str]
    agent_jar: str | None
    agent_args: list[str]


def split_agent_cmdline(argv: list[str]) -> tuple[list[str], str | None, list[str]] | None:
    """Split ``java [jvm opts] -jar X.jar [agent args]`` (or ``-cp ... MainClass``).

    Returns (jvm options, jar path or None, agent arguments), or None when argv is not an agent.
    """
    if not argv or not Path(argv[0]).name.startswith("java"):
        return None
    for i, arg in enumerate(argv[1:], start=1):
        if arg == "-jar" and i + 1 < len(argv):
            jar = argv[i + 1]
            if Path(jar).name in _AGENT_JARS or Path(jar).name.startswith(("agent", "remoting")):
                return argv[1:i], jar, argv[i + 2 :]
            return None
        if arg in _AGENT_MAIN_CLASSES:
            return argv[1:i], None, argv[i + 1 :]
    return None


def read_cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    if not raw:
        return None
    return [part.decode("utf-8", "replace") for part in raw.rstrip(b"\0").split(b"\0")]


def inspect_process(pid: int) -> AgentProcess | None:
    argv = read_cmdline(pid)
    if argv is None:
        return None
    split = split_agent_cmdline(argv)
    if split is None:
        return None
    jvm_args, jar, agent_args = split
    try:
        exe: str | None = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        exe = argv[0] if os.path.isabs(argv[0]) else None
    return AgentProcess(pid=pid, executable=exe, jvm_args=jvm_args, agent_jar=jar, agent_args=agent_args)


def find_agent_processes() -> list[AgentProcess]:
    found = []
    me = os.getpid()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if entry.isdigit() and int(entry) != me:
            proc = inspect_process(int(entry))
            if proc is not None:
                found.append(proc)
    return sorted(found, key=lambda p: p.pid)
