"""Diagnose agent logs, controller logs and ``kubectl logs`` output by known error signatures.

Lines are grouped into *events*: a log record plus its continuation — the level line of a
java.util.logging record, a multi-line exception message, ``at`` frames, ``Caused by:`` /
``Suppressed:`` chains. Each event is matched against ``jnlpdiag/data/log-signatures.json``, the
*root cause* first (the last ``Caused by:`` block), then the other causes from the deepest up, then
the rest of the event; the first signature that matches the deepest block wins, so a generic
wrapper (``Failed to connect to …``) never hides its cause. Findings group the events by
signature, with the matched lines quoted (file and line number).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from jnlpdiag.model import Finding, Fix, Layer, Status

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


@dataclass
class Event:
    lines: list[Line] = field(default_factory=list)
    dropped: int = 0

    def blocks(self) -> list[list[Line]]:
        """The event cut at each ``Caused by:``; the last block holds the root cause."""
        out: list[list[Line]] = [[]]
        for line in self.lines:
            if _CAUSE.match(line.body) and line.body.lstrip().startswith("Caused by"):
                out.append([])
            if not _FRAME.match(line.body):
                out[-1].append(line)
        return [b for b in out if b]

    def root_cause(self) -> Line | None:
        causes = [ln for ln in self.lines if ln.body.lstrip().startswith("Caused by:")]
        if causes:
            return causes[-1]
        return next((ln for ln in self.lines if _EXCEPTION.match(ln.body.lstrip())), None)


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


@cache
def signatures() -> list[Signature]:
    raw = json.loads(resources.files("jnlpdiag").joinpath("data", "log-signatures.json").read_text("utf-8"))
    out = []
    for row in raw["signatures"]:
        fix = row["fix"]
        out.append(Signature(
            id=row["id"], pattern=re.compile(row["pattern"]), status=Status(row["status"]), layer=Layer(row["layer"]),
            title=row["title"], cause=row["cause"],
            fix=Fix(fix["title"], tuple(fix.get("steps", ())), tuple(fix.get("docs", ()))),
            source=row["source"], summary=bool(row.get("summary")),
        ))
    return out


def _body(text: str) -> str:
    for prefix in _PREFIXES:
        m = prefix.match(text)
        if m:
            text = text[m.end():]
    return text


def events(lines: Iterable[tuple[str, int, str]]) -> Iterator[Event]:
    """Group (source, line number, text) into events, streaming."""
    current: Event | None = None
    in_message = False  # inside a multi-line exception message (before its first frame)
    prev_header = False
    prev_source = None
    for source, number, raw in lines:
        text = raw.rstrip("\r\n")[:MAX_LINE]
        body = _body(text)
        if not body.strip():
            in_message = False
            prev_header = False
            continue
        stripped = body.lstrip()
        continuation = current is not None and source == prev_source and (
            _FRAME.match(body) is not None
            or _CAUSE.match(body) is not None
            or body[:1] in (" ", "\t")
            or (prev_header and _LEVEL_LINE.match(body) is not None)
            or _EXCEPTION.match(stripped) is not None and not _JUL_HEADER.match(body)
            or (in_message and not _NEW_RECORD.match(body) and not _JUL_HEADER.match(body))
        )
        if not continuation:
            if current is not None:
                yield current
            current = Event()
            in_message = False
        assert current is not None
        # Frames beyond the cap are counted, not kept; cause and message lines are kept longer, so a
        # root cause after thousands of frames is still seen.
        limit = MAX_EVENT_LINES if _FRAME.match(body) else MAX_EVENT_LINES * 5
        if len(current.lines) < limit:
            current.lines.append(Line(source, number, text, body))
        else:
            current.dropped += 1
        if _FRAME.match(body):
            in_message = False
        elif _EXCEPTION.match(stripped) or stripped.startswith("Caused by:"):
            in_message = True
        prev_header = _JUL_HEADER.match(body) is not None
        prev_source = source
    if current is not None:
        yield current


def _candidates(event: Event) -> list[list[Line]]:
    """Blocks to match, root cause first, then the causes above it, then the event's head."""
    blocks = event.blocks()
    return list(reversed(blocks))


