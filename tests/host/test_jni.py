"""host.jni against real shared objects built with gcc, each with one known defect."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.host.conftest import Mounts, check, listing
from tests.peers.util import CliResult, clean_env


def jni(*libs: Path | str, env: dict[str, str] | None = None, as_nobody: bool = False,
        extra: tuple[str, ...] = ()) -> CliResult:
    args = [a for lib in libs for a in ("--native-lib", str(lib))]
    return check("--probe", "host.jni", *args, *extra, env=env or clean_env(), as_nobody=as_nobody)


def verdict(r: CliResult, name: str) -> dict[str, Any]:
    return r.finding(f"host.jni.{name}")


def test_each_cause_is_named(libs: dict[str, Path]) -> None:
    r = jni(*libs.values())
    assert r.code == 2
    expect = {
        "libplain.so": ("pass", None),
        "libfuture.so": ("fail", "symbol-version"),
        "libneedsmissing.so": ("fail", "missing-dependency"),
        "libmusl.so": ("fail", "libc-mismatch"),
        "libarm.so": ("fail", "wrong-machine"),
        "lib32.so": ("fail", "wrong-class"),
        "libexecstack.so": ("warn", "execstack"),  # glibc 2.36 here: loads, but 2.41+ refuses
        "libnotelf.so": ("fail", "not-elf"),
    }
    for name, (status, cause) in expect.items():
        f = verdict(r, name)
        assert (f["status"], f["evidence"]["cause"]) == (status, cause), f
        if status != "pass":
            assert f["fixes"], f
    summary = r.finding("host.jni")
    assert summary["status"] == "pass" and summary["evidence"]["elf"].startswith("ELF 64-bit little-endian x86-64")


def test_evidence_names_the_details(libs: dict[str, Path]) -> None:
    r = jni(libs["future"], libs["missing"], libs["arm"], libs["plain"])
    future = verdict(r, "libfuture.so")["evidence"]
    assert future["missing_versions"][0]["missing"] == ["GLIBC_2.99"]
    assert future["missing_versions"][0]["newest"][0].startswith("GLIBC_2.")
    assert "version `GLIBC_2.99' not found" in future["dlopen"]  # the loader agrees
    missing = verdict(r, "libneedsmissing.so")
    assert missing["evidence"]["missing"] == [{"name": "libjnlpdiag-missing.so", "needed_by": "libneedsmissing.so"}]
    assert "libjnlpdiag-missing.so: cannot open shared object file" in missing["evidence"]["dlopen"]
    assert "libjnlpdiag-missing.so" in missing["fixes"][0]["title"]
    arm = verdict(r, "libarm.so")
    # glibc itself only says "cannot open shared object file" here; the evidence says why.
    assert "cannot open shared object file" in arm["evidence"]["dlopen"]
    assert "aarch64" in arm["title"] and "x86-64" in arm["title"]
    plain = verdict(r, "libplain.so")
    assert plain["evidence"]["dlopen"] == "ok"
    assert plain["evidence"]["elf"] == "ELF 64-bit little-endian x86-64 shared object"


@pytest.mark.privileged
def test_library_on_a_noexec_mount(libs: dict[str, Path], mounts: Mounts) -> None:
    target = mounts.noexec / "jni"
    target.mkdir(exist_ok=True)
    copy = target / "libplain.so"
    shutil.copy(libs["plain"], copy)
    try:
        r = jni(copy)
        f = verdict(r, "libplain.so")
        assert f["status"] == "fail" and f["evidence"]["cause"] == "noexec"
        assert f["evidence"]["mount_point"] == str(mounts.noexec)
        assert "failed to map segment from shared object" in f["evidence"]["dlopen"]
        assert any("-Djna.tmpdir=" in s for s in f["fixes"][0]["commands"] + f["fixes"][0]["notes"])
    finally:
        copy.unlink()


def _jar(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        for name, data in entries.items():
            zf.writestr(name, data)
    path.chmod(0o644)
    return path


@pytest.mark.privileged
def test_libraries_inside_jars(libs: dict[str, Path], tmp_path: Path, mounts: Mounts) -> None:
    # A JNA-style jar with a library per platform, and a jar with none for this machine.
    multi = _jar(tmp_path / "jna-5.jar", {
        "com/sun/jna/linux-x86-64/libjnidispatch.so": libs["plain"].read_bytes(),
        "com/sun/jna/linux-aarch64/libjnidispatch.so": libs["arm"].read_bytes(),
        "com/sun/jna/win32-x86-64/jnidispatch.dll": b"MZ not elf",
    })
    foreign = _jar(tmp_path / "jffi-native.jar", {"jni/aarch64-Linux/libjffi-1.2.so": libs["arm"].read_bytes()})
    tmpdir = mounts.exec / "jni-unpack"
    tmpdir.mkdir(exist_ok=True)
    before = listing(tmpdir)
    r = jni(multi, foreign, env=clean_env(JAVA_OPTS=f"-Djava.io.tmpdir={tmpdir}"))
    ok = verdict(r, "jna-5.jar!libjnidispatch.so")
    assert ok["status"] == "pass" and ok["evidence"]["dlopen"] == "ok"
    assert ok["evidence"]["other_platforms"] == ["64-bit aarch64"]
    bad = verdict(r, "jffi-native.jar")
    assert bad["status"] == "warn" and bad["evidence"]["cause"] == "wrong-machine"
    assert "aarch64" in bad["title"]
    assert listing(tmpdir) == before  # unpacked copies are removed


@pytest.mark.privileged
def test_jar_library_unpacked_into_a_noexec_tmpdir(libs: dict[str, Path], tmp_path: Path, mounts: Mounts) -> None:
    jar = _jar(tmp_path / "native.jar", {"linux-x86-64/libnative.so": libs["plain"].read_bytes()})
    tmpdir = mounts.noexec / "jni-unpack"
    tmpdir.mkdir(exist_ok=True)
    before = listing(tmpdir)
    r = jni(jar, env=clean_env(JAVA_OPTS=f"-Djava.io.tmpdir={tmpdir}"))
    f = verdict(r, "native.jar!libnative.so")
    assert f["status"] == "fail" and f["evidence"]["cause"] == "noexec"  # what JNA would hit
    assert f["caused_by"] is None  # host.noexec did not run
    r = check("--probe", "host.jni", "--probe", "host.noexec", "--native-lib", str(jar),
              env=clean_env(JAVA_OPTS=f"-Djava.io.tmpdir={tmpdir}"))
    assert verdict(r, "native.jar!libnative.so")["caused_by"] == "host.noexec.java-io-tmpdir"
    assert listing(tmpdir) == before


def test_libraries_found_in_work_dir_and_ld_library_path(libs: dict[str, Path], tmp_path: Path) -> None:
    work = tmp_path / "agent"
    cache = work / "remoting" / "jarCache" / "AB"
    cache.mkdir(parents=True)
    _jar(cache / "CDEF.jar", {"x86_64-Linux/libfound.so": libs["plain"].read_bytes()})
    ldp = tmp_path / "ldpath"
    ldp.mkdir()
    shutil.copy(libs["arm"], ldp / "libonpath.so")
    r = check("--probe", "host.jni", "--workdir", str(work), env=clean_env(LD_LIBRARY_PATH=str(ldp)))
    assert verdict(r, "CDEF.jar!libfound.so")["evidence"]["origin"] == "jar cache"
    onpath = verdict(r, "libonpath.so")
    assert onpath["evidence"]["origin"] == "LD_LIBRARY_PATH" and onpath["evidence"]["cause"] == "wrong-machine"


def test_no_libraries_is_a_skip_with_a_hint() -> None:
    r = check("--probe", "host.jni", env=clean_env(HOME="/nonexistent"))
    f = r.finding("host.jni")
    assert f["status"] == "skip" and "--native-lib" in f["detail"]


@pytest.mark.privileged
def test_unprivileged_reads_what_it_may_and_skips_the_rest(libs: dict[str, Path], tmp_path: Path) -> None:
    private = libs["plain"].parent / "libprivate.so"
    shutil.copy(libs["plain"], private)
    private.chmod(0o600)
    try:
        r = jni(libs["plain"], libs["future"], private, as_nobody=True, env=clean_env(HOME="/nonexistent"))
        assert verdict(r, "libplain.so")["status"] == "pass"
        assert verdict(r, "libfuture.so")["evidence"]["cause"] == "symbol-version"
        skipped = verdict(r, "libprivate.so")
        assert skipped["status"] == "skip" and "Permission denied" in skipped["title"]
    finally:
        private.unlink()
    assert os.path.exists(libs["plain"])


def test_a_named_library_that_does_not_exist(tmp_path: Path) -> None:
    r = jni(tmp_path / "libgone.so")
    f = verdict(r, "libgone.so")
    assert f["status"] == "fail" and f["evidence"]["cause"] == "no-file"
    assert "libgone.so" in f["fixes"][0]["title"]


def _selinuxfs(root: Path, enforce: str, booleans: dict[str, str]) -> Path:
    # selinuxfs layout (kernel Documentation/admin-guide/LSM/SELinux.rst; libselinux
    # security_getenforce reads <selinuxfs>/enforce, booleans are "<current> <pending>").
    (root / "booleans").mkdir(parents=True)
    (root / "enforce").write_text(enforce)
    for name, value in booleans.items():
        (root / "booleans" / name).write_text(value)
    return root


def test_selinux_state_and_what_a_denial_is_blamed_on(tmp_path: Path) -> None:
    from jnlpdiag.hostinfo.execproof import LoadResult
    from jnlpdiag.hostinfo.lsm import LsmState, read_lsm
    from jnlpdiag.hostinfo.nativelib import LibReport, apply_load_result

    enforcing = read_lsm("self", str(_selinuxfs(tmp_path / "a", "1", {"selinuxuser_execmod": "0 0"})))
    assert enforcing.selinux == "enforcing" and enforcing.selinux_booleans == {"selinuxuser_execmod": False}
    assert read_lsm("self", str(_selinuxfs(tmp_path / "b", "0", {}))).selinux == "permissive"
    assert read_lsm("self", str(tmp_path / "absent")).selinux == "absent"

    def blame(text: str, lsm: LsmState) -> str | None:
        lib = LibReport("libx.so", "/x/libx.so", "/x/libx.so", "test", load=LoadResult(dlopen=text))
        apply_load_result(lib, lsm)
        return lib.cause

    denied = "/x/libx.so: cannot open shared object file: Permission denied"
    assert blame(denied, enforcing) == "selinux"
    assert blame(denied, LsmState("absent", apparmor_profile="jenkins-agent (enforce)")) == "apparmor"
    assert blame(denied, LsmState("absent")) == "permission"
    assert blame("/x/libx.so: cannot restore segment prot after reloc: Permission denied",
                 LsmState("absent")) == "selinux"
    assert blame("/x/libx.so: cannot enable executable stack as shared object requires: Invalid argument",
                 LsmState("absent")) == "execstack"
