"""The finding model: what a probe observed, how bad it is, and how to fix it.

Everything the tool prints (text, JSON, reports, the TUI) is rendered from these types, so they
are plain data: frozen where possible, JSON-able through ``to_dict`` / ``from_dict``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from jnlpdiag.pycompat import StrEnum


class Layer(StrEnum):
    """The four layers, in the order root causes are ranked (host problems first)."""

    HOST = "host"
    NETWORK = "network"
    PROTOCOL = "protocol"
    COMPATIBILITY = "compatibility"

    @property
    def rank(self) -> int:
        return list(Layer).index(self)


class Status(StrEnum):
    PASS = "pass"
    SKIP = "skip"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"

    @property
    def severity(self) -> int:
        """Ordering used for "worst status": pass = skip < warn < fail < error."""
        return _SEVERITY[self]

    @property
    def symbol(self) -> str:
        """A status word is never conveyed by colour alone: every status has a symbol too."""
        return _SYMBOL[self]

    @property
    def needs_fix(self) -> bool:
        return self in (Status.WARN, Status.FAIL)


_SEVERITY = {Status.PASS: 0, Status.SKIP: 0, Status.WARN: 1, Status.FAIL: 2, Status.ERROR: 3}
_SYMBOL = {Status.PASS: "✓", Status.SKIP: "-", Status.WARN: "!", Status.FAIL: "✗", Status.ERROR: "?"}


def worst(statuses: list[Status]) -> Status:
    """The most severe status; ``skip`` when everything was skipped; ``pass`` for an empty list."""
    if statuses and all(s is Status.SKIP for s in statuses):
        return Status.SKIP
    result = Status.PASS
    for status in statuses:
        if status.severity > result.severity:
            result = status
    return result


# Commands a fix may show with "$": the first word of a command line is one of these programs, a
# VAR=value assignment, a path, or a placeholder naming a program. Anything else is prose (a note).
_PROGRAMS = frozenset("""
apt-get ausearch awk cat certbot chcon chmod chown chronyc cp curl date df dig dmesg docker du echo env
export file findmnt firewall-cmd free getent getenforce grep head id ip iptables java jcmd jnlpdiag jps
journalctl kill keytool kubectl ldd ln ls mkdir mount mv nc nft nmap nslookup objdump openssl patchelf
ping podman printf ps python3 readelf rm sed setfacl setsebool socat ss stat sudo sysctl systemctl tail
tar tcpdump telnet test time timedatectl touch tr traceroute ufw ulimit uname unset unzip
update-alternatives update-ca-certificates wc xxd
""".split())


def looks_like_command(line: str) -> bool:
    """Whether ``line`` is a shell command (shown with ``$``, copyable), not prose or a config line."""
    words = line.split()
    if not words or line.lstrip().startswith("#"):
        return False
    first = words[0]
    return (first in _PROGRAMS or bool(re.match(r"^[A-Z_][A-Z0-9_]*=\S", first))
            or first.startswith(("/", "./", "~/")))


@dataclass(frozen=True, init=False)
class Fix:
    """One recommended remedy: a title, shell ``commands`` (shown with ``$``, copyable), ``notes``
    (prose and config snippets, never shown as a command) and docs URLs.

    ``steps`` is the old single list (reports of earlier versions, third-party probes): a line
    starting with ``#`` is a note, anything else a command.
    """

    title: str
    commands: tuple[str, ...]
    notes: tuple[str, ...]
    docs: tuple[str, ...]

    def __init__(self, title: str, steps: Iterable[str] = (), docs: Iterable[str] = (), *,
                 commands: Iterable[str] = (), notes: Iterable[str] = ()) -> None:
        cmds, prose = list(commands), list(notes)
        for line in steps:
            if line.lstrip().startswith("#"):
                prose.append(line.lstrip()[1:].strip())
            else:
                cmds.append(line)
        object.__setattr__(self, "title", title)
        object.__setattr__(self, "commands", tuple(cmds))
        object.__setattr__(self, "notes", tuple(prose))
        object.__setattr__(self, "docs", tuple(docs))

    @property
    def steps(self) -> tuple[str, ...]:
        """The commands (the name earlier versions used)."""
        return self.commands

    def to_dict(self) -> dict[str, Any]:
        # "steps" repeats the commands for readers of earlier jnlpdiag.report/1 documents.
        return {"title": self.title, "commands": list(self.commands), "notes": list(self.notes),
                "docs": list(self.docs), "steps": list(self.commands)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fix:
        if "commands" in data or "notes" in data:
            return cls(str(data["title"]), commands=(str(s) for s in data.get("commands") or ()),
                       notes=(str(s) for s in data.get("notes") or ()),
                       docs=tuple(str(d) for d in data.get("docs", ())))
        return cls(str(data["title"]), tuple(str(s) for s in data.get("steps", ())),
                   tuple(str(d) for d in data.get("docs", ())))


class FindingError(ValueError):
    """A finding that breaks the model's rules (e.g. a failure without a fix)."""


