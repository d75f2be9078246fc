"""Support bundle: everything a ticket needs, in one folder (or one zip), with no secret in it.

``write_bundle(report, out_dir, redactor)`` writes

* ``report.json`` — the ``jnlpdiag.report/1`` document;
* ``summary.md`` — Markdown for pasting into a ticket (root cause first);
* ``report.html`` — one self-contained page for a browser;
* ``capture.pcap`` — the packet capture, when one was taken (secret bytes masked);
* ``manifest.json`` — SHA-256 and size of each file above;

and, with ``zip=True``, ``<out_dir>.zip`` holding the same files. Every text goes through the
redactor twice: the report data before rendering (so every renderer sees clean data) and each
rendered file again (so a renderer cannot reintroduce a secret). With ``anonymize=True`` host
names and IP addresses are replaced consistently across all files (see
:class:`jnlpdiag.redact.Anonymizer`); the capture is then left out, because its packets carry the
addresses, host names (SNI, ``Host:``) and certificates in binary form.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jnlpdiag import __version__
from jnlpdiag.bundle.anonymize import anonymize_report, citation_hosts
from jnlpdiag.redact import Anonymizer, Redactor
from jnlpdiag.run_report import Report

MANIFEST_SCHEMA = "jnlpdiag.bundle/1"
_HOST_KEYS = {"host", "hostname", "agent_host", "server_name", "sni", "proxy_host"}


def _walk(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {fn(str(k)): _walk(v, fn) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_walk(v, fn) for v in value]
    return value


def _collect_hosts(data: dict[str, Any], anon: Anonymizer) -> None:
    """Teach the anonymizer every host the report names: URLs, host:port settings, host keys."""
    for host in citation_hosts():
        anon.keep_public(f"https://{host}/")
    for name, entry in (data.get("settings") or {}).items():
        value = entry.get("value") if isinstance(entry, dict) else entry
        if not isinstance(value, str):
            continue
        if "://" in value:
            anon.add_url(value)
        elif name in ("tunnel", "direct", "proxy_host"):
            anon.add_url(value if ":" in value else f"{value}:0")
    anon.add_host(str((data.get("host") or {}).get("name") or ""))

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if str(k).lower() in _HOST_KEYS and isinstance(v, str) and " " not in v:
                    anon.add_host(v)
                visit(v)
        elif isinstance(value, list):
            for v in value:
                visit(v)

    for finding in data.get("findings") or []:
        visit(finding.get("evidence"))
    anon.learn(json.dumps(data, ensure_ascii=False, default=str))


def _write(path: Path, content: bytes) -> None:
    # Written by the user who runs the tool and readable only by them until they share it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)


def write_bundle(
    report: Report,
    out_dir: str | os.PathLike[str],
    redactor: Redactor,
    *,
    zip: bool = False,
    capture: str | os.PathLike[str] | bytes | None = None,
    anonymize: bool = False,
) -> Path:
    """Write the bundle; returns the folder, or the zip file when ``zip`` is true."""
    from jnlpdiag.bundle import html
    from jnlpdiag.escape import json_text, visible
    from jnlpdiag.output import renderers

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    raw = report.to_dict()
    redactor.learn(json.dumps(raw, ensure_ascii=False, default=str))  # learn every shape-found credential first
    clean = _walk(raw, redactor)
    anon = Anonymizer() if anonymize else None
    if anon is not None:
        _collect_hosts(clean, anon)
        # Free text and address values only: ids, layers, statuses and keys are the schema's.
        clean = anonymize_report(clean, anon)

    def scrub(text: str) -> str:
        # Every file is rendered from the anonymized data; a second anonymizer pass over a whole
        # file would rewrite schema values and the renderers' own words, so only secrets are
        # scrubbed again.
        return redactor(text)

    notes: list[str] = []
    pcap: bytes | None = None
    if capture is not None:
        if anon is not None:
            notes.append("The packet capture was left out: --anonymize cannot remove the host names and "
                         "addresses that packets carry (IP headers, TLS SNI, HTTP Host, certificates).")
        else:
            from jnlpdiag.analyze.pcapfile import PcapError
            from jnlpdiag.capture.scrub import scrub_pcap

            blob = capture if isinstance(capture, bytes) else Path(capture).read_bytes()
            try:
                pcap, _ = scrub_pcap(blob, redactor)
            except PcapError as exc:
                notes.append(f"The packet capture was left out: it could not be read back ({exc}).")

    clean_report = Report.from_dict(clean)
    files: dict[str, bytes] = {
        "report.json": scrub(json_text(json.dumps(clean, indent=2, ensure_ascii=False, default=str)) + "\n").encode(),
        "summary.md": scrub(renderers()["markdown"](clean_report)
                            + "".join(f"\n> {visible(n)}\n" for n in notes)).encode(),
        "report.html": scrub(html.render(clean_report, notes)).encode(),
    }
    if pcap is not None:
        files["capture.pcap"] = pcap
    for name, content in files.items():
        _write(out / name, content)
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "tool": {"name": "jnlpdiag", "version": __version__},
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "report_schema": clean.get("schema"),
        "status": clean.get("status"),
        "anonymized": anonymize,
        "notes": notes,
        "files": [{"name": name, "bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}
                  for name, content in files.items()],
    }
    files["manifest.json"] = scrub(json_text(json.dumps(manifest, indent=2, ensure_ascii=False)) + "\n").encode()
    _write(out / "manifest.json", files["manifest.json"])
    if not zip:
        return out
    archive = out.parent / f"{out.name}.zip"
    fd = os.open(archive, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(f"{out.name}/{name}", date_time=dt.datetime.now().timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zf.writestr(info, content)
    return archive
