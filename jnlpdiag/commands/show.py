"""``jnlpdiag show REPORT``: open a saved report (report.json, a bundle folder or its zip) read-only.

What a support engineer does with the file attached to a ticket. The file is untrusted: it is
validated (size, JSON, schema, field types) and every string is stripped of terminal control
characters before it is shown; a bad file is one clear error line and exit code 3.
"""

from __future__ import annotations

import argparse
import sys

from jnlpdiag.redact import Redactor
from jnlpdiag.run_report import EXIT_ERROR

NAME = "show"
HELP = "open a saved report (report.json, a bundle folder or the bundle zip) in the UI, read-only"
ORDER = 16


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", metavar="REPORT",
                        help="a jnlpdiag.report/1 JSON file, a bundle folder, or the bundle zip (report --zip)")
    parser.add_argument("--export-dir", metavar="DIR", help="where the export key (x) writes a copy")
    parser.add_argument("--redact", action="append", default=[], metavar="VALUE",
                        help="extra value to redact from all output")


def run(args: argparse.Namespace) -> int:
    from jnlpdiag.commands.tui import export_dir, has_terminal
    from jnlpdiag.tui.loading import ReportFileError, load_report
    from jnlpdiag.tui.state import sanitized_report

    try:
        loaded, file = load_report(args.report)
    except ReportFileError as exc:
        print(f"jnlpdiag show: {exc}", file=sys.stderr)
        return EXIT_ERROR
    redactor = Redactor(args.redact)
    report = sanitized_report(loaded, redactor)
    if not has_terminal():
        from jnlpdiag.output import renderers

        sys.stdout.write(renderers()["text"](report))
        return report.exit_code
    out_dir = export_dir(args)
    if isinstance(out_dir, int):
        return out_dir
    from jnlpdiag.tui.app import JnlpdiagApp

    app = JnlpdiagApp.show(report, file.name, redactor=redactor, export_dir=out_dir)
    code = app.run()
    if app.last_export:
        print(f"jnlpdiag: report written to {app.last_export}")
    return EXIT_ERROR if code is None else int(code)
