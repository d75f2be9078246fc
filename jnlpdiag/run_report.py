"""The run report (schema ``jnlpdiag.report/1``, see docs/report.schema.json) and exit codes."""

from __future__ import annotations

import os
import platform
import socket
from dataclasses import dataclass, field
from typing import Any

from jnlpdiag import __version__
from jnlpdiag.findings import Finding, Status, consequences, root_causes, verdict

SCHEMA_ID = "jnlpdiag.report/1"

# Nagios-style exit codes (documented in docs/exit-codes.md and `jnlpdiag --help`).
EXIT_OK = 0
EXIT_WARN = 1
EXIT_FAIL = 2
EXIT_ERROR = 3  # a probe errored, or a usage/settings error

_EXIT_BY_STATUS = {
    Status.PASS: EXIT_OK, Status.SKIP: EXIT_OK, Status.WARN: EXIT_WARN, Status.FAIL: EXIT_FAIL, Status.ERROR: EXIT_ERROR,
}


def exit_code_for(status: Status) -> int:
    return _EXIT_BY_STATUS[status]


def host_info() -> dict[str, Any]:
    uname = platform.uname()
    return {
        "name": socket.gethostname(),
        "os": uname.system,
        "kernel": uname.release,
        "machine": uname.machine,
        "python": platform.python_version(),
        "uid": os.getuid() if hasattr(os, "getuid") else None,
        "in_container": os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv")
        or bool(os.environ.get("KUBERNETES_SERVICE_HOST")),
    }


@dataclass
class Report:
    findings: list[Finding]
    settings: dict[str, Any]
    started_at: str
    duration_ms: float
    host: dict[str, Any] = field(default_factory=host_info)
    tool: dict[str, Any] = field(default_factory=lambda: {"name": "jnlpdiag", "version": __version__})
    probes: list[dict[str, Any]] = field(default_factory=list)  # id, layer, description, status

    @property
    def status(self) -> Status:
        return verdict(self.findings)

    @property
    def exit_code(self) -> int:
        return exit_code_for(self.status)

    def root_causes(self) -> list[Finding]:
        return root_causes(self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_ID,
            "tool": self.tool,
            "host": self.host,
            "settings": self.settings,
            "status": self.status.value,
            "exit_code": self.exit_code,
            "root_causes": [
                {
                    "id": f.id,
                    "layer": f.layer.value,
                    "title": f.title,
                    "consequences": [c.id for c in consequences(f.id, self.findings)],
                }
                for f in self.root_causes()
            ],
            "findings": [f.to_dict() for f in self.findings],
            "probes": self.probes,
            "started_at": self.started_at,
            "duration_ms": round(self.duration_ms, 1),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Report:
        """Load a saved report; anything malformed raises ValueError with a one-line reason."""
        if not isinstance(data, dict) or data.get("schema") != SCHEMA_ID:
            shown = str(data.get("schema"))[:60] if isinstance(data, dict) else type(data).__name__
            shown = shown.encode("unicode_escape").decode("ascii")
            raise ValueError(f"not a {SCHEMA_ID} document (schema: {shown!r})")
        try:
            return cls._from_valid_dict(data)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            # The message quotes the file's own text: escape control characters (newlines, terminal
            # escape sequences) so that a hostile report cannot paint the terminal that shows it.
            reason = str(exc)[:120].encode("unicode_escape").decode("ascii")
            raise ValueError(f"malformed {SCHEMA_ID} document: {type(exc).__name__}: {reason}") from None

    @classmethod
    def _from_valid_dict(cls, data: dict[str, Any]) -> Report:
        return cls(
            findings=[Finding.from_dict(f) for f in data.get("findings") or []],
            settings=dict(data.get("settings") or {}),
            started_at=str(data.get("started_at", "")),
            duration_ms=float(data.get("duration_ms") or 0.0),
            host=dict(data.get("host") or {}),
            tool=dict(data.get("tool") or {}),
            probes=list(data.get("probes") or []),
        )
