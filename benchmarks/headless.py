"""Headless performance: cold start, concurrency, peak memory, many targets.

    python benchmarks/headless.py [--runs N]

Every figure is printed beside a peer measured in the same run, with the target from the issue:
- cold start of `jnlpdiag --version` and `jnlpdiag check --json` vs a bare `python -c pass`
  (and vs only importing textual + scapy, the cost the headless path avoids);
- a full `check` against healthy loopback peers vs the slowest single probe alone (target <= 1.5x);
- peak RSS of a headless full check (target < 60 MB) and of the TUI in an 80x24 tmux (target
  < 120 MB), measured with /usr/bin/time -v;
- `check --targets` with 200 loopback targets vs one target (target < 3x).

Peers: the byte-exact test controller of tests/transport (HTTPS discovery with a trustme
certificate, the JNLP4 agent port, /wsagents/); for many targets, a real nginx serving the
discovery headers and the agent listener of tests/peers (the Python test controller itself, not
jnlpdiag, is the bottleneck under 200 concurrent checks).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import jnlpdiag, median_seconds, peak_rss_mb, row, self_rss_mb, tui_rss_mb  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

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
        base = ["--url", controller.url, "--name", "agent-1", "--ca-file", str(work / "ca.pem"),
                "--from-process", "none", "--timeout", "10"]
        print(f"peers: test controller at {controller.url}, agent port {controller.agent_port}\n")

        print("== cold start (median of whole-process runs) ==")
        bare = median_seconds([sys.executable, "-c", "pass"], args.runs)
        heavy = median_seconds([sys.executable, "-c", "import textual.app, scapy.all"], args.runs)
        version = median_seconds(jnlpdiag("--version"), args.runs)
        check = median_seconds(jnlpdiag("check", "--json", "--probe", "agent.options", "--from-process", "none"),
                               args.runs)
        row("jnlpdiag --version", version, "s", "python -c pass", bare, "no textual/scapy on this path")
        row("jnlpdiag check --json (agent.options)", check, "s", "python -c pass", bare, "no textual/scapy")
        row("jnlpdiag check --json (agent.options)", check, "s", "import textual.app, scapy.all", heavy,
            "what the headless path does not pay")

        print("\n== full check vs slowest single probe (target: <= 1.5x) ==")
        listing = subprocess.run(jnlpdiag("probes", "--json"), capture_output=True, text=True, check=True)
        probe_ids = [p["id"] for p in json.loads(listing.stdout)["probes"]]
        singles = {}
        for pid in probe_ids:
            singles[pid] = median_seconds(jnlpdiag("check", "--json", "--probe", pid, *base), args.runs)
        slowest = max(singles, key=lambda k: singles[k])
        full = median_seconds(jnlpdiag("check", "--json", *base), args.runs)
        for pid, t in sorted(singles.items(), key=lambda kv: -kv[1])[:5]:
            print(f"    {pid:<24} alone: {t:.3f} s")
        row("full check (all probes)", full, "s", f"slowest probe alone ({slowest})", singles[slowest], "target <= 1.5x")

        print("\n== peak RSS, /usr/bin/time -v (target: headless full check < 60 MB) ==")
        rss_tree = peak_rss_mb(jnlpdiag("check", "--json", *base))
        rss_self = self_rss_mb(["check", "--json", *base])
        rss_bare = peak_rss_mb([sys.executable, "-c", "pass"])
        if rss_tree is not None and rss_bare is not None:
            row("headless full check, jnlpdiag process", rss_self, "MB", "python -c pass", rss_bare,
                f"target < 60 MB: {'met' if rss_self < 60 else 'NOT met'}")
            row("  same, largest child (the JVM of tls.java)", rss_tree, "MB", "python -c pass", rss_bare,
                "the agent's own JVM, run on purpose")
        else:
            print("    /usr/bin/time not available: apt-get install time")
        rss_tui = tui_rss_mb(base)
        if rss_tui is not None and rss_bare is not None:
            row("TUI (tmux 80x24, full run, then q)", rss_tui, "MB", "python -c pass", rss_bare,
                f"target < 120 MB: {'met' if rss_tui < 120 else 'NOT met'}")
        else:
            print("    TUI figure needs tmux and /usr/bin/time")
    finally:
        controller.stop()

    print("\n== many targets (target: 200 loopback targets < 3x one target) ==")
    from tests.peers.agent_listener import AgentListener
    from tests.peers.controller import identity_b64, jenkins_server
    from tests.peers.nginx import Nginx
    from tests.peers.util import free_port

    with AgentListener() as listener:
        port = free_port()
        with Nginx(jenkins_server(port, listener.port, identity_b64()), [port]):
            url = f"http://127.0.0.1:{port}/"
            one, many = work / "one.txt", work / "many.txt"
            one.write_text(f"{url} agent-1\n")
            many.write_text("".join(f"{url} agent-{i}\n" for i in range(200)))
            net = ["--probe", "discovery", "--probe", "tcp", "--from-process", "none", "--timeout", "10", "--json"]
            t_one = median_seconds(jnlpdiag("check", "--targets", str(one), *net), args.runs)
            t_many = median_seconds(jnlpdiag("check", "--targets", str(many), *net), max(3, args.runs // 2))
            row("check --targets (200 targets)", t_many, "s", "check --targets (1 target)", t_one, "target < 3x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
