"""Cost of the host.* probes' building blocks, each beside the common tool that answers the same question.

* exec proof of one directory (write a shared object built from bytes, load and call it in a child,
  remove it) against compiling the same one-line library with ``cc`` and loading it with
  ``python -c 'import ctypes; ...'`` (the obvious way, which also needs a compiler on the host);
* reading one library's needs (``DT_NEEDED`` walk, symbol versions against the providers, with
  the providers already read, as for every library after the first of a run) against ``ldd``
  (which runs the loader on it);
* finding the mount of a path in ``/proc/self/mountinfo`` against ``findmnt -T``;
* the whole ``jnlpdiag check --probe host.*`` against ``java -version`` (the floor: one JVM start).

Prints medians and ratios; asserts nothing. Run: python benchmarks/bench_host.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import env, median_seconds  # noqa: E402
from jnlpdiag.hostinfo import elf, execproof, ldpath, mountinfo  # noqa: E402

JAVA = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"


def median_call(fn: Callable[[], object], runs: int = 15) -> float:
    fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def row(label: str, ours: float, peer: float, peer_label: str) -> None:
    print(f"{label:38} {ours * 1000:8.1f} ms   {peer_label:28} {peer * 1000:8.1f} ms   ratio {ours / peer:5.2f}")


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="jnlpdiag-bench-"))
    try:
        ours = median_call(lambda: asyncio.run(execproof.prove_exec(str(work), 10)))
        src = work / "p.c"
        src.write_text("int f(void) { return 42; }\n")
        cc_and_load = [
            "sh", "-c",
            f"cc -shared -fPIC -o {work}/p.so {src} && {sys.executable} -I -S -c "
            f"\"import ctypes; assert ctypes.CDLL('{work}/p.so').f() == 42\" && rm {work}/p.so",
        ]
        if shutil.which("cc"):
            row("exec proof (ELF bytes + child)", ours, median_seconds(cc_and_load), "cc + ctypes load")

        lib = "/usr/lib/jvm/java-17-openjdk-amd64/lib/libjava.so"
        if not os.path.exists(lib):
            lib = "/lib/x86_64-linux-gnu/libz.so.1"
        cache = ldpath.ld_cache()
        resolver = ldpath.Resolver(cache=cache, jvm_dirs=[str(Path(lib).parent), str(Path(lib).parent / "server")])

        def deps() -> None:
            ldpath.check_dependencies(elf.analyze(lib), lib, resolver)

        row("library needs (pyelftools)", median_call(deps), median_seconds(["ldd", lib]), "ldd")

        def where() -> None:
            mountinfo.mount_for("/tmp", mountinfo.read(), os.stat("/tmp").st_dev)

        if shutil.which("findmnt"):
            row("mount of a path (mountinfo)", median_call(where, 101), median_seconds(["findmnt", "-T", "/tmp"]),
                "findmnt -T")

        whole = [sys.executable, "-m", "jnlpdiag", "check", "--from-process", "none", "--probe", "host.*",
                 "--java", JAVA, "--timeout", "30", "--json"]
        if os.path.exists(JAVA):
            row("check --probe 'host.*' (whole CLI)", median_seconds(whole, runs=5),
                median_seconds([JAVA, "-version"], runs=5), "java -version")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _ = env  # same environment scrubbing as the other benchmarks (used by median_seconds)


if __name__ == "__main__":
    main()
