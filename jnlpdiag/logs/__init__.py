"""Diagnose agent logs, controller logs and ``kubectl logs`` output by known error signatures.

Lines are grouped into *events*: a log record plus its continuation — the level line of a
java.util.logging record, a multi-line exception message, ``at`` frames, ``Caused by:`` /
``Suppressed:`` chains. Each event is matched against ``jnlpdiag/data/log-signatures.json``, the
*root cause* first (the last ``Caused by:`` block), then the other causes from the deepest up, then
the rest of the event; the first signature that matches the deepest block wins, so a generic
wrapper (``Failed to connect to …``) never hides its cause. Findings group the events by
signature, with the matched lines quoted (file and line number).

Speed: every signature's pattern requires some literal text; the shortest set of substrings that
covers those literals (:func:`needles`) is searched in whole blocks of the input with
``bytes.find``, and only the lines holding one (and the rest of their event) are grouped and
matched. Most lines of a healthy log are only counted. A signature may *explain* a summary row
that follows it in the same log (remoting logs ``Server reports protocol JNLP4-connect not
supported, skipping`` and then ``None of the protocols are enabled``): the summary is then folded
under it (``caused_by``).
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

try:  # Python 3.11 moved the regex parser; it is the same module
    import re._parser as _sre_parse  # type: ignore[import-not-found]
    from re import _constants as _sre_constants  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants as _sre_constants  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

from jnlpdiag.findings import Finding, Fix, Layer, Status

PROBE = "logs"
MAX_EVENT_LINES = 400  # a runaway stack trace is cut here (the rest is counted, not kept)
MAX_LINE = 8192  # characters of one line that are matched and kept
MAX_QUOTES = 5

# Prefixes that wrap the real log text: kubectl --timestamps, journald/syslog, kubectl --prefix,
# docker-plugin's stderr relay, plugin tags like "[ssh-agent]".
_PREFIXES = [
    re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)\s"),
    re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [\w.@/-]+(?:\[\d+\])?:\s"),
    re.compile(r"^\[pod/[^\]]+\]\s"),
    re.compile(r"^[a-z0-9][a-z0-9.-]*-[a-z0-9]{4,} [a-z0-9-]+ (?=\S)"),
    re.compile(r"^\[[\w.-]+\]\s+"),
]
_JUL_HEADER = re.compile(r"^\S+ \d{1,2}, \d{4},? \d{1,2}:\d\d:\d\d(?: \S+)? [\w$.]+(?: \S+)?$")
_LEVEL_LINE = re.compile(r"^[^\s:]{2,20}: ")
_FRAME = re.compile(r"^\s+(?:at |\.\.\. \d+ (?:more|common frames omitted))")
_CAUSE = re.compile(r"^\s*(?:Caused by|Suppressed|Also):\s")
_EXCEPTION = re.compile(r"^(?:Exception in thread \"[^\"]*\" )?[a-z][\w$]*(?:\.[\w$]+)+(?:Exception|Error|Throwable)\b")
_NEW_RECORD = re.compile(r"^(?:\d{4}-\d\d-\d\d[ T]|\d\d:\d\d:\d\d|\[\d|[A-Z]{3,8}:? |[A-Z][a-z]{2} \d)")


@dataclass
class Line:
    source: str
    number: int
    text: str  # as written (capped)
    body: str  # without wrapping prefixes
    frame: bool = False
    caused_by: bool = False
    exception: bool = False


@dataclass
class Event:
    lines: list[Line] = field(default_factory=list)
    dropped: int = 0

    def blocks(self) -> list[list[Line]]:
        """The event cut at each ``Caused by:``; the last block holds the root cause."""
        out: list[list[Line]] = [[]]
        for line in self.lines:
            if line.caused_by:
                out.append([])
            if not line.frame:
                out[-1].append(line)
        return [b for b in out if b]

    def root_cause(self) -> Line | None:
        causes = [ln for ln in self.lines if ln.caused_by]
        if causes:
            return causes[-1]
        return next((ln for ln in self.lines if ln.exception), None)


@dataclass
class Signature:
    id: str
    pattern: re.Pattern[str]
    status: Status
    layer: Layer
    title: str
    cause: str
    fix: Fix
    source: str
    summary: bool = False
    explains: tuple[str, ...] = ()  # summary rows this one, logged just before, is the cause of
    context: re.Pattern[str] | None = None  # fills placeholders from other lines of the event
    literals: tuple[str, ...] = ()  # a match contains one of these (see required_literals)


@cache
def signatures() -> list[Signature]:
    raw = json.loads(resources.files("jnlpdiag").joinpath("data/log-signatures.json").read_text("utf-8"))
    out = []
    for row in raw["signatures"]:
        fix = row["fix"]
        out.append(Signature(
            id=row["id"], pattern=re.compile(row["pattern"]), status=Status(row["status"]), layer=Layer(row["layer"]),
            title=row["title"], cause=row["cause"],
            fix=Fix(fix["title"], tuple(fix.get("steps", ())), tuple(fix.get("docs", ())),
                    commands=tuple(fix.get("commands", ())), notes=tuple(fix.get("notes", ()))),
            source=row["source"], summary=bool(row.get("summary")), explains=tuple(row.get("explains", ())),
            context=re.compile(row["context"]) if row.get("context") else None,
            literals=tuple(required_literals(row["pattern"])),
        ))
    return out


# What each prefix can start with: most lines start with none of them, and a str test is cheaper
# than a regex call.
_PREFIX_RULES = list(zip(_PREFIXES, ("0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "[",  # noqa: B905 - 3.9
                                       "abcdefghijklmnopqrstuvwxyz0123456789", "[")))


def _body(text: str) -> str:
    for prefix, starts in _PREFIX_RULES:
        if text[:1] and text[0] in starts:
            m = prefix.match(text)
            if m:
                text = text[m.end():]
    return text


_CACHE_MAX = 1 << 16  # distinct lines remembered (a retry loop repeats the same few lines)


@dataclass(frozen=True)
class _Kind:
    """What a line is, for grouping; computed once per distinct line text."""

    text: str
    body: str
    blank: bool
    frame: bool
    cause: bool  # Caused by / Suppressed / Also
    caused_by: bool
    indented: bool
    level: bool
    exception: bool
    jul_header: bool
    new_record: bool
    candidate: bool  # holds a needle


_kinds: dict[str, _Kind] = {}


def _kind(raw: str) -> _Kind:
    """The line's kind; cached by the text after its prefixes (a timestamp differs on every line of
    a retry loop, the rest does not)."""
    text = raw.rstrip("\r\n")[:MAX_LINE]
    return _kind_of(text, _body(text))


def _kind_of(text: str, body: str) -> _Kind:
    kind = _kinds.get(body)
    if kind is not None:
        return kind if kind.text == text else dataclasses.replace(kind, text=text)
    stripped = body.lstrip()
    kind = _Kind(
        text=text, body=body, blank=not stripped, frame=_FRAME.match(body) is not None,
        cause=_CAUSE.match(body) is not None, caused_by=stripped.startswith("Caused by:"),
        indented=body[:1] in (" ", "\t"), level=_LEVEL_LINE.match(body) is not None,
        exception=_EXCEPTION.match(stripped) is not None, jul_header=_JUL_HEADER.match(body) is not None,
        new_record=_NEW_RECORD.match(body) is not None, candidate=has_needle(body),
    )
    if len(_kinds) >= _CACHE_MAX:
        _kinds.clear()
    _kinds[body] = kind
    return kind


class _Grouper:
    """Groups lines into events, one line at a time (``events`` streams through it)."""

    def __init__(self) -> None:
        self.current: Event | None = None
        self.in_message = False  # inside a multi-line exception message (before its first frame)
        self.prev_header = False
        self.prev_source: str | None = None
        self.has_exception = False  # the open event already has its top-level exception line

    def feed(self, source: str, number: int, raw: str | _Kind, start: bool = True) -> Event | None:
        """Add a line; returns the event it closed, if any. With ``start=False`` a line that does not
        continue the open event starts nothing (the block reader's lines without a needle)."""
        k = raw if isinstance(raw, _Kind) else _kind(raw)
        if k.blank:
            self.in_message = False
            self.prev_header = False
            return None
        current = self.current
        continuation = current is not None and source == self.prev_source and (
            k.frame
            or k.cause
            or k.indented
            or (self.prev_header and k.level)
            # An exception line continues the record that logged it (the level line before it);
            # a second top-level exception is a new record (a retry loop logs one per attempt).
            or (k.exception and not k.jul_header and not self.has_exception)
            or (self.in_message and not k.new_record and not k.jul_header and not k.exception)
        )
        closed = None
        if not continuation:
            closed = current
            self.in_message = False
            self.has_exception = False
            if not start:
                self.current = None
                self.prev_header = False
                return closed
            current = self.current = Event()
        assert current is not None
        # Frames beyond the cap are counted, not kept; cause and message lines are kept longer, so a
        # root cause after thousands of frames is still seen.
        limit = MAX_EVENT_LINES if k.frame else MAX_EVENT_LINES * 5
        if len(current.lines) < limit:
            current.lines.append(Line(source, number, k.text, k.body, k.frame, k.caused_by, k.exception))
        else:
            current.dropped += 1
        if k.frame:
            self.in_message = False
        elif k.exception or k.caused_by:
            self.in_message = True
            if k.exception and not k.cause:
                self.has_exception = True
        self.prev_header = k.jul_header
        self.prev_source = source
        return closed

    def close(self) -> Event | None:
        closed, self.current = self.current, None
        self.in_message = self.prev_header = self.has_exception = False
        return closed


def events(lines: Iterable[tuple[str, int, str]]) -> Iterator[Event]:
    """Group (source, line number, text) into events, streaming."""
    grouper = _Grouper()
    for source, number, raw in lines:
        closed = grouper.feed(source, number, raw)
        if closed is not None:
            yield closed
    last = grouper.close()
    if last is not None:
        yield last


def _candidates(event: Event) -> list[list[Line]]:
    """Blocks to match, root cause first, then the causes above it, then the event's head."""
    blocks = event.blocks()
    return list(reversed(blocks))


def _facts(m: re.Match[str]) -> dict[str, str]:
    facts = {k: v for k, v in m.groupdict().items() if v is not None}
    for key, out in (("cfv", "java"), ("have", "have_java")):
        if key in facts and facts[key].isdigit():
            facts[out] = str(int(facts[key]) - 44)  # class file major 52 = Java 8 (JVMS §4.1)
    if "scheme" in facts and "port" not in facts and "host" in facts:
        facts["port"] = "443" if facts["scheme"] == "https" else "80"
    return facts


_PLACEHOLDER = re.compile(r"\{(\w+)(?:\|([^{}]*))?\}")


def _fill(text: str, facts: dict[str, str]) -> str:
    """``{name}`` from the facts; ``{name|DEFAULT}`` falls back to DEFAULT when the log did not say."""
    def one(m: re.Match[str]) -> str:
        value = facts.get(m.group(1))
        if value is not None:
            return value
        return m.group(2) if m.group(2) is not None else m.group(0)

    return _PLACEHOLDER.sub(one, text)


_URL = re.compile(r"\b(https?)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::(\d{1,5}))?(/[^\s'\"<>]*)?")
_ENDPOINT_PATHS = ("tcpSlaveAgentListener/", "wsagents/", "login", "computer/", "jnlpJars/")
# The upper-case words the signatures' fixes use for what the log itself names (issue 13 §3: a line
# naming x:8080 gives a fix with "x 8080", not "HOST PORT").
_WORDS = (("JENKINS_URL/", "jenkins_url"), ("JENKINS_URL", "jenkins_url_bare"), ("JENKINS_AGENT_HOST", "host"),
          ("JENKINS_HOST", "host"), ("HOST", "host"), ("PORT", "port"))
_CONTEXT_LINES = 20


def _named_in_log(lines: Iterable[str]) -> dict[str, str]:
    """The Jenkins URL, host and port the event's own lines name (the first URL in them)."""
    for text in lines:
        m = _URL.search(text)
        if not m:
            continue
        scheme, host, port, path = m.group(1), m.group(2), m.group(3), m.group(4) or "/"
        for endpoint in _ENDPOINT_PATHS:
            if endpoint in path:
                path = path[: path.index(endpoint)]
                break
        root = f"{scheme}://{host}" + (f":{port}" if port else "") + (path if path.endswith("/") else path + "/")
        return {"jenkins_url": root, "jenkins_url_bare": root.rstrip("/"), "host": host.strip("[]"),
                "port": port or ("443" if scheme == "https" else "80")}
    return {}


def _fill_named(text: str, named: dict[str, str]) -> str:
    for word, key in _WORDS:
        if key in named:
            value = named[key]
            pattern = re.escape(word) if word.endswith("/") else rf"(?<![\w$]){re.escape(word)}(?![\w])"
            text = re.sub(pattern, lambda _m: value, text)  # noqa: B023 - used at once, in this iteration
    return text


@dataclass
class Hit:
    signature: Signature
    line: Line
    root: Line | None
    facts: dict[str, str]
    context: list[str] = field(default_factory=list)  # the event's first lines: they name the URL


# -- needles: the cheap prefilter --------------------------------------------------------------

MIN_NEEDLE = 4  # a signature must name at least this much literal text
NEEDLE_LEN = 9  # needles are at least this long where the literal allows


def _flatten(items: Any) -> list[Any]:
    """A parsed sequence with plain groups inlined (a group that is not repeated is required)."""
    out: list[Any] = []
    for op, arg in items:
        if op is _sre_constants.SUBPATTERN:
            _group, add_flags, _del_flags, sub = arg
            if add_flags & _sre_constants.SRE_FLAG_IGNORECASE:
                out.append((op, arg))  # case-folded text: no byte-exact literal
            else:
                out += _flatten(sub)
        else:
            out.append((op, arg))
    return out


def _alternatives(items: Any) -> list[str] | None:
    """Literal strings such that every match of the parsed sequence ``items`` contains one of them
    (None when none of MIN_NEEDLE characters can be named). Candidates: the longest run of literal
    characters, or, at an alternation, one literal per branch (each branch read with the literal
    run just before it); the candidate whose shortest string is longest wins."""
    items = _flatten(items)
    best: list[str] | None = None

    def better(cand: list[str] | None) -> None:
        nonlocal best
        if cand and min(map(len, cand)) >= MIN_NEEDLE and (best is None or min(map(len, cand)) > min(map(len, best))):
            best = cand

    run = ""
    for op, arg in items:
        if op is _sre_constants.LITERAL:
            run += chr(arg)
            better([run])
            continue
        if op is _sre_constants.BRANCH:
            prefix = [(_sre_constants.LITERAL, ord(c)) for c in run]
            per_branch = [_alternatives([*prefix, *list(b)]) for b in arg[1]]
            if all(per_branch):
                better(sorted({x for alts in per_branch for x in alts or ()}))
        run = ""
    return best


def required_literals(pattern: str) -> list[str]:
    """Literal strings such that any match of ``pattern`` contains one of them (empty if none can
    be named: that signature could not be prefiltered)."""
    return _alternatives(list(_sre_parse.parse(pattern))) or []


@cache
def needles() -> tuple[str, ...]:
    """Substrings such that every line a signature can match holds one of them (the data file's
    ``needles``; a test checks that they cover every signature's :func:`required_literals`)."""
    raw = json.loads(resources.files("jnlpdiag").joinpath("data/log-signatures.json").read_text("utf-8"))
    return tuple(raw["needles"])


@cache
def _needle_bytes() -> tuple[bytes, ...]:
    return tuple(n.encode("utf-8") for n in needles())


@cache
def _needle_index() -> tuple[tuple[str, tuple[int, ...]], ...]:
    """(needle, indices of the signatures a line holding it may match)."""
    out = []
    sigs = signatures()
    for needle in needles():
        idx = tuple(i for i, sig in enumerate(sigs) if any(needle in lit for lit in sig.literals))
        out.append((needle, idx))
    return tuple(out)


def cover_needles(literals: Iterable[str], length: int = 7) -> list[str]:
    """A small set of substrings (``length`` to 2 x ``length`` characters where the literal allows)
    such that every literal contains one: the greedy cover the data file's ``needles`` come from."""
    todo = set(literals)
    chosen: list[str] = []
    while todo:
        counts: dict[str, int] = {}
        for lit in todo:
            shortest = min(len(lit), length)
            for sub in {lit[i:j] for i in range(len(lit)) for j in range(i + shortest, min(len(lit), i + 2 * length) + 1)}:
                counts[sub] = counts.get(sub, 0) + 1
        best = max(counts, key=lambda k: (counts[k], len(k), k))
        chosen.append(best)
        todo = {lit for lit in todo if best not in lit}
    return sorted(chosen)


def has_needle(text: str) -> bool:
    return any(n in text for n in needles())


_line_hits_cache: dict[str, tuple[tuple[int, re.Match[str]], ...]] = {}


def _line_hits(body: str) -> tuple[tuple[int, re.Match[str]], ...]:
    """(signature index, match) of every signature that matches this line, in signature order."""
    found = _line_hits_cache.get(body)
    if found is not None:
        return found
    sigs = signatures()
    maybe: set[int] = set()
    for needle, idx in _needle_index():
        if needle in body:
            maybe.update(idx)
    hits = []
    for i in sorted(maybe):
        m = sigs[i].pattern.search(body)
        if m:
            hits.append((i, m))
    found = tuple(hits)
    if len(_line_hits_cache) >= _CACHE_MAX:
        _line_hits_cache.clear()
    _line_hits_cache[body] = found
    return found


def match(event: Event) -> Hit | None:
    """The first signature (in data order) that matches the deepest block of the event; summary
    rows only when nothing else matched."""
    sigs = signatures()
    blocks = _candidates(event)
    for summary in (False, True):
        for block in blocks:
            best: tuple[int, Line, re.Match[str]] | None = None
            for line in block:
                for i, m in _line_hits(line.body):
                    if sigs[i].summary is summary and (best is None or i < best[0]):
                        best = (i, line, m)
                        break
            if best is None:
                continue
            i, line, m = best
            sig = sigs[i]
            facts = _facts(m)
            # The same signature elsewhere in the event, or its context pattern, may name what this
            # line did not (the wrapper names host:port, its cause only says "Connection refused").
            for other in event.lines:
                if other is line:
                    continue
                for pattern in (sig.pattern, sig.context):
                    more = pattern.search(other.body) if pattern is not None else None
                    if more:
                        for key, value in _facts(more).items():
                            facts.setdefault(key, value)
            return Hit(sig, line, event.root_cause(), facts, [x.body for x in event.lines[:_CONTEXT_LINES]])
    return None


@dataclass
class LogAnalysis:
    inputs: list[str]
    lines: int = 0
    events: int = 0
    findings: list[Finding] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0
    complete: bool = True

    @property
    def status(self) -> Status:
        from jnlpdiag.findings import worst

        return worst([f.status for f in self.findings])

    def to_dict(self) -> dict[str, Any]:
        from jnlpdiag.run_report import exit_code_for

        return {"schema": "jnlpdiag.logs/1", "inputs": self.inputs, "lines": self.lines, "events": self.events,
                "bytes": self.bytes, "complete": self.complete,
                "status": self.status.value, "exit_code": exit_code_for(self.status),
                "findings": [f.to_dict() for f in self.findings]}


EXPLAIN_WINDOW = 200  # lines: a cause logged this far before a summary row explains it


class Scanner:
    """Feeds lines or whole blocks, keeps the hits; :meth:`finish` makes the findings."""

    BLOCK = 4 << 20

    def __init__(self, inputs: list[str]) -> None:
        self.result = LogAnalysis(inputs=inputs)
        self._grouper = _Grouper()
        self._hits: dict[str, list[Hit]] = {}  # the first MAX_QUOTES hits of each signature
        self._counts: dict[str, int] = {}  # every hit, counted
        self._order: list[str] = []
        self._repeat: tuple[str, str, Hit | None] | None = None  # (source, body, hit) of the last one-line event
        self._explained: dict[str, int] = {}  # summary id -> occurrences explained by an earlier cause
        self._cause_of: dict[str, str] = {}  # summary id -> the signature that explained it
        self._last_cause: dict[str, tuple[int, Signature]] = {}  # source -> (line, signature)
        self._notes: list[Finding] = []
        self._t0 = time.monotonic()

    # -- input -----------------------------------------------------------------------------------

    def _closed(self, event: Event | None) -> None:
        if event is None:
            return
        self.result.events += 1
        single = len(event.lines) == 1 and not event.dropped
        hit = match(event)
        self._repeat = (event.lines[0].source, event.lines[0].body, hit) if single else None
        if hit is None:
            return
        sig = hit.signature
        if sig.id not in self._hits:
            self._order.append(sig.id)
            self._hits[sig.id] = []
        self._counts[sig.id] = self._counts.get(sig.id, 0) + 1
        if len(self._hits[sig.id]) < MAX_QUOTES:
            self._hits[sig.id].append(hit)
        source, number = hit.line.source, hit.line.number
        if sig.summary:
            last = self._last_cause.get(source)
            if last is not None and number - last[0] <= EXPLAIN_WINDOW and sig.id in last[1].explains:
                self._explained[sig.id] = self._explained.get(sig.id, 0) + 1
                self._cause_of.setdefault(sig.id, f"logs.{last[1].id}")
        elif sig.explains:
            self._last_cause[source] = (number, sig)

    def _repeated(self, cur: Event, number: int, text: str) -> bool:
        """The line just read repeats the open one-line event ``cur`` (a retry loop): count the
        closed event and keep ``cur`` open at the new line number, without grouping or matching
        again. False when the shortcut does not apply (first repeat, a summary or explaining hit)."""
        last = self._repeat
        line = cur.lines[0]
        if last is None or last[0] != line.source or last[1] != line.body:
            return False
        hit = last[2]
        if hit is not None and (hit.signature.summary or hit.signature.explains):
            return False
        self.result.events += 1
        if hit is not None:
            sig_id = hit.signature.id
            self._counts[sig_id] += 1
            if len(self._hits[sig_id]) < MAX_QUOTES:
                self._hits[sig_id].append(Hit(hit.signature, line, cur.root_cause(), hit.facts, hit.context))
                cur.lines[0] = Line(line.source, number, text, line.body, line.frame, line.caused_by,
                                    line.exception)
                return True
        line.number = number
        line.text = text
        return True

    def line(self, source: str, number: int, text: str) -> None:
        """One line (any input: tests, fuzzing, small files)."""
        self.result.lines += 1
        self.result.bytes += len(text)
        if self._grouper.current is None and not has_needle(text):
            return  # cheap: most lines of a healthy log stop here
        kind = _kind(text)
        self._closed(self._grouper.feed(source, number, kind, start=kind.candidate))

    def block(self, source: str, data: bytes, first_line: int) -> int:
        """Whole lines of one input, as bytes (the last may lack its newline); returns the line
        count. Lines holding no needle are only counted unless they continue an open event."""
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        self.result.lines += len(lines)
        self.result.bytes += len(data)
        n = len(lines)
        marks = self._needle_lines(data, n)
        grouper = self._grouper
        if marks is None:
            prev = None
            for k, raw in enumerate(lines):
                text = raw.decode("utf-8", "replace").rstrip("\r")[:MAX_LINE]
                body = _body(text)
                cur = grouper.current
                if body == prev and cur is not None and len(cur.lines) == 1 and self._repeated(cur, first_line + k, text):
                    continue
                kind = _kind_of(text, body)
                self._closed(grouper.feed(source, first_line + k, kind, start=kind.candidate))
                prev = body if kind.candidate and not (kind.frame or kind.cause or kind.indented) else None
            return n
        k = 0
        for c in [*marks, n]:
            # lines k..c-1 hold no needle: feed them only while an event is open
            while k < c and grouper.current is not None:
                self._closed(grouper.feed(source, first_line + k, lines[k].decode("utf-8", "replace"), start=False))
                k += 1
            if c >= n:
                break
            kind = _kind(lines[c].decode("utf-8", "replace"))
            self._closed(grouper.feed(source, first_line + c, kind, start=kind.candidate))
            k = c + 1
        return len(lines)

    def _needle_lines(self, data: bytes, line_count: int) -> list[int] | None:
        """Indices of the lines of ``data`` that hold a needle; None when most lines do (a flood of
        one error: then every line is read)."""
        starts: set[int] = set()
        dense = line_count // 4
        for needle in _needle_bytes():
            i = data.find(needle)
            while i != -1:
                starts.add(data.rfind(b"\n", 0, i) + 1)
                if len(starts) > dense:
                    return None
                end = data.find(b"\n", i)
                if end == -1:
                    break
                i = data.find(needle, end + 1)
        out = []
        index, pos = 0, 0
        for start in sorted(starts):
            index += data.count(b"\n", pos, start)
            pos = start
            out.append(index)
        return out

    def end_of_input(self) -> None:
        """One input ended: its last event closes (events never span files)."""
        self._closed(self._grouper.close())

    def note(self, finding: Finding) -> None:
        self._notes.append(finding)

    def elapsed(self) -> float:
        return time.monotonic() - self._t0

    # -- output ----------------------------------------------------------------------------------

    def finish(self) -> LogAnalysis:
        self.end_of_input()
        result = self.result
        result.seconds = self.elapsed()
        for sig_id in self._order:
            group = self._hits[sig_id]
            count = self._counts[sig_id]
            first = group[0]
            sig = first.signature
            quotes = [f"{h.line.source}:{h.line.number}: {h.line.text.strip()[:300]}" for h in group[:MAX_QUOTES]]
            evidence: dict[str, Any] = {"occurrences": count, "matched": quotes}
            if first.root is not None and first.root is not first.line:
                evidence["root_cause"] = f"{first.root.source}:{first.root.number}: {first.root.text.strip()[:300]}"
            evidence["first_seen"] = f"{first.line.source}:{first.line.number}"
            evidence["signature_source"] = sig.source
            facts = first.facts
            named = _named_in_log([first.line.body, *([first.root.body] if first.root is not None else []),
                                   *first.context])
            fix = Fix(_fill_named(_fill(sig.fix.title, facts), named), docs=sig.fix.docs,
                      commands=tuple(_fill_named(_fill(s, facts), named) for s in sig.fix.commands),
                      notes=tuple(_fill_named(_fill(s, facts), named) for s in sig.fix.notes))
            caused_by = None
            if sig.summary and self._explained.get(sig_id, 0) == count:
                caused_by = self._cause_of[sig_id]  # every occurrence followed its cause
            result.findings.append(Finding(
                id=f"logs.{sig.id}", probe=PROBE, layer=sig.layer, status=sig.status,
                title=" ".join(_fill(sig.title, facts).split()), detail=_fill(sig.cause, facts), evidence=evidence,
                fixes=[fix], caused_by=caused_by,
            ))
        result.findings += self._notes
        if not result.findings or all(f.status is Status.PASS for f in result.findings):
            result.findings.insert(0, Finding(
                id="logs.none", probe=PROBE, layer=Layer.HOST, status=Status.PASS,
                title=f"No known connection error in {result.lines} lines",
                detail="None of the known signatures matched. The log may show a problem jnlpdiag does not know "
                       "yet; run `jnlpdiag check` on the agent host to test the connection itself.",
                evidence={"lines": result.lines, "events": result.events, "signatures": len(signatures())},
            ))
        return result


def analyze_lines(lines: Iterable[tuple[str, int, str]], inputs: list[str]) -> LogAnalysis:
    """Lines of one or more inputs; a change of source ends the open event."""
    scanner = Scanner(inputs)
    prev = None
    for source, number, text in lines:
        if source != prev and prev is not None:
            scanner.end_of_input()
        prev = source
        scanner.line(source, number, text)
    return scanner.finish()