@dataclass
class Finding:
    id: str
    probe: str
    layer: Layer
    status: Status
    title: str
    detail: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    fixes: list[Fix] = field(default_factory=list)
    caused_by: str | None = None
    duration_ms: float = 0.0
    # The folding rule (see :func:`fold`): premises this verdict rests on, premises it disproves,
    # and whether it is information only (a comparison run: never a root cause, no exit code).
    rests_on: tuple[str, ...] = ()
    breaks: tuple[str, ...] = ()
    informational: bool = False

    def __post_init__(self) -> None:
        self.layer = Layer(self.layer)
        self.status = Status(self.status)
        self.rests_on = tuple(self.rests_on)
        self.breaks = tuple(self.breaks)
        if "\n" in self.title:
            raise FindingError(f"finding {self.id}: title must be one line")
        if self.status.needs_fix and not self.fixes:
            raise FindingError(f"finding {self.id}: a {self.status.value} finding needs a fix")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "probe": self.probe,
            "layer": self.layer.value,
            "status": self.status.value,
            "title": self.title,
            "detail": self.detail,
            "evidence": self.evidence,
            "fixes": [f.to_dict() for f in self.fixes],
            "caused_by": self.caused_by,
            "duration_ms": round(self.duration_ms, 1),
            "rests_on": list(self.rests_on),
            "breaks": list(self.breaks),
            "informational": self.informational,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            id=str(data["id"]),
            probe=str(data["probe"]),
            layer=Layer(data["layer"]),
            status=Status(data["status"]),
            title=str(data["title"]),
            detail=str(data.get("detail", "")),
            evidence=dict(data.get("evidence") or {}),
            fixes=[Fix.from_dict(f) for f in data.get("fixes") or []],
            caused_by=data.get("caused_by"),
            duration_ms=float(data.get("duration_ms") or 0.0),
            rests_on=tuple(str(p) for p in data.get("rests_on") or ()),
            breaks=tuple(str(p) for p in data.get("breaks") or ()),
            informational=bool(data.get("informational", False)),
        )


def claim_id(finding: Finding, taken: set[str]) -> None:
    """Make ``finding.id`` unique within a report: a repeat gets a numeric suffix (``id#2``); the id
    is then added to ``taken``."""
    base, n = finding.id, 2
    while finding.id in taken:
        finding.id = f"{base}#{n}"
        n += 1
    taken.add(finding.id)


def verdict(findings: list[Finding]) -> Status:
    """The run's status: the worst of its findings, information-only findings left out."""
    return worst([f.status for f in findings if not f.informational])


# Premises the built-in probes rest their verdicts on (docs/probes.md, "Folding"). A probe may
# name others; these are the shared vocabulary.
PREMISES: dict[str, str] = {
    "url-answers": "something answers HTTP(S) at the Jenkins URL",
    "jenkins-at-url": "what answers at the URL is Jenkins (X-Jenkins header)",
    "agent-listener-published": "<url>tcpSlaveAgentListener/ names a usable agent port",
    "agent-port-reachable": "a TCP connection to the agent port opens",
    "agent-port-is-listener": "what listens on the agent port is Jenkins' agent listener",
    "tls-session-acceptable": "the agent's JVM accepts the TLS session of the Jenkins URL",
    "websocket-upgrade-unhindered": "no middlebox cuts a request that carries 'Upgrade: websocket'",
}

_BREAKING = (Status.FAIL, Status.ERROR)


def fold(findings: list[Finding], finding: Finding) -> str | None:
    """The finding that explains ``finding``, by the folding rule, or None.

    A warning, failure or error that rests on a premise is folded under the earliest failure (in
    ``findings``' order) that breaks one of those premises (a skip names its cause itself); an information-only finding neither
    folds others nor is a cause. A finding never rests on a premise it breaks itself, and a link
    that would close a loop is not made.
    """
    if finding.status in (Status.PASS, Status.SKIP) or finding.caused_by is not None:
        return finding.caused_by
    premises = set(finding.rests_on) - set(finding.breaks)
    if not premises:
        return None
    for earlier in findings:
        if (earlier is finding or earlier.informational or earlier.status not in _BREAKING
                or not premises.intersection(earlier.breaks)):
            continue
        if resolve_root(earlier.id, findings) != finding.id:
            return earlier.id
    return None


def root_causes(findings: list[Finding]) -> list[Finding]:
    """Failing findings that do not follow from another finding, host layer first.

    Information-only findings (comparison runs) are never root causes. A ``caused_by`` that
    names no finding in the run does not hide a failure: it is still a root.
    """
    ids = {f.id for f in findings}
    roots = [
        f
        for f in findings
        if f.status is Status.FAIL and not f.informational and (f.caused_by is None or f.caused_by not in ids)
    ]
    return sorted(roots, key=lambda f: f.layer.rank)


def resolve_root(finding_id: str, findings: list[Finding]) -> str:
    """Follow ``caused_by`` links to the finding that started the chain (cycle-safe)."""
    by_id = {f.id: f for f in findings}
    seen: set[str] = set()
    current = finding_id
    while current in by_id and by_id[current].caused_by and current not in seen:
        seen.add(current)
        nxt = by_id[current].caused_by
        assert nxt is not None
        if nxt not in by_id:
            break
        current = nxt
    return current


def consequences(root_id: str, findings: list[Finding]) -> list[Finding]:
    """Findings (any depth) that follow from ``root_id``: what the UI folds under a root cause."""
    return [f for f in findings if f.id != root_id and f.caused_by and resolve_root(f.id, findings) == root_id]
