"""Anonymize a ``jnlpdiag.report/1`` document: free text and address values only.

Host names and IP addresses are replaced (see :class:`jnlpdiag.redact.Anonymizer`) in the values a
person or a peer wrote: titles, details, evidence, fix texts, setting values, the host name. What
the schema defines (``schema``, ids, probe names, layers, statuses, ``caused_by`` links, object
keys, numbers, timestamps) is never touched, so the document still validates against
docs/report.schema.json and still reads back as a report. Fields the schema does not know yet are
anonymized as free text: a new field may carry an address.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any

Text = Callable[[str], str]

# Per object kind: keys whose values are structure (kept exactly). Every other string value is
# free text or an address and goes through the anonymizer.
_KEEP_TOP = {"schema", "tool", "status", "exit_code", "started_at", "duration_ms"}
_KEEP_HOST = {"os", "kernel", "machine", "python", "uid", "in_container"}
_KEEP_FINDING = {"id", "probe", "layer", "status", "caused_by", "duration_ms"}
_KEEP_ROOT = {"id", "layer", "consequences"}
_KEEP_PROBE = {"id", "layer", "status"}
_KEEP_SETTING = {"origin"}


@lru_cache(maxsize=1)
def citation_hosts() -> frozenset[str]:
    """Hosts of the public links the tool's own data files cite (github.com, www.jenkins.io, ...):
    they are kept, so the fix docs and signature sources in an anonymized bundle still open. Taken
    from the shipped data, never from the report, so a report cannot pass a private host off as one."""
    hosts: set[str] = set()
    pattern = re.compile(r"https://([a-z0-9][a-z0-9.-]*\.[a-z]{2,})[/:\"]")
    root = resources.files("jnlpdiag").joinpath("data")
    todo = [root]
    while todo:
        for entry in todo.pop().iterdir():
            if entry.is_dir():
                todo.append(entry)
            elif entry.name.endswith(".json"):
                hosts.update(m.lower() for m in pattern.findall(entry.read_text("utf-8")))
    return frozenset(hosts)


def _values(value: Any, text: Text) -> Any:
    """Strings in any nesting, keys kept (evidence and setting values)."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, dict):
        return {k: _values(v, text) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_values(v, text) for v in value]
    return value


def _object(obj: Any, keep: set[str], text: Text, nested: dict[str, Callable[[Any], Any]] | None = None) -> Any:
    if not isinstance(obj, dict):
        return _values(obj, text)
    out = {}
    for key, value in obj.items():
        if key in keep:
            out[key] = value
        elif nested and key in nested:
            out[key] = nested[key](value)
        else:
            out[key] = _values(value, text)
    return out


def _each(value: Any, fn: Callable[[Any], Any]) -> Any:
    return [fn(v) for v in value] if isinstance(value, list) else value


def anonymize_report(data: dict[str, Any], text: Text) -> dict[str, Any]:
    """A copy of ``data`` with ``text`` (the anonymizer) applied to free text and address values."""

    def finding(f: Any) -> Any:
        return _object(f, _KEEP_FINDING, text)

    def settings(s: Any) -> Any:
        if not isinstance(s, dict):
            return s
        return {name: _object(entry, _KEEP_SETTING, text) for name, entry in s.items()}

    return _object(data, _KEEP_TOP, text, {
        "host": lambda h: _object(h, _KEEP_HOST, text),
        "settings": settings,
        "findings": lambda fs: _each(fs, finding),
        "root_causes": lambda rs: _each(rs, lambda r: _object(r, _KEEP_ROOT, text)),
        "probes": lambda ps: _each(ps, lambda p: _object(p, _KEEP_PROBE, text)),
    })
