"""Redaction and anonymization: secret values never leave the process, in any output, in any encoding.

Every writer (stdout, stderr, report files, saved packets) passes its text through one
:class:`Redactor` built from the run's settings. Two kinds of rules apply:

* **Known values** (the agent secret, ``--redact VALUE``) are replaced everywhere, together with
  their common encodings (base64 at any alignment, URL-encoding), because a secret can appear
  inside a header, a URL or a Basic-auth token.
* **Shapes** that carry a credential whatever its value: the password of a URL
  (``http://user:pw@proxy``, proxy variables included), ``-D…Password=…`` JVM properties
  (``http.proxyPassword``, ``javax.net.ssl.keyStorePassword``, …), agent.jar options
  (``-secret``, ``-credentials``, ``-proxyCredentials``), ``KEY=value`` with a secret-like key
  (environment dumps), ``Secret-Key:`` / ``Authorization:`` headers and the secret argument of a
  ``.jnlp`` file. A value found this way is *learnt*: later texts have it (and its encodings)
  replaced too, even where it stands alone.

:class:`Anonymizer` additionally replaces host names and IP addresses consistently (the same
original always gets the same stand-in within one bundle), as the Jenkins support-core plugin does
(``InetAddressContentFilter`` maps each IP to an ``ip_…`` name, ``ContentMappings`` keeps the map;
jenkinsci/support-core-plugin ``src/main/java/com/cloudbees/jenkins/support/filter/``, commit
7a1f11e6). Loopback and "any" addresses and ``localhost`` are kept: they identify nobody and are
often the diagnosis itself (an agent told to reach ``localhost`` from inside a container).
"""

from __future__ import annotations

import base64
import builtins
import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, urlsplit

from jnlpdiag.settings.values import REDACTED

_MIN_SECRET_LEN = 4  # shorter values would redact ordinary words
# Any run of this many characters of a known value (or of one of its encoded forms) is redacted:
# half of the agent secret is the AES key of its agent file; 16 characters of a secret are no
# accident in a text.
RUN = 16
_BLOCK = RUN // 2
_SECRET_WORDS = r"(?:password|passwd|passphrase|secret|token|apikey|api_key|credentials?)"
_QUOTED_OR_WORD = r"(?:\"[^\"\r\n]*\"|'[^'\r\n]*'|[^\s\"'<>,;&|]+)"

