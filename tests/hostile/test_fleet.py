"""``check --targets``: the fleet keeps its deadline (printed at start; targets not reached are reported
not run, with the reason), the host checks run once, and SIGTERM or SIGINT mid-run leave nothing in
TMPDIR. Peers: a server that accepts and never answers (tests/hostile/servers.py ``silent``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hostile import servers as S
from tests.peers.util import clean_env, free_port


def _fleet_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    private = tmp_path / "tmp"
    private.mkdir()
    return clean_env(TMPDIR=str(private), JAVA_OPTS=f"-Djava.io.tmpdir={private}"), private


def _targets(tmp_path: Path, port: int, count: int) -> Path:
    path = tmp_path / "targets.txt"
    path.write_text("".join(f"http://127.0.0.1:{port}/t{i}/\n" for i in range(count)))
    return path


def test_fleet_deadline_holds_and_names_what_did_not_run(tmp_path):
    env, private = _fleet_env(tmp_path)
    with S.Server(S.silent) as peer:
        targets = _targets(tmp_path, peer.port, 60)
        t0 = time.monotonic()
        res = subprocess.run([sys.executable, "-m", "jnlpdiag", "check", "--targets", str(targets), "--json",
                              "--from-process", "none", "--timeout", "1", "--pool", "4", "--deadline", "3",
                              "--probe", "discovery", "--probe", "tcp"],
                             capture_output=True, text=True, env=env, timeout=60)
        wall = time.monotonic() - t0
    assert "the fleet's deadline is 3 s (--deadline)" in res.stderr.splitlines()[0]
    doc = json.loads(res.stdout)
    # elapsed_s counts from the process's start to the writing of the results: within the deadline
    # itself, since the checks stop early enough to leave time for the writing (emit_reserve).
    assert doc["deadline_s"] == 3 and doc["elapsed_s"] <= doc["deadline_s"], doc["elapsed_s"]
    assert wall < 3 + 10, wall  # start-up and output on a shared machine; the fleet itself is bounded above
    not_run = [t for t in doc["targets"] if t["report"]["findings"][0]["id"] == "fleet.not_run"]
    assert doc["not_run"] == len(not_run) > 0
    assert len(doc["targets"]) == 60  # every target is in the document, run or not
    f = not_run[0]["report"]["findings"][0]
    assert f["status"] == "warn" and "fleet's deadline (3 s)" in f["title"]
    assert f["evidence"]["reason"] == "fleet deadline"
    ran = [t for t in doc["targets"] if t not in not_run]
    assert ran and all(t["status"] == "fail" for t in ran)  # each ran target names the silent server
    assert os.listdir(private) == []
    assert "Traceback" not in res.stderr


def test_fleet_keeps_its_deadline_when_the_checks_are_cpu_bound(tmp_path):
    # A refusing port answers every target at once, so the run is bound by the CPU work of checking
    # and reporting hundreds of targets at a time: the case that overshot (the loop served the
    # deadline late, then every cut and not-run target was redacted and written in full).
    env, private = _fleet_env(tmp_path)
    targets = _targets(tmp_path, free_port(), 2000)
    res = subprocess.run([sys.executable, "-m", "jnlpdiag", "check", "--targets", str(targets), "--json",
                          "--from-process", "none", "--timeout", "1", "--pool", "256", "--deadline", "5",
                          "--skip", "host.*"],
                         capture_output=True, text=True, env=env, timeout=60)
    doc = json.loads(res.stdout)
    assert doc["deadline_s"] == 5 and 0 < doc["elapsed_s"] <= doc["deadline_s"], doc["elapsed_s"]
    assert len(doc["targets"]) == 2000 and 0 < doc["not_run"] < 2000
    ran = [t for t in doc["targets"] if t["report"]["findings"][0]["id"] != "fleet.not_run"]
    assert ran and all(t["status"] == "fail" for t in ran)  # each names the refused connection
    assert os.listdir(private) == []
    assert "Traceback" not in res.stderr


def test_default_deadline_is_derived_and_printed(tmp_path):
    env, _ = _fleet_env(tmp_path)
    targets = tmp_path / "t.txt"
    targets.write_text("".join(f"http://127.0.0.1:9/t{i}/\n" for i in range(10)))
    res = subprocess.run([sys.executable, "-m", "jnlpdiag", "check", "--targets", str(targets), "--from-process",
                          "none", "--timeout", "2", "--pool", "4", "--probe", "discovery"],
                         capture_output=True, text=True, env=env, timeout=60)
    first = res.stderr.splitlines()[0]
    # 10 targets, 4 at a time: 3 rounds of 2 s (no host probe selected).
    assert "10 targets, 4 at a time, each within 2 s; the fleet's deadline is 6 s (--timeout x 3 rounds" in first


def test_host_checks_run_once_per_fleet(tmp_path):
    env, private = _fleet_env(tmp_path)
    targets = tmp_path / "t.txt"
    targets.write_text("".join(f"http://127.0.0.1:9/t{i}/\n" for i in range(3)))
    res = subprocess.run([sys.executable, "-m", "jnlpdiag", "check", "--targets", str(targets), "--json",
                          "--from-process", "none", "--timeout", "10", "--probe", "host.noexec", "--probe", "discovery"],
                         capture_output=True, text=True, env=env, timeout=120)
    doc = json.loads(res.stdout)
    assert "host checks once" in res.stderr.splitlines()[0]
    host_ids = {f["id"] for f in doc["host"]["findings"]}
    assert "host.noexec.java-io-tmpdir" in host_ids
    for t in doc["targets"]:
        assert not [f for f in t["report"]["findings"] if f["layer"] == "host"]
        assert [p["id"] for p in t["report"]["probes"]] == ["discovery"]
    assert os.listdir(private) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_run_leaves_nothing_in_tmpdir(tmp_path, sig):
    env, private = _fleet_env(tmp_path)
    with S.Server(S.silent) as peer:
        targets = _targets(tmp_path, peer.port, 40)
        proc = subprocess.Popen([sys.executable, "-m", "jnlpdiag", "check", "--targets", str(targets),
                                 "--from-process", "none", "--timeout", "5", "--pool", "8"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        # Strike while the host checks have a proof file in TMPDIR (the case that left 4 behind).
        end = time.monotonic() + 20
        while time.monotonic() < end and not any(n.startswith(".jnlpdiag-") for n in os.listdir(private)):
            time.sleep(0.002)
        seen = [n for n in os.listdir(private) if n.startswith(".jnlpdiag-")]
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    assert seen, "the run never wrote its proof file: the signal was not sent mid-run"
    assert proc.returncode == 130, (proc.returncode, err[-2000:])
    assert "Traceback" not in err
    assert os.listdir(private) == [], f"left behind: {os.listdir(private)}"