def _facts(m: re.Match[str]) -> dict[str, str]:
    facts = {k: v for k, v in m.groupdict().items() if v is not None}
    for key, out in (("cfv", "java"), ("have", "have_java")):
        if key in facts and facts[key].isdigit():
            facts[out] = str(int(facts[key]) - 44)  # class file major 52 = Java 8 (JVMS §4.1)
    return facts


def _fill(text: str, facts: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: facts.get(m.group(1), m.group(0)), text)


@dataclass
class Hit:
    signature: Signature
    line: Line
    root: Line | None
    facts: dict[str, str]


@cache
def _any_signature() -> re.Pattern[str]:
    """All patterns in one expression (group names dropped): most lines match none, and one search
    per line is much cheaper than one per signature."""
    parts = [re.sub(r"\(\?P<\w+>", "(?:", s.pattern.pattern) for s in signatures()]
    return re.compile("|".join(f"(?:{p})" for p in parts))


def match(event: Event) -> Hit | None:
    sigs = signatures()
    prefilter = _any_signature()
    if not any(prefilter.search(line.body) for line in event.lines):
        return None
    for summary in (False, True):
        for block in _candidates(event):
            for sig in (s for s in sigs if s.summary is summary):
                for line in block:
                    m = sig.pattern.search(line.body)
                    if m:
                        return Hit(sig, line, event.root_cause(), _facts(m))
    return None


@dataclass
class LogAnalysis:
    inputs: list[str]
    lines: int = 0
    events: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def status(self) -> Status:
        from jnlpdiag.model import worst

        return worst([f.status for f in self.findings])

    def to_dict(self) -> dict[str, Any]:
        from jnlpdiag.report import exit_code_for

        return {"schema": "jnlpdiag.logs/1", "inputs": self.inputs, "lines": self.lines, "events": self.events,
                "status": self.status.value, "exit_code": exit_code_for(self.status),
                "findings": [f.to_dict() for f in self.findings]}


def analyze_lines(lines: Iterable[tuple[str, int, str]], inputs: list[str]) -> LogAnalysis:
    result = LogAnalysis(inputs=inputs)
    hits: dict[str, list[Hit]] = {}
    order: list[str] = []
    counted = 0

    def counting() -> Iterator[tuple[str, int, str]]:
        nonlocal counted
        for item in lines:
            counted += 1
            yield item

    for event in events(counting()):
        result.events += 1
        hit = match(event)
        if hit is None:
            continue
        if hit.signature.id not in hits:
            order.append(hit.signature.id)
        hits.setdefault(hit.signature.id, []).append(hit)
    result.lines = counted
    for sig_id in order:
        group = hits[sig_id]
        first = group[0]
        sig = first.signature
        quotes = [f"{h.line.source}:{h.line.number}: {h.line.text.strip()[:300]}" for h in group[:MAX_QUOTES]]
        evidence: dict[str, Any] = {"occurrences": len(group), "matched": quotes}
        if first.root is not None:
            evidence["root_cause"] = f"{first.root.source}:{first.root.number}: {first.root.text.strip()[:300]}"
        evidence["first_seen"] = f"{first.line.source}:{first.line.number}"
        evidence["signature_source"] = sig.source
        facts = first.facts
        fix = Fix(_fill(sig.fix.title, facts), tuple(_fill(s, facts) for s in sig.fix.steps), sig.fix.docs)
        result.findings.append(Finding(
            id=f"logs.{sig.id}", probe=PROBE, layer=sig.layer, status=sig.status,
            title=" ".join(_fill(sig.title, facts).split()), detail=_fill(sig.cause, facts), evidence=evidence,
            fixes=[fix],
        ))
    if not result.findings:
        result.findings.append(Finding(
            id="logs.none", probe=PROBE, layer=Layer.HOST, status=Status.PASS,
            title=f"No known connection error in {result.lines} lines",
            detail="None of the known signatures matched. The log may show a problem jnlpdiag does not know yet; "
                   "run `jnlpdiag check` on the agent host to test the connection itself.",
            evidence={"lines": result.lines, "events": result.events, "signatures": len(signatures())},
        ))
    return result
