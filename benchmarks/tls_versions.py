"""Benchmark: TLS protocol detection, whole process, against the same local ``openssl s_server``.

    python benchmarks/tls_versions.py [--runs 5] [--testssl-runs 3]

Peers, measured in the same run:
* ``sslyze`` (PyPI), installed by this script into its own virtualenv under a temporary directory,
  because it pins an older cryptography than jnlpdiag's; run with ``--tlsv1 --tlsv1_1 --tlsv1_2
  --tlsv1_3`` (it enumerates the accepted suites of each version, as tls.versions does);
* ``testssl.sh`` (Debian package ``testssl.sh``, ``/usr/bin/testssl``) with ``--protocols``.

jnlpdiag runs ``check --probe tls.versions --json``. The server accepts TLS 1.0 to 1.3 (an empty
OPENSSL_CONF lifts Debian's MinProtocol, and the cipher list is at security level 0) so that every
tool has four answers to find. Printed: median seconds, ratios (target: jnlpdiag >= 3x faster than
sslyze and >= 20x faster than testssl.sh) and whether all three report the same accepted versions.
Nothing is asserted; everything made here is removed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import env, jnlpdiag  # noqa: E402

VERSIONS = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    import socket

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"s_server did not listen on {port}")


def timed(
    cmd: list[str], runs: int, before: Path | None = None, timeout: float = 600
) -> tuple[float, list[float], subprocess.CompletedProcess[str]]:
    """Median wall time of ``runs`` whole-process runs; ``before``: an output file removed before each."""
    samples = []
    last: subprocess.CompletedProcess[str] | None = None
    e = env()
    for _ in range(runs):
        if before is not None and before.exists():
            before.unlink()
        t0 = time.perf_counter()
        last = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=timeout)
        samples.append(time.perf_counter() - t0)
    assert last is not None
    return statistics.median(samples), samples, last


def jnlpdiag_versions(stdout: str) -> list[str]:
    report = json.loads(stdout)
    finding = next(f for f in report["findings"] if f["id"] == "tls.versions")
    return list(finding["evidence"]["accepted_versions"])


def sslyze_versions(path: Path) -> list[str]:
    data = json.loads(path.read_text())
    result = data["server_scan_results"][0]["scan_result"]
    keys = {
        "TLSv1": "tls_1_0_cipher_suites",
        "TLSv1.1": "tls_1_1_cipher_suites",
        "TLSv1.2": "tls_1_2_cipher_suites",
        "TLSv1.3": "tls_1_3_cipher_suites",
    }
    out = []
    for version, key in keys.items():
        attempt = result.get(key) or {}
        accepted = ((attempt.get("result") or {}).get("accepted_cipher_suites")) or []
        if accepted:
            out.append(version)
    return out


def testssl_versions(path: Path) -> list[str]:
    data = json.loads(path.read_text())
    items = data if isinstance(data, list) else data.get("scanResult", [])
    ids = {"TLS1": "TLSv1", "TLS1_1": "TLSv1.1", "TLS1_2": "TLSv1.2", "TLS1_3": "TLSv1.3"}
    out = []
    for item in items:
        version = ids.get(item.get("id", ""))
        if version and item.get("finding", "").startswith("offered"):
            out.append(version)
    return [v for v in VERSIONS if v in out]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--testssl-runs", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jnlpdiag-bench-tls-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        import trustme

        ca = trustme.CA()
        leaf = ca.issue_cert("localhost", "127.0.0.1")
        leaf.private_key_and_cert_chain_pem.write_to_path(str(work / "server.pem"))
        (work / "empty.cnf").write_text("")
        port = free_port()
        server = subprocess.Popen(
            [
                "openssl",
                "s_server",
                "-accept",
                f"127.0.0.1:{port}",
                "-cert",
                str(work / "server.pem"),
                "-www",
                "-quiet",
                "-cipher",
                "ALL:@SECLEVEL=0",
            ],
            env={**os.environ, "OPENSSL_CONF": str(work / "empty.cnf")},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(port)
        target = f"localhost:{port}"
        print(f"server: openssl s_server on {target} (TLS 1.0-1.3)")

        print("setting up sslyze in its own virtualenv (not timed) ...", flush=True)
        venv = work / "sslyze-venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "sslyze"], capture_output=True, text=True)
        sslyze = venv / "bin" / "sslyze"
        have_sslyze = pip.returncode == 0 and sslyze.exists()
        if not have_sslyze:
            print(f"  sslyze could not be installed: {pip.stderr.strip()[-300:]}")
        testssl = shutil.which("testssl") or shutil.which("testssl.sh")

        results: dict[str, tuple[float, list[str]]] = {}
        med, samples, proc = timed(
            jnlpdiag("check", "--url", f"https://{target}/", "--probe", "tls.versions", "--json", "--timeout", "10"), args.runs
        )
        results["jnlpdiag"] = (med, jnlpdiag_versions(proc.stdout))
        print(f"jnlpdiag   median {med:7.3f} s  runs {[round(s, 3) for s in samples]}  versions {results['jnlpdiag'][1]}")

        if have_sslyze:
            out = work / "sslyze.json"
            med, samples, proc = timed(
                [str(sslyze), "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", f"--json_out={out}", target],
                args.runs,
                before=out,
            )
            try:
                results["sslyze"] = (med, sslyze_versions(out))
            except (OSError, ValueError, KeyError, IndexError) as exc:
                print(f"  sslyze output unreadable: {exc}; stderr: {proc.stderr[-300:]}")
            else:
                print(f"sslyze     median {med:7.3f} s  runs {[round(s, 3) for s in samples]}  versions {results['sslyze'][1]}")
        if testssl:
            out = work / "testssl.json"

            cmd = [testssl, "--protocols", "--quiet", "--color", "0", "--warnings", "off", "--jsonfile", str(out), target]
            med, samples, proc = timed(cmd, args.testssl_runs, before=out)
            try:
                results["testssl"] = (med, testssl_versions(out))
            except (OSError, ValueError) as exc:
                print(f"  testssl output unreadable: {exc}; stderr: {proc.stderr[-300:]}")
            else:
                print(f"testssl.sh median {med:7.3f} s  runs {[round(s, 3) for s in samples]}  versions {results['testssl'][1]}")
        else:
            print("testssl.sh not installed (apt-get install testssl.sh)")

        ours = results["jnlpdiag"][0]
        print()
        for peer, target_ratio in (("sslyze", 3.0), ("testssl", 20.0)):
            if peer in results:
                ratio = results[peer][0] / ours
                verdict = "meets" if ratio >= target_ratio else "MISSES"
                print(f"jnlpdiag is {ratio:6.1f}x faster than {peer:<8} (target {target_ratio:g}x: {verdict})")
        answers = {name: tuple(v) for name, (_, v) in results.items()}
        same = len(set(answers.values())) == 1
        print(f"accepted versions agree: {'yes' if same else 'NO'} {answers}")
        return 0
    finally:
        if server is not None:
            server.kill()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
