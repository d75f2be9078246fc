"""Real host conditions for the host.* probes: tmpfs mounts (noexec, exec, read-only), shared
objects built with gcc, agent jars compiled with javac, and a real memory cgroup.

Mounting needs root (CI runs as root); each fixture skips with the reason when the kernel refuses.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import json
import os
import shutil
import site
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.util import CliResult, clean_env

JDK17 = Path("/usr/lib/jvm/java-17-openjdk-amd64")
JDK25 = Path("/usr/lib/jvm/temurin-25-jdk-amd64")
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@pytest.fixture(scope="session")
def public_tmp() -> Iterator[Path]:
    """A directory ``nobody`` can traverse (pytest's own base temp is mode 0700)."""
    base = Path(tempfile.mkdtemp(prefix="jnlpdiag-host-tests-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def _sub(base: Path, name: str) -> Path:
    path = base / name
    path.mkdir()
    path.chmod(0o755)
    return path


def is_root() -> bool:
    return os.geteuid() == 0


@functools.cache
def nobody_command() -> tuple[str, ...]:
    """How to run ``python -m jnlpdiag`` as ``nobody`` (skips the test when that is impossible).

    Where the interpreter's site-packages are not readable by ``nobody`` (a pyenv under /root),
    ``nobody`` gets a public copy of what the host probes import (pyelftools) plus jnlpdiag's
    entry points and editable-install finder; jnlpdiag's own source stays where it is.
    """
    if not is_root():
        pytest.skip("dropping to nobody needs root (CI runs as root)")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    base = (*NOBODY, sys.executable)
    ok = subprocess.run([*base, "-c", "import elftools, jnlpdiag.probes.host_noexec"], cwd="/", capture_output=True)
    if ok.returncode == 0:
        return (*base, "-m", "jnlpdiag")
    site_dir = Path(tempfile.mkdtemp(prefix="jnlpdiag-nobody-site-"))
    atexit.register(shutil.rmtree, site_dir, True)
    for name in ("elftools", "defusedxml"):  # pure-Python imports of the core and the host probes
        module = importlib.import_module(name)
        shutil.copytree(Path(module.__file__).parent, site_dir / name)  # type: ignore[arg-type]
    import jnlpdiag

    here = Path(jnlpdiag.__file__).resolve().parent
    for sp in site.getsitepackages():
        for item in [*Path(sp).glob("__editable__*jnlpdiag*"), *Path(sp).glob("jnlpdiag-*.dist-info")]:
            (shutil.copytree if item.is_dir() else shutil.copy2)(item, site_dir / item.name)
        if here.parent == Path(sp):  # a regular (non-editable) install: the package itself too
            shutil.copytree(here, site_dir / "jnlpdiag")
    for root, _dirs, files in os.walk(site_dir):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    boot = (f"import site, runpy; site.addsitedir({str(site_dir)!r}); "
            "runpy.run_module('jnlpdiag', run_name='__main__', alter_sys=True)")
    cmd = (*base, "-c", boot)
    trial = subprocess.run([*cmd, "probes"], cwd="/", capture_output=True, text=True)
    if trial.returncode != 0 or "host.noexec" not in trial.stdout:
        pytest.skip(f"cannot run jnlpdiag as nobody here: {trial.stderr.strip()[-300:]}")
    return cmd


def run_cli(*args: str, env: dict[str, str] | None = None, as_nobody: bool = False, timeout: float = 120.0,
            preexec_fn=None) -> CliResult:  # type: ignore[no-untyped-def]
    """``python -m jnlpdiag`` (optionally as ``nobody``), from ``/``."""
    import time

    cmd = [*nobody_command(), *args] if as_nobody else [sys.executable, "-m", "jnlpdiag", *args]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env if env is not None else clean_env(),
                          timeout=timeout, cwd="/", preexec_fn=preexec_fn)
    return CliResult(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - t0)


def check(*args: str, **kw) -> CliResult:  # type: ignore[no-untyped-def]
    """``check --json --from-process none`` plus ``args``; asserts the output is a report."""
    result = run_cli("check", "--json", "--from-process", "none", *args, **kw)
    assert result.code in (0, 1, 2), f"exit {result.code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    report = json.loads(result.stdout)
    assert not [f for f in report["findings"] if f["status"] == "error"], result.stdout
    return result


def listing(path: str | Path) -> list[str]:
    return sorted(os.listdir(path))


def mount(*args: str) -> str | None:
    """Run mount(8); the error text when the kernel refuses, else None."""
    proc = subprocess.run(["mount", *args], capture_output=True, text=True)
    return None if proc.returncode == 0 else (proc.stderr.strip() or f"mount exited {proc.returncode}")


def umount(path: str | Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


class Mounts:
    """tmpfs mounts for one module: ``noexec`` (mode 1777), ``exec`` and ``ro``."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.noexec = base / "noexec"
        self.exec = base / "exec"
        self.ro = base / "ro"
        self.mounted: list[Path] = []

    def setup(self) -> None:
        for path, opts in ((self.noexec, "noexec,nosuid,nodev,size=256m,mode=1777"),
                           (self.exec, "size=256m,mode=1777"), (self.ro, "ro,size=1m,mode=755")):
            path.mkdir()
            err = mount("-t", "tmpfs", "-o", opts, "jnlpdiag-test", str(path))
            if err:
                self.teardown()
                pytest.skip(f"cannot mount a tmpfs here (needs root; CI runs as root): {err}")
            self.mounted.append(path)

    def teardown(self) -> None:
        for path in reversed(self.mounted):
            umount(path)
        self.mounted.clear()


@pytest.fixture(scope="module")
def mounts(public_tmp: Path) -> Iterator[Mounts]:
    if not is_root():
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    base = _sub(public_tmp, f"mounts-{uuid.uuid4().hex[:6]}")
    m = Mounts(base)
    m.setup()
    yield m
    m.teardown()


# Shared objects, built with the host's gcc.
PLAIN_C = "int jnlpdiag_answer(void) { return 42; }\n"
USES_FUTURE_C = "extern void jnlpdiag_future(void);\nint jnlpdiag_f(void) { jnlpdiag_future(); return 1; }\n"
USES_MISSING_C = "extern int jnlpdiag_answer(void);\nint jnlpdiag_g(void) { return jnlpdiag_answer(); }\n"


def gcc(*args: str, cwd: Path) -> None:
    proc = subprocess.run(["gcc", *args], capture_output=True, text=True, cwd=cwd)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="session")
def libs(public_tmp: Path) -> dict[str, Path]:
    """Real shared objects, each with one known defect (or none)."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed (Debian package gcc, listed in .ci/apt-packages.txt)")
    d = _sub(public_tmp, "libs")
    work = _sub(public_tmp, "libsrc")
    (work / "plain.c").write_text(PLAIN_C)
    (work / "future.c").write_text("void jnlpdiag_future(void) {}\n")
    (work / "usefuture.c").write_text(USES_FUTURE_C)
    (work / "usemissing.c").write_text(USES_MISSING_C)
    out = {}
    gcc("-shared", "-fPIC", "-o", str(d / "libplain.so"), "plain.c", cwd=work)
    out["plain"] = d / "libplain.so"
    # A symbol version this libc lacks: link against a stand-in libc.so.6 whose version script
    # defines GLIBC_2.99; at run time the real libc.so.6 is found, and it has no GLIBC_2.99.
    (work / "stub").mkdir()
    (work / "future.map").write_text("GLIBC_2.99 { global: jnlpdiag_future; };\n")
    gcc("-shared", "-fPIC", "-Wl,--version-script=future.map", "-Wl,-soname,libc.so.6", "-o", "stub/libc.so.6",
        "future.c", cwd=work)
    gcc("-shared", "-fPIC", "-nodefaultlibs", "-o", str(d / "libfuture.so"), "usefuture.c", "stub/libc.so.6", cwd=work)
    out["future"] = d / "libfuture.so"
    # A DT_NEEDED that exists nowhere on this host: link against a stub, then the stub is not shipped.
    (work / "missing").mkdir()
    gcc("-shared", "-fPIC", "-Wl,-soname,libjnlpdiag-missing.so", "-o", "missing/libjnlpdiag-missing.so", "plain.c",
        cwd=work)
    gcc("-shared", "-fPIC", "-o", str(d / "libneedsmissing.so"), "usemissing.c", "-Lmissing", "-ljnlpdiag-missing",
        cwd=work)
    out["missing"] = d / "libneedsmissing.so"
    # Built for musl: it names musl's libc (Alpine's soname) in DT_NEEDED.
    (work / "musl").mkdir()
    gcc("-shared", "-fPIC", "-Wl,-soname,libc.musl-x86_64.so.1", "-o", "musl/libc.musl-x86_64.so.1", "future.c",
        cwd=work)
    gcc("-shared", "-fPIC", "-nodefaultlibs", "-o", str(d / "libmusl.so"), "usefuture.c",
        "musl/libc.musl-x86_64.so.1", cwd=work)
    out["musl"] = d / "libmusl.so"
    # Another machine: a copy of the plain library with e_machine patched to EM_AARCH64 (183).
    data = bytearray((d / "libplain.so").read_bytes())
    data[18:20] = (183).to_bytes(2, "little")
    (d / "libarm.so").write_bytes(bytes(data))
    out["arm"] = d / "libarm.so"
    # A real 32-bit (i386) shared object: -nostdlib needs no 32-bit C library.
    gcc("-m32", "-shared", "-fPIC", "-nostdlib", "-o", str(d / "lib32.so"), "plain.c", cwd=work)
    out["32bit"] = d / "lib32.so"
    gcc("-shared", "-fPIC", "-Wl,-z,execstack", "-o", str(d / "libexecstack.so"), "plain.c", cwd=work)
    out["execstack"] = d / "libexecstack.so"
    (d / "libnotelf.so").write_text("<html><body>404 Not Found</body></html>\n")
    out["notelf"] = d / "libnotelf.so"
    for p in d.iterdir():
        p.chmod(0o644)
    return out


@pytest.fixture(scope="session")
def jars(public_tmp: Path) -> dict[str, Path]:
    """agent.jar stand-ins: hudson/remoting/Launcher compiled by javac for Java 17 and Java 21."""
    javac = JDK25 / "bin" / "javac"
    jar_tool = JDK17 / "bin" / "jar"
    if not javac.exists() or not jar_tool.exists():
        pytest.skip(f"needs {javac} and {jar_tool}")
    d = _sub(public_tmp, "jars")
    src = d / "src" / "hudson" / "remoting"
    src.mkdir(parents=True)
    (src / "Launcher.java").write_text(
        "package hudson.remoting;\npublic class Launcher {\n"
        "  public static void main(String[] args) throws Exception {\n"
        "    if (args.length > 0 && args[0].equals(\"-sleep\")) { Thread.sleep(60000); }\n"
        "    System.out.println(\"launcher\");\n  }\n}\n")
    out = {}
    for release in ("17", "21"):
        classes = d / f"classes{release}"
        proc = subprocess.run([str(javac), "--release", release, "-d", str(classes), str(src / "Launcher.java")],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        props = classes / "hudson" / "remoting" / "hudson-version.properties"
        props.write_text(f"version=3355.test{release}\n")
        manifest = d / f"manifest{release}.txt"
        manifest.write_text(f"Main-Class: hudson.remoting.Launcher\nVersion: 3355.test{release}\n")
        target = d / f"agent-java{release}.jar"
        proc = subprocess.run([str(jar_tool), "cfm", str(target), str(manifest), "-C", str(classes), "."],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        target.chmod(0o644)
        out[release] = target
    return out


def memory_cgroup_dir() -> Path | None:
    """This process's cgroup v1 memory directory (None when there is no v1 memory hierarchy)."""
    from jnlpdiag.hostinfo.cgroup import parse_proc_cgroup

    _, v1 = parse_proc_cgroup(Path("/proc/self/cgroup").read_text())
    base = Path("/sys/fs/cgroup/memory")
    if v1 is None or not (base / "memory.limit_in_bytes").exists():
        return None
    return base / v1.lstrip("/")


class ChildCgroup:
    """A memory cgroup nested in this process's own (so it never escapes the limits we run under)."""

    def __init__(self, parent: Path) -> None:
        self.path = parent / f"jnlpdiag-test-{uuid.uuid4().hex[:8]}"

    def create(self) -> None:
        self.path.mkdir()

    def set_limit(self, limit: int) -> None:
        (self.path / "memory.limit_in_bytes").write_text(str(limit))

    def enter(self) -> None:
        """preexec_fn: move the child process into this cgroup."""
        with open(self.path / "cgroup.procs", "w") as fh:
            fh.write(str(os.getpid()))

    def remove(self) -> None:
        if self.path.exists():
            try:
                self.path.rmdir()
            except OSError:
                pass


@pytest.fixture(scope="module")
def child_cgroup() -> Iterator[ChildCgroup]:
    if not is_root():
        pytest.skip("creating a memory cgroup needs root (CI runs as root)")
    parent = memory_cgroup_dir()
    if parent is None:
        pytest.skip("no cgroup v1 memory hierarchy here; cgroup v2 is covered by the fixture-tree tests")
    cg = ChildCgroup(parent)
    try:
        cg.create()
    except OSError as exc:
        pytest.skip(f"cannot create a child memory cgroup in {parent}: {exc}")
    yield cg
    cg.remove()
