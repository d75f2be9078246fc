"""What an agent.jar is: its remoting version (manifest ``Version``) and the Java it needs.

remoting's ``pom.xml`` writes ``Version: ${project.version}`` into the shaded jar's manifest (since
remoting 2.15) with ``Main-Class: hudson.remoting.Launcher``. The JVM loads ``hudson/remoting/Launcher``
first, so that class file's major version is exactly the Java the jar needs: a lower JVM fails with
``UnsupportedClassVersionError: hudson/remoting/Launcher``. Reading both from the bytes needs no JVM,
works on a jar downloaded into memory, and is right for remoting releases newer than any table.

The reading itself (size caps, manifest, class-file header) is :mod:`jnlpdiag.hostinfo.jar`, shared
with the host.java probe; this module turns its answers and errors into data for the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jnlpdiag.hostinfo import jar as _jar
from jnlpdiag.versions import java_for_class_major

MAX_JAR_FILE = 64 * 1024 * 1024  # a local file larger than this is not an agent.jar (remoting is ~1.5 MB)


@dataclass
class AgentJarInfo:
    """The compatibility engine's view of an agent.jar; errors are data (a reason), not exceptions."""

    version: str | None = None  # manifest Version (else hudson-version.properties)
    main_class: str | None = None
    class_major: int | None = None  # of hudson/remoting/Launcher.class
    java: int | None = None  # Java feature release that class file needs
    size: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"version": self.version, "main_class": self.main_class, "class_major": self.class_major,
                "java": self.java, "size": self.size, "error": self.error}


def parse_manifest(data: bytes) -> dict[str, str]:
    """Main section of a JAR manifest (the one reader lives in :mod:`jnlpdiag.hostinfo.jar`)."""
    return _jar.parse_manifest(data.decode("utf-8", "replace"))


def _info(jar: _jar.AgentJar) -> AgentJarInfo:
    info = AgentJarInfo(version=jar.version, main_class=jar.main_class, class_major=jar.class_major,
                        java=java_for_class_major(jar.class_major) if jar.class_major is not None else None,
                        size=jar.size)
    if info.version is None and info.class_major is None:
        info.error = ("a zip archive, but neither a manifest Version nor hudson/remoting/Launcher.class: "
                      "not agent.jar")
    return info


def agent_jar_info(data: bytes) -> AgentJarInfo:
    """Read a jar held in memory; a hostile body (login page, zip bomb, truncated) gives ``error``."""
    try:
        return _info(_jar.read_agent_jar_bytes(data))
    except _jar.JarError as exc:
        return AgentJarInfo(size=len(data), error=str(exc))


def agent_jar_info_file(path: str | Path) -> AgentJarInfo:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_JAR_FILE:
            return AgentJarInfo(size=size, error=f"{p} is {size} bytes, too large for an agent.jar")
        return _info(_jar.read_agent_jar(str(p)))
    except OSError as exc:
        return AgentJarInfo(error=f"cannot read {p}: {exc.strerror or exc}")
    except _jar.JarError as exc:
        return AgentJarInfo(size=size, error=str(exc))
