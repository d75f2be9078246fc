"""One child-JVM runner: the launcher's option variables scrubbed, a time limit, killed on cancel."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid

import pytest

from jnlpdiag.jvmrun import run_jvm

JAVA = shutil.which("java")


def _alive(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if marker.encode() in fh.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


@pytest.mark.skipif(JAVA is None, reason="no java on this host")
def test_the_launchers_option_variables_do_not_reach_the_jvm() -> None:
    env = {**os.environ, "JAVA_TOOL_OPTIONS": "-Djnlpdiag.leak=1", "JDK_JAVA_OPTIONS": "-Djnlpdiag.leak2=1"}
    run = asyncio.run(run_jvm([str(JAVA), "-XshowSettings:properties", "-version"], 60, env=env))
    assert run.ok, run.error or run.stderr
    assert "java.version" in run.stderr
    assert "Picked up" not in run.stderr and "jnlpdiag.leak" not in run.stderr
    assert run.env_removed == ["JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS"]


def test_a_child_past_its_time_limit_is_killed() -> None:
    marker = f"3{uuid.uuid4().int % 10**6}.5"
    t0 = time.monotonic()
    run = asyncio.run(run_jvm(["sleep", marker], 0.3))
    assert run.timed_out and run.returncode is None and "did not answer within 0.3 s" in (run.error or "")
    assert time.monotonic() - t0 < 5
    assert _alive(marker) == []


def test_a_cancelled_step_kills_its_child() -> None:
    marker = f"4{uuid.uuid4().int % 10**6}.5"

    async def main() -> None:
        task = asyncio.ensure_future(run_jvm(["sleep", marker], 60))
        end = time.monotonic() + 5
        while not _alive(marker) and time.monotonic() < end:
            await asyncio.sleep(0.02)
        assert _alive(marker), "the child did not start"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert _alive(marker) == []


def test_a_missing_program_is_an_error_not_an_exception() -> None:
    run = asyncio.run(run_jvm(["/nonexistent/bin/java", "-version"], 5))
    assert run.error and run.error.startswith("cannot run /nonexistent/bin/java") and not run.ok
