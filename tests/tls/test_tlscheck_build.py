"""The shipped TlsCheck classes are the repository's source, compiled for Java 8, reproducibly."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import struct
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLASSES = ROOT / "jnlpdiag" / "java" / "classes"
MANIFEST = json.loads((CLASSES / "BUILD.json").read_text())


def _build_script():  # scripts/ is not a package: load the build step itself
    spec = importlib.util.spec_from_file_location("build_tlscheck", ROOT / "scripts" / "build_tlscheck.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_classes_were_built_from_the_current_source() -> None:
    source = (ROOT / MANIFEST["source"]).read_bytes()
    assert hashlib.sha256(source).hexdigest() == MANIFEST["source_sha256"], (
        "TlsCheck.java changed: run python3 scripts/build_tlscheck.py")
    shipped = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in CLASSES.glob("*.class")}
    assert shipped == MANIFEST["classes"]


def test_every_class_targets_java_8() -> None:
    for path in CLASSES.glob("*.class"):
        magic, _minor, major = struct.unpack(">IHH", path.read_bytes()[:8])
        assert (magic, major) == (0xCAFEBABE, 52), path.name  # class file 52 = Java 8


def test_recompiling_gives_the_same_bytes(tmp_path: Path) -> None:
    build = _build_script()
    javac = build.find_javac()
    if javac is None:
        pytest.skip(f"no javac of Java {build.JAVAC_FEATURE} here: the bytes cannot be reproduced")
    assert build.compile_into(javac, tmp_path) == MANIFEST["classes"]
