"""The Python interpreters this machine has besides the one running the suite (pyenv or PATH)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

OLDEST = (3, 9)  # pyproject requires-python


def _pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


@cache
def _version_of(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([python, "-I", "-c", "import sys; print(*sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=20).stdout.split()
        return (int(out[0]), int(out[1]))
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


@cache
def interpreters() -> dict[tuple[int, int], str]:
    """CPython >= 3.9 found under pyenv and on PATH (python3.N), newest build of each minor version."""
    found: dict[tuple[int, int], str] = {}
    versions = _pyenv_root() / "versions"
    candidates = sorted(versions.glob("3.*/bin/python3")) if versions.is_dir() else []
    candidates += [Path(p) for n in range(9, 20) if (p := shutil.which(f"python3.{n}"))]
    for path in candidates:
        if not re.fullmatch(r"\d+\.\d+(\.\d+)?", path.parent.parent.name) and "python3." not in path.name:
            continue
        version = _version_of(str(path))
        if version and version >= OLDEST:
            found.setdefault(version, str(path))
    return dict(sorted(found.items()))


def pyenv_python(minor: str) -> str | None:
    """The interpreter for ``3.N``, or None when this machine has none."""
    major, _, n = minor.partition(".")
    return interpreters().get((int(major), int(n)))


def newest_python() -> tuple[str, str] | None:
    """(``3.N``, path) of the newest interpreter found, or None."""
    if not interpreters():
        return None
    version, path = max(interpreters().items())
    return f"{version[0]}.{version[1]}", path
