"""Hostile local inputs found while fuzzing: a FIFO (named pipe without a writer) where the settings
name a file, and a secret file that is not text. An ``open()`` of such a FIFO blocks forever; the
tool must still end within the deadline and say what it met."""

from __future__ import annotations

import json
import os

import pytest

from tests.hostile.conftest import SCHEDULING_SLACK, T, run_tool


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return str(path)


def _usage_error(out, startup: float, text: str) -> None:
    assert out.code == 3 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and text in lines[0], out.stderr
    assert out.elapsed - startup <= T * 1.1 + SCHEDULING_SLACK
    assert out.leftovers == []


def test_secret_file_fifo_without_writer(tmp_path, startup, fifo):
    out = run_tool("--url", "http://127.0.0.1:9/", "--name", "a", "--secret-file", fifo, sandbox=tmp_path / "s",
                   kill_after=20)
    _usage_error(out, startup, f"--secret-file {fifo}: the file is empty")


def test_secret_file_that_is_not_text(tmp_path, startup):
    bad = tmp_path / "secret.bin"
    bad.write_bytes(b"\xff\xfe\x00\x81")
    out = run_tool("--url", "http://127.0.0.1:9/", "--name", "a", "--secret-file", str(bad), sandbox=tmp_path / "s")
    _usage_error(out, startup, "not UTF-8 text (byte 0)")


def _named(out, probe: str, path: str) -> bool:
    """A non-passing finding of ``probe`` that names the path (title, detail or evidence)."""
    return any(f["probe"] == probe and f["status"] in ("warn", "fail") and path in json.dumps(f)
               for f in out.report["findings"])


def test_agent_jar_fifo(hostile, fifo):
    out = hostile("--url", "http://127.0.0.1:9/", "--agent-jar", fifo, kill_after=20)
    assert _named(out, "host.java", fifo)


def test_native_lib_fifo(hostile, fifo):
    out = hostile("--url", "http://127.0.0.1:9/", "--native-lib", fifo, kill_after=20)
    assert _named(out, "host.jni", fifo)


def test_java_fifo(hostile, fifo):
    import subprocess

    try:
        out = hostile("--url", "http://127.0.0.1:9/", "--java", fifo, kill_after=10)
    except subprocess.TimeoutExpired:
        raise AssertionError("the tool hung (killed after 10 s)") from None
    assert _named(out, "host.java", fifo)


def test_java_security_properties_fifo(hostile, fifo):
    out = hostile("--url", "https://127.0.0.1:9/", "--probe", "tls.java", "--java-check", "predict",
                  env={"JAVA_OPTS": f"-Djava.security.properties={fifo}"}, kill_after=20)
    assert _named(out, "tls.java", fifo)