# Each rule's group "v" is the credential; everything else is kept for context. The hints are
# lower-case substrings one of which a text must contain for the rule to run at all: most texts
# contain none, and the scan for them is far cheaper than the regular expressions.
_WORD_HINTS = ("password", "passwd", "passphrase", "secret", "token", "apikey", "api_key", "credential")
_RULES: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    # scheme://user:PASSWORD@host — Jenkins URLs, proxy variables, -jnlpUrl values.
    (re.compile(r"[A-Za-z][\w+.-]*://[^\s/@:\"'<>]+:(?P<v>[^\s/@\"'<>]+)@"), ("://",)),
    # user:PASSWORD@host:port without a scheme (http_proxy=user:pw@proxy:3128 is accepted by curl).
    (re.compile(r"(?<![\w/.:@%-])[\w.%~-]+:(?P<v>[^\s/@:\"'<>]+)@(?=[\w-]+(?:\.[\w-]+)*(?::\d+)?(?:[/\s\"']|$))"),
     ("@",)),
    # -Dhttp.proxyPassword=…, -Djavax.net.ssl.keyStorePassword=…, -Dx.token=… (JVM options, ps output).
    (re.compile(r"-D[\w.-]*(?i:" + _SECRET_WORDS + r")[\w.-]*=(?P<v>" + _QUOTED_OR_WORD + r")"), ("-d",)),
    # agent.jar / keytool / jnlpdiag options whose value is a credential: `-secret X`, `--secret=X`.
    (re.compile(r"(?<![\w-])-{1,2}(?:secret|credentials|jnlpCredentials|proxyCredentials|redact|storepass|keypass"
                r"|srcstorepass|deststorepass|password)(?:=|[ \t]+)(?P<v>" + _QUOTED_OR_WORD + r")"),
     ("secret", "credentials", "redact", "pass")),
    # The same inside a JSON/Python list: "-secret", "VALUE".
    (re.compile(r"[\"']-{1,2}(?:secret|credentials|jnlpCredentials|proxyCredentials|redact)[\"']\s*,\s*[\"']"
                r"(?P<v>[^\"'\\]+)[\"']"), ("secret", "credentials", "redact")),
    # KEY=value with a secret-like key: env dumps, properties files, query strings.
    (re.compile(r"(?<![\w-])[\w.-]*(?i:" + _SECRET_WORDS + r")[\w.-]*=(?P<v>" + _QUOTED_OR_WORD + r")"), _WORD_HINTS),
    # ALL_CAPS_KEY: value (kubectl describe, YAML env lists) with a secret-like key.
    (re.compile(r"(?<![\w-])[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN)[A-Z0-9_]*:[ \t]+(?P<v>" + _QUOTED_OR_WORD
                + r")"), ("password", "passwd", "secret", "token")),
    # HTTP headers carrying credentials (WebSocket agents send Secret-Key, remoting core JnlpConnectionState).
    (re.compile(r"(?im)^[ \t]*(?:Secret-Key|X-Jenkins-Secret)[ \t]*:[ \t]*(?P<v>[^\r\n]+)"), ("secret",)),
    (re.compile(r"(?i)(?<![\w-])(?:Proxy-)?Authorization[ \t]*:[ \t]*(?:[A-Za-z-]+[ \t]+)?(?P<v>[^\s,\"']+)"),
     ("authorization",)),
    (re.compile(r"(?im)^[ \t]*(?:Cookie|Set-Cookie)[ \t]*:[ \t]*(?P<v>[^\r\n]+)"), ("cookie",)),
    # JSON produced by remoting's ConnectionHeaders: {"Secret-Key":"…"}.
    (re.compile(r"\"(?:Secret-Key|[\w.-]*(?i:password|passwd|token))\"\s*:\s*\"(?P<v>[^\"\\]+)\""),
     ("secret", "password", "passwd", "token")),
    # A .jnlp file: the secret is a 64-hex <argument> (core JnlpAgentReceiver: HMAC-SHA256 as hex).
    (re.compile(r"<argument>\s*(?P<v>[0-9a-fA-F]{64})\s*</argument>"), ("<argument>",)),
]


_ANY_HINT = re.compile("|".join(re.escape(h) for h in sorted({h for _, hints in _RULES for h in hints})))


def _b64_cores(raw: bytes) -> set[str]:
    """Base64 of ``raw`` at the three alignments it can take inside a longer encoded text."""
    cores = set()
    for prefix in (b"", b":"):  # base64 shifts with alignment; cover the likely offsets
        for pad in (b"", b" ", b"  "):
            enc = base64.b64encode(pad + prefix + raw).decode()
            # Drop the characters influenced by the pad/prefix and by the trailing padding.
            skip = ((len(pad) + len(prefix)) * 4 + 2) // 3 + 1
            core = enc[skip:].rstrip("=")[:-2]
            if len(core) >= 8:
                cores.add(core)
    return cores


def _encodings(value: str) -> set[str]:
    """The forms a peer or a file can reflect a value in: itself, URL-encoded, the hex of its bytes,
    base64 (base64url is the same after :func:`_fold`) and, for a hex secret (the agent secret is
    HMAC-SHA256 as hex), base64 of the bytes it spells."""
    raw = value.encode("utf-8")
    # URL-encoding as browsers do (only what must be) and as some servers do (every byte).
    forms = {value, quote(value, safe=""), quote(value), raw.hex(), "".join(f"%{b:02x}" for b in raw)}
    forms |= _b64_cores(raw)
    if len(value) % 2 == 0 and _HEX.fullmatch(value):
        forms |= _b64_cores(bytes.fromhex(value))
    return {f for f in forms if len(f) >= _MIN_SECRET_LEN}


