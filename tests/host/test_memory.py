"""host.memory: a real memory cgroup with a real OOM kill, and cgroup v2 trees laid out as documented.

The v2 fixture trees follow the kernel's Documentation/admin-guide/cgroup-v2.rst: the ``0::<path>``
line of /proc/<pid>/cgroup ("Processes"), a ``cgroup2`` mount, and the files of "Memory Interface
Files": ``memory.max`` ("max" or bytes), ``memory.high``, ``memory.current``, ``memory.peak``,
``memory.swap.max`` and ``memory.events`` (``low high max oom oom_kill oom_group_kill`` lines).
This machine's memory controller is on cgroup v1, so v2 cannot be exercised live here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jnlpdiag.hostinfo.cgroup import CgroupError, read_memory_cgroup
from jnlpdiag.hostinfo.jvmheap import estimate_max_heap, heap_options, parse_flags_final, parse_size
from tests.host.conftest import JDK17, ChildCgroup, check
from tests.peers.util import clean_env

MIB = 1 << 20
JAVA17 = str(JDK17 / "bin" / "java")


def v2_tree(root: Path, cgroup_line: str, mount_root: str, files: dict[str, dict[str, str]]) -> None:
    """A /proc and /sys/fs/cgroup for cgroup v2; ``files`` maps a cgroup dir to its files."""
    proc = root / "proc" / "self"
    proc.mkdir(parents=True)
    (proc / "cgroup").write_text(cgroup_line + "\n")
    (proc / "mountinfo").write_text(
        "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
        f"30 22 0:26 {mount_root} /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
        "rw,nsdelegate,memory_recursiveprot\n")
    for rel, content in files.items():
        d = root / "sys" / "fs" / "cgroup" / rel.lstrip("/")
        d.mkdir(parents=True, exist_ok=True)
        for name, text in content.items():
            (d / name).write_text(text)


EVENTS = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n"


def test_v2_limit_set_by_a_parent(tmp_path: Path) -> None:
    v2_tree(tmp_path, "0::/kubepods/pod1/agent", "/", {
        "/": {"cgroup.controllers": "cpuset cpu io memory pids\n"},  # the root has no memory.max
        "/kubepods": {"memory.max": "max\n", "cgroup.controllers": "memory\n"},
        "/kubepods/pod1": {"memory.max": "536870912\n", "cgroup.controllers": "memory\n"},
        "/kubepods/pod1/agent": {
            "cgroup.controllers": "memory pids\n", "memory.max": "max\n", "memory.high": "max\n",
            "memory.current": "123456789\n", "memory.peak": "400000000\n", "memory.swap.max": "0\n",
            "memory.events": EVENTS,
        },
    })
    cg = read_memory_cgroup("self", proc_root=str(tmp_path / "proc"), fs_root=str(tmp_path))
    assert cg.version == 2 and cg.cgroup_path == "/kubepods/pod1/agent"
    assert cg.limit_bytes == 512 * MIB and cg.limit_set_at.endswith("/kubepods/pod1")  # type: ignore[union-attr]
    assert (cg.usage_bytes, cg.peak_bytes, cg.high_bytes, cg.swap_limit_bytes) == (123456789, 400000000, None, 0)
    assert (cg.oom_kills, cg.oom_events, cg.max_events) == (2, 3, 12)


def test_v2_inside_a_cgroup_namespace(tmp_path: Path) -> None:
    # With a private cgroup namespace the container sees itself as "/" and the mount's root is "/".
    v2_tree(tmp_path, "0::/", "/", {"/": {"cgroup.controllers": "memory\n", "memory.max": "268435456\n",
                                          "memory.current": "1000\n", "memory.events": EVENTS}})
    cg = read_memory_cgroup("self", proc_root=str(tmp_path / "proc"), fs_root=str(tmp_path))
    assert cg.limit_bytes == 256 * MIB and cg.directory == str(tmp_path / "sys/fs/cgroup")


def test_v2_mount_root_below_the_cgroup_path(tmp_path: Path) -> None:
    # Without a namespace, a container's /sys/fs/cgroup may be a bind of its own cgroup: the mount's
    # root (field 4) is that cgroup, and /proc/self/cgroup still names the full path.
    v2_tree(tmp_path, "0::/system.slice/docker-abc.scope", "/system.slice/docker-abc.scope",
            {"/": {"cgroup.controllers": "memory\n", "memory.max": "max\n", "memory.events": EVENTS}})
    cg = read_memory_cgroup("self", proc_root=str(tmp_path / "proc"), fs_root=str(tmp_path))
    assert cg.limit_bytes is None and cg.oom_kills == 2


def test_v2_without_the_memory_controller(tmp_path: Path) -> None:
    v2_tree(tmp_path, "0::/a", "/", {"/a": {"cgroup.controllers": "cpu pids\n"}})
    with pytest.raises(CgroupError, match="memory controller is not enabled"):
        read_memory_cgroup("self", proc_root=str(tmp_path / "proc"), fs_root=str(tmp_path))


def test_heap_arithmetic_matches_hotspot() -> None:
    assert parse_size("512m") == 512 * MIB and parse_size("2G") == 2 << 30 and parse_size("12x") is None
    opts = heap_options(["-Xms64m", "-Xmx1g", "-Dfoo=bar", "-Xmx300m", "-XX:MaxRAMPercentage=60"])
    assert opts.max_heap == 300 * MIB and opts.max_ram_percentage == 60.0
    assert opts.sizing_words == ["-Xms64m", "-Xmx1g", "-Xmx300m", "-XX:MaxRAMPercentage=60"]
    # The same sizes JDK 17 reports for -XX:MaxRAM=<n> -XX:+PrintFlagsFinal (checked live below).
    for ram in (100 * MIB, 1 << 30):
        estimate, _ = estimate_max_heap(heap_options([]), ram)
        real = subprocess.run([JAVA17, f"-XX:MaxRAM={ram}", "-XX:+PrintFlagsFinal", "-version"],
                              capture_output=True, text=True, timeout=60).stdout
        jvm = int(parse_flags_final(real)["MaxHeapSize"])
        assert abs(estimate - jvm) <= 2 * MIB, (ram, estimate, jvm)  # the JVM aligns to its GC region size


def _cli_in(cg: ChildCgroup, *args: str, env: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    r = check("--probe", "host.memory", "--java", JAVA17, "--timeout", "30", *args,
              env=env or clean_env(), preexec_fn=cg.enter)
    return {f["id"]: f for f in r.json()["findings"]} | {"_code": r.code}


@pytest.fixture(scope="module")
def oom_cgroup(child_cgroup: ChildCgroup) -> ChildCgroup:
    """The child cgroup after a real OOM kill in it, then given 512 MiB."""
    child_cgroup.set_limit(64 * MIB)
    hog = subprocess.run([sys.executable, "-c", "b = bytearray(256 << 20); print(len(b))"],
                         preexec_fn=child_cgroup.enter, capture_output=True, timeout=60)
    assert hog.returncode == -9, f"expected the OOM killer's SIGKILL, got {hog.returncode}"
    child_cgroup.set_limit(512 * MIB)
    return child_cgroup


@pytest.mark.privileged
def test_real_cgroup_oom_kill_is_reported(oom_cgroup: ChildCgroup) -> None:
    got = _cli_in(oom_cgroup)
    limit = got["host.memory.limit"]
    assert limit["status"] == "pass" and limit["evidence"]["limit_bytes"] == 512 * MIB
    assert limit["evidence"]["directory"] == str(oom_cgroup.path)
    oom = got["host.memory.oom"]
    assert oom["status"] == "warn" and oom["evidence"]["oom_kills"] >= 1
    assert any("dmesg" in s for s in oom["fixes"][0]["steps"])


@pytest.mark.privileged
@pytest.mark.parametrize(("opts", "status"), [("", "pass"), ("-Xmx400m", "warn"), ("-Xmx600m", "fail")])
def test_real_cgroup_heap_against_the_limit(oom_cgroup: ChildCgroup, opts: str, status: str) -> None:
    got = _cli_in(oom_cgroup, env=clean_env(JAVA_OPTS=opts) if opts else clean_env())
    heap = got["host.memory.heap"]
    assert heap["status"] == status, heap
    ev = heap["evidence"]
    assert "PrintFlagsFinal" in ev["heap_source"]  # the JVM itself, inside the cgroup, sized the heap
    assert ev["limit_bytes"] == 512 * MIB
    if not opts:
        assert ev["heap_max_bytes"] == 128 * MIB  # 25% of the 512 MiB the JVM sees in the container
    else:
        assert ev["heap_max_bytes"] == int(opts[4:-1]) * MIB and ev["jvm_options"] == [opts]
    if status != "pass":
        assert "-Xmx256m" in " ".join(heap["fixes"][-1]["commands"] + heap["fixes"][-1]["notes"])


@pytest.mark.privileged
def test_unprivileged_reads_the_cgroup() -> None:
    r = check("--probe", "host.memory", "--java", JAVA17, "--timeout", "30", as_nobody=True,
              env=clean_env(HOME="/nonexistent"))
    assert r.finding("host.memory.limit")["status"] in ("pass", "warn", "skip")
    assert r.finding("host.memory.heap")["status"] in ("pass", "warn", "fail")
