"""atheris harnesses for every parser that reads outside input.

    python fuzz/fuzz_parsers.py TARGET [libFuzzer options, e.g. -runs=100000 -max_len=65536]
    python fuzz/fuzz_parsers.py --list

A harness fails only on an exception its parser does not document (each target lists the ones it
may raise as a clean, user-facing error). CI runs every target for a bounded number of inputs
(tests/test_fuzz_harness.py); longer runs are for humans.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from typing import Any


def _jnlp(data: bytes) -> None:
    from jnlpdiag.settings.jnlpfile import JnlpFileError, parse_jnlp_bytes

    try:
        parse_jnlp_bytes(data)
    except JnlpFileError:
        pass


def _http_head(data: bytes) -> None:
    from jnlpdiag.http import HttpError, parse_head

    try:
        parse_head(data)
    except HttpError:
        pass


def _agent_args(data: bytes) -> None:
    from jnlpdiag.settings.agentargs import parse_agent_args

    parse_agent_args(data.decode("utf-8", "replace").split("\0"))


def _targets(data: bytes) -> None:
    from jnlpdiag.targets import TargetsError, parse_targets

    try:
        parse_targets(data.decode("utf-8", "replace"))
    except TargetsError:
        pass


def _report(data: bytes) -> None:
    from jnlpdiag.report import Report

    try:
        doc: Any = json.loads(data.decode("utf-8", "replace"))
    except ValueError:
        return
    try:
        Report.from_dict(doc)
    except ValueError:
        pass


def _listener_answer(data: bytes) -> None:
    from jnlpdiag.probes.tcp import describe_answer, parse_hello

    parse_hello(data)
    describe_answer(data)


def _identity(data: bytes) -> None:
    from jnlpdiag.probes.discovery import parse_identity

    parse_identity(data.decode("latin-1"))


def _optional(module: str, attr: str, ok: tuple[str, ...] = ()) -> Callable[[bytes], None]:
    """A target in a module of a later feature; ``ok`` names exception classes that are clean errors."""

    def run(data: bytes) -> None:
        fn = getattr(importlib.import_module(module), attr)
        try:
            fn(data)
        except Exception as exc:
            if type(exc).__name__ not in ok:
                raise

    return run


TARGETS: dict[str, Callable[[bytes], None]] = {
    "jnlp": _jnlp,
    "http_head": _http_head,
    "agent_args": _agent_args,
    "targets": _targets,
    "report": _report,
    "listener_answer": _listener_answer,
    "identity": _identity,
}


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] == "--list":
        print("\n".join(sorted(TARGETS)))
        return 0
    import atheris

    target = TARGETS[argv[1]]
    with atheris.instrument_imports():
        target(b"")  # import the parser's modules under instrumentation
    atheris.Setup([argv[0], *argv[2:]], target)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
