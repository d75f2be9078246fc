"""Run a child JVM (or javac) the one way: scrubbed environment, a time limit, killed on cancel.

Every JVM jnlpdiag starts (``java -XshowSettings``, ``-XX:+PrintFlagsFinal``, the TLS checker,
``javac``) goes through :func:`run_jvm`:

* the launcher's option variables (``JAVA_TOOL_OPTIONS``, ``JDK_JAVA_OPTIONS``, ``_JAVA_OPTIONS``)
  are removed from its environment: callers pass the agent's options as words, and the launcher
  must not add them a second time (or print "Picked up ..." into the output we parse);
* stdin is ``/dev/null``; stdout and stderr are read to the end;
* it is killed when ``timeout`` passes and when the awaiting task is cancelled (the run's deadline,
  Ctrl-C), and always reaped, so no JVM outlives the step that started it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from jnlpdiag.pycompat import Timeouts

SCRUBBED = ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS")
_MAX_OUTPUT = 4 * 1024 * 1024  # -XX:+PrintFlagsFinal is ~100 KB; anything far larger is not a JVM's answer


@dataclass
class JvmRun:
    command: list[str]
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    error: str | None = None  # why it did not run or finish (None when it exited by itself)
    timed_out: bool = False
    elapsed_ms: float = 0.0
    env_removed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and self.returncode == 0


def scrubbed_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) without the launcher's option variables."""
    source = os.environ if base is None else base
    return {k: v for k, v in source.items() if k not in SCRUBBED}


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        try:
            proc.kill()
        except ProcessLookupError:
            pass
        await proc.wait()


async def run_jvm(command: list[str], timeout: float, *, env: Mapping[str, str] | None = None) -> JvmRun:
    """Run ``command`` for at most ``timeout`` seconds; the result says how it ended."""
    run = JvmRun(list(command))
    source = os.environ if env is None else env
    run.env_removed = [k for k in SCRUBBED if k in source]
    t0 = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=scrubbed_env(source),
        )
    except OSError as exc:
        run.error = f"cannot run {command[0]}: {exc.strerror or exc}"
        return run
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except Timeouts:
        run.timed_out = True
        run.error = f"{command[0]} did not answer within {timeout:g} s"
        out, err = b"", b""
    finally:
        # Cancelled (deadline, Ctrl-C) or timed out: the JVM must not outlive this step. Shielded,
        # so that a second cancellation cannot interrupt the reaping.
        await asyncio.shield(_kill(proc))
        run.elapsed_ms = (time.monotonic() - t0) * 1000.0
    run.returncode = proc.returncode if not run.timed_out else None
    run.stdout = out[:_MAX_OUTPUT].decode("utf-8", "replace")
    run.stderr = err[:_MAX_OUTPUT].decode("utf-8", "replace")
    return run