# Case and the base64url alphabet do not hide a value: compare texts folded to lower case with
# base64url's '-' and '_' read as '+' and '/'.
_FOLD = str.maketrans({"-": "+", "_": "/"})
_HEX = re.compile(r"[0-9A-Fa-f]+")


def _fold(text: str) -> str:
    return text.lower().translate(_FOLD)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


class Redactor:
    """``Redactor(secrets)(text)`` -> text with every secret replaced by ``<redacted>``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._seen: set[str] = set()
        self._values: set[str] = set()  # forms of learnt values, matched exactly
        self._pattern: re.Pattern[str] | None = None
        self._short: set[str] = set()  # forms shorter than RUN of given values, matched in any case
        self._short_re: re.Pattern[str] | None = None
        self._windows: set[str] = set()  # every RUN-long piece of every form, folded
        self._blocks: set[str] = set()  # every _BLOCK-long piece: a cheap first test
        self._run_re: re.Pattern[str] | None = None  # runs of characters those pieces are made of
        for s in secrets:
            self.add(s)

    @property
    def known(self) -> int:
        """How many values it has learnt: it only grows, so a cache of redacted texts made while
        it is unchanged stays true (see :class:`CachedRedactor`)."""
        return len(self._seen)

    def add(self, value: str | None, runs: bool = True) -> None:
        """Remember a value (and its encodings) to be redacted from now on.

        ``runs``: also any RUN characters of it, in any case (the secrets the run was given). A value
        learnt from a shape rule is matched whole: such a rule can take in its neighbours too.
        """
        if not value or len(value) < _MIN_SECRET_LEN or value == REDACTED:
            return
        value = value.strip("\"'")
        if len(value) < _MIN_SECRET_LEN or value in self._seen:
            return
        self._seen.add(value)
        forms = _encodings(value)
        if not runs:
            self._values |= forms
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
            return
        # Forms of RUN characters or more are found by their pieces (below); the shorter ones by one
        # case-insensitive pattern: a peer that echoes a value upper-cased shows it all the same.
        self._short |= {f for f in forms if len(f) < RUN}
        if self._short:
            ordered = sorted(self._short, key=len, reverse=True)
            self._short_re = re.compile("|".join(re.escape(v) for v in ordered), re.IGNORECASE)
        for form in (_fold(f) for f in forms if len(f) >= RUN):
            self._windows.update(form[i:i + RUN] for i in range(len(form) - RUN + 1))
            self._blocks.update(form[i:i + _BLOCK] for i in range(len(form) - _BLOCK + 1))
        if self._windows:
            chars = {c for w in self._windows for c in w}
            chars |= {c.upper() for c in chars} | ({"-", "_"} if chars & {"+", "/"} else set())
            self._run_re = re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + f"]{{{RUN},}}")

    def _run_spans(self, text: str) -> list[tuple[int, int]]:
        """Where ``text`` holds RUN or more consecutive characters of a known value or of its forms."""
        if self._run_re is None:
            return []
        found = []
        for m in self._run_re.finditer(text):
            run = _fold(m.group())
            # A matching window of RUN characters holds a whole block at a multiple of _BLOCK: test
            # those blocks first, and the windows only around a block that is a piece of a form.
            for b in range(0, len(run) - _BLOCK + 1, _BLOCK):
                if run[b:b + _BLOCK] not in self._blocks:
                    continue
                for i in range(max(0, b - (RUN - _BLOCK)), min(b, len(run) - RUN) + 1):
                    if run[i:i + RUN] in self._windows:
                        found.append((m.start() + i, m.start() + i + RUN))
        return found

    def _rule_matches(self, text: str) -> list[re.Match[str]]:
        low = text.lower()
        if _ANY_HINT.search(low) is None:  # most texts: one scan instead of one per rule
            return []
        found = []
        for rule, hints in _RULES:
            if any(h in low for h in hints):
                found += [m for m in rule.finditer(text) if m.group("v") != REDACTED]
        return found

    def learn(self, text: str) -> None:
        """Remember every credential the shape rules find in ``text`` (no output)."""
        for m in self._rule_matches(text):
            value = m.group("v")
            if REDACTED not in value and "*" * 4 not in value:
                self.add(value, runs=False)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character ranges of ``text`` that must not be shown (merged, sorted)."""
        if not text:
            return []
        matches = self._rule_matches(text)
        for m in matches:  # learn first, so the exact pass below also finds other copies and encodings
            value = m.group("v")
            if REDACTED not in value and "*" * 4 not in value:
                self.add(value, runs=False)
        found = [m.span("v") for m in matches]
        for pattern in (self._pattern, self._short_re):
            if pattern is not None:
                found += [m.span() for m in pattern.finditer(text)]
        found += self._run_spans(text)
        return _merge([s for s in found if s[1] > s[0]])

    def __call__(self, text: str) -> str:
        if not text:
            return text
        spans = self.spans(text)
        if not spans:
            return text
        out: list[str] = []
        last = 0
        for start, end in spans:
            out.append(text[last:start])
            out.append(REDACTED)
            last = end
        out.append(text[last:])
        return "".join(out)

    def data(self, value: Any) -> Any:
        """A JSON-able structure with every string (keys too) redacted.

        Redact structures before serialising them: a pass over serialised JSON would see escaped
        text (``\\"``) that the shape rules can cut in the middle of an escape.
        """
        return map_strings(self, value)

    def bytes(self, data: bytes) -> bytes:
        """Redact bytes of any encoding (treated as latin-1, so every byte maps to one char)."""
        return self(data.decode("latin-1")).encode("latin-1")

    def mask_bytes(self, data: builtins.bytes, fill: int = ord("*")) -> builtins.bytes:
        """Overwrite secret bytes in place, keeping the length (packet payloads, offsets)."""
        spans = self.spans(data.decode("latin-1"))
        if not spans:
            return data
        buf = bytearray(data)
        for start, end in spans:
            buf[start:end] = bytes([fill]) * (end - start)
        return bytes(buf)


