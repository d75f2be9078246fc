"""What an agent.jar is: its remoting version (manifest ``Version``) and the Java it needs.

remoting's ``pom.xml`` writes ``Version: ${project.version}`` into the shaded jar's manifest (since
remoting 2.15) with ``Main-Class: hudson.remoting.Launcher``. The JVM loads ``hudson/remoting/Launcher``
first, so that class file's major version is exactly the Java the jar needs: a lower JVM fails with
``UnsupportedClassVersionError: hudson/remoting/Launcher``. Reading both from the bytes needs no JVM,
works on a jar downloaded into memory, and is right for remoting releases newer than any table.

Only two small members are ever decompressed, each with a size cap, so a hostile "jar" (zip bomb,
HTML login page, truncated download) gives a clear error instead of eating memory.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from jnlpdiag.versions import java_for_class_major

MANIFEST = "META-INF/MANIFEST.MF"
LAUNCHER_CLASS = "hudson/remoting/Launcher.class"
MAX_MANIFEST = 256 * 1024
MAX_JAR_FILE = 64 * 1024 * 1024  # a local file larger than this is not an agent.jar (remoting is ~1.5 MB)


@dataclass
class AgentJarInfo:
    version: str | None = None  # manifest Version
    main_class: str | None = None
    class_major: int | None = None  # of hudson/remoting/Launcher.class
    java: int | None = None  # Java feature release that class file needs
    size: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"version": self.version, "main_class": self.main_class, "class_major": self.class_major,
                "java": self.java, "size": self.size, "error": self.error}


def parse_manifest(data: bytes) -> dict[str, str]:
    """Main section of a JAR manifest: ``Name: value`` lines, continuation lines start with one space."""
    text = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    attrs: dict[str, str] = {}
    last: str | None = None
    for line in text.split("\n"):
        if not line:
            break  # end of the main section
        if line.startswith(" ") and last is not None:
            attrs[last] += line[1:]
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue
        last = name.strip()
        attrs[last] = value[1:] if value.startswith(" ") else value
    return attrs


def _describe_bytes(data: bytes) -> str:
    head = data[:64].lstrip()
    if head[:1] == b"<":
        return "an HTML/XML page, not a jar (a login page or proxy error?)"
    if not data:
        return "an empty body"
    return f"not a zip archive (starts with {data[:8]!r})"


def read_agent_jar(data: bytes) -> AgentJarInfo:
    info = AgentJarInfo(size=len(data))
    if data[:4] != b"PK\x03\x04":
        info.error = _describe_bytes(data)
        return info
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if MANIFEST in names:
                member = zf.getinfo(MANIFEST)
                if member.file_size > MAX_MANIFEST:
                    info.error = f"its manifest claims {member.file_size} bytes; refusing to inflate it"
                    return info
                with zf.open(member) as fh:
                    attrs = parse_manifest(fh.read(MAX_MANIFEST))
                info.version = attrs.get("Version") or attrs.get("Implementation-Version")
                info.main_class = attrs.get("Main-Class")
            if LAUNCHER_CLASS in names:
                with zf.open(LAUNCHER_CLASS) as fh:
                    head = fh.read(8)
                if len(head) == 8 and head[:4] == b"\xca\xfe\xba\xbe":
                    info.class_major = int.from_bytes(head[6:8], "big")
                    info.java = java_for_class_major(info.class_major)
            elif info.version is None:
                info.error = ("a zip archive, but neither a manifest Version nor hudson/remoting/Launcher.class: "
                              "not agent.jar")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        info.error = f"a damaged or truncated jar ({exc})"
    return info


def read_agent_jar_file(path: str | Path) -> AgentJarInfo:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_JAR_FILE:
            return AgentJarInfo(size=size, error=f"{p} is {size} bytes, too large for an agent.jar")
        data = p.read_bytes()
    except OSError as exc:
        return AgentJarInfo(error=f"cannot read {p}: {exc.strerror or exc}")
    return read_agent_jar(data)
