"""Zero-config settings: gather what the agent itself would use, and say where each value came from.

Precedence (highest first): command-line flags > ``--jnlp-file`` > the command line of a running
agent process > the inbound-agent image's environment variables and the proxy variables.

Environment names follow jenkinsci/docker-agent's ``jenkins-agent`` entrypoint script (commit
b066c0a962c0aa8ebf9f6a247423ddce3d5e188a); see docs/settings.md.
"""

from __future__ import annotations

import os
import pwd
import select
import shlex
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jnlpdiag.pycompat import Timeouts
from jnlpdiag.settings.agentargs import AgentArgs, parse_agent_args
from jnlpdiag.settings.jnlpfile import read_jnlp_file
from jnlpdiag.settings.process import AgentProcess, find_agent_processes, inspect_process
from jnlpdiag.settings.values import Secret, Settings


class SettingsError(ValueError):
    """Settings that cannot be used (unreadable file, bad value); a usage error (exit 3)."""


@dataclass
class SettingsLayer:
    """Values of one source with their origin label."""

    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)

    def set(self, name: str, value: Any, origin: str) -> None:
        if value is None or value == [] or value == "":
            return
        self.values[name] = value
        self.origins[name] = origin


def _from_agent_args(args: AgentArgs, label: str) -> SettingsLayer:
    layer = SettingsLayer()
    layer.set("url", args.first("-url"), f"{label} -url")
    layer.set("name", args.name, f"{label} -name")
    secret = args.secret
    layer.set("secret", Secret(secret) if secret else None, f"{label} -secret")
    layer.set("tunnel", args.first("-tunnel"), f"{label} -tunnel")
    if "-webSocket" in args.flags:
        layer.set("websocket", True, f"{label} -webSocket")
    layer.set("direct", args.first("-direct"), f"{label} -direct")
    layer.set("instance_identity", args.first("-instanceIdentity"), f"{label} -instanceIdentity")
    layer.set("protocols", args.values.get("-protocols", []), f"{label} -protocols")
    layer.set("workdir", args.first("-workDir"), f"{label} -workDir")
    layer.set("jnlp_url", args.first("-jnlpUrl"), f"{label} -jnlpUrl")
    layer.set("agent_certs", args.values.get("-cert", []), f"{label} -cert")
    if "-noCertificateCheck" in args.flags:
        layer.set("no_certificate_check", True, f"{label} -noCertificateCheck")
    layer.set("agent_options", args.options_present(), label)
    return layer


def from_environment(env: Mapping[str, str]) -> SettingsLayer:
    """The inbound-agent image's variables (docker-agent ``jenkins-agent``) and proxy variables."""
    layer = SettingsLayer()
    # REMOTING_OPTS are appended to the agent's arguments by the entrypoint; lowest priority.
    remoting_opts = env.get("REMOTING_OPTS")
    if remoting_opts:
        try:
            extra = _from_agent_args(parse_agent_args(shlex.split(remoting_opts)), "env REMOTING_OPTS")
        except ValueError:
            extra = SettingsLayer()
        layer.values.update(extra.values)
        layer.origins.update(extra.origins)

    def env_set(name: str, var: str, convert: Any = None) -> None:
        if var in env and env[var] != "":
            value = env[var] if convert is None else convert(env[var])
            layer.set(name, value, f"env {var}")

    env_set("url", "JENKINS_URL")
    env_set("secret", "JENKINS_SECRET", Secret)
    # The entrypoint does `if [ -n "$JENKINS_NAME" ]; then JENKINS_AGENT_NAME="$JENKINS_NAME"`: the
    # legacy name wins (data/inbound-agent-image.json, docker-inbound-agent commit 88b418b).
    if env.get("JENKINS_NAME"):
        env_set("name", "JENKINS_NAME")
    else:
        env_set("name", "JENKINS_AGENT_NAME")
    env_set("tunnel", "JENKINS_TUNNEL")
    # The entrypoint adds -webSocket only for exactly the string "true".
    if env.get("JENKINS_WEB_SOCKET") == "true":
        layer.set("websocket", True, "env JENKINS_WEB_SOCKET")
    env_set("direct", "JENKINS_DIRECT_CONNECTION")
    env_set("instance_identity", "JENKINS_INSTANCE_IDENTITY")
    env_set("protocols", "JENKINS_PROTOCOLS", lambda v: [p.strip() for p in v.split(",") if p.strip()])
    env_set("workdir", "JENKINS_AGENT_WORKDIR")
    if env.get("JENKINS_JAVA_OPTS"):
        env_set("java_opts", "JENKINS_JAVA_OPTS")
    else:
        env_set("java_opts", "JAVA_OPTS")
    env_set("java", "JENKINS_JAVA_BIN")
    env_set("agent_jar", "JENKINS_AGENT_FILE")
    for name in ("http_proxy", "https_proxy", "no_proxy"):
        # Lower case first, as curl and remoting's NoProxyEvaluator do.
        if env.get(name):
            env_set(name, name)
        else:
            env_set(name, name.upper())
    env_set("proxy_host", "proxy_host")
    return layer


