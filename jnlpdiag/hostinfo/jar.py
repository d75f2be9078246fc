"""agent.jar: its remoting version and the Java release its classes were compiled for.

* ``META-INF/MANIFEST.MF`` ``Version:`` is what ``java -jar agent.jar -version`` prints (remoting
  ``Util.getVersion``; present since remoting 2.15, pom.xml ``<Version>${project.version}``).
* ``hudson/remoting/hudson-version.properties`` ``version=`` is ``Launcher.VERSION`` (remoting
  ``Launcher.computeVersion``), the version the agent reports to the controller.
* The class-file major version of ``hudson/remoting/Launcher.class`` (the ``Main-Class``) decides
  whether a JVM can start the jar at all: JVMS §4.1, ``u4 magic (0xCAFEBABE), u2 minor_version,
  u2 major_version``; Java SE N reads majors up to 44 + N (JVMS §4.1 table: 52 = 8, 55 = 11,
  61 = 17, 65 = 21, 69 = 25). A newer major fails with ``UnsupportedClassVersionError``.

Remoting commit fa5f12a8447d0f75e6d17d6b451a60c5e33ec09a. Every read is size-capped: a jar is
untrusted input (a zip bomb, an HTML login page saved as agent.jar, a truncated download).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from jnlpdiag.localfile import LocalFileError, check_regular
from jnlpdiag.versions import java_for_class_major

LAUNCHER_CLASS = "hudson/remoting/Launcher.class"
LEGACY_MAIN_CLASS = "hudson/remoting/jnlp/Main.class"
VERSION_PROPERTIES = "hudson/remoting/hudson-version.properties"
MANIFEST = "META-INF/MANIFEST.MF"
MAX_JAR_BYTES = 128 * 1024 * 1024
MAX_TEXT_ENTRY = 64 * 1024
MAX_CLASS_ENTRY = 4 * 1024 * 1024
# remoting's shaded agent.jar has about 1,500 entries. zipfile keeps an object per entry of the
# central directory (a jar of 100,000 entries took 119 MB): the count is read from the end record
# first, and a jar with more entries than this is not opened.
MAX_ENTRIES = 20_000


class JarError(ValueError):
    """Not a readable jar; the message says what it is instead."""


def parse_manifest(text: str) -> dict[str, str]:
    """Main attributes of a manifest (JAR File Specification: 72-byte lines continued by one space)."""
    attrs: dict[str, str] = {}
    last: str | None = None
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line:
            break  # the main section ends at the first blank line
        if line.startswith(" ") and last is not None:
            attrs[last] += line[1:]
            continue
        key, sep, value = line.partition(":")
        if sep:
            last = key.strip()
            attrs[last] = value.strip()
    return attrs


def parse_properties(text: str) -> dict[str, str]:
    """The simple ``key=value`` / ``key: value`` lines of a ``.properties`` file (comments skipped)."""
    props = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#!":
            continue
        for i, ch in enumerate(line):
            if ch in "=:":
                props[line[:i].strip()] = line[i + 1:].strip()
                break
    return props


def class_version(data: bytes) -> tuple[int, int]:
    """(major, minor) from a class file's first 8 bytes."""
    if len(data) < 8 or data[:4] != b"\xca\xfe\xba\xbe":
        raise JarError("not a Java class file (no 0xCAFEBABE magic)")
    return int.from_bytes(data[6:8], "big"), int.from_bytes(data[4:6], "big")


@dataclass
class AgentJar:
    path: str
    size: int
    manifest_version: str | None = None
    main_class: str | None = None
    properties_version: str | None = None
    launcher_class: str | None = None
    class_major: int | None = None
    class_minor: int | None = None

    @property
    def version(self) -> str | None:
        return self.manifest_version or self.properties_version

    @property
    def min_java(self) -> int | None:
        # JVMS §4.1: majors from 49 (Java 5) on are feature + 44; older ones name no feature release.
        return java_for_class_major(self.class_major) if self.class_major is not None and self.class_major >= 49 else None

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if v is not None}
        if self.min_java is not None:
            out["min_java"] = self.min_java
        return out