def map_strings(text: Callable[[str], str], value: Any) -> Any:
    """A JSON-like structure with ``text`` applied to every string, keys included."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, dict):
        return {text(str(k)): map_strings(text, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [map_strings(text, v) for v in value]
    return value


class CachedRedactor:
    """A :class:`Redactor` that remembers what it made of each text: a fleet redacts thousands of
    reports made of the same titles, details and keys, and each scan costs ~10 microseconds (6 ms a
    report), enough to stall the event loop when hundreds of targets end at once.

    The cache holds only while the redactor has learnt nothing new (a value learnt later may occur
    in a text redacted before), so it is emptied whenever ``known`` grows, and when it holds
    ``limit`` texts (memory stays bounded).
    """

    def __init__(self, redactor: Redactor, limit: int = 20_000) -> None:
        self.redactor = redactor
        self.limit = limit
        self._cache: dict[str, str] = {}
        self._known = redactor.known

    def __call__(self, text: str) -> str:
        if self._known != self.redactor.known or len(self._cache) >= self.limit:
            self._cache.clear()
            self._known = self.redactor.known
        hit = self._cache.get(text)
        if hit is None:
            hit = self.redactor(text)
            if self._known == self.redactor.known:  # learnt nothing from this text: safe to keep
                self._cache[text] = hit
        return hit

    def data(self, value: Any) -> Any:
        """As :meth:`Redactor.data`, through the cache."""
        return map_strings(self, value)


def redact_url_password(url: str) -> str:
    """``https://user:pw@host/`` -> ``https://user:<redacted>@host/``."""
    return re.sub(r"(//[^/@:\s]+:)[^/@\s]+@", lambda m: m.group(1) + REDACTED + "@", url)


# --------------------------------------------------------------------------------------------
# Anonymization


