"""host.java with the real JDK 17 and agent jars compiled by javac for Java 17 and Java 21."""

from __future__ import annotations

import subprocess
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jnlpdiag.findings import Finding, Layer, Status
from jnlpdiag.hostinfo.jar import JarError, read_agent_jar
from jnlpdiag.options import RunOptions
from jnlpdiag.probe_api import Context, Probe
from jnlpdiag.runner import run_sync
from jnlpdiag.settings import Settings
from tests.host.conftest import JDK17, check
from tests.peers.util import clean_env

JAVA17 = str(JDK17 / "bin" / "java")


def java_check(*args: str, **kw) -> dict:  # type: ignore[no-untyped-def,type-arg]
    r = check("--probe", "host.java", "--java", JAVA17, "--timeout", "30", *args, **kw)
    return {f["id"]: f for f in r.json()["findings"]} | {"_code": r.code}


def test_jar_compiled_for_a_newer_java_fails_before_the_jvm_does(jars: dict[str, Path]) -> None:
    got = java_check("--agent-jar", str(jars["21"]))
    assert got["_code"] == 2
    runtime = got["host.java.runtime"]
    assert runtime["status"] == "pass" and runtime["evidence"]["feature"] == 17 and runtime["evidence"]["is_jdk"]
    f = got["host.java.agent-jar"]
    assert f["status"] == "fail"
    ev = f["evidence"]
    assert (ev["class_major"], ev["min_java"], ev["java_feature"]) == (65, 21, 17)
    assert ev["manifest_version"] == "3355.test21" and ev["properties_version"] == "3355.test21"
    # The prediction is what the real JVM prints when it meets this jar.
    real = subprocess.run([JAVA17, "-jar", str(jars["21"])], capture_output=True, text=True, timeout=60)
    assert real.returncode != 0
    assert ev["predicted_error"] in real.stderr
    assert "Java 21" in f["fixes"][0]["title"]


def test_jar_for_the_same_java_passes(jars: dict[str, Path]) -> None:
    got = java_check("--agent-jar", str(jars["17"]))
    f = got["host.java.agent-jar"]
    assert f["status"] == "pass" and f["evidence"]["class_major"] == 61 and got["_code"] == 0
    real = subprocess.run([JAVA17, "-jar", str(jars["17"])], capture_output=True, text=True, timeout=60)
    assert real.returncode == 0 and real.stdout.strip() == "launcher"


def test_unusable_jars(tmp_path: Path) -> None:
    html = tmp_path / "agent.jar"
    html.write_text("<!DOCTYPE html><html><body>Authentication required</body></html>")
    f = java_check("--agent-jar", str(html))["host.java.agent-jar"]
    fix_text = " ".join(f["fixes"][0]["commands"] + f["fixes"][0]["notes"])
    assert f["status"] == "fail" and "HTML" in f["title"] and "jnlpJars/agent.jar" in fix_text
    nolauncher = tmp_path / "other.jar"
    with zipfile.ZipFile(nolauncher, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nVersion: 1.2\n")
    f = java_check("--agent-jar", str(nolauncher))["host.java.agent-jar"]
    assert f["status"] == "fail" and "Launcher.class" in f["title"]
    truncated = tmp_path / "cut.jar"
    truncated.write_bytes(b"PK\x03\x04" + b"\0" * 40)
    f = java_check("--agent-jar", str(truncated))["host.java.agent-jar"]
    assert f["status"] == "fail" and "damaged or truncated" in f["title"]
    f = java_check("--agent-jar", str(tmp_path / "missing.jar"))["host.java.agent-jar"]
    assert f["status"] == "fail" and "No such file" in f["title"]


def test_jar_reader_caps_hostile_entries(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.jar"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("META-INF/MANIFEST.MF", b"A" * (2 * 1024 * 1024))  # over the 64 KiB text cap
    with pytest.raises(JarError, match="cap"):
        read_agent_jar(str(bomb))


def test_broken_and_missing_java(tmp_path: Path, jars: dict[str, Path]) -> None:
    r = check("--probe", "host.java", "--java", "/nonexistent/bin/java", "--agent-jar", str(jars["17"]))
    runtime = r.finding("host.java.runtime")
    assert runtime["status"] == "fail" and "does not run" in runtime["title"]
    assert r.finding("host.java.agent-jar")["status"] == "pass"  # still read, just not compared
    env = clean_env(PATH=str(tmp_path))
    env.pop("JAVA_HOME", None)
    r = check("--probe", "host.java", env=env)
    assert r.finding("host.java.runtime")["status"] == "fail"
    assert r.finding("host.java.agent-jar")["status"] == "skip"


@pytest.mark.privileged
def test_unprivileged(jars: dict[str, Path], tmp_path: Path) -> None:
    private = jars["21"].parent / "private-agent.jar"
    private.write_bytes(jars["21"].read_bytes())
    private.chmod(0o600)
    try:
        got = java_check("--agent-jar", str(private), as_nobody=True, env=clean_env(HOME="/nonexistent"))
        assert got["host.java.runtime"]["status"] == "pass"
        f = got["host.java.agent-jar"]
        assert f["status"] == "skip" and "Permission denied" in f["title"]
        got = java_check("--agent-jar", str(jars["21"]), as_nobody=True, env=clean_env(HOME="/nonexistent"))
        assert got["host.java.agent-jar"]["status"] == "fail"
    finally:
        private.unlink()


class _ReadFacts(Probe):
    id = "test.facts"
    layer = Layer.COMPATIBILITY
    description = "reports what host.java published"
    after = ("host.java",)

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        yield ctx.finding(self.id, Status.PASS, "facts", evidence=dict(ctx.facts("host.java")))


def test_facts_for_the_compat_probe(jars: dict[str, Path]) -> None:
    from jnlpdiag.probes.host_java import HostJavaProbe

    settings = Settings(java=JAVA17, agent_jar=str(jars["21"]), run=RunOptions(timeout=30))
    report = run_sync([HostJavaProbe, _ReadFacts], settings)
    facts = next(f for f in report.findings if f.id == "test.facts").evidence
    assert facts["java_feature"] == 17 and facts["java_version"].startswith("17.")
    assert facts["agent_jar_version"] == "3355.test21"
    assert facts["agent_jar_class_major"] == 65 and facts["agent_jar_min_java"] == 21
    assert facts["java_executable"] == JAVA17
