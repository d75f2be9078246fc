"""One view of the agent (``ctx.agent``): every probe judges the same process, JVM, options and routes.

The agent here is a real process whose command line reads ``java ... -jar agent.jar -url ...`` and
whose environment carries the agent's JVM options; jnlpdiag itself runs without them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from jnlpdiag.agent import NO_PROCESS, build_agent_view
from jnlpdiag.findings import Finding, Layer, Status
from jnlpdiag.probe_api import Context, Probe
from jnlpdiag.runner import run_sync
from jnlpdiag.settings import Settings, SettingsLayer, gather
from tests.peers.util import clean_env

ROOT = Path(__file__).resolve().parent.parent
# What only probes share lives beside them (probes/_tls.py) and is held to the same rule.
PROBE_SOURCES = sorted((ROOT / "probes").glob("*.py"))
_FORBIDDEN_CALLS = {"find_java", "describe_java", "jvm_option_words", "getenv", "which"}
_JAVA_RUNNERS = {"create_subprocess_exec", "Popen", "run", "check_output", "call"}


def violations(source: str) -> list[str]:
    """Where a probe's source reads the environment or finds/runs a java of its own."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "environb"):
            found.append(f"line {node.lineno}: os.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module in ("os", "jnlpdiag.jvm", "shutil"):
            bad = [a.name for a in node.names if a.name in {"environ", "environb", *_FORBIDDEN_CALLS}]
            found += [f"line {node.lineno}: imports {name} from {node.module}" for name in bad]
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in _FORBIDDEN_CALLS:
                found.append(f"line {node.lineno}: calls {name}()")
            first = node.args[0] if node.args else None
            if isinstance(first, ast.List) and first.elts:
                first = first.elts[0]
            if name in _JAVA_RUNNERS and isinstance(first, ast.Constant) and first.value in ("java", "javac"):
                found.append(f"line {node.lineno}: runs {first.value} from PATH")
    return found


def test_the_rule_catches_each_way_round_the_view() -> None:
    bad = (
        "import os, shutil, asyncio\nfrom jnlpdiag.jvm import find_java\nfrom os import environ\n"
        "a = os.environ.get('JAVA_HOME')\nb = os.getenv('X')\nc = shutil.which('java')\n"
        "d = asyncio.create_subprocess_exec('java', '-version')\ne = subprocess.run(['java', '-version'])\n"
    )
    found = violations(bad)
    assert len(found) == 7, found
    assert violations("x = ctx.agent.env.get('HOME')\ny = ctx.agent.java\n") == []


@pytest.mark.parametrize("path", PROBE_SOURCES, ids=lambda p: p.name)
def test_probes_see_the_agent_only_through_ctx_agent(path: Path) -> None:
    assert violations(path.read_text()) == [], f"{path.name}: use ctx.agent (env, java, jvm_words, props, routes)"


@pytest.fixture
def agent_process(tmp_path: Path) -> Iterator[int]:
    """A process that looks like ``java -jar agent.jar`` to /proc, with the agent's own environment."""
    env = clean_env(JAVA_TOOL_OPTIONS="-Dhttp.proxyHost=proxy.invalid -Dhttp.proxyPort=3128 -Djava.io.tmpdir=/agent-tmp",
                    HOME=str(tmp_path))
    argv = ["java", "-c", "import time; time.sleep(60)", "-jar", "agent.jar",
            "-url", "http://jenkins.invalid/", "-name", "n1", "-direct", "jenkins.invalid:50000"]
    proc = subprocess.Popen(argv, executable=sys.executable, env=env, cwd=tmp_path)
    try:
        end = time.monotonic() + 5
        while not Path(f"/proc/{proc.pid}/cmdline").read_bytes().startswith(b"java\0-c") and time.monotonic() < end:
            time.sleep(0.01)
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


class _Observe(Probe):
    id = "test.agent"
    layer = Layer.HOST
    description = "reports the agent view it was given"
    after = ("tcp",)

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        a = ctx.agent
        yield ctx.finding(self.id, Status.PASS, "view", evidence={
            "view_id": id(a), "origin": a.origin, "env_source": a.env_source, "cwd": a.cwd, "home": a.user_home,
            "tmpdir": a.props.get("java.io.tmpdir"), "java": a.java.executable if a.java else None,
            "route": a.tcp_route("jenkins.invalid").describe(), "user": a.user,
        })


class _Observe2(_Observe):
    id = "test.agent2"


def test_every_probe_judges_the_running_agent(agent_process: int, tmp_path: Path) -> None:
    from jnlpdiag.probes.tcp import TcpProbe

    # jnlpdiag's own environment has no JVM options and no proxy: only the agent's does.
    settings = gather(SettingsLayer(), clean_env(), process=str(agent_process))
    settings.run.timeout = 3.0
    report = run_sync([TcpProbe, _Observe, _Observe2], settings)
    seen = {f.probe: f for f in report.findings}
    one, two = seen["test.agent"].evidence, seen["test.agent2"].evidence
    assert one["view_id"] == two["view_id"]  # built once per run, shared
    assert one["origin"] == f"agent process {agent_process}" == one["env_source"]
    assert one["cwd"] == str(tmp_path) and one["home"] == str(tmp_path)
    assert one["tmpdir"] == "/agent-tmp"
    assert one["java"] == str(Path(sys.executable).resolve())  # the agent's executable (/proc/PID/exe)
    assert "proxy proxy.invalid:3128" in one["route"]
    # tcp took the agent's proxy route too, although jnlpdiag's environment names no proxy.
    tcp = seen["tcp"]
    assert "proxy.invalid" in tcp.title + str(tcp.evidence), (tcp.title, tcp.evidence)


def test_without_an_agent_process_the_view_is_this_shell() -> None:
    env = clean_env(JAVA_TOOL_OPTIONS="-Dfoo=bar", JAVA_HOME="/nonexistent", PATH="/nonexistent")
    view = build_agent_view(Settings(java_opts="-Dbaz=1 -Dfoo=override"), env)
    assert view.origin == NO_PROCESS and view.pid is None and view.proc == "self"
    assert view.jvm_words == ["-Dfoo=bar", "-Dbaz=1", "-Dfoo=override"]
    assert view.props == {"foo": "override", "baz": "1"}
    assert view.java is None  # no JAVA_HOME java and nothing on this PATH
    assert view.tcp_route("jenkins.invalid").proxy is None
