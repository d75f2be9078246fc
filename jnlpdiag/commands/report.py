"""``jnlpdiag report --out DIR``: run the checks and write a support bundle for a ticket.

The bundle (see :mod:`jnlpdiag.bundle`) holds the JSON report, a Markdown summary, a self-contained
HTML page, the packet capture with ``--capture``, and a manifest of SHA-256 sums; ``--zip`` packs
it into ``DIR.zip``. Secrets are redacted from every file; ``--anonymize`` also replaces host names
and IP addresses.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from jnlpdiag.commands.common import add_check_arguments, add_probe_arguments
from jnlpdiag.run_report import EXIT_ERROR

if TYPE_CHECKING:
    from jnlpdiag.capture import PacketCapture
    from jnlpdiag.redact import Redactor
    from jnlpdiag.settings import Settings

NAME = "report"
HELP = "run the checks and write a support bundle for a ticket (JSON, Markdown, HTML, manifest, capture)"
ORDER = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_check_arguments(parser)
    bundle = parser.add_argument_group("bundle")
    bundle.add_argument("--out", required=True, metavar="DIR",
                        help="folder to write the bundle to (created if missing)")
    bundle.add_argument("--zip", action="store_true", help="also pack the bundle into DIR.zip")
    bundle.add_argument("--capture", action="store_true",
                        help="capture the probes' own packets into capture.pcap (needs root or CAP_NET_RAW)")
    bundle.add_argument("--anonymize", action="store_true",
                        help="replace host names and IP addresses consistently (leaves the capture out)")
    add_probe_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jnlpdiag.bundle import write_bundle
    from jnlpdiag.commands.check import run_checks

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        print(f"jnlpdiag: --out {args.out}: exists and is not a folder", file=sys.stderr)
        return EXIT_ERROR
    capture: PacketCapture | None = None

    def before_run(settings: Settings, redactor: Redactor) -> None:
        nonlocal capture
        if args.capture:
            from jnlpdiag.capture import PacketCapture

            capture = PacketCapture(settings, redactor)
            capture.start()

    result = run_checks(args, before_run=before_run)
    if isinstance(result, int):
        return result
    report, redactor = result
    if capture is not None:
        capture.stop(report.findings)
        if capture.finding is not None:
            report.findings.append(capture.finding)
    try:
        path = write_bundle(report, out, redactor, zip=args.zip,
                            capture=capture.pcap if capture is not None else None, anonymize=args.anonymize)
    except OSError as exc:
        print(redactor(f"jnlpdiag: cannot write the bundle to {args.out}: {exc.strerror or exc}"), file=sys.stderr)
        return EXIT_ERROR
    from jnlpdiag.output.columns import hang

    roots = report.root_causes()
    lines = hang("jnlpdiag: ", f"{report.status.value.upper()} — bundle written to {path}")
    for f in roots:
        lines += hang("  root cause: ", f"[{f.layer.value}] {f.title} ({f.id})")
    if capture is not None and capture.finding is not None:
        lines += hang("  capture: ", capture.finding.title)
        if capture.finding.fixes:
            for step in capture.finding.fixes[0].commands[:1]:
                lines += hang("    $ ", step)
    print(redactor("\n".join(lines)))
    return report.exit_code
