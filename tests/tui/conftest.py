from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable

import pytest

from jnlpdiag.options import RunOptions
from jnlpdiag.settings import Secret, Settings
from tests.tui.peers import tls_jenkins
from tests.tui.probes import GateProbe

SECRET = "3f1c5a9e7b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e"


@pytest.fixture(scope="module")
def jenkins(tmp_path_factory):
    with tls_jenkins(tmp_path_factory.mktemp("tui-tls")) as peers:
        yield peers


@pytest.fixture(autouse=True)
def open_gate():
    GateProbe.gate.set()
    yield
    GateProbe.gate.set()


def settings_for(url: str, ca_file: str, **extra: object) -> Settings:
    extra.setdefault("secret", Secret(SECRET))
    extra.setdefault("run", RunOptions(timeout=3.0))
    s = Settings(url=url, name="agent-1", ca_file=ca_file, **extra)  # type: ignore[arg-type]
    s.origins = {"url": "flag --url", "name": "flag --name", "secret": "flag --secret-file",
                 "ca_file": "flag --ca-file"}
    return s


async def wait_for(pilot, condition: Callable[[], object], timeout: float = 15.0, what: str = "condition"):
    """Let the app work until ``condition()`` is true (bounded: a hang fails the test)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def screen_text(app) -> str:
    """The screen as plain text, as a person reads it (the same render the SVG screenshot uses)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, color_system=None,
                      force_terminal=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def run_async(fn):
    """Run an async test on a fresh event loop (no async plug-in needed)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return wrapper
