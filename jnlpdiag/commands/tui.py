"""``jnlpdiag tui``: the interactive terminal UI; the bare ``jnlpdiag`` opens it on a terminal."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from jnlpdiag.commands.common import add_check_arguments, add_probe_arguments
from jnlpdiag.run_report import EXIT_ERROR

NAME = "tui"
HELP = "open the interactive terminal UI (what `jnlpdiag` does on a terminal); takes every check flag"
ORDER = 12


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_check_arguments(parser)
    parser.add_argument("--export-dir", metavar="DIR",
                        help="where the export key (x) writes the report (default: the current folder)")
    add_probe_arguments(parser)


def export_dir(args: argparse.Namespace) -> Path | None | int:
    if not getattr(args, "export_dir", None):
        return None
    path = Path(args.export_dir)
    if not path.is_dir():
        print(f"jnlpdiag: --export-dir {path}: not a folder", file=sys.stderr)
        return EXIT_ERROR
    if not os.access(path, os.W_OK | os.X_OK):
        print(f"jnlpdiag: --export-dir {path}: not writable", file=sys.stderr)
        return EXIT_ERROR
    return path


def run_check(args: argparse.Namespace) -> int:
    """``check`` with these flags: check's own defaults for whatever flags only check has."""
    from jnlpdiag.commands import check

    parser = argparse.ArgumentParser(add_help=False)
    check.add_arguments(parser)
    merged = parser.parse_args([])
    for key, value in vars(args).items():
        if hasattr(merged, key):
            setattr(merged, key, value)
    return int(check.run(merged))


def has_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def run(args: argparse.Namespace) -> int:
    if not has_terminal():
        print("jnlpdiag: no terminal for the UI; printing the text report (see `jnlpdiag check`)", file=sys.stderr)
        return run_check(args)
    out_dir = export_dir(args)
    if isinstance(out_dir, int):
        return out_dir
    from jnlpdiag.commands.check import prepare

    prepared = prepare(args)
    if isinstance(prepared, int):
        return prepared
    settings, redactor, chosen = prepared
    from jnlpdiag.tui.app import JnlpdiagApp
    from jnlpdiag.tui.state import summary

    app = JnlpdiagApp.live(chosen, settings, redactor=redactor, export_dir=out_dir)
    code = app.run()
    sys.stdout.write(redactor(summary(app.model, app.last_export)))
    return EXIT_ERROR if code is None else int(code)
