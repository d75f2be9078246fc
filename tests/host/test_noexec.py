"""host.noexec against real tmpfs mounts: noexec, exec-capable, read-only; as root and as nobody."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.host.conftest import Mounts, check, listing
from tests.peers.util import clean_env

pytestmark = pytest.mark.privileged  # tmpfs mounts, cgroups and setpriv need root


def _dir(base: Path, name: str) -> Path:
    path = base / name
    path.mkdir(exist_ok=True)
    path.chmod(0o1777)
    return path


def test_java_io_tmpdir_on_noexec_fails_with_proof(mounts: Mounts) -> None:
    tmpdir = _dir(mounts.noexec, "jtmp")
    before = listing(tmpdir)
    r = check("--probe", "host.noexec", env=clean_env(JAVA_OPTS=f"-Djava.io.tmpdir={tmpdir}"))
    assert r.code == 2
    f = r.finding("host.noexec.java-io-tmpdir")
    assert f["status"] == "fail"
    ev = f["evidence"]
    assert ev["path"] == str(tmpdir) and ev["origins"] == ["-Djava.io.tmpdir"]
    assert ev["mount"]["mount_point"] == str(mounts.noexec)
    assert "noexec" in ev["mount"]["options"].split(",") and "noexec" in ev["flags"]
    assert ev["proof"]["verdict"] == "noexec"
    assert "failed to map segment from shared object" in ev["proof"]["dlopen"]
    assert "errno 1" in ev["proof"]["mmap_exec"]
    steps = " ".join(s for fx in f["fixes"] for s in fx["commands"] + fx["notes"])
    assert "-Djava.io.tmpdir=" in steps and "-Djna.tmpdir=" in steps and "-Djffi.extract.dir=" in steps
    assert f"remount,exec {mounts.noexec}" in steps
    assert listing(tmpdir) == before  # the probe library was removed


def test_java_io_tmpdir_on_exec_mount_passes(mounts: Mounts) -> None:
    tmpdir = _dir(mounts.exec, "jtmp")
    before = listing(tmpdir)
    r = check("--probe", "host.noexec", env=clean_env(JAVA_OPTS=f"-Djava.io.tmpdir={tmpdir}"))
    f = r.finding("host.noexec.java-io-tmpdir")
    assert f["status"] == "pass", f
    assert f["evidence"]["proof"] == {"method": "elf-bytes", "verdict": "exec", "written": True,
                                      "mmap_exec": "ok", "dlopen": "ok", "call": 42}
    assert f["evidence"]["mount"]["mount_point"] == str(mounts.exec)
    assert listing(tmpdir) == before


def test_jna_and_jffi_dirs_on_noexec(mounts: Mounts) -> None:
    jna, jffi, ok = _dir(mounts.noexec, "jna"), _dir(mounts.noexec, "jffi"), _dir(mounts.exec, "t2")
    opts = f"-Djava.io.tmpdir={ok} -Djna.tmpdir={jna} -Djffi.extract.dir={jffi}"
    r = check("--probe", "host.noexec", env=clean_env(JAVA_OPTS=opts))
    assert r.finding("host.noexec.jna-tmpdir")["status"] == "fail"
    assert r.finding("host.noexec.jffi-extract-dir")["status"] == "fail"
    assert r.finding("host.noexec.java-io-tmpdir")["status"] == "pass"
    # The suggested directory in the fix is exec-capable (here: under the agent's home).
    fix_steps = r.finding("host.noexec.jna-tmpdir")["fixes"][0]["steps"]
    assert any("mkdir -p" in s for s in fix_steps)
    for d in (jna, jffi, ok):
        assert not [n for n in os.listdir(d) if n.startswith(".jnlpdiag")]


def test_workdir_and_tmpdir_env_on_noexec_warn(mounts: Mounts) -> None:
    work, tmp = _dir(mounts.noexec, "agent"), _dir(mounts.noexec, "envtmp")
    r = check("--probe", "host.noexec", "--workdir", str(work), env=clean_env(TMPDIR=str(tmp)))
    assert r.finding("host.noexec.workdir")["status"] == "warn"
    assert r.finding("host.noexec.tmpdir")["status"] == "warn"
    jar_cache = r.finding("host.noexec.jarcache")
    assert jar_cache["evidence"]["path"] == str(work / "remoting" / "jarCache")
    assert not (work / "remoting").exists()  # nothing created
    assert r.code == 1


def test_read_only_and_missing_tmpdir_fail(mounts: Mounts, tmp_path: Path) -> None:
    r = check("--probe", "host.noexec", env=clean_env(JAVA_OPTS=f"-Djava.io.tmpdir={mounts.ro}"))
    f = r.finding("host.noexec.java-io-tmpdir")
    assert f["status"] == "fail" and "read-only" in f["title"] and "ro" in f["evidence"]["flags"]
    missing = tmp_path / "nope"
    r = check("--probe", "host.noexec", env=clean_env(JAVA_OPTS=f"-Djava.io.tmpdir={missing}"))
    f = r.finding("host.noexec.java-io-tmpdir")
    assert f["status"] == "fail" and "does not exist" in f["title"]
    assert not missing.exists()


def test_unprivileged_proves_noexec_and_skips_what_it_cannot_see(mounts: Mounts, tmp_path: Path) -> None:
    tmpdir = _dir(mounts.noexec, "nobody-tmp")
    private = tmp_path / "root-only"
    private.mkdir()
    private.chmod(0o700)
    hidden_workdir = private / "agent"
    hidden_workdir.mkdir()
    before = listing(tmpdir)
    r = check("--probe", "host.noexec", "--workdir", str(hidden_workdir), as_nobody=True,
              env=clean_env(JAVA_OPTS=f"-Djava.io.tmpdir={tmpdir}", HOME="/nonexistent"))
    f = r.finding("host.noexec.java-io-tmpdir")
    assert f["status"] == "fail" and f["evidence"]["proof"]["verdict"] == "noexec"
    skipped = r.finding("host.noexec.workdir")
    assert skipped["status"] == "skip" and "Permission denied" in skipped["title"]
    assert "uid 65534" in skipped["detail"]
    assert listing(tmpdir) == before


@pytest.mark.parametrize("as_nobody", [False, True])
def test_nothing_left_in_tmp(as_nobody: bool, public_tmp: Path) -> None:
    """TMPDIR and java.io.tmpdir are a private directory (mode 1777, so nobody can write there): the
    proof files go there and must be gone after the run. Not the shared /tmp, which other runs of
    the tool on this machine write to at the same time."""
    private = public_tmp / f"tmp-{'nobody' if as_nobody else 'root'}"
    private.mkdir()
    private.chmod(0o1777)
    env = clean_env(HOME="/nonexistent", TMPDIR=str(private), JAVA_OPTS=f"-Djava.io.tmpdir={private}")
    r = check("--probe", "host.noexec", as_nobody=as_nobody, env=env)
    proof = r.finding("host.noexec.java-io-tmpdir")["evidence"]
    assert proof["path"] == str(private) and proof["proof"]["written"] is True
    assert listing(private) == []


def test_jna_cache_that_cannot_be_created_says_so_in_title_and_detail() -> None:
    """Run as nobody with HOME=/nonexistent: the title must not say the cache "can be created"
    while the detail says it cannot (issue 13 §3)."""
    r = check("--probe", "host.noexec", as_nobody=True, env=clean_env(HOME="/nonexistent"))
    f = r.finding("host.noexec.jna-cache")
    assert f["status"] == "pass"
    assert "cannot be created" in f["title"] and "can be created on" not in f["title"]
    assert "cannot be created" in f["detail"] and "falls back to java.io.tmpdir" in f["detail"]
