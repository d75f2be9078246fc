"""``check --targets`` with 5,000 targets: wall time, peak RSS, and that the fleet's deadline holds.

Two peers on loopback, each run in the same benchmark:

* accept-and-hang: an asyncio server (its own process) that accepts every connection, reads and
  never answers, so every target uses its whole per-target time;
* refusing: a port with nothing listening (the kernel answers every SYN with RST).

Each fleet is checked by ``jnlpdiag check --targets FILE --timeout T --pool P`` (all probes; the
host ones run once), measured with GNU time (wall, maximum RSS), and beside it the same URLs fetched
by ``xargs -P P curl -m T`` (one GET each, the least any checker does): the ratio is printed.
A second run gives a short ``--deadline`` so that targets are left: they must be reported not run,
and the wall time must stay within the deadline (it counts from the process's start and includes
writing the results). Prints; asserts nothing.

Measured on a loaded 2-core machine (load ~3), 5,000 targets, wall time (GNU time) of deadline:

    peer, --timeout/--pool, --deadline    before (fleet clock from run start)   after
    accept-and-hang, 1 s / 256, 21 (dflt)  23.2 s of 21 s, 107 MB                19.8 s, 114 MB
    accept-and-hang, 1 s / 256, 8          10.4 s of 8 s,   94 MB                 7.1 s, 103 MB
    accept-and-hang, 5 s / 64, 20          21.2 s of 20 s,  71 MB                15.9 s,  71 MB
    refusing port,   1 s / 256, 21 (dflt)  22.0 s of 21 s, 119 MB                20.0 s, 117 MB

(With 5 s / 64 the fourth round is not started: its 5 s no longer fit before the checks end.)
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import env  # noqa: E402

HANG_SERVER = """
import asyncio, sys
async def handle(reader, writer):
    try:
        while await reader.read(65536):
            pass
    except Exception:
        pass
    writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(cmd: list[str], environ: dict[str, str]) -> tuple[float, float | None, str, str]:
    """(wall seconds, peak RSS MB, stdout, stderr) of one command under /usr/bin/time -v."""
    t0 = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=environ)
    wall = time.perf_counter() - t0
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)
    return wall, (int(m.group(1)) / 1024 if m else None), out.stdout, out.stderr


def curl_wall(urls_file: Path, timeout: float, pool: int) -> float:
    t0 = time.perf_counter()
    with open(urls_file) as fh:
        subprocess.run(["xargs", "-P", str(pool), "-n", "1", "curl", "-s", "-o", "/dev/null", "-m", f"{timeout:g}"],
                       stdin=fh, capture_output=True, env=env())
    return time.perf_counter() - t0


def fleet(name: str, port: int, count: int, timeout: float, pool: int, deadline: float | None = None) -> None:
    with tempfile.TemporaryDirectory(prefix="jnlpdiag-bench-fleet-") as tmp:
        urls = Path(tmp) / "targets.txt"
        urls.write_text("".join(f"http://127.0.0.1:{port}/t{i}/\n" for i in range(count)))
        private = Path(tmp) / "tmp"
        private.mkdir()
        environ = {**env(), "TMPDIR": str(private), "JAVA_OPTS": f"-Djava.io.tmpdir={private}"}
        cmd = [sys.executable, "-m", "jnlpdiag", "check", "--targets", str(urls), "--json", "--from-process", "none",
               "--timeout", f"{timeout:g}", "--pool", str(pool)]
        if deadline is not None:
            cmd += ["--deadline", f"{deadline:g}"]
        wall, rss, stdout, stderr = timed(cmd, environ)
        doc = json.loads(stdout) if stdout.strip().startswith("{") else {}
        said = next((line for line in stderr.splitlines() if "deadline is" in line), "?")
        peer = curl_wall(urls, timeout, pool) if deadline is None else float("nan")
        left = os.listdir(private)
        print(f"{name}: {count} targets, --timeout {timeout:g}, --pool {pool}"
              + (f", --deadline {deadline:g}" if deadline is not None else ""))
        print(f"  printed at start: {said.replace('jnlpdiag: ', '')}")
        print(f"  jnlpdiag  wall {wall:7.1f} s  (fleet {doc.get('elapsed_s', float('nan')):.1f} s of a "
              f"{doc.get('deadline_s', float('nan')):g} s deadline)  peak RSS {rss or float('nan'):6.1f} MB "
              f"(target < 150 MB)  not run: {doc.get('not_run')}  exit {doc.get('exit_code')}")
        if deadline is None:
            print(f"  xargs -P {pool} curl -m {timeout:g}  wall {peer:7.1f} s   ratio jnlpdiag/curl {wall / peer:5.2f}")
        print(f"  left in TMPDIR: {left or 'nothing'}")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    pool = int(sys.argv[3]) if len(sys.argv) > 3 else 256
    hang = subprocess.Popen([sys.executable, "-c", HANG_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert hang.stdout is not None
        hang_port = int(hang.stdout.readline())
        fleet("accept-and-hang", hang_port, count, timeout, pool)
        fleet("refusing port", free_port(), count, timeout, pool)
        fleet("accept-and-hang, short deadline", hang_port, count, timeout, pool, deadline=8.0)
    finally:
        hang.kill()
        hang.wait()


if __name__ == "__main__":
    main()
