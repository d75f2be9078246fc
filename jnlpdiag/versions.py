"""Version strings of everything an inbound agent combines, parsed and compared the way Jenkins does.

* :class:`VersionNumber` follows ``hudson.util.VersionNumber`` (jenkinsci/lib-version-number,
  ``src/main/java/hudson/util/VersionNumber.java`` at f5450ecee17b982a40a9aa00f8dc85b74ab51f5c), the
  comparator core uses for Jenkins, remoting and plugin versions (``SlaveComputer``:
  ``agentVersion.isOlderThan(minimum)``; remoting ``Engine``: ``currentVersion.isOlderThan(...)``).
  It is a Maven-style item list: the first numeric item decides, so ``3107.v665000b_51092`` is newer
  than ``4.13`` which is newer than ``3.40``; a backport ``3206.3208.v…`` is newer than ``3206.v…``.
  The port works on UTF-16 code units and Java's character classes so odd input compares exactly
  as in Java.
* Jenkins (weekly ``2.N`` / LTS ``2.N.M``), remoting (``4.13.3`` and ``3107.v665000b_51092``,
  backports ``3206.3208.v…``), kubernetes-plugin (``1.31.3`` and ``4423.vb_59f230b_ce53``),
  ``jenkins/inbound-agent`` image tags (``<remoting>-<build>[-distro][-jdkN]``) and ``java -version``
  output of every vendor.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import total_ordering

__all__ = [
    "VersionError", "VersionNumber", "JenkinsVersion", "RemotingVersion", "PluginVersion", "ImageRef",
    "AgentImageTag", "JavaVersion", "parse_jenkins", "parse_remoting", "parse_kubernetes_plugin",
    "parse_image", "parse_agent_tag", "parse_java_version", "java_for_class_major", "class_major_for_java",
]


class VersionError(ValueError):
    """Input that is not a version of the expected kind; the message says what was expected."""


# --------------------------------------------------------------------------------------------------
# hudson.util.VersionNumber
# --------------------------------------------------------------------------------------------------

_QUALIFIERS = ("snapshot", "alpha", "beta", "milestone", "rc", "", "sp")
_ALIASES = {"ga": "", "final": "", "cr": "rc", "ea": "rc"}
_RELEASE_INDEX = str(_QUALIFIERS.index(""))

_INT, _STR, _LIST, _WILD = 0, 1, 2, 3

# Java's '.' (without DOTALL) does not match these line terminators; Java's \d is ASCII only.
_JAVA_DOT = "[^\n\r\u0085\u2028\u2029]"
_SNAPSHOT = re.compile(rf"^{_JAVA_DOT}*((?:-\d{{8}}\.\d{{6}}-\d+)|-SNAPSHOT)( \({_JAVA_DOT}*\))?$", re.ASCII)


def _jstr_cmp(a: str, b: str) -> int:
    """Java ``String.compareTo``: UTF-16 code unit order (differs from code point order above the BMP)."""
    ka, kb = a.encode("utf-16-be", "surrogatepass"), b.encode("utf-16-be", "surrogatepass")
    return (ka > kb) - (ka < kb)


def _java_is_digit(unit: int) -> bool:
    # Character.isDigit(char): general category Nd. A surrogate half is never a digit.
    return not 0xD800 <= unit <= 0xDFFF and unicodedata.category(chr(unit)) == "Nd"


def _java_is_whitespace(unit: int) -> bool:
    # Character.isWhitespace(char): Zs/Zl/Zp except the non-breaking spaces, plus these controls.
    if unit in (0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F):
        return True
    if unit in (0x00A0, 0x2007, 0x202F) or 0xD800 <= unit <= 0xDFFF:
        return False
    return unicodedata.category(chr(unit)) in ("Zs", "Zl", "Zp")


class _Item:
    kind: int

    def is_null(self) -> bool:
        raise NotImplementedError

    def cmp(self, other: _Item | None) -> int:
        raise NotImplementedError


class _IntItem(_Item):
    kind = _INT
    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value

    def is_null(self) -> bool:
        return self.value == 0

    def cmp(self, other: _Item | None) -> int:
        if other is None:
            return 0 if self.value == 0 else 1  # 1.0 == 1, 1.1 > 1
        if other.kind == _INT:
            ov = other.value  # type: ignore[attr-defined]
            return (self.value > ov) - (self.value < ov)
        if other.kind in (_STR, _LIST):
            return 1  # 1.1 > 1-sp, 1.1 > 1-1
        return 0  # an integer equals a wildcard, as in Java

    def __str__(self) -> str:
        return str(self.value)


def _comparable_qualifier(q: str) -> str:
    return str(_QUALIFIERS.index(q)) if q in _QUALIFIERS else f"{len(_QUALIFIERS)}-{q}"


class _StrItem(_Item):
    kind = _STR
    __slots__ = ("value",)

    def __init__(self, value: str, followed_by_digit: bool) -> None:
        if followed_by_digit and len(value) == 1:
            value = {"a": "alpha", "b": "beta", "m": "milestone"}.get(value, value)
        self.value = _ALIASES.get(value, value)

    def is_null(self) -> bool:
        return _comparable_qualifier(self.value) == _RELEASE_INDEX

    def cmp(self, other: _Item | None) -> int:
        if other is None:
            return _jstr_cmp(_comparable_qualifier(self.value), _RELEASE_INDEX)  # 1-rc < 1, 1-sp > 1
        if other.kind == _STR:
            return _jstr_cmp(_comparable_qualifier(self.value), _comparable_qualifier(other.value))  # type: ignore[attr-defined]
        return -1  # a qualifier is older than a number, a sub-list or a wildcard

    def __str__(self) -> str:
        return self.value


class _WildItem(_Item):
    kind = _WILD

    def is_null(self) -> bool:
        return False

    def cmp(self, other: _Item | None) -> int:
        return 0 if other is not None and other.kind == _WILD else 1

    def __str__(self) -> str:
        return "*"


class _ListItem(_Item):
    kind = _LIST
    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[_Item] = []

    def is_null(self) -> bool:
        return not self.items

    def normalize(self) -> None:
        while self.items and self.items[-1].is_null():
            self.items.pop()  # trailing 0, "", empty lists carry no meaning

    def cmp(self, other: _Item | None) -> int:
        if other is None:
            return self.items[0].cmp(None) if self.items else 0
        if other.kind == _INT:
            return -1  # 1-1 < 1.0.x
        if other.kind == _STR:
            return 1  # 1-1 > 1-sp
        if other.kind == _WILD:
            return -1
        left, right = self.items, other.items  # type: ignore[attr-defined]
        for i in range(max(len(left), len(right))):
            lhs = left[i] if i < len(left) else None
            rhs = right[i] if i < len(right) else None
            if lhs is None:
                result = 0 if rhs is None else -rhs.cmp(None)
            else:
                result = lhs.cmp(rhs)
            if result:
                return result
        return 0

    def __str__(self) -> str:
        return "(" + ",".join(str(i) for i in self.items) + ")"


def _parse_item(is_digit: bool, text: str) -> _Item:
    return _IntItem(int(text)) if is_digit else _StrItem(text, False)


@total_ordering
class VersionNumber:
    """``hudson.util.VersionNumber``: parse once, compare with ``<``/``>``; ``==`` is Java ``equals``."""

    __slots__ = ("value", "snapshot", "_items", "canonical")

    def __init__(self, version: str) -> None:
        self.value = version
        self.snapshot: str | None = None
        m = _SNAPSHOT.match(version)
        if m:
            self.snapshot = m.group(1)
            version = version[: m.start(1)] + "-SNAPSHOT"
        version = version.lower()
        # Walk UTF-16 code units, as Java's charAt() does.
        raw = version.encode("utf-16-le", "surrogatepass")
        units = [int.from_bytes(raw[i : i + 2], "little") for i in range(0, len(raw), 2)]

        def sub(a: int, b: int | None = None) -> str:
            return raw[2 * a : None if b is None else 2 * b].decode("utf-16-le", "surrogatepass")

        root = _ListItem()
        current = root
        stack = [root]
        is_digit = False
        start = 0
        for i, u in enumerate(units):
            if u == 0x2E or u == 0x2D:  # '.' or '-'
                current.items.append(_IntItem(0) if i == start else _parse_item(is_digit, sub(start, i)))
                start = i + 1
                if u == 0x2D and is_digit:
                    current.normalize()  # 1.0-* = 1-*
                    if i + 1 < len(units) and _java_is_digit(units[i + 1]):
                        # Only "digits-digit" opens a sub-list: it tells 1.1 from 1-1.
                        sublist = _ListItem()
                        current.items.append(sublist)
                        current = sublist
                        stack.append(sublist)
            elif u == 0x2A:  # '*': pending characters are dropped, as in Java
                current.items.append(_WildItem())
                start = i + 1
            elif _java_is_digit(u):
                if not is_digit and i > start:
                    current.items.append(_StrItem(sub(start, i), True))
                    start = i
                is_digit = True
            elif _java_is_whitespace(u):
                if i > start:
                    text = sub(start, i)
                    current.items.append(_parse_item(True, text) if is_digit else _StrItem(text, True))
                    start = i
                is_digit = False
            else:
                if is_digit and i > start:
                    current.items.append(_parse_item(True, sub(start, i)))
                    start = i
                is_digit = False
        if len(units) > start:
            current.items.append(_parse_item(is_digit, sub(start)))
        while stack:
            stack.pop().normalize()
        self._items = root
        self.canonical = str(root)

    def compare(self, other: VersionNumber) -> int:
        """Java ``compareTo``: negative, zero or positive."""
        result = self._items.cmp(other._items)
        if result:
            return result
        if self.snapshot is None:
            return 0 if other.snapshot is None else -1
        if other.snapshot is None:
            return 1
        if self.snapshot == "-SNAPSHOT" or other.snapshot == "-SNAPSHOT":
            return 0  # a literal snapshot cannot be compared with a timestamped one
        result = (self.snapshot[1:16] > other.snapshot[1:16]) - (self.snapshot[1:16] < other.snapshot[1:16])
        if result:
            return result
        a, b = int(self.snapshot[17:]), int(other.snapshot[17:])
        return (a > b) - (a < b)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, VersionNumber):
            return NotImplemented
        return self.compare(other) < 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VersionNumber):
            return NotImplemented
        if self.canonical != other.canonical:
            return False
        if self.snapshot is None:
            return other.snapshot is None
        if self.snapshot == "-SNAPSHOT" or other.snapshot == "-SNAPSHOT":
            return True
        return self.snapshot == other.snapshot

    def __hash__(self) -> int:
        return hash(self.canonical)

    def is_older_than(self, other: VersionNumber) -> bool:
        return self.compare(other) < 0

    def is_newer_than(self, other: VersionNumber) -> bool:
        return self.compare(other) > 0

    def digit_at(self, idx: int) -> int:
        """``getDigitAt``: the idx-th leading numeric item, -1 past the first non-numeric one."""
        if idx < 0:
            return -1
        count = 0
        item: _Item | None = None
        items = iter(self._items.items)
        while count <= idx:
            item = next(items, None)
            if item is None:
                break
            if item.kind != _INT:
                return -1
            count += 1
        if idx - count >= 0 or item is None:
            return -1
        value = item.value  # type: ignore[attr-defined]
        return ((value + 2**31) % 2**32) - 2**31  # BigInteger.intValue() keeps the low 32 bits

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"VersionNumber({self.value!r})"


# --------------------------------------------------------------------------------------------------
# Jenkins, remoting, kubernetes-plugin
# --------------------------------------------------------------------------------------------------

def _clean(text: str, what: str) -> str:
    if not isinstance(text, str):
        raise VersionError(f"{what}: expected a string, not {type(text).__name__}")
    value = text.strip()
    if not value:
        raise VersionError(f"{what}: empty version")
    if len(value) > 200:
        raise VersionError(f"{what}: {len(value)} characters is too long for a version")
    if not value.isprintable():
        raise VersionError(f"{what}: {value[:40]!r} contains control characters")
    return value


@dataclass(frozen=True)
class _Versioned:
    raw: str
    number: VersionNumber = field(compare=False)

    def __str__(self) -> str:
        return self.raw


# Weekly 2.N, LTS 2.N.M (branched from weekly 2.N); dev builds "2.480-SNAPSHOT (private-…)", "-rc…".
_JENKINS = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:-[A-Za-z0-9.+_-]*)?(?: \(.*\))?$")


@dataclass(frozen=True)
class JenkinsVersion(_Versioned):
    kind: str = "weekly"  # weekly | lts | snapshot
    line: str | None = None  # "2.479" for 2.479.3 (and for weekly 2.479 itself)


def parse_jenkins(text: str) -> JenkinsVersion:
    value = _clean(text, "Jenkins version")
    m = _JENKINS.match(value)
    if not m:
        raise VersionError(f"{value[:60]!r} is not a Jenkins version: expected a weekly 2.N or an LTS 2.N.M, "
                           "e.g. 2.479.3")
    kind = "snapshot" if "-" in value or " " in value else ("lts" if m.group(3) else "weekly")
    return JenkinsVersion(value, VersionNumber(value), kind, f"{m.group(1)}.{m.group(2)}")


# Remoting: legacy 2.x/3.x/4.x (tags remoting-X), CD <build>.v<hash> since 3020.vcc32c3b_cc767 (2022-05),
# backports <base>.<build>.v<hash>. A 3.x legacy version is never a 3xxx CD build.
_REMOTING_CD = re.compile(r"^(\d{4,})(?:\.(\d{4,}))?\.v([0-9a-f_]+)(-SNAPSHOT)?$")
_REMOTING_LEGACY = re.compile(
    r"^([1-4])\.(\d{1,3})(?:\.(\d{1,3}))?(?:\.(\d{1,3}))?(-(?:beta|alpha|rc)-?\d*|-SNAPSHOT)?$")


@dataclass(frozen=True)
class RemotingVersion(_Versioned):
    scheme: str = "legacy"  # legacy | cd | cd-backport
    build: int | None = None  # CD build number (3107 in 3107.v665000b_51092; 3208 in 3206.3208.v…)
    base: int | None = None  # first number (3206 in 3206.3208.v…)


def parse_remoting(text: str) -> RemotingVersion:
    value = _clean(text, "remoting version")
    for prefix in ("remoting-", "remoting "):
        if value.lower().startswith(prefix):
            value = value[len(prefix):]
    m = _REMOTING_CD.match(value)
    if m:
        backport = m.group(2) is not None
        build = int(m.group(2) or m.group(1))
        return RemotingVersion(value, VersionNumber(value), "cd-backport" if backport else "cd", build, int(m.group(1)))
    m = _REMOTING_LEGACY.match(value)
    if m:
        return RemotingVersion(value, VersionNumber(value), "legacy", None, int(m.group(1)))
    raise VersionError(
        f"{value[:60]!r} is not a remoting (agent.jar) version: expected 4.13.3 (until 2022) "
        "or 3107.v665000b_51092 / a backport like 3206.3208.v409508a_675ff"
    )


# kubernetes-plugin: 0.x, 1.0 … 1.31.3 (tags kubernetes-X, last 2022-01-11), then CD NNNN.v<hash>
# (first 3538.v6b_005a_ddced1) and backports NNNN.MMMM.v<hash>. There is no 2.x/3.x/4.x.
_K8S_LEGACY = re.compile(r"^([01])\.(\d{1,3})(?:\.(\d{1,3}))?(?:\.(\d{1,3}))?$")
_K8S_CD = re.compile(r"^(\d{4,})(?:\.(\d{4,}))?\.v([0-9a-f_]+)$")


@dataclass(frozen=True)
class PluginVersion(_Versioned):
    scheme: str = "legacy"  # legacy | cd | cd-backport


def parse_kubernetes_plugin(text: str) -> PluginVersion:
    value = _clean(text, "kubernetes-plugin version")
    for prefix in ("kubernetes:", "kubernetes@", "kubernetes-"):
        if value.lower().startswith(prefix):
            value = value[len(prefix):]
    m = _K8S_CD.match(value)
    if m:
        return PluginVersion(value, VersionNumber(value), "cd-backport" if m.group(2) else "cd")
    if _K8S_LEGACY.match(value):
        return PluginVersion(value, VersionNumber(value), "legacy")
    hint = (" (kubernetes-plugin has no 2.x-4.x semantic versions; after 1.31.3 came 3538.v6b_005a_ddced1)"
            if re.match(r"^[2-9]\.\d", value) else "")
    raise VersionError(
        f"{value[:60]!r} is not a kubernetes-plugin version: expected 1.31.3 or 4423.vb_59f230b_ce53{hint}"
    )


# --------------------------------------------------------------------------------------------------
# Container images: jenkins/inbound-agent (formerly jenkins/jnlp-slave, jenkinsci/jnlp-slave)
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImageRef:
    raw: str
    registry: str | None
    repository: str  # "jenkins/inbound-agent"
    tag: str  # "latest" when none is given
    digest: str | None

    @property
    def name(self) -> str:
        """Last path component: inbound-agent, jnlp-slave, agent, ..."""
        return self.repository.rsplit("/", 1)[-1]


_IMAGE_PART = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_REGISTRY = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                       r"|\[[0-9A-Fa-f:]+\])(?::\d{1,5})?$")


def parse_image(text: str) -> ImageRef:
    """Docker reference grammar: ``[registry/]path[:tag][@digest]``. A bare word is a tag of inbound-agent."""
    value = _clean(text, "agent image")
    digest = None
    if "@" in value:
        value, _, digest = value.partition("@")
        if not re.match(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}$", digest):
            raise VersionError(f"{text[:80]!r}: {digest[:40]!r} is not an image digest (sha256:<hex>)")
    if "/" not in value and ":" not in value:
        # --agent-image TAG: a tag of jenkins/inbound-agent
        if not _TAG.match(value):
            raise VersionError(f"{text[:80]!r} is neither an image reference nor an image tag")
        return ImageRef(text.strip(), None, "jenkins/inbound-agent", value, digest)
    path, tag = value, "latest"
    last = value.rsplit("/", 1)[-1]
    if ":" in last:
        path, _, tag = value.rpartition(":")
    parts = path.split("/")
    registry = None
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry = parts.pop(0)
        if not _REGISTRY.match(registry):
            raise VersionError(f"{text[:80]!r}: {registry[:40]!r} is not a registry host[:port]")
    if not parts or not all(_IMAGE_PART.match(p) for p in parts) or not _TAG.match(tag):
        raise VersionError(f"{text[:80]!r} is not an image reference like "
                           "jenkins/inbound-agent:3355.v388858a_47b_33-3-jdk21")
    hub = registry in ("docker.io", "index.docker.io", "registry-1.docker.io")
    if hub and len(parts) == 2 and parts[0] == "library":
        parts = parts[1:]
    return ImageRef(text.strip(), registry, "/".join(parts), tag, digest)


@dataclass(frozen=True)
class AgentImageTag:
    tag: str
    remoting: RemotingVersion | None = None  # None for floating tags (latest, jdk21, alpine…)
    build: int | None = None  # image build number after the remoting version
    jdk: int | None = None  # from -jdkN; None = the image's default JDK when the tag was built
    preview: bool = False  # -jdkN-preview
    distro: str | None = None  # alpine, trixie, rhel-ubi9, windowsservercore-ltsc2022, …
    floating: bool = False
    unknown: tuple[str, ...] = ()  # tag words not understood


_DEBIAN = ("bookworm", "bullseye", "buster", "stretch", "trixie", "debian")
_WINDOWS = ("windowsservercore", "nanoserver")
# <remoting>-<build>[-…]: legacy "4.3-4", "3.35-5-alpine"; CD "3355.v388858a_47b_33-3-jdk21", backports.
_TAG_HEAD = re.compile(r"^(\d+(?:\.\d+)*(?:\.v[0-9a-f_]+)?)-(\d+)(?:-(.*))?$")


def parse_agent_tag(tag: str) -> AgentImageTag:
    """Tag scheme of docker-agents ``docker-bake.hcl`` (``linux_tags`` / ``windows_tags``) and the older
    docker-inbound-agent Dockerfiles (``4.3-4``, ``4.3-4-jdk11``, ``4.3-4-alpine``)."""
    tag = _clean(tag, "image tag")
    remoting: RemotingVersion | None = None
    build: int | None = None
    rest = tag
    m = _TAG_HEAD.match(tag)
    if m:
        try:
            remoting = parse_remoting(m.group(1))
            build = int(m.group(2))
            rest = m.group(3) or ""
        except VersionError:
            remoting = None
    words = [w for w in rest.split("-") if w] if rest else []
    jdk = None
    preview = False
    distro = None
    unknown: list[str] = []
    i = 0
    while i < len(words):
        w = words[i].lower()
        nxt = words[i + 1].lower() if i + 1 < len(words) else ""
        jm = re.fullmatch(r"jdk(\d{1,2})", w)
        if jm:
            jdk = int(jm.group(1))
            if nxt == "preview":
                preview = True
                i += 1
        elif w == "latest" and remoting is None:
            pass
        elif w.startswith("alpine") and re.fullmatch(r"alpine(\d+(\.\d+)*)?", w):
            distro = "alpine"
        elif w in _DEBIAN:
            distro = w
        elif w == "rhel" and nxt.startswith("ubi"):
            distro = f"rhel-{nxt}"
            i += 1
        elif w in _WINDOWS:
            distro = f"{w}-{nxt}" if nxt else w
            i += 1 if nxt else 0
        elif w in ("archlinux", "centos7", "centos"):
            distro = w
        else:
            unknown.append(words[i])
        i += 1
    return AgentImageTag(tag, remoting, build, jdk, preview, distro, remoting is None, tuple(unknown))


# --------------------------------------------------------------------------------------------------
# Java
# --------------------------------------------------------------------------------------------------

CLASS_MAJOR_OFFSET = 44  # class file major = Java feature + 44 (52 = 8, 55 = 11, 61 = 17, 65 = 21, 69 = 25)


def java_for_class_major(major: int) -> int:
    return major - CLASS_MAJOR_OFFSET


def class_major_for_java(feature: int) -> int:
    return feature + CLASS_MAJOR_OFFSET


@dataclass(frozen=True)
class JavaVersion:
    raw: str  # the version string: "1.8.0_292", "17.0.15+6", "21", "26-ea"
    feature: int
    interim: int = 0
    update: int = 0
    patch: int = 0
    build: int | None = None
    pre: str | None = None  # "ea", "internal", …
    vendor: str | None = None
    legacy: bool = False  # 1.x scheme (Java 8 and older)

    @property
    def class_major(self) -> int:
        return class_major_for_java(self.feature)

    def __str__(self) -> str:
        return self.raw


# Vendor markers in `java -version` (the lines after the version line); first match wins.
_VENDORS = (
    ("Temurin", "Eclipse Temurin"), ("AdoptOpenJDK", "AdoptOpenJDK"), ("Zulu", "Azul Zulu"),
    ("Corretto", "Amazon Corretto"), ("Microsoft", "Microsoft Build of OpenJDK"), ("SapMachine", "SapMachine"),
    ("Semeru", "IBM Semeru"), ("OpenJ9", "Eclipse OpenJ9"), ("IBM J9", "IBM J9"), ("GraalVM", "GraalVM"),
    ("BellSoft", "BellSoft Liberica"), ("Liberica", "BellSoft Liberica"), ("Dragonwell", "Alibaba Dragonwell"),
    ("JetBrains", "JetBrains Runtime"), ("Red_Hat", "Red Hat"), ("redhat", "Red Hat"), ("Debian", "Debian"),
    ("Ubuntu", "Ubuntu"), ("Homebrew", "Homebrew"), ("Java(TM) SE", "Oracle"), ("OpenJDK", "OpenJDK"),
)

# JEP 223: $FEATURE(.$INTERIM(.$UPDATE(.$PATCH(...))))(-$PRE)(+$BUILD)(-$OPT)
_JEP223 = re.compile(r"^(\d{1,3})((?:\.\d+)*)(?:-([A-Za-z0-9]+))?(?:\+(\d+))?(?:-[-A-Za-z0-9.]+)?")
# Java 8 and older: 1.$MAJOR.$MINOR(_$UPDATE)(-$PRE)(-b$BUILD)
_LEGACY_JAVA = re.compile(r"^1\.(\d{1,2})(?:\.(\d+))?(?:_(\d+))?(?:-(?!b\d)([A-Za-z][A-Za-z0-9]*))?(?:-b(\d+))?")


def parse_java_version(text: str) -> JavaVersion:
    """``java -version`` output (any vendor, with or without "Picked up …" lines) or a bare version."""
    if not isinstance(text, str):
        raise VersionError("Java version: expected a string")
    body = text.strip()
    if not body:
        raise VersionError("Java version: empty")
    if len(body) > 8192:
        body = body[:8192]
    m = re.search(r'version "([^"\n]{1,80})"', body)
    if m:
        vstr = m.group(1).strip()
    else:
        first = body.split()[0]
        for prefix in ("jdk-", "jdk", "java-", "java", "openjdk-"):
            if first.lower().startswith(prefix) and first[len(prefix):][:1].isdigit():
                first = first[len(prefix):]
                break
        vstr = first
    vendor = None
    described = "\n".join(line for line in body.splitlines() if not line.startswith("Picked up ")).lower()
    for marker, name in _VENDORS:
        if marker.lower() in described:
            vendor = name
            break
    build_m = re.search(r"\(build [^)]*?\+(\d+)", body)
    lm = _LEGACY_JAVA.match(vstr)
    if lm:
        feature = int(lm.group(1))
        if not 1 <= feature <= 8:
            raise VersionError(f"{vstr!r}: the 1.x scheme ended with Java 8 (1.8.0_xxx)")
        build = int(lm.group(5)) if lm.group(5) else None
        return JavaVersion(vstr, feature, 0, int(lm.group(3) or 0), 0, build, (lm.group(4) or None), vendor, True)
    jm = _JEP223.match(vstr)
    if jm and vstr[:1].isdigit():
        feature = int(jm.group(1))
        if feature < 1 or (feature == 1 and not jm.group(2)):
            raise VersionError(f"{vstr!r} is not a Java version")
        if not 5 <= feature <= 99:
            raise VersionError(f"{vstr!r}: Java {feature} does not exist")
        nums = [int(x) for x in jm.group(2).split(".") if x] + [0, 0, 0]
        build = int(jm.group(4)) if jm.group(4) else (int(build_m.group(1)) if build_m else None)
        return JavaVersion(vstr, feature, nums[0], nums[1], nums[2], build, jm.group(3), vendor, False)
    raise VersionError(
        f"{vstr[:60]!r} is not a Java version: expected `java -version` output or 1.8.0_292, 11.0.11, 17.0.15+6, 21"
    )
