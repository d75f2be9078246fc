"""The contract every hostile case checks, and the namespace fixture for the iptables cases.

For every case the tool (``python -m jnlpdiag check ... --timeout T``):
- ends within T + 10 %: the report's ``duration_ms`` is at most ``T * 1100``, and the wall time of
  the whole process, less the start-up measured once (the same command against a refused port),
  stays within ``T * 1.1`` plus a scheduling allowance for this shared 2-core machine;
- exits with a documented code (0-3, docs/exit-codes.md) equal to the report's ``exit_code``;
- prints no traceback and no probe crashes (no finding with status ``error``);
- leaves no file behind: TMPDIR, HOME and java.io.tmpdir point into a fresh directory that must
  be exactly as empty afterwards.
The case itself asserts the finding that names what happened.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, is_root
from tests.peers.util import clean_env, free_port

T = 2.0  # --timeout of every case (seconds)
# Allowance on top of start-up + T*1.1 for the wall clock: other suites run on the same two cores.
SCHEDULING_SLACK = 1.0


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    elapsed: float
    leftovers: list[str]

    @property
    def report(self) -> dict[str, Any]:
        return json.loads(self.stdout)

    @property
    def findings(self) -> dict[str, dict[str, Any]]:
        return {f["id"]: f for f in self.report["findings"]}

    def finding(self, fid: str) -> dict[str, Any]:
        found = self.findings
        assert fid in found, f"no finding {fid!r}; have {sorted(found)}"
        return found[fid]

    @property
    def root_causes(self) -> list[str]:
        return [r["id"] for r in self.report["root_causes"]]


def _tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def run_tool(*args: str, netns: str | None = None, timeout: float = T, sandbox: Path,
             env: dict[str, str] | None = None, kill_after: float | None = None) -> Outcome:
    """``jnlpdiag check --json --timeout T --from-process none ARGS`` with TMPDIR, HOME and
    java.io.tmpdir in ``sandbox``; in network namespace ``netns`` if given."""
    tmp, home = sandbox / "tmp", sandbox / "home"
    for d in (tmp, home):
        d.mkdir(parents=True, exist_ok=True)
    before = _tree(sandbox)
    extra = dict(env or {})
    java_opts = f"-Djava.io.tmpdir={tmp} {extra.pop('JAVA_OPTS', '')}".strip()
    env = clean_env(TMPDIR=str(tmp), HOME=str(home), JAVA_OPTS=java_opts, **extra)
    cmd = [sys.executable, "-m", "jnlpdiag", "check", "--json", "--timeout", f"{timeout:g}", "--from-process", "none",
           *args]
    if netns:
        cmd = ["ip", "netns", "exec", netns, *cmd]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=kill_after or timeout * 10 + 30,
                          cwd=sandbox)
    elapsed = time.monotonic() - t0
    after = _tree(sandbox)
    return Outcome(proc.returncode, proc.stdout, proc.stderr, elapsed, sorted(set(after) - set(before)))


@pytest.fixture(scope="session")
def startup(tmp_path_factory: pytest.TempPathFactory) -> float:
    """Seconds the tool spends outside the run (interpreter, imports, settings, output): the same
    full check against a refused port, wall time less the report's duration; the best of two."""
    sandbox = tmp_path_factory.mktemp("startup")
    best = None
    for _ in range(2):
        out = run_tool("--url", f"http://127.0.0.1:{free_port()}/", sandbox=sandbox)
        overhead = out.elapsed - out.report["duration_ms"] / 1000
        best = overhead if best is None else min(best, overhead)
    assert best is not None
    return best


@pytest.fixture
def hostile(tmp_path: Path, startup: float):
    """``hostile(*args, netns=None, timeout=T, env=None, kill_after=None)`` runs the tool and checks
    the common contract (``kill_after``: seconds before a hung process is killed)."""

    def run(*args: str, netns: str | None = None, timeout: float = T, env: dict[str, str] | None = None,
            kill_after: float | None = None) -> Outcome:
        sandbox = tmp_path / f"sandbox-{uuid.uuid4().hex[:6]}"
        out = run_tool(*args, netns=netns, timeout=timeout, sandbox=sandbox, env=env, kill_after=kill_after)
        assert "Traceback" not in out.stderr and "Traceback" not in out.stdout, out.stderr[-3000:]
        assert out.code in (0, 1, 2, 3), (out.code, out.stderr[-2000:])
        report = out.report
        assert report["exit_code"] == out.code
        budget = timeout + (_hold(args) or 0.0)  # --hold extends the run deadline on purpose
        assert report["duration_ms"] <= budget * 1100, f"run took {report['duration_ms']} ms, deadline {budget} s"
        assert out.elapsed - startup <= budget * 1.1 + SCHEDULING_SLACK, (
            f"process took {out.elapsed:.2f} s; start-up {startup:.2f} s, run deadline {budget} s")
        crashed = [f"{f['id']}: {f['title']}" for f in report["findings"] if f["status"] == "error"]
        assert not crashed, crashed
        assert out.leftovers == [], f"files left behind: {out.leftovers}"
        return out

    return run


def _hold(args: tuple[str, ...]) -> float | None:
    return float(args[args.index("--hold") + 1]) if "--hold" in args else None


# -- network namespaces (root only, as in CI) ------------------------------------------------------


def _need_netns() -> None:
    if not is_root():
        pytest.skip("needs root for a network namespace with iptables rules (CI runs as root)")
    for tool in ("ip", "iptables"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (apt-get install {'iproute2' if tool == 'ip' else tool})")


@dataclass
class Namespace:
    name: str

    def exec(self, *cmd: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["ip", "netns", "exec", self.name, *cmd], capture_output=True, text=True, **kw)

    def iptables(self, *rule: str) -> None:
        r = self.exec("iptables", *rule)
        if r.returncode != 0:
            pytest.skip(f"iptables rule {' '.join(rule)} not supported here: {r.stderr.strip()}")

    def popen(self, *cmd: str) -> subprocess.Popen[str]:
        return subprocess.Popen(["ip", "netns", "exec", self.name, *cmd], cwd=ROOT, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


@pytest.fixture
def netns() -> Iterator[Namespace]:
    """A fresh network namespace with loopback up (removed afterwards, with its rules)."""
    _need_netns()
    name = f"jdh-{uuid.uuid4().hex[:8]}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot create a network namespace: {made.stderr.strip()}")
    try:
        ns = Namespace(name)
        ns.exec("ip", "link", "set", "lo", "up", check=True)
        probe = ns.exec("iptables", "-S")
        if probe.returncode != 0:
            pytest.skip(f"iptables does not work in a namespace here: {probe.stderr.strip()}")
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


@pytest.fixture
def controller_in(netns: Namespace) -> Iterator[dict[str, Any]]:
    """The transport suite's byte-exact test controller (tests/transport/jnlp4_controller.py) inside
    the namespace, agent port 50000, HTTP port 8080."""
    proc = netns.popen(sys.executable, "-m", "tests.transport.jnlp4_controller", "--agent-port", "50000",
                       "--http-port", "8080", "--node", "agent-1")
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        yield {"ns": netns, **info}
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
