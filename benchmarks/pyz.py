"""jnlpdiag.pyz: its size, and its cold start beside the installed tool, in the same run.

    python benchmarks/pyz.py [--pyz FILE] [--runs N]

Builds the pyz with packaging/build-pyz unless --pyz names one. Cold start = median wall time of a
whole process, from an empty directory, with the same interpreter: `--version` (start-up only) and
`matrix --json` (an offline command that loads the compatibility data). The pyz pays for copying its
native wheels and jnlpdiag to a private temp dir, for a second interpreter (the parent that removes
that dir) and for compiling the modules it imports (no bytecode is kept between runs).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import jnlpdiag, median_seconds, row  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyz", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pyz = args.pyz
        if pyz is None:
            pyz = Path(tmp) / "jnlpdiag.pyz"
            subprocess.run([sys.executable, str(ROOT / "packaging" / "build-pyz"), str(pyz)], check=True)
        size = pyz.stat().st_size / 1e6
        print(f"{'jnlpdiag.pyz size':<44} {size:9.1f} MB  (every CPython 3.9-3.14 x x86_64/aarch64 in one file)")
        for cmd in (["--version"], ["matrix", "--jenkins", "2.479.3", "--java", "11", "--json"]):
            installed = median_seconds(jnlpdiag(*cmd), args.runs)
            single = median_seconds([sys.executable, "-I", str(pyz), *cmd], args.runs)
            row(f"pyz {' '.join(cmd[:1])}", single, "s", "installed jnlpdiag", installed, "reported, not a target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
