"""Run the TLS checker (``TlsCheck``, package data) in the agent's JVM and read its verdict.

The checker ships precompiled for Java 8 (``java/classes``, built from ``java/TlsCheck.java`` by
``scripts/build_tlscheck.py``) and runs as ``java -cp DIR TlsCheck URL MS``: no compilation on
every run, and agents still on Java 8 get a JVM view too. Only when those classes are missing or
the JVM cannot load them does it fall back to the single-file source launch ``java TlsCheck.java``
(JEP 330, Java 11+); a runtime image without ``jdk.compiler`` (a jlink'ed JRE) then gets the checker
compiled with any ``javac`` on this host (``--release 11``) into a temporary directory that is
removed afterwards. Every JVM runs through :func:`jnlpdiag.jvmrun.run_jvm`.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jnlpdiag.jvmrun import run_jvm
from jnlpdiag.pycompat import Timeouts

MARKER = "TLSCHECK "
# Options that would make a second JVM collide with the running agent (a debug port already in
# use, an agent that phones home) or start something else than the checker.
_DROP_PREFIXES = ("-javaagent:", "-agentlib:", "-agentpath:", "-Xrunjdwp", "-Xdebug")
_DROP_WITH_VALUE = ("-cp", "-classpath", "--class-path", "-jar")
# Compile quickly: the checker does one request, C2 would only cost start-up time.
_FAST = ["-XX:TieredStopAtLevel=1"]
# Benchmarks and tests turn this off to measure and exercise the source-launch fallback.
USE_CLASSES = True


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


def _find_javac(java_home: str | None, env: Mapping[str, str]) -> str | None:
    candidates = []
    if java_home:
        candidates.append(os.path.join(java_home, "bin", "javac"))
    if env.get("JAVA_HOME"):
        candidates.append(os.path.join(env["JAVA_HOME"], "bin", "javac"))
    found = shutil.which("javac", path=env.get("PATH"))
    if found:
        candidates.append(found)
    candidates += sorted(glob.glob("/usr/lib/jvm/*/bin/javac"), reverse=True)
    return next((c for c in candidates if os.access(c, os.X_OK)), None)


async def _run(cmd: list[str], timeout: float, env: Mapping[str, str]) -> tuple[int | None, str, str]:
    run = await run_jvm(cmd, timeout, env=env)
    if run.timed_out:
        raise TimeoutError
    if run.error:
        return None, "", run.error
    return run.returncode, run.stdout, run.stderr


def _classes_dir(stack: ExitStack) -> str | None:
    """The directory holding the precompiled checker (copied out of a zip install), or None."""
    root = resources.files("jnlpdiag").joinpath("java/classes")
    if not root.joinpath("TlsCheck.class").is_file():
        return None
    if isinstance(root, Path):
        return str(root)
    tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="jnlpdiag-tlscheck-"))
    for item in root.iterdir():
        if item.name.endswith(".class"):
            Path(tmp, item.name).write_bytes(item.read_bytes())
    return tmp


def min_feature() -> int:
    """The oldest Java that can run the checker: 8 with the precompiled classes, else 11 (JEP 330)."""
    with ExitStack() as stack:
        return 8 if USE_CLASSES and _classes_dir(stack) is not None else 11


# The JVM could not load the precompiled classes (a JVM older than Java 8, a damaged install).
_CANNOT_LOAD = ("UnsupportedClassVersionError", "Could not find or load main class", "NoClassDefFoundError")


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
    env: Mapping[str, str] | None = None,
) -> Observation:
    """One HTTPS request to ``url`` from ``java`` with the agent's options, within ``timeout`` seconds,
    in ``env`` (the agent's environment)."""
    env = os.environ if env is None else env
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    budget_ms = max(500, int(timeout * 1000 * 0.6))  # the JVM's own connect/read timeouts
    args = [url, str(budget_ms)] + (["-insecure"] if insecure else [])
    for f in cert_files or ():
        args += ["-cert", f]
    opts = _FAST + checker_options(options)
    with ExitStack() as stack:
        classes = _classes_dir(stack) if USE_CLASSES else None
        cmd: list[str] = []
        try:
            data = None
            if classes is not None:
                cmd = [java, *opts, "-cp", classes, "TlsCheck", *args]
                code, out, err = await _run(cmd, max(0.5, timeout - (loop.time() - t0)), env)
                data = _parse(out)
            if data is None and (classes is None or any(s in err for s in _CANNOT_LOAD)):
                source = stack.enter_context(
                    resources.as_file(resources.files("jnlpdiag").joinpath("java/TlsCheck.java")))
                cmd = [java, *opts, str(source), *args]
                code, out, err = await _run(cmd, max(0.5, timeout - (loop.time() - t0)), env)
                data = _parse(out)
            if data is None and "jdk.compiler" in err:
                javac = _find_javac(java_home, env)
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
                    max(0.5, timeout - (loop.time() - t0)), env,
                )
                if ccode != 0:
                    return Observation(None, error=f"javac failed: {cerr.strip()[:300]}", command=cmd)
                cmd = [java, *opts, "-cp", tmp, "TlsCheck", *args]
                code, out, err = await _run(cmd, max(0.5, timeout - (loop.time() - t0)), env)
                data = _parse(out)
        except Timeouts:
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
    if result == "ok":
        refusal = _client_cert_refusal(data)
        if refusal is not None:
            # TLS completed, but a front refused the request for its client certificate: agent.jar
            # fails there too ("<url> is invalid: 400 Bad Request").
            result = "fail"
            data.update(exception="HTTP", message=f"{refusal} (client certificate)", causes=[])
    error = None
    if result == "fail":
        error = f"{data.get('exception')}: {data.get('message')}"
    return Observation(result, data, error, cmd, elapsed)


def _client_cert_refusal(data: dict[str, Any]) -> str | None:
    from jnlpdiag.tls.clientauth import http_refusal

    status, body = data.get("http_status"), data.get("http_body")
    if not isinstance(status, int) or not isinstance(body, str):
        return None
    headers = {"x-jenkins": str(data["x_jenkins"])} if data.get("x_jenkins") is not None else {}
    answer = http_refusal(status, headers, body)
    return answer.reason if answer else None


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
