"""Small helpers shared by the test suites: free ports, waiting for a port, running the CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_port(host: str, port: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{host}:{port} did not start listening within {timeout} s")


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str
    elapsed: float

    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)

    def finding(self, finding_id: str) -> dict[str, Any]:
        for f in self.json()["findings"]:
            if f["id"] == finding_id:
                return f
        raise KeyError(f"no finding {finding_id!r}; have {[f['id'] for f in self.json()['findings']]}")


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any agent/proxy variable, plus ``extra``."""
    drop = {"JENKINS_URL", "JENKINS_SECRET", "JENKINS_AGENT_NAME", "JENKINS_NAME", "JENKINS_TUNNEL",
            "JENKINS_WEB_SOCKET", "JENKINS_DIRECT_CONNECTION", "JENKINS_INSTANCE_IDENTITY",
            "JENKINS_PROTOCOLS", "JENKINS_AGENT_WORKDIR", "JAVA_OPTS", "JENKINS_JAVA_OPTS", "REMOTING_OPTS",
            "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "proxy_host",
            "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(extra)
    return env


# Subcommands that look for a running agent.jar process when --from-process is not given.
_SCANS_PROCESSES = {"check", "report"}


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120.0,
            input: str | None = None) -> CliResult:
    """Run the installed tool as a user would (``python -m jnlpdiag``), never a TTY."""
    if args and args[0] in _SCANS_PROCESSES and not any(a.startswith("--from-process") for a in args):
        # A test judges the settings it gives: an agent.jar another test (or anything else on the machine)
        # runs at the same time must not become this run's agent.
        args = (args[0], "--from-process", "none", *args[1:])
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "jnlpdiag", *args],
        capture_output=True, text=True, env=env if env is not None else clean_env(), timeout=timeout,
        input=input,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - t0)
