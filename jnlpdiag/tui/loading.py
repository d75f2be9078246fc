"""Read a saved ``jnlpdiag.report/1`` (a file, a bundle folder holding report.json, or the bundle's
zip from ``report --zip``) defensively.

The file usually comes from someone else's machine, attached to a ticket: it may be truncated, not
JSON, another tool's JSON, huge, deeply nested, or made to break a parser. Every such case becomes a
:class:`ReportFileError` with a one-line reason; nothing else escapes.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

from jnlpdiag.run_report import SCHEMA_ID, Report

MAX_BYTES = 16 * 1024 * 1024  # reports are kilobytes; a 16 MiB one is not a report
MAX_FINDINGS = 5000
BUNDLE_REPORT_NAMES = ("report.json",)


class ReportFileError(ValueError):
    """The path does not hold a readable jnlpdiag report."""


def report_path(path: str | os.PathLike[str]) -> Path:
    """The report file for ``path``: itself, or the report.json of a bundle folder."""
    p = Path(path)
    if p.is_dir():
        for name in BUNDLE_REPORT_NAMES:
            candidate = p / name
            if candidate.is_file():
                return candidate
        raise ReportFileError(f"{p}: a folder without report.json (is it a jnlpdiag bundle?)")
    if not p.exists():
        raise ReportFileError(f"{p}: no such file or folder")
    if not p.is_file():
        raise ReportFileError(f"{p}: not a regular file")
    return p


MAX_ZIP_BYTES = 64 * 1024 * 1024  # a bundle zip holds a report, pages and at most a bounded capture
ZIP_MAGIC = b"PK\x03\x04"


def _zip_member(file: Path, zf: zipfile.ZipFile) -> zipfile.ZipInfo:
    """The bundle's report.json: at the top of the zip or in its one folder (``report --zip`` writes
    ``DIR/report.json``)."""
    found = [i for i in zf.infolist()
             if not i.is_dir() and i.filename.rsplit("/", 1)[-1] in BUNDLE_REPORT_NAMES and i.filename.count("/") <= 1]
    if not found:
        raise ReportFileError(f"{file}: a zip without report.json (is it a jnlpdiag bundle?)")
    found.sort(key=lambda i: i.filename.count("/"))
    if len(found) > 1 and found[0].filename.count("/") == found[1].filename.count("/"):
        raise ReportFileError(f"{file}: a zip holding several reports ({found[0].filename}, {found[1].filename})")
    return found[0]


def _read_zip(file: Path) -> bytes:
    """report.json out of a bundle zip, decompressed at most MAX_BYTES + 1 (a zip bomb stops there)."""
    try:
        if file.stat().st_size > MAX_ZIP_BYTES:
            raise ReportFileError(f"{file}: too large for a jnlpdiag bundle zip (limit {MAX_ZIP_BYTES} bytes)")
        with zipfile.ZipFile(file) as zf:
            info = _zip_member(file, zf)
            if info.file_size > MAX_BYTES:
                raise ReportFileError(f"{file}: {info.filename} is too large for a jnlpdiag report")
            with zf.open(info) as fh:
                return fh.read(MAX_BYTES + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError) as exc:
        if isinstance(exc, ReportFileError):
            raise
        raise ReportFileError(f"{file}: a damaged or unsupported zip ({str(exc)[:200]})") from None
    except RuntimeError as exc:  # an encrypted member
        raise ReportFileError(f"{file}: cannot read the zip ({str(exc)[:200]})") from None
    except OSError as exc:
        raise ReportFileError(f"{file}: cannot read it: {exc.strerror or exc}") from None


def _read(file: Path) -> bytes:
    try:
        size = file.stat().st_size
        with open(file, "rb") as fh:
            if fh.read(4) == ZIP_MAGIC:
                return _read_zip(file)
            fh.seek(0)
            if size > MAX_BYTES:
                raise ReportFileError(f"{file}: {size} bytes is too large for a jnlpdiag report (limit {MAX_BYTES})")
            return fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ReportFileError(f"{file}: cannot read it: {exc.strerror or exc}") from None


def load_report(path: str | os.PathLike[str]) -> tuple[Report, Path]:
    """Parse and validate a saved report (a file, a bundle folder or a bundle zip); returns it and
    the file actually read."""
    file = report_path(path)
    raw = _read(file)
    if len(raw) > MAX_BYTES:  # grew while we looked (a FIFO or /dev/zero behind a symlink)
        raise ReportFileError(f"{file}: too large for a jnlpdiag report (limit {MAX_BYTES} bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReportFileError(f"{file}: not UTF-8 text (byte {exc.start}); a report is JSON") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise ReportFileError(f"{file}: JSON nested too deeply to be a jnlpdiag report") from None
    except ValueError as exc:
        raise ReportFileError(f"{file}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ReportFileError(f"{file}: a JSON {type(data).__name__}, not a {SCHEMA_ID} object")
    if data.get("schema") != SCHEMA_ID:
        raise ReportFileError(f"{file}: not a {SCHEMA_ID} document (schema: {str(data.get('schema'))[:60]!r})")
    findings = data.get("findings")
    if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
        raise ReportFileError(f"{file}: \"findings\" must be a list of objects")
    if len(findings) > MAX_FINDINGS:
        raise ReportFileError(f"{file}: {len(findings)} findings; more than {MAX_FINDINGS} is not a real report")
    for key, kind in (("settings", dict), ("host", dict), ("tool", dict), ("probes", list)):
        if data.get(key) is not None and not isinstance(data[key], kind):
            raise ReportFileError(f"{file}: \"{key}\" must be a JSON {'object' if kind is dict else 'array'}")
    for i, f in enumerate(findings):
        if f.get("evidence") is not None and not isinstance(f["evidence"], dict):
            raise ReportFileError(f"{file}: finding {i}: \"evidence\" must be an object")
        if not isinstance(f.get("fixes") or [], list) or not all(isinstance(x, dict) for x in f.get("fixes") or []):
            raise ReportFileError(f"{file}: finding {i}: \"fixes\" must be a list of objects")
    try:
        report = Report.from_dict(data)
    except KeyError as exc:
        raise ReportFileError(f"{file}: a finding lacks the field {exc}") from None
    except (ValueError, TypeError, AttributeError, RecursionError) as exc:  # FindingError is a ValueError
        raise ReportFileError(f"{file}: invalid report: {str(exc)[:300]}") from None
    return report, file
