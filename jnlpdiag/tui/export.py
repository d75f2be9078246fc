"""Export the report on screen: the same bundle as ``jnlpdiag report``, written where the user is.

``jnlpdiag.bundle.write_bundle`` makes the bundle. Where that module is not installed, the report is
written as ``report.json`` through the same redactor, so export never silently does nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jnlpdiag.redact import Redactor
from jnlpdiag.run_report import Report


def _bundle_writer() -> Callable[..., Any] | None:
    try:
        from jnlpdiag.bundle import write_bundle
    except ModuleNotFoundError as exc:
        if exc.name in ("jnlpdiag.bundle",):
            return None
        raise
    except ImportError:  # the package exists but does not (yet) offer write_bundle
        return None
    return write_bundle  # type: ignore[no-any-return]


def candidate_dirs(preferred: Path | None) -> list[Path]:
    """Where an export may go: the chosen folder, else the current one, then $HOME, then /tmp."""
    if preferred is not None:
        return [preferred]
    out = [Path.cwd()]
    home = os.environ.get("HOME")
    if home:
        out.append(Path(home))
    out.append(Path(tempfile.gettempdir()))
    return out


def export_report(report: Report, redactor: Redactor, export_dir: Path | None = None,
                  now: dt.datetime | None = None) -> Path:
    """Write the report; returns the path written (bundle folder, zip or report.json)."""
    stamp = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%d-%H%M%S")
    errors = []
    for base in candidate_dirs(export_dir):
        if not os.access(base, os.W_OK | os.X_OK):
            errors.append(f"{base}: not writable")
            continue
        target = base / f"jnlpdiag-report-{stamp}"
        n = 2
        while target.exists():
            target = base / f"jnlpdiag-report-{stamp}-{n}"
            n += 1
        writer = _bundle_writer()
        if writer is not None:
            return Path(writer(report, target, redactor))
        target.mkdir(parents=True)
        path = target / "report.json"
        path.write_text(json.dumps(redactor.data(report.to_dict()), indent=2) + "\n", encoding="utf-8")
        return path
    raise OSError("no writable folder for the report: " + "; ".join(errors))
