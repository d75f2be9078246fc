"""Run ``TlsCheck.java`` (package data) in the agent's JVM and read its verdict.

``java TlsCheck.java URL MS`` is a single-file source launch (JEP 330, Java 11+). A runtime image
without the ``jdk.compiler`` module (a jlink'ed JRE) cannot do that; the checker is then compiled
with any ``javac`` on this host (``--release 11``) into a temporary directory that is removed
afterwards, and run from there with the agent's JVM.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

MARKER = "TLSCHECK "
# Options that would make a second JVM collide with the running agent (a debug port already in
# use, an agent that phones home) or start something else than the checker.
_DROP_PREFIXES = ("-javaagent:", "-agentlib:", "-agentpath:", "-Xrunjdwp", "-Xdebug")
_DROP_WITH_VALUE = ("-cp", "-classpath", "--class-path", "-jar")
# Compile quickly: the checker does one request, C2 would only cost start-up time.
_FAST = ["-XX:TieredStopAtLevel=1"]


@dataclass
class Observation:
    result: str | None  # ok, fail, or None when the JVM could not be run
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # the JVM's exception (class: message), or why it did not run
    command: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0


def checker_options(words: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word in _DROP_WITH_VALUE:
            skip = True
            continue
        if word.startswith(_DROP_PREFIXES):
            continue
        out.append(word)
    return out


def _clean_env() -> dict[str, str]:
    # The agent's option variables are passed as words, so the launcher must not add them again.
    return {k: v for k, v in os.environ.items() if k not in ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS")}


def _find_javac(java_home: str | None) -> str | None:
    candidates = []
    if java_home:
        candidates.append(os.path.join(java_home, "bin", "javac"))
    if os.environ.get("JAVA_HOME"):
        candidates.append(os.path.join(os.environ["JAVA_HOME"], "bin", "javac"))
    found = shutil.which("javac")
    if found:
        candidates.append(found)
    candidates += sorted(glob.glob("/usr/lib/jvm/*/bin/javac"), reverse=True)
    return next((c for c in candidates if os.access(c, os.X_OK)), None)


async def _run(cmd: list[str], timeout: float) -> tuple[int | None, str, str]:
    try:
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_clean_env(),
            stdin=asyncio.subprocess.DEVNULL,
        )
    except OSError as exc:
        return None, "", f"cannot run {cmd[0]}: {exc.strerror or exc}"
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except (TimeoutError, asyncio.CancelledError):
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _parse(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARKER):
            try:
                data = json.loads(line[len(MARKER) :])
                return data if isinstance(data, dict) else None
            except json.JSONDecodeError:
                return None
    return None


async def observe(
    java: str,
    java_home: str | None,
    options: list[str],
    url: str,
    timeout: float,
    *,
    insecure: bool = False,
    cert_files: list[str] | None = None,
) -> Observation:
    """One HTTPS request to ``url`` from ``java`` with the agent's options, within ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    budget_ms = max(500, int(timeout * 1000 * 0.6))  # the JVM's own connect/read timeouts
    args = [url, str(budget_ms)] + (["-insecure"] if insecure else [])
    for f in cert_files or ():
        args += ["-cert", f]
    opts = _FAST + checker_options(options)
    with ExitStack() as stack:
        source = stack.enter_context(resources.as_file(resources.files("jnlpdiag").joinpath("java/TlsCheck.java")))
        cmd = [java, *opts, str(source), *args]
        try:
            code, out, err = await _run(cmd, max(0.5, timeout - (loop.time() - t0)))
            data = _parse(out)
            if data is None and "jdk.compiler" in err:
                javac = _find_javac(java_home)
                if javac is None:
                    return Observation(
                        None,
                        error="this JVM cannot run a Java source file (no jdk.compiler module) "
                        "and no javac was found to compile the checker",
                        command=cmd,
                    )
                tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="jnlpdiag-tlscheck-"))
                ccode, _, cerr = await _run(
                    [javac, "--release", "11", "-nowarn", "-d", tmp, str(source)],
                    max(0.5, timeout - (loop.time() - t0)),
                )
                if ccode != 0:
                    return Observation(None, error=f"javac failed: {cerr.strip()[:300]}", command=cmd)
                cmd = [java, *opts, "-cp", tmp, "TlsCheck", *args]
                code, out, err = await _run(cmd, max(0.5, timeout - (loop.time() - t0)))
                data = _parse(out)
        except TimeoutError:
            return Observation(
                None,
                error=f"the JVM did not finish within {timeout:g} s",
                command=cmd,
                elapsed_ms=(loop.time() - t0) * 1000,
            )
    elapsed = (loop.time() - t0) * 1000
    if data is None:
        text = (err.strip() or out.strip() or f"exit code {code}").splitlines()
        first = next((line for line in text if line.strip() and "warning" not in line.lower()), text[0] if text else "")
        return Observation(None, error=f"the JVM did not run the checker: {first[:300]}", command=cmd, elapsed_ms=elapsed)
    result = data.get("result") if data.get("result") in ("ok", "fail") else None
    error = None
    if result == "fail":
        error = f"{data.get('exception')}: {data.get('message')}"
    return Observation(result, data, error, cmd, elapsed)


def checker_path_hint() -> str:
    return str(Path(str(resources.files("jnlpdiag").joinpath("java/TlsCheck.java"))))


@lru_cache(maxsize=1)
def _signatures() -> list[tuple[str, str]]:
    data = json.loads(resources.files("jnlpdiag").joinpath("data/jvm-tls-errors.json").read_text("utf-8"))
    return [(s["pattern"].lower(), s["reason"]) for s in data["signatures"]]


def classify(observation: Observation) -> str | None:
    """The reason code (data/jvm-tls-errors.json) of a failed observation, None when it did not fail."""
    if observation.result != "fail":
        return None
    texts = [str(observation.data.get("exception")), str(observation.data.get("message"))]
    texts += [str(c) for c in observation.data.get("causes") or []]
    blob = "\n".join(texts).lower()
    for pattern, reason in _signatures():
        if pattern in blob:
            return reason
    return "other"
