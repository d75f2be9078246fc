"""``jnlpdiag check``: run the probes headless and print one report (text, JSON, ...)."""

from __future__ import annotations

import argparse
import sys

from jnlpdiag.commands.common import add_check_arguments, settings_from_args
from jnlpdiag.output import renderers
from jnlpdiag.redact import Redactor
from jnlpdiag.registry import load_probes, select
from jnlpdiag.report import EXIT_ERROR, Report
from jnlpdiag.runner import run_sync
from jnlpdiag.settings import Settings, SettingsError

NAME = "check"
HELP = "run the checks and print a report (text by default, --json for health checks)"
ORDER = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_check_arguments(parser)
    out = parser.add_argument_group("output")
    out.add_argument("--json", action="store_const", const="json", dest="format",
                     help="print one JSON document (schema jnlpdiag.report/1); same as --format json")
    out.add_argument("--format", default=None, choices=sorted(renderers()), help="output format (default: text)")


def redactor_for(settings: Settings, extra: list[str]) -> Redactor:
    return Redactor([*settings.secret_values(), *extra])


def run_checks(args: argparse.Namespace) -> tuple[Report, Redactor] | int:
    """Gather settings and run the selected probes; an int is an exit code after a usage error."""
    try:
        settings = settings_from_args(args)
    except SettingsError as exc:
        print(f"jnlpdiag: {exc}", file=sys.stderr)
        return EXIT_ERROR
    redactor = redactor_for(settings, args.redact)
    probes, errors = load_probes()
    for err in errors:
        print(redactor(f"jnlpdiag: warning: probe plug-in {err.entry_point} not loaded: {err.reason}"), file=sys.stderr)
    chosen = select(probes, args.probe, args.skip)
    if not chosen:
        print("jnlpdiag: no probe matches --probe/--skip; see `jnlpdiag probes`", file=sys.stderr)
        return EXIT_ERROR
    return run_sync(chosen, settings), redactor


def run(args: argparse.Namespace) -> int:
    result = run_checks(args)
    if isinstance(result, int):
        return result
    report, redactor = result
    fmt = args.format or "text"
    sys.stdout.write(redactor(renderers()[fmt](report)))
    return report.exit_code