def _describe_non_zip(head: bytes) -> str:
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<")):
        return "it is an HTML/XML page, not a jar (a login or error page saved as agent.jar?)"
    if not head:
        return "it is empty (an interrupted download?)"
    if head.startswith(b"PK"):
        return "it starts like a zip but is damaged or truncated (an interrupted download?)"
    return f"it is not a zip/jar file (starts with {head[:8]!r})"


def _entry(zf: zipfile.ZipFile, name: str, cap: int) -> bytes | None:
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    if info.file_size > cap:
        raise JarError(f"{name} claims {info.file_size} bytes, more than the {cap} byte cap: refusing to inflate it")
    with zf.open(info) as fh:
        return fh.read(cap + 1)[:cap]


def read_agent_jar(path: str) -> AgentJar:
    """Read an agent.jar file's versions and Launcher class level. Raises OSError or :class:`JarError`."""
    try:
        size = check_regular(path)
    except LocalFileError as exc:
        raise JarError(str(exc)) from None
    if size > MAX_JAR_BYTES:
        raise JarError(f"{size} bytes is far larger than any agent.jar; not read")
    with open(path, "rb") as fh:
        head = fh.read(512)
    return _read(path, head, AgentJar(path, size))


def read_agent_jar_bytes(data: bytes, label: str = "agent.jar") -> AgentJar:
    """The same for a jar held in memory (downloaded from the controller's /jnlpJars/)."""
    if len(data) > MAX_JAR_BYTES:
        raise JarError(f"{len(data)} bytes is far larger than any agent.jar; not read")
    return _read(io.BytesIO(data), data[:512], AgentJar(label, len(data)))


def entry_count(fh: Any) -> int | None:
    """Entries the zip's end record declares (APPNOTE.TXT 4.3.16 end of central directory, 4.3.14-15
    its Zip64 form for more than 65,535 entries); None when there is no end record."""
    fh.seek(0, io.SEEK_END)
    size = fh.tell()
    tail_start = max(0, size - (22 + 65535 + 20))  # the record, the longest comment, the Zip64 locator
    fh.seek(tail_start)
    tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    total = int.from_bytes(tail[at + 10:at + 12], "little")
    if total != 0xFFFF:
        return total
    locator = tail[at - 20:at] if at >= 20 else b""
    if not locator.startswith(b"PK\x06\x07"):
        return total
    fh.seek(int.from_bytes(locator[8:16], "little"))
    record = fh.read(56)
    if not record.startswith(b"PK\x06\x06") or len(record) < 40:
        return None
    return int.from_bytes(record[32:40], "little")


def _read(source: str | io.BytesIO, head: bytes, jar: AgentJar) -> AgentJar:
    try:
        if isinstance(source, str):
            with open(source, "rb") as fh:
                count = entry_count(fh)
        else:
            count = entry_count(source)
            source.seek(0)
    except OSError:
        count = None
    if count is not None and count > MAX_ENTRIES:
        raise JarError(f"it declares {count} entries, more than any agent.jar (remoting's has about 1,500; "
                       f"cap {MAX_ENTRIES}): not read")
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError, OSError):
        raise JarError(_describe_non_zip(head)) from None
    try:
        with zf:
            manifest = _entry(zf, MANIFEST, MAX_TEXT_ENTRY)
            if manifest is not None:
                attrs = parse_manifest(manifest.decode("utf-8", "replace"))
                jar.manifest_version = attrs.get("Version")
                jar.main_class = attrs.get("Main-Class")
            props = _entry(zf, VERSION_PROPERTIES, MAX_TEXT_ENTRY)
            if props is not None:
                version = parse_properties(props.decode("latin-1")).get("version")
                # An unfiltered "${build.version}" means a development build.
                jar.properties_version = version if version and not version.startswith("${") else None
            for name in (LAUNCHER_CLASS, LEGACY_MAIN_CLASS):
                data = _entry(zf, name, MAX_CLASS_ENTRY)
                if data is not None:
                    jar.launcher_class = name
                    jar.class_major, jar.class_minor = class_version(data)
                    break
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError, zlib.error,
            OSError, ValueError) as exc:  # ValueError covers UnicodeDecodeError of a corrupt member name
        raise JarError(f"damaged or truncated jar: {exc}") from None
    return jar
