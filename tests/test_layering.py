"""Imports run downward: the library never speaks the probe API, and tests name probes one way.

The probe API (``jnlpdiag.probe_api``: Probe, Context, Facts) is for probes and for the core that runs
them; library modules (TLS, HTTP, host facts, JNLP4, ...) take plain values, so that what only
probes share lives beside the probes (``probes/_tls.py``).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The core that loads, runs and shows probes.
CORE = {"probe_api.py", "runner.py", "registry.py", "targets.py", "commands", "tui", "demo"}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add("." * node.level + node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def library_modules() -> list[Path]:
    pkg = ROOT / "jnlpdiag"
    return [p for p in sorted(pkg.rglob("*.py")) if p.relative_to(pkg).parts[0] not in CORE]


def test_library_never_imports_the_probe_api() -> None:
    offenders = {str(p.relative_to(ROOT)): sorted(n for n in imports_of(p) if n == "jnlpdiag.probe_api"
                                                 or n.startswith(("jnlpdiag.probe_api.", "jnlpdiag.probes")))
                 for p in library_modules()}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_sees_an_offender(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from jnlpdiag.probe_api import Context\nimport jnlpdiag.probes.tcp\n")
    assert {"jnlpdiag.probe_api", "jnlpdiag.probe_api.Context", "jnlpdiag.probes.tcp"} <= imports_of(bad)


def test_tests_import_probes_under_one_name() -> None:
    """``jnlpdiag.probes.x`` (as installed), never the source folder ``probes.x``: two names would
    load two copies of a probe module, with two distinct probe and facts classes."""
    offenders = [str(p.relative_to(ROOT)) for folder in ("tests", "benchmarks", "fuzz")
                 for p in sorted((ROOT / folder).rglob("*.py"))
                 if any(n == "probes" or n.startswith("probes.") for n in imports_of(p))]
    assert offenders == []
