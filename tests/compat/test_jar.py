"""Reading agent.jar from bytes, checked against what the real JVM does with the same jar."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import pytest

from jnlpdiag.compat import evaluate_raw
from jnlpdiag.compat.jar import agent_jar_info, agent_jar_info_file, parse_manifest
from tests.compat.jars import JDK17, JDK25


def test_version_and_class_level(jars: dict[str, Path]) -> None:
    info = agent_jar_info(jars["j11"].read_bytes())
    assert (info.version, info.main_class, info.class_major, info.java, info.error) == \
        ("3261.v9c670a_4748a_9", "hudson.remoting.Launcher", 55, 11, None)
    info = agent_jar_info_file(jars["j17"])
    assert (info.version, info.class_major, info.java) == ("3355.v388858a_47b_33", 61, 17)


def test_prediction_matches_the_real_jvm(jars: dict[str, Path]) -> None:
    if "j25" not in jars:
        pytest.skip("no JDK 25 to build a class file newer than the JDK 17 here")
    info = agent_jar_info_file(jars["j25"])
    assert (info.class_major, info.java) == (69, 25)
    java17 = str(JDK17 / "bin" / "java")
    real = subprocess.run([java17, "-jar", str(jars["j25"])], capture_output=True, text=True, timeout=60)
    assert real.returncode != 0
    assert "UnsupportedClassVersionError" in real.stderr and "class file version 69.0" in real.stderr
    ev = evaluate_raw({"remoting_java": info.java, "agent_java": "17"})
    assert [r.id for r in ev.fired] == ["agent-jar-needs-newer-java"]
    ok = subprocess.run([str(JDK25 / "bin" / "java"), "-jar", str(jars["j25"])], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "agent.jar stand-in" in ok.stdout
    assert evaluate_raw({"remoting_java": info.java, "agent_java": "25"}).fired == []


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("body,message", [
    (b"<!DOCTYPE html><html><title>Sign in</title></html>", "HTML"),
    (b"", "empty"),
    (b"\x00\x01garbage", "not a zip"),
    (_zip({"hello.txt": b"hi"}), "not agent.jar"),
])
def test_hostile_bodies_give_an_error_not_an_exception(body: bytes, message: str) -> None:
    info = agent_jar_info(body)
    assert info.error and message in info.error and info.version is None


def test_truncated_jar(jars: dict[str, Path]) -> None:
    data = jars["j17"].read_bytes()
    info = agent_jar_info(data[: len(data) // 2])
    assert info.error and "truncated" in info.error


def test_manifest_bomb_is_not_inflated() -> None:
    # 16 MB of zeros compress to ~16 KB; the declared size is checked before inflating.
    bomb = _zip({"META-INF/MANIFEST.MF": b"Version: 1\r\n" + b"\0" * (16 * 1024 * 1024)})
    info = agent_jar_info(bomb)
    assert info.error and "refusing" in info.error


def test_manifest_continuation_lines() -> None:
    text = b"Manifest-Version: 1.0\r\nVersion: 3355.v388858a_47b_33\r\nLong: aaaa\r\n bbbb\r\n\r\nName: x\r\nVersion: 1\r\n"
    assert parse_manifest(text) == {"Manifest-Version": "1.0", "Version": "3355.v388858a_47b_33", "Long": "aaaabbbb"}


def test_missing_file() -> None:
    info = agent_jar_info_file("/nonexistent/agent.jar")
    assert info.error and "cannot read" in info.error
