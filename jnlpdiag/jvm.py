"""The agent's JVM: which ``java`` it runs, its version and home, and its ``-D`` options.

Discovery order (the same for every probe that needs the JVM): ``--java`` / the running agent
process's executable / ``JENKINS_JAVA_BIN`` (all land in ``settings.java``), then ``JAVA_HOME``,
then ``PATH``. Options come from ``JAVA_TOOL_OPTIONS``, ``JDK_JAVA_OPTIONS`` (Java 9+ launcher),
and the agent's own options (``JAVA_OPTS``/``JENKINS_JAVA_OPTS`` or the process command line),
later ones winning, as the JVM applies them.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jnlpdiag.jvmrun import run_jvm
from jnlpdiag.settings import Settings


@dataclass
class JavaInstall:
    executable: str
    origin: str


@dataclass
class JavaInfo:
    executable: str
    origin: str
    version: str | None = None  # java.version, e.g. "17.0.15" or "1.8.0_292"
    feature: int | None = None  # 8, 11, 17, 21, ...
    vendor: str | None = None
    java_home: str | None = None
    runtime_name: str | None = None
    is_jdk: bool = False
    properties: dict[str, str] = field(default_factory=dict)
    error: str | None = None


def find_java(settings: Settings, env: dict[str, str] | None = None) -> JavaInstall | None:
    env = dict(os.environ) if env is None else env
    if settings.java:
        return JavaInstall(settings.java, settings.origin("java"))
    home = env.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return JavaInstall(os.path.join(home, "bin", "java"), "env JAVA_HOME")
    found = shutil.which("java", path=env.get("PATH"))
    if found:
        return JavaInstall(os.path.realpath(found), "PATH")
    return None


def feature_version(version: str) -> int | None:
    """``1.8.0_292`` -> 8, ``11.0.11`` -> 11, ``17.0.15+6`` -> 17, ``21`` -> 21, ``25-ea`` -> 25."""
    m = re.match(r"\s*(\d+)(?:\.(\d+))?", version)
    if not m:
        return None
    major = int(m.group(1))
    if major == 1 and m.group(2):
        return int(m.group(2))
    return major


def parse_settings_output(text: str) -> dict[str, str]:
    """Parse ``java -XshowSettings:properties -version`` (stderr); multi-line values joined with ','."""
    props: dict[str, str] = {}
    last: str | None = None
    in_props = False
    for line in text.splitlines():
        if line.startswith("Property settings:"):
            in_props = True
            continue
        if not in_props:
            continue
        if not line.strip():
            in_props = False
            continue
        m = re.match(r"^    (\S[^=]*?) = (.*)$", line)
        if m:
            last = m.group(1).strip()
            props[last] = m.group(2)
        elif last and line.startswith("        "):
            props[last] += "," + line.strip()
    return props


async def describe_java(
    install: JavaInstall, timeout: float, jvm_options: list[str] | None = None, env: Mapping[str, str] | None = None,
) -> JavaInfo:
    """Run the JVM once to read its properties (``-XshowSettings:properties -version``), in ``env``
    (the agent's; its option variables are scrubbed by :func:`jnlpdiag.jvmrun.run_jvm`)."""
    info = JavaInfo(install.executable, install.origin)
    run = await run_jvm([install.executable, *(jvm_options or []), "-XshowSettings:properties", "-version"],
                        timeout, env=env)
    if run.error:
        info.error = run.error
        return info
    text = run.stderr + run.stdout
    props = parse_settings_output(text)
    info.properties = props
    info.version = props.get("java.version")
    if info.version is None:
        m = re.search(r'version "([^"]+)"', text)
        info.version = m.group(1) if m else None
    if info.version is None:
        info.error = f"{install.executable} did not report a version: {' '.join(text.split())[:200]}"
        return info
    info.feature = feature_version(info.version)
    info.vendor = props.get("java.vendor")
    info.runtime_name = props.get("java.runtime.name")
    info.java_home = props.get("java.home") or str(Path(install.executable).resolve().parent.parent)
    home = Path(info.java_home)
    # A JDK ships javac; Java 8 JREs nested inside a JDK have java.home = <jdk>/jre.
    info.is_jdk = (home / "bin" / "javac").exists() or (home.name == "jre" and (home.parent / "bin" / "javac").exists())
    return info


def jvm_option_words(settings: Settings, env: dict[str, str] | None = None) -> list[str]:
    """Every JVM option the agent's JVM would get, in the order the JVM applies them."""
    env = dict(os.environ) if env is None else env
    words: list[str] = []
    for source in (env.get("JAVA_TOOL_OPTIONS"), env.get("JDK_JAVA_OPTIONS"), settings.java_opts):
        if source:
            try:
                words += shlex.split(source)
            except ValueError:
                words += source.split()
    return words


def system_properties(words: list[str]) -> dict[str, str]:
    """``-Dkey=value`` options as a dict (later wins, as in the JVM); ``-Dkey`` gives ``""``."""
    props: dict[str, str] = {}
    for word in words:
        if word.startswith("-D") and len(word) > 2:
            key, _, value = word[2:].partition("=")
            props[key] = value
    return props
