"""``jnlpdiag demo``: start loopback demo endpoints and diagnose them, for a first run without Jenkins.

The endpoints (see :mod:`jnlpdiag.demo`) reproduce two real faults: a TLS 1.3-only HTTPS front
while the agent's JVM is limited to TLS 1.2, and a reverse proxy that drops the WebSocket upgrade.
They listen on 127.0.0.1 only and stop when the command ends.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import TYPE_CHECKING

from jnlpdiag.run_report import EXIT_ERROR
from jnlpdiag.usage import seconds

if TYPE_CHECKING:
    from jnlpdiag.demo import DemoEndpoints

NAME = "demo"
HELP = "start loopback demo endpoints (a Jenkins surface, a TLS 1.3-only front, a proxy) and diagnose them"
ORDER = 90


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=seconds, default=5.0, metavar="S", help="timeout of each step (default 5)")
    parser.add_argument("--no-ui", action="store_true", help="print the text report instead of opening the UI")
    parser.add_argument("--probe", action="append", default=[], metavar="GLOB", help="run only matching probes")
    parser.add_argument("--skip", action="append", default=[], metavar="GLOB", help="do not run matching probes")


def stop_on_signals(demo: DemoEndpoints) -> None:
    """A dropped SSH session (SIGHUP) or a kill (SIGTERM) still stops the endpoints and removes
    their temp folder, then ends the process the default way."""

    def handler(signum: int, frame: object) -> None:
        demo.stop()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, handler)


def run(args: argparse.Namespace) -> int:
    from jnlpdiag.commands.tui import has_terminal
    from jnlpdiag.demo import DemoEndpoints
    from jnlpdiag.demo.endpoints import LABEL
    from jnlpdiag.redact import Redactor
    from jnlpdiag.registry import load_probes, select

    probes, errors = load_probes()
    for err in errors:
        print(f"jnlpdiag: warning: probe plug-in {err.entry_point} not loaded: {err.reason}", file=sys.stderr)
    chosen = select(probes, args.probe, args.skip)
    if not chosen:
        print("jnlpdiag demo: no probe matches --probe/--skip; see `jnlpdiag probes`", file=sys.stderr)
        return EXIT_ERROR
    try:
        demo = DemoEndpoints().start()
    except (RuntimeError, OSError) as exc:
        print(f"jnlpdiag demo: {exc}", file=sys.stderr)
        return EXIT_ERROR
    stop_on_signals(demo)
    try:
        settings = demo.settings(args.timeout)
        redactor = Redactor(settings.secret_values())
        print(f"jnlpdiag demo: DEMO — {LABEL}:", file=sys.stderr)
        for line in demo.describe():
            print(f"  {line}", file=sys.stderr)
        if args.no_ui or not has_terminal():
            from jnlpdiag.output import renderers
            from jnlpdiag.runner import run_sync

            report = run_sync(chosen, settings)
            sys.stdout.write(redactor(f"DEMO ({LABEL})\n" + renderers()["text"](report)))
            return report.exit_code
        from jnlpdiag.tui.app import JnlpdiagApp
        from jnlpdiag.tui.state import summary

        app = JnlpdiagApp.demo(chosen, settings, LABEL, redactor=redactor)
        code = app.run()
        sys.stdout.write(redactor("DEMO: " + summary(app.model, app.last_export)))
        return EXIT_ERROR if code is None else int(code)
    finally:
        demo.stop()
