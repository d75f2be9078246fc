"""``jnlpdiag logs FILE... | -``: diagnose agent logs, controller logs and ``kubectl logs`` output.

Known error messages (jnlpdiag/data/log-signatures.json, each with its cause, fix and source) are
looked for in each log event; Java stack traces are grouped and read from their root
``Caused by:``. Rotated ``.gz`` logs are read as they are; a file that is not text is refused.
Output: findings with the matched lines quoted, as text or ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from jnlpdiag.run_report import EXIT_ERROR
from jnlpdiag.usage import seconds

NAME = "logs"
HELP = "diagnose agent / controller / kubectl logs by known error signatures (FILE... or - for stdin)"
ORDER = 45


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="log files (rotated .gz ones too), or - to read standard input")
    parser.add_argument("--json", action="store_true", help="print one JSON document (schema jnlpdiag.logs/1)")
    parser.add_argument("--timeout", type=seconds, default=None, metavar="S",
                        help="stop reading after S seconds and report what was read (default: no limit)")
    parser.add_argument("--redact", action="append", default=[], metavar="VALUE",
                        help="extra value to redact from the output (the agent secret from JENKINS_SECRET always is)")


def run(args: argparse.Namespace) -> int:
    from jnlpdiag.findings import Finding, Fix, Layer, Status
    from jnlpdiag.logs import Scanner
    from jnlpdiag.logs.reader import LogInputError, Truncated, blocks
    from jnlpdiag.output.findingtext import render_findings
    from jnlpdiag.redact import Redactor
    from jnlpdiag.run_report import exit_code_for

    redactor = Redactor([*args.redact, os.environ.get("JENKINS_SECRET", "")])

    def fail(message: str) -> int:
        print(redactor(f"jnlpdiag logs: {message}"), file=sys.stderr)
        return EXIT_ERROR

    if args.files.count("-") > 1:
        return fail("standard input (-) can be read only once")
    for name in args.files:
        if name != "-" and not os.path.isfile(name):
            return fail(f"{name}: {'is a directory' if os.path.isdir(name) else 'no such file'}")
    inputs = [("<stdin>" if n == "-" else n) for n in args.files]
    scanner = Scanner(inputs)
    stopped = None
    for name in args.files:
        label = "<stdin>" if name == "-" else os.path.basename(name)
        number = 1
        try:
            for block in blocks(name, sys.stdin.buffer if name == "-" else None):
                number += scanner.block(label, block, number)
                if args.timeout is not None and scanner.elapsed() > args.timeout:
                    stopped = f"{label} line {number - 1}"
                    break
        except LogInputError as exc:
            return fail(f"{name}: {exc}")
        except Truncated as exc:
            scanner.note(Finding(
                id=f"logs.truncated.{len(scanner.result.findings)}", probe="logs", layer=Layer.HOST, status=Status.WARN,
                title=f"{label}: the compressed log ends early; its first {number - 1} lines were read",
                detail=f"The gzip stream stops before its end ({exc}); a log rotated while it was written, or a "
                       "partial copy. The lines before the cut were matched.",
                evidence={"input": name, "lines_read": number - 1},
                fixes=[Fix("Read the complete file (copy it again once rotation finished)", steps=(f"gzip -t {name}",))],
            ))
        except OSError as exc:
            return fail(f"{name}: cannot read: {exc.strerror or exc}")
        scanner.end_of_input()
        if stopped:
            break
    result = scanner.finish()
    if stopped:
        result.complete = False
        result.findings.append(Finding(
            id="logs.timeout", probe="logs", layer=Layer.HOST, status=Status.WARN,
            title=f"Stopped at --timeout {args.timeout:g} s after {result.lines} lines ({stopped}): the rest was not read",
            detail="The findings above cover the lines read so far; a known error later in the input is not among them.",
            evidence={"timeout_s": args.timeout, "lines_read": result.lines, "bytes_read": result.bytes},
            fixes=[Fix("Give the read more time, or read only the recent part of the log",
                       steps=(f"jnlpdiag logs --timeout {max(60, int(args.timeout * 4))} {' '.join(args.files)}",
                              f"tail -n 200000 {args.files[0]} | jnlpdiag logs -"))],
        ))
        if result.findings and result.findings[0].id == "logs.none":
            result.findings.pop(0)  # not read to the end: no "no known error" pass
    if args.json:
        sys.stdout.write(redactor(json.dumps(result.to_dict(), indent=2, ensure_ascii=False)) + "\n")
    else:
        size = ""
        if result.bytes >= 10_000_000 and result.seconds > 0:
            size = f" ({result.bytes / 1e6:.0f} MB in {result.seconds:.1f} s)"
        header = [f"{', '.join(result.inputs)}: {result.lines} lines{size}, {result.events} events examined — "
                  f"{result.status.value.upper()}"]
        sys.stdout.write(redactor(render_findings(result.findings, header)))
    return exit_code_for(result.status)
