"""Compile jnlpdiag/java/TlsCheck.java into the class files shipped as package data.

    python3 scripts/build_tlscheck.py [--javac PATH] [--check]

The classes target Java 8 (``javac --release 8``) so that agents still on Java 8 get a JVM view,
and are run with ``java -cp DIR TlsCheck`` instead of a single-file source launch (which needs
Java 11+ and compiles on every run). The build is reproducible: javac writes no time stamps, so
the same source and the same javac feature release give the same bytes. ``BUILD.json`` records
the source's SHA-256, the javac version and each class file's SHA-256; ``--check`` recompiles into
a temporary directory and compares instead of writing (tests/tls/test_tlscheck_build.py does the same).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "jnlpdiag" / "java" / "TlsCheck.java"
CLASSES = ROOT / "jnlpdiag" / "java" / "classes"
MANIFEST = CLASSES / "BUILD.json"
# javac's output differs between feature releases (17 and 25 order the constant pool differently):
# the shipped classes are built, and checked, with this one.
JAVAC_FEATURE = 17
RELEASE = "8"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def javac_feature(javac: str) -> tuple[int, str] | None:
    try:
        out = subprocess.run([javac, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"javac (\d+)(\S*)", out.stdout + out.stderr)
    return (int(m.group(1)), m.group(1) + m.group(2)) if m else None


def find_javac(explicit: str | None = None) -> str | None:
    """A javac of feature release :data:`JAVAC_FEATURE` (explicit, JAVA_HOME, PATH, /usr/lib/jvm)."""
    candidates = [explicit] if explicit else []
    if os.environ.get("JAVA_HOME"):
        candidates.append(os.path.join(os.environ["JAVA_HOME"], "bin", "javac"))
    candidates.append(shutil.which("javac"))
    candidates += sorted(str(p) for p in Path("/usr/lib/jvm").glob("*/bin/javac"))
    for c in candidates:
        if c and os.access(c, os.X_OK):
            found = javac_feature(c)
            if found and found[0] == JAVAC_FEATURE:
                return c
    return None


def compile_into(javac: str, out: Path) -> dict[str, str]:
    """Compile the checker into ``out``; class file name -> SHA-256."""
    subprocess.run([javac, "--release", RELEASE, "-encoding", "UTF-8", "-nowarn", "-Xlint:-options",
                    "-d", str(out), str(SOURCE)], check=True, capture_output=True, timeout=300)
    return {p.name: sha256(p) for p in sorted(out.glob("*.class"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--javac", help=f"a javac of Java {JAVAC_FEATURE}")
    parser.add_argument("--check", action="store_true", help="compare with the shipped classes, write nothing")
    args = parser.parse_args(argv)
    javac = find_javac(args.javac)
    if javac is None:
        print(f"no javac of Java {JAVAC_FEATURE} found (use --javac)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tlscheck-build-") as tmp:
        built = compile_into(javac, Path(tmp))
        if args.check:
            shipped = json.loads(MANIFEST.read_text())["classes"]
            same = built == shipped and all(sha256(CLASSES / n) == h for n, h in built.items())
            print("TlsCheck classes are up to date" if same else "TlsCheck classes differ: run this script")
            return 0 if same else 1
        CLASSES.mkdir(exist_ok=True)
        for old in CLASSES.glob("*.class"):
            old.unlink()
        for name in built:
            shutil.copyfile(Path(tmp) / name, CLASSES / name)
    version = javac_feature(javac)
    manifest = {"source": "jnlpdiag/java/TlsCheck.java", "source_sha256": sha256(SOURCE), "release": RELEASE,
                "javac": version[1] if version else None, "classes": built,
                "build": "python3 scripts/build_tlscheck.py"}
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"built {', '.join(built)} with {javac}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
