"""The agent judged from outside its namespaces, with real namespaces made by the test.

A ``java -jar agent.jar`` stand-in runs under ``unshare --mount`` with a private ``noexec`` tmpfs as
its ``java.io.tmpdir`` (the same directory is an ordinary, exec-capable directory in jnlpdiag's
namespace), and, for the network, inside an ``ip netns`` namespace. jnlpdiag runs outside and
must judge the agent's side: its noexec tmpdir, its JENKINS_* environment, its java's version, and
say from which network namespace the network checks ran. ``--from-process auto`` with two agents
lists both and picks neither.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import is_root
from tests.peers.util import clean_env, run_cli

pytestmark = pytest.mark.privileged
SECRET = "0123456789abcdef" * 4


def needs(*tools: str) -> None:
    if not is_root():
        pytest.skip("needs root to make mount and network namespaces")
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")


@pytest.fixture(scope="module")
def agent_jar(tmp_path_factory) -> Path:
    """A real jar whose main class sleeps: `java -jar agent.jar ...` is a live process."""
    javac, jar = shutil.which("javac"), shutil.which("jar")
    if not javac or not jar:
        pytest.skip("needs a JDK (javac, jar)")
    d = tmp_path_factory.mktemp("nsagent")
    (d / "Sleep.java").write_text("public class Sleep { public static void main(String[] a) throws Exception "
                                  "{ Thread.sleep(120000); } }")
    subprocess.run([javac, "-d", str(d), str(d / "Sleep.java")], check=True)
    (d / "m.txt").write_text("Main-Class: Sleep\n")
    subprocess.run([jar, "cfm", str(d / "agent.jar"), str(d / "m.txt"), "-C", str(d), "Sleep.class"], check=True)
    return d / "agent.jar"


def java_bin() -> str:
    return os.path.realpath(shutil.which("java") or "java")


def start_agent(prefix: list[str], tmpdir: Path, jar: Path, **env: str) -> subprocess.Popen:
    """unshare --mount: a private noexec tmpfs on tmpdir, then exec java -jar agent.jar (same PID)."""
    script = (f"mount --make-rprivate / && mount -t tmpfs -o noexec,size=8m tmpfs {tmpdir} && "
              f"exec {java_bin()} -Xmx32m -Djava.io.tmpdir={tmpdir} -jar {jar} -url http://127.0.0.1:9/ "
              f"-name ns-agent -secret {SECRET}")
    proc = subprocess.Popen([*prefix, "unshare", "--mount", "sh", "-c", script], env=clean_env(**env))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            pid = agent_pid(proc)
            if pid and b"agent.jar" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return proc
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    pytest.fail("the agent stand-in did not start")


def agent_pid(proc: subprocess.Popen) -> int | None:
    """The java process: Popen's PID itself (unshare and sh exec), or its child under `ip netns exec`."""
    cmd = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
    if b"agent.jar" in cmd:
        return proc.pid
    for child in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split():
        if b"agent.jar" in Path(f"/proc/{child}/cmdline").read_bytes():
            return int(child)
    return None


def stop(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait(timeout=10)


def findings(pid: int, *probes: str, extra: tuple[str, ...] = ()) -> dict[str, dict]:
    args = ["check", "--json", "--from-process", str(pid), "--timeout", "5", *extra]
    for p in probes:
        args += ["--probe", p]
    r = run_cli(*args, env=clean_env())
    assert r.code in (0, 1, 2), r.stderr
    assert SECRET not in r.stdout + r.stderr
    return {f["id"]: f for f in r.json()["findings"]}


def test_noexec_tmpdir_env_and_java_of_an_agent_in_another_mount_namespace(tmp_path, agent_jar):
    needs("unshare", "mount")
    tmpdir = tmp_path / "agent-tmp"
    tmpdir.mkdir()
    proc = start_agent([], tmpdir, agent_jar, JENKINS_WEB_SOCKET="true", JENKINS_AGENT_NAME="ns-agent",
                       JENKINS_SECRET=SECRET)
    try:
        assert not os.statvfs(tmpdir).f_flag & os.ST_NOEXEC  # exec-capable in jnlpdiag's own namespace
        got = findings(proc.pid, "host.noexec", "agent.namespaces")
        tmp = got["host.noexec.java-io-tmpdir"]
        assert tmp["status"] == "fail", tmp
        assert tmp["evidence"]["path"] == str(tmpdir) and "noexec" in tmp["evidence"]["flags"], tmp["evidence"]
        assert tmp["evidence"]["mount"]["fstype"] == "tmpfs"
        ns = got["agent.namespaces"]
        ev = ns["evidence"]
        assert ev["shared_with_jnlpdiag"]["mnt"] is False and ev["shared_with_jnlpdiag"]["net"] is True
        assert ev["root"] == f"/proc/{proc.pid}/root" and "read through" in ns["title"]
        assert ev["agent_environment"] == {"JENKINS_WEB_SOCKET": "true", "JENKINS_AGENT_NAME": "ns-agent"}
        release = Path(java_bin()).parent.parent / "release"
        if release.exists():
            want = next(line.split("=", 1)[1].strip('"') for line in release.read_text().splitlines()
                        if line.startswith("JAVA_VERSION="))
            assert ev["agent_java_version"] == want
            # As root the agent's java also runs inside the agent's mount namespace.
            assert ev["agent_java_run_version"] == want, ev["agent_java_run"]
            assert f"java {want} (run inside its mount namespace)" in ns["title"]
    finally:
        stop(proc)


def test_the_agents_own_route_to_the_controller_is_tried_from_its_network_namespace(tmp_path, agent_jar):
    """The controller listens on 127.0.0.1 in jnlpdiag's namespace; the agent runs in an `ip netns`
    namespace, whose loopback is another interface: jnlpdiag connects, the agent cannot."""
    needs("unshare", "mount", "ip")
    netns = f"jnlpdiag-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    tmpdir = tmp_path / "agent-tmp"
    tmpdir.mkdir()
    controller = socket.socket()
    controller.bind(("127.0.0.1", 0))
    controller.listen(8)
    port = controller.getsockname()[1]
    try:
        proc = start_agent(["ip", "netns", "exec", netns], tmpdir, agent_jar)
        try:
            pid = agent_pid(proc)
            assert pid is not None
            got = findings(pid, "agent.namespaces", extra=("--url", f"http://127.0.0.1:{port}/"))
            net = got["agent.namespaces.network"]
            ev = net["evidence"]
            assert ev["shared_with_jnlpdiag"]["net"] is False
            assert ev["connect_from_jnlpdiag_namespace"] == "connected"
            assert ev["connect_from_agent_namespace"] != "connected"
            assert net["status"] == "fail" and f"From agent process {pid}'s network namespace" in net["title"], net
            assert any(f"nsenter --target {pid} --net" in step for step in net["fixes"][0]["steps"])
        finally:
            stop(proc)
    finally:
        controller.close()
        subprocess.run(["ip", "netns", "delete", netns], check=False)


def test_auto_lists_several_agents_and_picks_none(tmp_path, agent_jar):
    needs("unshare", "mount")
    procs = []
    try:
        for n in range(2):
            d = tmp_path / f"t{n}"
            d.mkdir()
            procs.append(start_agent([], d, agent_jar))
        r = run_cli("check", "--json", "--probe", "agent.options", "--from-process", "auto", env=clean_env())
        assert r.code == 3, r.stdout
        for p in procs:
            assert f"PID {p.pid} (" in r.stderr and "other mount namespace" in r.stderr
        assert "--from-process PID" in r.stderr and "Traceback" not in r.stderr
    finally:
        for p in procs:
            stop(p)
