"""The TLS checker's JVM: precompiled classes against the single-file source launch.

    python benchmarks/jvm_checker.py [--runs N]

Measured in one run, against one peer (the byte-exact test controller of tests/transport, HTTPS
with a trustme certificate), each figure beside its peer as a ratio:
- the checker alone: ``java -cp <classes> TlsCheck URL`` against ``java TlsCheck.java URL`` (the
  same options), wall time and the JVM's peak RSS;
- the whole diagnosis (``jnlpdiag check --json``, every probe, tls.java in ``both`` mode) with the
  precompiled classes against the same run forced onto the source launch (``javacheck.USE_CLASSES``
  off), the "before" of issue 14.
Target: the diagnosis is no slower with the classes (ratio <= 1.0).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import median_seconds, peak_rss_mb, row  # noqa: E402

_CHECK = ("import sys, io, contextlib\n"
          "from jnlpdiag.tls import javacheck\n"
          "javacheck.USE_CLASSES = sys.argv[1] == 'classes'\n"
          "from jnlpdiag.cli import main\n"
          "with contextlib.redirect_stdout(io.StringIO()):\n"
          "    try:\n        main(sys.argv[2:])\n    except SystemExit:\n        pass\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    java = shutil.which("java")
    if java is None:
        print("no java on PATH: nothing to measure")
        return 1

    import trustme

    from tests.transport.jnlp4_controller import Controller

    work = Path(tempfile.mkdtemp(prefix="jnlpdiag-bench-"))
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    leaf.private_key_and_cert_chain_pem.write_to_path(str(work / "server.pem"))
    ca.cert_pem.write_to_path(str(work / "ca.pem"))
    controller = Controller(nodes=["agent-1"], http_tls=(str(work / "server.pem"), str(work / "server.pem")))
    controller.start()
    try:
        java_dir = ROOT / "jnlpdiag" / "java"
        opts = ["-XX:TieredStopAtLevel=1"]  # as javacheck runs it
        url = controller.url
        print(f"peer: test controller at {url}; java: {java}\n")
        print("== the checker alone (median wall time; peak RSS of the JVM) ==")
        classes = [java, *opts, "-cp", str(java_dir / "classes"), "TlsCheck", url, "5000", "-insecure"]
        source = [java, *opts, str(java_dir / "TlsCheck.java"), url, "5000", "-insecure"]
        t_classes = median_seconds(classes, args.runs)
        t_source = median_seconds(source, args.runs)
        row("java -cp classes TlsCheck", t_classes, "s", "java TlsCheck.java (source launch)", t_source, "< 1")
        m_classes, m_source = peak_rss_mb(classes), peak_rss_mb(source)
        if m_classes and m_source:
            row("  peak RSS, precompiled", m_classes, "MiB", "peak RSS, source launch", m_source, "< 1")

        print("\n== whole diagnosis: jnlpdiag check --json, all probes ==")
        check = ["--url", url, "--name", "agent-1", "--ca-file", str(work / "ca.pem"), "--from-process", "none",
                 "--java", java, "--timeout", "15", "--json"]
        after = median_seconds([sys.executable, "-c", _CHECK, "classes", "check", *check], args.runs)
        before = median_seconds([sys.executable, "-c", _CHECK, "source", "check", *check], args.runs)
        row("check, precompiled checker (after)", after, "s", "check, source launch (before)", before, "<= 1")
    finally:
        controller.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