def from_process(proc: AgentProcess) -> SettingsLayer:
    label = f"process {proc.pid}"
    layer = _from_agent_args(parse_agent_args(proc.agent_args), label)
    layer.set("agent_pid", proc.pid, label)
    layer.set("java", proc.executable, f"{label} executable")
    layer.set("agent_jar", proc.agent_jar, f"{label} -jar")
    layer.set("java_opts", " ".join(proc.jvm_args), f"{label} JVM options")
    parsed = parse_agent_args(proc.agent_args)
    argv = [proc.executable or "java", *proc.jvm_args]
    argv += ["-jar", proc.agent_jar] if proc.agent_jar else []
    layer.set("agent_argv", argv + parsed.redacted_argv, label)
    return layer


def from_jnlp_file(path: str) -> SettingsLayer:
    try:
        args = read_jnlp_file(path)
    except ValueError as exc:
        raise SettingsError(f"--jnlp-file {path}: {exc}") from None
    return _from_agent_args(parse_agent_args(args), f"jnlp-file {Path(path).name}")


def pick_process(spec: str) -> AgentProcess | None:
    """``auto``: the first agent process found; a PID: that process; ``none``: no scan."""
    if spec == "none":
        return None
    if spec == "auto":
        procs = find_agent_processes()
        if len(procs) > 1:
            # From a node or a shared PID namespace several agents are visible: never guess which.
            listing = "; ".join(describe_candidate(p) for p in procs[:20])
            raise SettingsError(f"--from-process auto found {len(procs)} agent processes: {listing}. "
                                "Choose one with --from-process PID (or none)")
        return procs[0] if procs else None
    if not (spec.isascii() and spec.isdigit()):
        raise SettingsError(f"--from-process expects auto, none or a PID, not {spec!r}")
    proc = inspect_process(int(spec))
    if proc is None:
        raise SettingsError(f"--from-process {spec}: no agent.jar process with that PID (or no right to read it)")
    return proc


def describe_candidate(proc: AgentProcess) -> str:
    """``PID 123 (user jenkins, agent.jar /usr/share/jenkins/agent.jar, other mount namespace)``."""
    from jnlpdiag.hostinfo.agentns import namespace_id

    try:
        uid = os.stat(f"/proc/{proc.pid}").st_uid
        user = pwd.getpwuid(uid).pw_name
    except (OSError, KeyError):
        user = "?"
    jar = proc.agent_jar or "-cp (hudson.remoting.jnlp.Main)"
    own = namespace_id(proc.pid, "mnt") == namespace_id("self", "mnt")
    return f"PID {proc.pid} (user {user}, {jar}{'' if own else ', other mount namespace'})"


def read_secret_file(path: str, wait: float = 10.0) -> Secret:
    """The secret in ``path`` (first 4 KB). A pipe or FIFO (``--secret-file <(vault read ...)``)
    is read until EOF for at most ``wait`` seconds: one without a writer cannot hang the tool."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO's open() would block for a writer
        try:
            raw = _read_until_eof(fd, 4096, wait)
        finally:
            os.close(fd)
    except Timeouts:
        raise SettingsError(f"--secret-file {path}: nothing could be read within {wait:g} s") from None
    except OSError as exc:
        raise SettingsError(f"--secret-file {path}: {exc.strerror or exc}") from None
    try:
        value = raw.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise SettingsError(f"--secret-file {path}: not UTF-8 text (byte {exc.start})") from None
    if not value:
        raise SettingsError(f"--secret-file {path}: the file is empty")
    return Secret(value)


def _read_until_eof(fd: int, limit: int, wait: float) -> bytes:
    end = time.monotonic() + wait
    data = b""
    while len(data) < limit:
        try:
            chunk = os.read(fd, limit - len(data))  # a FIFO without a writer reads as EOF at once
        except BlockingIOError:  # a pipe whose writer has not written yet
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError from None
            continue
        if not chunk:
            break
        data += chunk
    return data


def gather(
    flags: SettingsLayer,
    env: Mapping[str, str],
    jnlp_file: str | None = None,
    process: str = "auto",
) -> Settings:
    """Merge the sources, lowest precedence first, and record each value's origin."""
    layers = [from_environment(env)]
    proc = pick_process(process)
    if proc is not None:
        layers.append(from_process(proc))
    if jnlp_file:
        layers.append(from_jnlp_file(jnlp_file))
    layers.append(flags)
    settings = Settings()
    for layer in layers:
        for name, value in layer.values.items():
            setattr(settings, name, value)
            settings.origins[name] = layer.origins[name]
    if settings.url and not settings.url.endswith("/"):
        # remoting's Engine.ensureTrailingSlash does the same before building any URL.
        settings.url += "/"
    return settings