_IPV4 = r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)"
# An IPv6 candidate: hex groups and colons with at least two colons; validated by ipaddress.
_IPV6 = r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%[\w.]+)?(?![\w:])"
_IP = re.compile(f"{_IPV6}|{_IPV4}")
_URL_HOST = re.compile(r"[A-Za-z][\w+.-]*://(?:[^@/\s\"'<>]*@)?(?P<h>\[[0-9A-Fa-f:.]+\]|[^:/\s?#\"'<>\]]+)")
_STAND_IN = re.compile(r"(?:host|ip)_\d+")
_PLACEHOLDER = re.compile(r"[A-Z][A-Z0-9_]*")  # HOST, JENKINS_HOST: upper case and no dot
_KEEP_HOSTS = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "jenkins", "example.com"}


def _keep_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_loopback or ip.is_unspecified


class Anonymizer:
    """Replace host names and IP addresses by ``host_N`` / ``ip_N``, consistently."""

    def __init__(self, hosts: Iterable[str] = ()) -> None:
        self.mapping: dict[str, str] = {}
        self._hosts: dict[str, str] = {}  # lower-case host -> replacement
        self._host_re: re.Pattern[str] | None = None
        self._public: set[str] = set()
        for h in hosts:
            self.add_host(h)

    def add_host(self, host: str | None) -> None:
        if not host:
            return
        host = host.strip().strip("[]").rstrip(".")
        if (not host or host.lower() in _KEEP_HOSTS or host.lower() in self._public or host.lower() in self._hosts
                or _STAND_IN.fullmatch(host)):
            return  # stand-ins are not hosts: a text anonymized twice must stay the same
        try:
            ip = ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            ip = None
        if ip is not None:
            if not _keep_ip(ip):
                self._ip_name(str(ip))
            return
        if not re.fullmatch(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?", host):
            return
        name = f"host_{sum(1 for v in self.mapping.values() if v.startswith('host_')) + 1}"
        self.mapping[host] = name
        self._hosts[host.lower()] = name
        ordered = sorted(self._hosts, key=len, reverse=True)
        self._host_re = re.compile(
            r"(?<![\w.-])(?:" + "|".join(re.escape(h) for h in ordered) + r")(?![\w-]|\.[\w-])", re.IGNORECASE
        )

    def keep_public(self, url: str) -> None:
        """The host of a public documentation link the tool itself cites (github.com, jenkins.io):
        nothing to hide, and replacing it would break the link."""
        try:
            host = urlsplit(url).hostname
        except ValueError:
            return
        if host and host.lower() not in self._hosts:
            self._public.add(host.lower())

    def add_url(self, url: str | None) -> None:
        if not url:
            return
        try:
            host = urlsplit(url if "://" in url else f"//{url}").hostname
        except ValueError:
            host = None
        self.add_host(host)

    def learn(self, text: str) -> None:
        for m in _URL_HOST.finditer(text):
            host = m.group("h")
            if _PLACEHOLDER.fullmatch(host):
                continue  # http://HOST:PORT/ in a fix text is a placeholder, not a host to hide
            self.add_host(host)

    def _ip_name(self, ip: str) -> str:
        if ip not in self.mapping:
            self.mapping[ip] = f"ip_{sum(1 for v in self.mapping.values() if v.startswith('ip_')) + 1}"
        return self.mapping[ip]

    def _ip_sub(self, m: re.Match[str]) -> str:
        text = m.group(0)
        try:
            ip = ipaddress.ip_address(text.split("%")[0])
        except ValueError:
            return text
        return text if _keep_ip(ip) else self._ip_name(str(ip))

    def __call__(self, text: str) -> str:
        if not text:
            return text
        self.learn(text)
        text = _IP.sub(self._ip_sub, text)  # one pass, so stand-ins are numbered in order of appearance
        if self._host_re is not None:
            text = self._host_re.sub(lambda m: self._hosts[m.group(0).lower()], text)
        return text
