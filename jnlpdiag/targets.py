"""``check --targets FILE``: check many controllers/agents at once, with a bounded pool.

The file has one target per line: a Jenkins URL, optionally followed by an agent name, or a JSON
object with settings fields (``{"url": ..., "name": ..., "websocket": true, "tunnel": ...}``).
Blank lines and ``#`` comments are ignored.
"""

from __future__ import annotations

import asyncio
import copy
import json
from dataclasses import dataclass
from typing import Any

from jnlpdiag.model import Status, worst
from jnlpdiag.probe import Probe
from jnlpdiag.report import Report, exit_code_for
from jnlpdiag.runner import Runner
from jnlpdiag.settings import Settings

MAX_TARGETS = 10_000
MAX_FILE_BYTES = 10 * 1024 * 1024
DEFAULT_POOL = 64
_TARGET_FIELDS = {"url", "name", "tunnel", "websocket", "direct", "instance_identity", "ca_file"}
SCHEMA_ID = "jnlpdiag.targets/1"


class TargetsError(ValueError):
    pass


@dataclass
class Target:
    label: str
    overrides: dict[str, Any]


def parse_targets(text: str) -> list[Target]:
    targets: list[Target] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TargetsError(f"line {lineno}: not valid JSON ({exc.msg})") from None
            if not isinstance(data, dict):
                raise TargetsError(f"line {lineno}: expected a JSON object")
            unknown = set(data) - _TARGET_FIELDS
            if unknown:
                raise TargetsError(f"line {lineno}: unknown field(s) {sorted(unknown)}; allowed: {sorted(_TARGET_FIELDS)}")
            label = str(data.get("url") or data.get("direct") or f"line {lineno}")
            targets.append(Target(label, data))
        else:
            parts = line.split()
            if len(parts) > 2 or "://" not in parts[0]:
                raise TargetsError(f"line {lineno}: expected 'URL [agent-name]' or a JSON object")
            overrides: dict[str, Any] = {"url": parts[0] if parts[0].endswith("/") else parts[0] + "/"}
            if len(parts) == 2:
                overrides["name"] = parts[1]
            targets.append(Target(parts[0], overrides))
        if len(targets) > MAX_TARGETS:
            raise TargetsError(f"more than {MAX_TARGETS} targets")
    if not targets:
        raise TargetsError("no targets in the file")
    return targets


def read_targets(path: str) -> list[Target]:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise TargetsError(f"{path}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise TargetsError(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return parse_targets(data.decode("utf-8", "replace"))


def settings_for(base: Settings, target: Target) -> Settings:
    s = copy.deepcopy(base)
    for key, value in target.overrides.items():
        setattr(s, key, value)
        s.origins[key] = "targets file"
    return s


async def run_targets(base: Settings, targets: list[Target], probes: list[type[Probe]],
                      pool: int = DEFAULT_POOL) -> list[tuple[Target, Report]]:
    sem = asyncio.Semaphore(max(1, pool))

    async def one(target: Target) -> tuple[Target, Report]:
        async with sem:
            return target, await Runner(probes, settings_for(base, target)).run()

    return list(await asyncio.gather(*(one(t) for t in targets)))


def summary_document(results: list[tuple[Target, Report]]) -> dict[str, Any]:
    status = worst([r.status for _, r in results]) if results else Status.PASS
    return {
        "schema": SCHEMA_ID,
        "status": status.value,
        "exit_code": exit_code_for(status),
        "targets": [{"target": t.label, "status": r.status.value, "report": r.to_dict()} for t, r in results],
    }


def summary_text(results: list[tuple[Target, Report]]) -> str:
    lines = []
    for target, report in results:
        roots = report.root_causes()
        cause = f" — {roots[0].title}" if roots else ""
        lines.append(f"{report.status.symbol} {report.status.value.upper():5} {target.label}{cause}")
    doc = summary_document(results)
    lines.append(f"{len(results)} targets, worst: {doc['status']}, exit={doc['exit_code']}")
    return "\n".join(lines) + "\n"
