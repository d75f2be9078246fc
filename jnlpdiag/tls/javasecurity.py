"""A JVM's security properties (``java.security`` and its overrides) and algorithm constraints.

Sources (OpenJDK, read, not copied):

* ``java.util.Properties.load`` -- the file format (continuations, ``#``/``!`` comments, escapes);
* ``java.security.Security`` -- the master file ``<java.home>/conf/security/java.security``
  (``lib/security`` on Java 8), the ``include`` directive (JDK 24+), and
  ``-Djava.security.properties=<file>`` (adds/overrides) or ``==<file>`` (replaces), honoured only
  when ``security.overridePropertiesFile=true``;
* ``sun.security.util.DisabledAlgorithmConstraints`` / ``AbstractAlgorithmConstraints`` -- entries
  ``ALG [keySize OP N] [& jdkCA] [& denyAfter DATE] [& usage U...]``, ``include <property>``,
  case-insensitive names, and ``TLS_*`` wildcards (JDK 24+);
* ``sun.security.ssl.SSLAlgorithmDecomposer`` and ``sun.security.util.AlgorithmDecomposer`` -- the
  components of a cipher suite or signature algorithm a constraint can name.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from jnlpdiag.localfile import LocalFileError, read_regular

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    current: str | None = None
    # java.util.Properties.load ends lines at \n, \r or \r\n only (str.splitlines also splits at \f, \v, ...).
    for raw in re.split(r"\r\n|\r|\n", text):
        line = raw.lstrip(" \t\f") if current is not None else raw.lstrip(" \t\f")
        if current is None and (not line or line[0] in "#!"):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        continued = trailing % 2 == 1
        body = line[:-1] if continued else line
        current = body if current is None else current + body
        if not continued:
            lines.append(current)
            current = None
    if current is not None:
        lines.append(current)
    return lines


def parse_properties(text: str) -> list[tuple[str, str]]:
    """``java.util.Properties`` entries in file order (a later key overrides an earlier one)."""
    out: list[tuple[str, str]] = []
    for line in _logical_lines(text):
        i = 0
        key_chars: list[str] = []
        while i < len(line):
            ch = line[i]
            if ch == "\\" and i + 1 < len(line):
                key_chars.append(line[i : i + 2])
                i += 2
                continue
            if ch in "=: \t\f":
                break
            key_chars.append(ch)
            i += 1
        while i < len(line) and line[i] in " \t\f":
            i += 1
        if i < len(line) and line[i] in "=:":
            i += 1
            while i < len(line) and line[i] in " \t\f":
                i += 1
        out.append((_unescape("".join(key_chars)), _unescape(line[i:])))
    return out


def _expand(value: str, sysprops: dict[str, str]) -> str:
    return re.sub(r"\$\{([^}]+)\}", lambda m: sysprops.get(m.group(1), m.group(0)), value)


def _path_of(value: str) -> str:
    if value.startswith("file:"):
        parts = urlsplit(value)
        return unquote(parts.path)
    return value


@dataclass
class SecurityProperties:
    props: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # every file read, in order
    notes: list[str] = field(default_factory=list)  # what could not be read, and why

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.props.get(key, default)


def master_file(java_home: str) -> Path | None:
    for rel in ("conf/security/java.security", "lib/security/java.security", "jre/lib/security/java.security"):
        path = Path(java_home) / rel
        if path.is_file():
            return path
    return None


_MAX_SECURITY_FILE = 1024 * 1024  # java.security is ~60 KB


def _load_file(path: Path, into: SecurityProperties, sysprops: dict[str, str], depth: int = 0) -> None:
    try:
        text = read_regular(path, _MAX_SECURITY_FILE).decode("latin-1")
    except LocalFileError as exc:
        into.notes.append(str(exc))
        return
    except OSError as exc:
        into.notes.append(f"cannot read {path}: {exc.strerror or exc}")
        return
    into.files.append(str(path))
    for key, value in parse_properties(text):
        if key == "include" and depth < 8:
            target = Path(_path_of(_expand(value.strip(), sysprops)))
            if not target.is_absolute():
                target = path.parent / target
            _load_file(target, into, sysprops, depth + 1)
        else:
            into.props[key] = value


def load_security_properties(java_home: str, sysprops: dict[str, str]) -> SecurityProperties:
    """The security properties the JVM will use, given its ``-D`` system properties."""
    out = SecurityProperties()
    expand_props = {"java.home": java_home, **sysprops}
    master = master_file(java_home)
    override = sysprops.get("java.security.properties")
    replace = override is not None and override.startswith("=")
    if master is None:
        out.notes.append(f"no java.security under {java_home}")
    elif not replace:
        _load_file(master, out, expand_props)
    if override is not None:
        # Security.initialize: the override is honoured only if the master file allows it.
        allowed = out.props.get("security.overridePropertiesFile", "true" if replace else "false").strip() == "true"
        if replace and master is not None:
            probe = SecurityProperties()
            _load_file(master, probe, expand_props)
            allowed = probe.props.get("security.overridePropertiesFile", "false").strip() == "true"
        target = Path(_path_of(_expand(override.lstrip("="), expand_props)))
        if allowed:
            _load_file(target, out, expand_props)
        else:
            out.notes.append(f"-Djava.security.properties={override} is ignored: security.overridePropertiesFile is not true")
        if replace and not allowed and master is not None:
            _load_file(master, out, expand_props)
    return out


# --- algorithm constraints -----------------------------------------------------------------------


@dataclass(frozen=True)
class Constraint:
    algorithm: str
    key_size: tuple[str, int] | None = None  # (operator, bits): disabled when bits OP n
    jdk_ca: bool = False
    deny_after: dt.date | None = None
    usage: tuple[str, ...] = ()
    text: str = ""

    @property
    def unconditional(self) -> bool:
        return self.key_size is None and not self.jdk_ca and self.deny_after is None and not self.usage

    def names(self, name: str) -> bool:
        alg = self.algorithm
        if "*" in alg:
            return fnmatch.fnmatchcase(name.upper(), alg.upper())
        return alg.lower() == name.lower()


_KEYSIZE = re.compile(r"keySize\s*(<=|>=|==|!=|<|>)\s*(\d+)", re.IGNORECASE)


def parse_constraints(value: str | None, props: dict[str, str], _depth: int = 0) -> list[Constraint]:
    if not value:
        return []
    out: list[Constraint] = []
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue
        if entry.lower().startswith("include ") and _depth < 4:
            out += parse_constraints(props.get(entry.split(None, 1)[1].strip()), props, _depth + 1)
            continue
        alg, _, rest = entry.partition(" ")
        key_size = None
        jdk_ca = False
        deny_after = None
        usage: tuple[str, ...] = ()
        for cond in (c.strip() for c in rest.split("&")) if rest.strip() else ():
            m = _KEYSIZE.fullmatch(cond)
            if m:
                key_size = (m.group(1), int(m.group(2)))
            elif cond == "jdkCA":
                jdk_ca = True
            elif cond.startswith("denyAfter"):
                try:
                    deny_after = dt.date.fromisoformat(cond.split(None, 1)[1].strip())
                except (IndexError, ValueError):
                    pass
            elif cond.startswith("usage"):
                usage = tuple(cond.split()[1:])
        out.append(Constraint(alg, key_size, jdk_ca, deny_after, usage, entry))
    return out


def _compare(bits: int, op: str, n: int) -> bool:
    return {"<": bits < n, "<=": bits <= n, ">": bits > n, ">=": bits >= n, "==": bits == n, "!=": bits != n}[op]


def key_disabled(constraints: list[Constraint], key_alg: str, bits: int | None) -> Constraint | None:
    """The ``ALG keySize OP N`` entry that disables this key, if any."""
    if bits is None:
        return None
    for c in constraints:
        if c.key_size and c.algorithm.lower() == key_alg.lower() and not c.usage and _compare(bits, *c.key_size):
            return c
    return None


# Cipher-suite components, as SSLAlgorithmDecomposer names them.
_KX = {
    "RSA": {"RSA"},
    "RSA_EXPORT": {"RSA", "RSA_EXPORT"},
    "DH_RSA": {"RSA", "DH", "DiffieHellman", "DH_RSA"},
    "DH_DSS": {"DSA", "DSS", "DH", "DiffieHellman", "DH_DSS"},
    "DHE_DSS": {"DSA", "DSS", "DH", "DHE", "DiffieHellman", "DHE_DSS"},
    "DHE_RSA": {"RSA", "DH", "DHE", "DiffieHellman", "DHE_RSA"},
    "DH_anon": {"ANON", "DH", "DiffieHellman", "DH_ANON"},
    "ECDH_ECDSA": {"ECDH", "ECDSA", "ECDH_ECDSA"},
    "ECDH_RSA": {"ECDH", "RSA", "ECDH_RSA"},
    "ECDHE_ECDSA": {"ECDHE", "ECDSA", "ECDHE_ECDSA"},
    "ECDHE_RSA": {"ECDHE", "RSA", "ECDHE_RSA"},
    "ECDH_anon": {"ECDH", "ANON", "ECDH_ANON"},
    "NULL": {"K_NULL"},
}
# The bulk cipher's own name plus the parts of its JCA transformation ("AES/GCM/NoPadding").
_BULK = {
    "NULL": {"C_NULL", "NULL"},
    "RC4_128": {"RC4_128", "RC4"},
    "RC4_40": {"RC4_40", "RC4"},
    "DES_CBC": {"DES_CBC", "DES", "CBC", "NoPadding"},
    "DES40_CBC": {"DES40_CBC", "DES_CBC_40", "DES", "CBC", "NoPadding"},
    "3DES_EDE_CBC": {"3DES_EDE_CBC", "DESede", "CBC", "NoPadding"},
    "AES_128_CBC": {"AES_128_CBC", "AES", "CBC", "NoPadding"},
    "AES_256_CBC": {"AES_256_CBC", "AES", "CBC", "NoPadding"},
    "AES_128_GCM": {"AES_128_GCM", "AES", "GCM", "NoPadding"},
    "AES_256_GCM": {"AES_256_GCM", "AES", "GCM", "NoPadding"},
    "CHACHA20_POLY1305": {"CHACHA20_POLY1305", "ChaCha20-Poly1305"},
}
_HASH = {
    "MD5": {"MD5", "HmacMD5"},
    "SHA": {"SHA1", "SHA-1", "HmacSHA1"},
    "SHA256": {"SHA256", "SHA-256", "HmacSHA256"},
    "SHA384": {"SHA384", "SHA-384", "HmacSHA384"},
}
_SUITE = re.compile(
    r"^(?:TLS|SSL)_(?:(?P<kx>.+?)_WITH_)?(?P<bulk>NULL|RC4_128|RC4_40|DES_CBC|DES40_CBC|3DES_EDE_CBC|"
    r"AES_(?:128|256)_(?:CBC|GCM)|CHACHA20_POLY1305)_(?P<mac>MD5|SHA|SHA256|SHA384)$"
)


def suite_components(name: str) -> set[str]:
    """Components of a cipher suite a constraint can name (``ECDHE``, ``RSA``, ``3DES_EDE_CBC``...)."""
    m = _SUITE.match(name)
    if not m:
        return set()
    comps: set[str] = set()
    kx = m.group("kx")
    bulk = m.group("bulk")
    mac = m.group("mac")
    if kx:
        comps |= _KX.get(kx, set())
    comps |= _BULK.get(bulk, set())
    aead = "GCM" in bulk or "CHACHA" in bulk
    if kx and not aead:
        comps |= _HASH.get(mac, set())
    # The PRF hash (CipherSuite.hashAlg): SHA384 for *_SHA384 suites, SHA256 otherwise.
    comps |= _HASH["SHA384"] if mac == "SHA384" else _HASH["SHA256"]
    return comps


_HASH_ALIASES = {"SHA1": "SHA-1", "SHA224": "SHA-224", "SHA256": "SHA-256", "SHA384": "SHA-384", "SHA512": "SHA-512"}


def signature_components(name: str) -> set[str]:
    """``SHA1withRSA`` -> {SHA1, SHA-1, RSA} (AlgorithmDecomposer: split on with/and/'/')."""
    comps = {p for p in re.split(r"with|and|/", name, flags=re.IGNORECASE) if p}
    for a, b in _HASH_ALIASES.items():
        if a in comps:
            comps.add(b)
        if b in comps:
            comps.add(a)
    if "ECDSA" in comps:
        comps.add("EC")
    return comps


def name_disabled(constraints: list[Constraint], name: str, components: set[str]) -> Constraint | None:
    """The unconditional entry that disables ``name`` (a protocol, a suite, an algorithm), if any."""
    lowered = {c.lower() for c in components}
    for c in constraints:
        if not c.unconditional:
            continue
        if c.names(name) or ("*" not in c.algorithm and c.algorithm.lower() in lowered):
            return c
    return None


def certpath_disabled(
    constraints: list[Constraint], sig_alg: str, *, jdk_ca: bool, today: dt.date | None = None
) -> Constraint | None:
    """The ``jdk.certpath.disabledAlgorithms`` entry that rejects a TLS server certificate signed
    with ``sig_alg``: unconditional ones, ``jdkCA`` when the anchor is one of the JDK's own CAs,
    ``usage TLSServer``, ``denyAfter`` when today is past the date."""
    today = today or dt.date.today()
    comps = {c.lower() for c in signature_components(sig_alg)} | {sig_alg.lower()}
    for c in constraints:
        if c.key_size is not None or c.algorithm.lower() not in comps:
            continue
        if c.jdk_ca and not jdk_ca:
            continue
        if c.usage and "TLSServer" not in c.usage:
            continue
        if c.deny_after and today <= c.deny_after:
            continue
        return c
    return None
