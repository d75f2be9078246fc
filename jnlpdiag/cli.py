"""Command-line entry point. Subcommands are the modules of ``jnlpdiag.commands``.

Each command module defines ``NAME``, ``HELP``, ``ORDER``, ``add_arguments(parser)`` and
``run(args) -> int``; heavy imports (textual, scapy) happen inside ``run`` only, so that the
headless path stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import signal
import sys
import threading
from types import ModuleType
from typing import Any

from jnlpdiag import __version__, commands
from jnlpdiag.escape import VisibleWriter
from jnlpdiag.run_report import EXIT_ERROR
from jnlpdiag.textstream import degrade_to_encoding

EPILOG = """\
exit codes (Nagios style):
  0  every finding passed or was skipped
  1  the worst finding is a warning
  2  the worst finding is a failure
  3  a probe errored, or a usage / settings error

Without a subcommand: the TUI on a terminal, else the text summary of `check`.
"""
SUB_EPILOG = "exit codes: see `jnlpdiag --help` or docs/exit-codes.md"


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors; 2 means "fail" here, so usage errors exit 3."""

    def error(self, message: str) -> None:  # type: ignore[override]
        # One line: the usage synopsis of `check` alone is a screenful; --help has it.
        print(f"{self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_ERROR)


# A command module is named for its subcommand, except where that name would not say what the module
# holds: the ``probes`` listing is ``list_probes`` (``probes`` is the package of the probes themselves).
_MODULE_OF = {"probes": "list_probes"}


def command_module_name(command: str) -> str:
    """The module of ``jnlpdiag.commands`` that holds ``command``."""
    return _MODULE_OF.get(command, command)


def command_names() -> list[str]:
    """Subcommand names: from the module names of ``jnlpdiag.commands`` (each module's NAME matches)."""
    command_of = {module: command for command, module in _MODULE_OF.items()}
    return sorted(command_of.get(info.name, info.name) for info in pkgutil.iter_modules(commands.__path__)
                  if not info.name.startswith("_") and info.name != "common")


def command_modules(only: str | None = None) -> list[ModuleType]:
    """Import the command modules (just ``only`` when given: start-up pays for one command)."""
    mods = []
    for name in command_names():
        if only is not None and name != only:
            continue
        mod = importlib.import_module(f"jnlpdiag.commands.{command_module_name(name)}")
        if hasattr(mod, "NAME") and hasattr(mod, "run"):
            mods.append(mod)
    return sorted(mods, key=lambda m: (getattr(m, "ORDER", 50), m.NAME))


def build_parser(only: str | None = None) -> tuple[argparse.ArgumentParser, dict[str, ModuleType]]:
    parser = _Parser(
        prog="jnlpdiag",
        description="Diagnose why a Jenkins inbound (JNLP) agent cannot connect.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"jnlpdiag {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    mods: dict[str, ModuleType] = {}
    for mod in command_modules(only):
        # The exit-code table lives in the top-level help (and docs/exit-codes.md), not in each command's.
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP, epilog=SUB_EPILOG,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        mods[mod.NAME] = mod
    return parser, mods


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    names = command_names()
    if argv and not argv[0].startswith("-") and argv[0] not in names:
        # The bare command takes flags only: a first word is a command name or a typo of one.
        from jnlpdiag.usage import unknown_command

        print(unknown_command(argv[0], names), file=sys.stderr)
        return EXIT_ERROR
    if not argv or argv[0] not in {*names, "-h", "--help", "--version"}:
        # The bare command takes every flag `check` takes; it opens the TUI where there is one.
        default = "tui" if ("tui" in names and sys.stdout.isatty() and sys.stdin.isatty()) else "check"
        argv = [default, *argv]
    # Outside text that reaches a message without a renderer is still shown, never acted on.
    out, err = sys.stdout, sys.stderr
    for stream in (out, err):
        degrade_to_encoding(stream)  # an ascii/latin-1 terminal gets look-alikes, never an exit 1
    sys.stdout = VisibleWriter(out)  # type: ignore[assignment]
    sys.stderr = VisibleWriter(err)  # type: ignore[assignment]
    previous = _on_sigterm()
    try:
        return _run(argv, names)
    finally:
        sys.stdout, sys.stderr = out, err
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


EXIT_PIPE_CLOSED = 141


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # the clean-up of Ctrl-C: tasks cancelled, finally paths remove temp files


def _on_sigterm() -> Any:
    """A kill (SIGTERM) leaves nothing behind either: it takes the Ctrl-C path instead of ending the
    process where it stands (the default), which would skip every ``finally``."""
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        return signal.signal(signal.SIGTERM, _terminated)
    except (ValueError, OSError):
        return None


def _reader_went_away() -> int:
    """stdout was closed early (``jnlpdiag probes | head``): no traceback, and the exit code a shell
    gives a program that SIGPIPE ended (128 + 13), so nobody reads a cut output as complete."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)  # the interpreter's own flush of stdout at exit must not fail again
    except (OSError, AttributeError, ValueError):
        pass
    return EXIT_PIPE_CLOSED


def _run(argv: list[str], names: list[str]) -> int:
    try:
        from jnlpdiag.commands.common import expect_command_line

        expect_command_line(argv)
        parser, mods = build_parser(argv[0] if argv[0] in names else None)
        args = parser.parse_args(argv)
        code = int(mods[args.command].run(args))
    except KeyboardInterrupt:
        print("jnlpdiag: interrupted", file=sys.stderr)
        code = 130
    except BrokenPipeError:
        return _reader_went_away()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        return _reader_went_away()
    # A probe's worker thread stuck in a blocking call must not hold the process past its answer.
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        import os

        os._exit(code)
    return code
