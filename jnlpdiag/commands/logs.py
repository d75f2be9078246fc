"""``jnlpdiag logs FILE... | -``: diagnose agent logs, controller logs and ``kubectl logs`` output.

Known error messages (jnlpdiag/data/log-signatures.json, each with its cause, fix and source) are
looked for in each log event; Java stack traces are grouped and read from their root
``Caused by:``. Output: findings with the matched lines quoted, as text or ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator

from jnlpdiag.report import EXIT_ERROR

NAME = "logs"
HELP = "diagnose agent / controller / kubectl logs by known error signatures (FILE... or - for stdin)"
ORDER = 45


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="log files, or - to read standard input")
    parser.add_argument("--json", action="store_true", help="print one JSON document (schema jnlpdiag.logs/1)")
    parser.add_argument("--redact", action="append", default=[], metavar="VALUE",
                        help="extra value to redact from the output (the agent secret from JENKINS_SECRET always is)")


def _read(files: list[str]) -> Iterator[tuple[str, int, str]]:
    for name in files:
        if name == "-":
            stream = sys.stdin.buffer
            label = "<stdin>"
            for number, raw in enumerate(stream, start=1):
                yield label, number, raw.decode("utf-8", "replace")
            continue
        with open(name, "rb") as fh:
            label = os.path.basename(name)
            for number, raw in enumerate(fh, start=1):
                yield label, number, raw.decode("utf-8", "replace")


def run(args: argparse.Namespace) -> int:
    from jnlpdiag.logs import analyze_lines
    from jnlpdiag.output.findingtext import render_findings
    from jnlpdiag.redact import Redactor
    from jnlpdiag.report import exit_code_for

    redactor = Redactor([*args.redact, os.environ.get("JENKINS_SECRET", "")])
    if args.files.count("-") > 1:
        print("jnlpdiag logs: standard input (-) can be read only once", file=sys.stderr)
        return EXIT_ERROR
    for name in args.files:
        if name != "-" and not os.path.isfile(name):
            reason = "is a directory" if os.path.isdir(name) else "no such file"
            print(redactor(f"jnlpdiag logs: {name}: {reason}"), file=sys.stderr)
            return EXIT_ERROR
    try:
        result = analyze_lines(_read(args.files), [("<stdin>" if n == "-" else n) for n in args.files])
    except OSError as exc:
        print(redactor(f"jnlpdiag logs: cannot read: {exc.strerror or exc}"), file=sys.stderr)
        return EXIT_ERROR
    if args.json:
        sys.stdout.write(redactor(json.dumps(result.to_dict(), indent=2, ensure_ascii=False)) + "\n")
    else:
        header = [f"{', '.join(result.inputs)}: {result.lines} lines, {result.events} events — "
                  f"{result.status.value.upper()}"]
        sys.stdout.write(redactor(render_findings(result.findings, header)))
    return exit_code_for(result.status)
