"""All host.* probes together, as root and as nobody: no probe errors, and no file left behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.host.conftest import JDK17, ChildCgroup, Mounts, check, run_cli
from tests.peers.util import clean_env

pytestmark = pytest.mark.privileged  # tmpfs mounts, cgroups and setpriv need root


def tree(*roots: Path) -> list[str]:
    out = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            out += [os.path.join(dirpath, n) for n in (*dirnames, *filenames)]
    return sorted(out)


@pytest.mark.parametrize("as_nobody", [False, True])
def test_host_probes_leave_nothing_behind(as_nobody: bool, public_tmp: Path, libs: dict[str, Path],
                                          jars: dict[str, Path]) -> None:
    base = public_tmp / f"all-{'nobody' if as_nobody else 'root'}"
    base.mkdir()
    work, jtmp, jna, home = base / "agent", base / "jtmp", base / "jna", base / "home"
    cache = work / "remoting" / "jarCache" / "0A"
    cache.mkdir(parents=True)
    for d in (jtmp, jna, home):
        d.mkdir()
    with zipfile.ZipFile(cache / "1234.jar", "w") as zf:
        zf.writestr("linux-x86-64/libnative.so", libs["plain"].read_bytes())
    shutil.copy(libs["future"], work / "libfromworkdir.so")
    for dirpath, _dirnames, filenames in os.walk(base):
        os.chmod(dirpath, 0o1777)  # nobody may write everywhere, so every proof really runs
        for n in filenames:
            os.chmod(os.path.join(dirpath, n), 0o644)
    before = tree(base)
    # The tool's own temp files go to a private TMPDIR inside base: nothing else on the machine writes
    # there, so "nothing left" is exact (the shared /tmp is written by every other run).
    env = clean_env(JAVA_OPTS=f"-Xmx256m -Djava.io.tmpdir={jtmp} -Djna.tmpdir={jna}", HOME=str(home), TMPDIR=str(jtmp))
    r = check("--probe", "host.*", "--workdir", str(work), "--agent-jar", str(jars["17"]),
              "--java", str(JDK17 / "bin" / "java"), "--timeout", "30", env=env, as_nobody=as_nobody)
    report = r.json()
    by_probe: dict[str, list[str]] = {}
    for f in report["findings"]:
        by_probe.setdefault(f["probe"], []).append(f["status"])
        if f["status"] == "skip":
            assert f["title"] and (f["detail"] or "caused_by" in f), f  # a skip always says why
    assert set(by_probe) == {"host.noexec", "host.jni", "host.java", "host.memory"}
    statuses = {f["id"]: f["status"] for f in report["findings"]}
    assert statuses["host.noexec.java-io-tmpdir"] == "pass"
    assert statuses["host.noexec.jna-tmpdir"] == "pass"
    assert statuses["host.jni.1234.jar!libnative.so"] == "pass"
    assert statuses["host.jni.libfromworkdir.so"] == "fail"
    assert statuses["host.java.agent-jar"] == "pass"
    assert tree(base) == before  # nothing created, nothing left (TMPDIR and java.io.tmpdir included)


@pytest.mark.parametrize("xmx", ["-Xmx600m", None])
def test_settings_from_a_running_agent_process(mounts: Mounts, child_cgroup: ChildCgroup, jars: dict[str, Path],
                                               public_tmp: Path, xmx: str | None) -> None:
    """A real JVM running agent.jar: its -D options, environment and cgroup are the ones checked.

    jnlpdiag itself runs outside the agent's cgroup here, so it tells the JVM it asks about heap
    sizing the agent's limit (-XX:MaxRAM), as the agent's JVM sees it.
    """
    tmpdir = mounts.noexec / "agent-proc-tmp"
    tmpdir.mkdir(exist_ok=True)
    envtmp = public_tmp / "agent-envtmp"
    envtmp.mkdir(exist_ok=True)
    child_cgroup.set_limit(512 << 20)
    agent = subprocess.Popen(
        [str(JDK17 / "bin" / "java"), f"-Djava.io.tmpdir={tmpdir}", *([xmx] if xmx else []), "-jar", str(jars["17"]),
         "-sleep"],
        env=clean_env(TMPDIR=str(envtmp)), preexec_fn=child_cgroup.enter, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        r = run_cli("check", "--json", "--from-process", str(agent.pid), "--probe", "host.*", "--timeout", "30",
                    env=clean_env(HOME=str(public_tmp)))
        by_id = {f["id"]: f for f in r.json()["findings"]}
        tmp = by_id["host.noexec.java-io-tmpdir"]
        assert tmp["status"] == "fail" and tmp["evidence"]["path"] == str(tmpdir)
        assert by_id["host.noexec.tmpdir"]["evidence"]["origins"] == [f"env TMPDIR (agent process {agent.pid})"]
        assert by_id["host.java.agent-jar"]["evidence"]["path"] == str(jars["17"])
        assert by_id["host.memory.limit"]["evidence"]["directory"] == str(child_cgroup.path)
        heap = by_id["host.memory.heap"]
        if xmx:
            assert heap["status"] == "fail" and heap["evidence"]["heap_max_bytes"] == 600 << 20
        else:
            assert heap["status"] == "pass" and heap["evidence"]["heap_max_bytes"] == 128 << 20
            assert heap["evidence"]["jvm"]["MaxRAM"] == str(512 << 20)
    finally:
        agent.kill()
        agent.wait()
