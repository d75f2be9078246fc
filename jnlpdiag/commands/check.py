"""``jnlpdiag check``: run the probes headless and print one report (text, JSON, ...)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from jnlpdiag.commands.common import add_check_arguments, add_probe_arguments, settings_from_args
from jnlpdiag.output import renderers
from jnlpdiag.probe_api import Probe
from jnlpdiag.redact import Redactor
from jnlpdiag.registry import load_probes, probe_names, select
from jnlpdiag.run_report import EXIT_ERROR, Report, exit_code_for
from jnlpdiag.runner import run_sync
from jnlpdiag.settings import Settings, SettingsError
from jnlpdiag.usage import UsageError, check_url, resolve_selection, validate_settings

NAME = "check"
HELP = "run the checks and print a report (text by default, --json for health checks)"
ORDER = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_check_arguments(parser)
    out = parser.add_argument_group("output")
    out.add_argument("--json", action="store_const", const="json", dest="format",
                     help="print one JSON document (schema jnlpdiag.report/1); same as --format json")
    out.add_argument("--format", default=None, choices=sorted(renderers()), help="output format (default: text)")
    many = parser.add_argument_group("many targets")
    many.add_argument("--targets", metavar="FILE",
                      help="check every target in FILE (one 'URL [name]' or JSON object per line), concurrently")
    many.add_argument("--pool", type=int, default=64, metavar="N", help="targets checked at once (default 64)")
    add_probe_arguments(parser)


def redactor_for(settings: Settings | None, extra: list[str]) -> Redactor:
    return Redactor([*(settings.secret_values() if settings is not None else ()), *extra])


def _selection(args: argparse.Namespace) -> tuple[list[str], list[str], list[str]]:
    """--probe/--skip checked against the probe ids: entry-point names first (no import), then,
    if a glob matches none of them, the ids of every loadable probe (a plug-in named otherwise)."""
    try:
        return resolve_selection(args.probe, args.skip, probe_names())
    except UsageError:
        probes, _ = load_probes()
        return resolve_selection(args.probe, args.skip, [*probe_names(), *(p.id for p in probes)])


def prepare(args: argparse.Namespace) -> tuple[Settings, Redactor, list[type[Probe]]] | int:
    """Settings, the run's redactor and the selected probes; an int is an exit code (usage error).

    Shared by every command that runs checks (check, report, tui), so they agree on all three.
    """
    settings: Settings | None = None
    try:
        if args.url:
            check_url(args.url)  # as typed (settings add the trailing slash agent.jar adds)
        settings = settings_from_args(args)
        validate_settings(settings)
        include, exclude, notes = _selection(args)
    except SettingsError as exc:
        print(redactor_for(settings, args.redact)(f"jnlpdiag: {exc}"), file=sys.stderr)
        return EXIT_ERROR
    redactor = redactor_for(settings, args.redact)
    for note in notes:
        print(redactor(f"jnlpdiag: note: {note}"), file=sys.stderr)
    probes, errors = load_probes(include)
    for err in errors:
        print(redactor(f"jnlpdiag: warning: probe plug-in {err.entry_point} not loaded: {err.reason}"), file=sys.stderr)
    chosen = select(probes, include, exclude)
    if not chosen:
        print("jnlpdiag: no probe matches --probe/--skip; see `jnlpdiag probes`", file=sys.stderr)
        return EXIT_ERROR
    return settings, redactor, chosen


def run_checks(
    args: argparse.Namespace, before_run: Callable[[Settings, Redactor], None] | None = None
) -> tuple[Report, Redactor] | int:
    """Gather settings and run the selected probes; an int is an exit code after a usage error or
    an interruption (Ctrl-C: one line with what finished, 130).

    ``before_run(settings, redactor)`` is called just before the probes start (``report --capture``
    starts its packet capture there).
    """
    prepared = prepare(args)
    if isinstance(prepared, int):
        return prepared
    settings, redactor, chosen = prepared
    from jnlpdiag.interrupt import EXIT_INTERRUPTED, Progress

    progress = Progress()
    try:
        if before_run is not None:
            before_run(settings, redactor)
        return run_sync(chosen, settings, on_event=progress), redactor
    except KeyboardInterrupt:
        print(redactor(progress.interrupted_line()), file=sys.stderr)
        return EXIT_INTERRUPTED


def run_many(args: argparse.Namespace) -> int:
    from jnlpdiag import targets as multi

    # The fleet's deadline counts from the start of the process: start-up and imports are part of it.
    started = time.monotonic() - multi.process_age()
    try:
        targets = multi.read_targets(args.targets)
    except multi.TargetsError as exc:
        print(f"jnlpdiag: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if not 1 <= args.pool <= 1024:
        print("jnlpdiag: --pool must be between 1 and 1024", file=sys.stderr)
        return EXIT_ERROR
    if (args.format or "text") not in ("text", "json"):
        print("jnlpdiag: --targets prints text or json (use `report` per target for other formats)", file=sys.stderr)
        return EXIT_ERROR
    prepared = prepare(args)
    if isinstance(prepared, int):
        return prepared
    settings, redactor, chosen = prepared
    from jnlpdiag.interrupt import EXIT_INTERRUPTED
    from jnlpdiag.runner import run_main

    hosts = any(p.layer.value == "host" for p in chosen)
    deadline = settings.run.deadline or multi.default_deadline(settings, len(targets), args.pool, hosts, chosen)
    origin = "--deadline" if settings.run.deadline else (
        f"--timeout x {-(-len(targets) // args.pool)} rounds of --pool {args.pool}" + (" + 1 for the host checks"
                                                                                     if hosts else ""))
    print(f"jnlpdiag: {len(targets)} targets, {args.pool} at a time, each within "
          f"{multi.per_target_seconds(settings, chosen):g} s{'; host checks once' if hosts else ''}; "
          f"the fleet's deadline is {deadline:g} s ({origin}), from the start of the process; the checks end "
          f"{multi.emit_reserve(len(targets)):.2f} s before it to write the results", file=sys.stderr)
    sys.stderr.flush()

    try:
        fleet = run_main(lambda: multi.run_targets(settings, targets, chosen, args.pool, deadline, redactor,
                                                   started))
    except KeyboardInterrupt:
        print("jnlpdiag: interrupted; no summary (targets in flight were cut)", file=sys.stderr)
        return EXIT_INTERRUPTED
    if (args.format or "text") == "json":
        multi.write_json(fleet, sys.stdout, redactor)
    else:
        sys.stdout.write(multi.summary_text(fleet, redactor))
    return exit_code_for(fleet.status)


def run(args: argparse.Namespace) -> int:
    if args.targets:
        return run_many(args)
    result = run_checks(args)
    if isinstance(result, int):
        return result
    report, redactor = result
    fmt = args.format or "text"
    # Redact the data first, then (for text formats) the rendered text as a second net.
    safe = Report.from_dict(redactor.data(report.to_dict()))
    text = renderers()[fmt](safe)
    sys.stdout.write(text if fmt == "json" else redactor(text))
    return report.exit_code
