"""jnlpdiag.pyz (packaging/build-pyz): built once, run in isolated mode (-I, empty working directory) by
Python 3.9 (the oldest supported, RHEL 9 / Amazon Linux 2023) and the newest Python this machine has,
against the project's own controller (``jnlpdiag demo``'s endpoints). These runs are also the suite's
3.9 and newest-Python runs of the headless path: check --json, report, logs, matrix, analyze.

Building downloads the wheels from PyPI (CI reaches it).
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

import jnlpdiag
from jnlpdiag.demo import DemoEndpoints
from tests.interpreters import OLDEST, newest_python, pyenv_python

ROOT = Path(__file__).resolve().parent.parent
MACHINE = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine().lower())
OTHER_ARCH = "aarch64" if MACHINE == "x86_64" else "x86_64"


def wanted() -> list[tuple[str, str | None]]:
    """(``3.N``, interpreter or None) for 3.9 and the newest Python found (one entry if they coincide)."""
    oldest = f"{OLDEST[0]}.{OLDEST[1]}"
    newest = newest_python()
    out = [(oldest, pyenv_python(oldest))]
    if newest and newest[0] != oldest:
        out.append(newest)
    elif newest is None:
        out.append(("newest", None))
    return out


PYTHONS = wanted()


@pytest.fixture(scope="session")
def pyz(tmp_path_factory) -> Path:
    """One build for the interpreters under test and both CPUs (what the shipped file holds per target)."""
    out = tmp_path_factory.mktemp("pyz") / "jnlpdiag.pyz"
    minors = sorted({v for v, path in PYTHONS if path} | {f"{sys.version_info[0]}.{sys.version_info[1]}"},
                    key=lambda v: tuple(map(int, v.split("."))))
    done = subprocess.run([sys.executable, str(ROOT / "packaging" / "build-pyz"), str(out), "--python", ",".join(minors),
                           "--arch", f"{MACHINE},{OTHER_ARCH}"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def demo():
    with DemoEndpoints() as d:
        yield d


@pytest.fixture(params=PYTHONS, ids=lambda p: f"py{p[0]}")
def python(request) -> str:
    version, path = request.param
    if path is None:
        pytest.skip(f"no Python {version} on this machine (pyenv ~/.pyenv/versions/ or python{version} on PATH)")
    return path


def run_pyz(python: str, pyz: Path, tmp_path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -I jnlpdiag.pyz ARGS`` from an empty directory, with a private TMPDIR and no PYTHON* variables."""
    cwd = tmp_path / "empty"
    cwd.mkdir(exist_ok=True)
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and not k.startswith("JENKINS_")}
    env["TMPDIR"] = str(tmp)
    done = subprocess.run([python, "-I", str(pyz), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert not [p.name for p in tmp.iterdir() if p.name.startswith("jnlpdiag-pyz-")], "the unpacked wheels were left behind"
    assert not list(cwd.iterdir()), "the pyz wrote into its working directory"
    return done


def demo_flags(demo: DemoEndpoints, tmp_path: Path) -> list[str]:
    secret = tmp_path / "secret"
    secret.write_text(demo.secret)
    return ["--url", demo.url, "--ca-file", str(demo.ca_file), "--websocket", "--name", "demo-agent",
            "--secret-file", str(secret), "--from-process", "none", "--timeout", "5",
            # Lean: the network and protocol verdicts; the host probes and the JVM run have their own tests.
            "--skip", "host.*", "--skip", "tls.java", "--skip", "compat*"]


def test_manifest_has_native_wheels_for_each_python_and_cpu(pyz):
    with zipfile.ZipFile(pyz) as zf:
        targets = json.loads(zf.read("pyz.json"))["targets"]
        names = {n.split("/")[1] for n in zf.namelist() if n.startswith("wheels/")}
    for version, path in PYTHONS:
        if path is None:
            continue
        tag = "cp" + version.replace(".", "")
        for arch in (MACHINE, OTHER_ARCH):
            wheels = targets[f"{tag}-{arch}"]
            assert set(wheels) <= names
            natives = [w for w in wheels if not w.endswith("-none-any")]
            assert {w.split("-")[0] for w in natives} >= {"cffi", "cryptography"}, natives
            for w in natives:
                assert arch in w and (f"-{tag}-" in w or "-abi3-" in w), w
            assert sum(w.startswith("jnlpdiag-") for w in wheels) == 1


def test_version(python, pyz, tmp_path):
    done = run_pyz(python, pyz, tmp_path, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"jnlpdiag {jnlpdiag.__version__}"


def test_check_json_against_the_demo_controller(python, pyz, demo, tmp_path):
    """The pyz on this Python reaches the same verdicts as the installed tool on the default Python."""
    flags = demo_flags(demo, tmp_path)
    done = run_pyz(python, pyz, tmp_path, "check", "--json", *flags)
    installed = subprocess.run([sys.executable, "-m", "jnlpdiag", "check", "--json", *flags], capture_output=True,
                               text=True, timeout=120, cwd=tmp_path)
    report, expected = json.loads(done.stdout), json.loads(installed.stdout)
    status = {f["id"]: f["status"] for f in report["findings"]}
    assert status == {f["id"]: f["status"] for f in expected["findings"]}
    assert done.returncode == installed.returncode, done.stderr
    # The controller answers through its TLS 1.3 front: discovery, the TLS versions and the WebSocket login.
    assert status["discovery.jenkins"] == status["tls.versions"] == status["websocket.login"] == "pass", status
    assert demo.secret not in done.stdout + done.stderr


def test_report_bundle(python, pyz, demo, tmp_path):
    out = tmp_path / "bundle"
    done = run_pyz(python, pyz, tmp_path, "report", "--out", str(out), *demo_flags(demo, tmp_path))
    assert done.returncode in (0, 1, 2), done.stderr
    files = {p.name for p in out.iterdir()}
    assert {"report.json", "summary.md", "report.html", "manifest.json"} <= files, files
    assert json.loads((out / "report.json").read_text())["findings"]
    for p in out.iterdir():
        if p.is_file():
            assert demo.secret.encode() not in p.read_bytes(), p.name


@pytest.mark.parametrize("args", [
    ["logs", "tests/reports/logs/jffi-glibc.log", "--json"],
    ["matrix", "--jenkins", "2.479.3", "--java", "11", "--json"],
    ["analyze", "captures/tls-alert-protocol-version.pcap", "--json"],
], ids=lambda a: a[0])
def test_offline_commands_match_the_installed_tool(python, pyz, tmp_path, args):
    """logs, matrix and analyze from the pyz on this Python say exactly what the installed tool says."""
    args = [str(ROOT / a) if "/" in a else a for a in args]
    installed = subprocess.run([sys.executable, "-m", "jnlpdiag", *args], capture_output=True, text=True, timeout=120,
                               cwd=tmp_path)
    done = run_pyz(python, pyz, tmp_path, *args)
    assert (done.returncode, done.stdout) == (installed.returncode, installed.stdout), done.stderr
    assert json.loads(done.stdout)


def test_unsupported_python_is_told_what_to_do(pyz, tmp_path):
    """A Python the file has no wheels for gets one line naming what it has, not a traceback."""
    python = next((str(p) for p in sorted(Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv").glob(
        "versions/3.8*/bin/python3"))), None)
    if python is None:
        pytest.skip("no Python older than 3.9 here to try")
    done = subprocess.run([python, "-I", str(pyz), "--version"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 3
    assert "has no build for cp38-" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(("sig", "to_group"), [(signal.SIGTERM, False), (signal.SIGINT, True)], ids=["sigterm", "ctrl-c"])
def test_signals_end_the_tool_and_remove_the_unpacked_wheels(pyz, tmp_path, sig, to_group):
    """SIGTERM to the pyz is forwarded to the tool; Ctrl-C (SIGINT to the whole process group, as a
    terminal sends it) reaches the tool as KeyboardInterrupt. Either way the private dir is removed."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["TMPDIR"] = str(tmp)
    proc = subprocess.Popen([sys.executable, "-I", str(pyz), "logs", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _tool_started(proc.pid):
            time.sleep(0.1)
        time.sleep(1.5)  # let it import and block reading stdin
        assert [p for p in tmp.iterdir() if p.name.startswith("jnlpdiag-pyz-")], "no private dir while running"
        if to_group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode in (130, 143, 128 + sig), (proc.returncode, err)
    assert b"Traceback" not in err
    assert not list(tmp.iterdir()), "the unpacked wheels were left behind"


def _tool_started(parent: int) -> bool:
    """The pyz has started its child interpreter (the tool)."""
    try:
        children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    except OSError:
        return False
    return any(b"jnlpdiag.cli" in Path(f"/proc/{c}/cmdline").read_bytes() for c in children)
