"""network.middlebox (and what jnlp4/websocket make of it) with real iptables rules in a network
namespace the test creates. Needs root (CI runs as root); skipped with a reason otherwise."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from tests.conftest import ROOT, is_root
from tests.peers.util import CliResult, clean_env

pytestmark = pytest.mark.privileged

NS_ADDR = "10.77.0.1"  # on the namespace's lo: not a loopback address, so proxies apply to it


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        pytest.skip(f"{tool} is not installed (apt-get install {'iproute2' if tool == 'ip' else tool})")
    return path


@pytest.fixture(scope="module")
def ns():
    if not is_root():
        pytest.skip("network namespaces and iptables need root (run as root, as CI does)")
    _need("ip")
    _need("iptables")
    name = f"jdmb{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    procs: list[subprocess.Popen[str]] = []
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "-n", name, "addr", "add", f"{NS_ADDR}/32", "dev", "lo"], check=True)
        probe = subprocess.run(["ip", "netns", "exec", name, "iptables", "-S"], capture_output=True, text=True)
        if probe.returncode != 0:
            pytest.skip(f"iptables does not work in a namespace here: {probe.stderr.strip()}")
        ctl = subprocess.Popen(
            ["ip", "netns", "exec", name, sys.executable, "-m", "tests.transport.jnlp4_controller", "--host", NS_ADDR,
             "--node", "agent-1"],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(ctl)
        assert ctl.stdout is not None
        info = json.loads(ctl.stdout.readline())
        yield {"name": name, "procs": procs, **info}
    finally:
        for p in procs:
            if p.stdin:
                p.stdin.close()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture
def rules(ns):
    added: list[list[str]] = []

    def add(*rule: str) -> None:
        subprocess.run(["ip", "netns", "exec", ns["name"], "iptables", "-A", *rule], check=True)
        added.append(list(rule))

    yield add
    subprocess.run(["ip", "netns", "exec", ns["name"], "iptables", "-F"], check=True)


def run_in(ns: dict, *args: str, env: dict[str, str] | None = None) -> CliResult:
    t0 = time.monotonic()
    with tempfile.NamedTemporaryFile("w", suffix=".secret", delete=False) as f:
        f.write(ns["secrets"]["agent-1"])
    try:
        p = subprocess.run(["ip", "netns", "exec", ns["name"], sys.executable, "-m", "jnlpdiag", "check", "--json",
                            "--url", ns["url"], "--name", "agent-1", "--secret-file", f.name, *args],
                           capture_output=True, text=True, env=env or clean_env(), timeout=120)
    finally:
        os.unlink(f.name)
    return CliResult(p.returncode, p.stdout, p.stderr, time.monotonic() - t0)


def test_reset_after_client_hello_is_a_middlebox_not_jenkins(ns, rules):
    rules("INPUT", "-p", "tcp", "--dport", str(ns["agent_port"]), "-m", "string", "--algo", "bm",
          "--hex-string", "|16 03|", "-j", "REJECT", "--reject-with", "tcp-reset")
    r = run_in(ns, "--timeout", "3")
    mb = r.finding("network.middlebox")
    assert mb["status"] == "fail", mb
    assert mb["evidence"]["stage"] == "client_hello" and mb["evidence"]["result"] == "reset"
    assert r.finding("tcp.listener")["status"] == "pass"
    hs = r.finding("jnlp4.handshake")
    assert hs["status"] == "fail"
    assert hs["evidence"]["stage_reached"] == "ack" and hs["evidence"]["failed_at"] == "tls"
    assert hs["evidence"]["cause"] == "tls_reset_after_hello"
    assert hs["caused_by"] == "network.middlebox"
    assert r.json()["findings"] and r.code == 2


def test_dropped_agent_port_while_http_answers_is_a_firewall(ns, rules):
    rules("INPUT", "-p", "tcp", "--dport", str(ns["agent_port"]), "-j", "DROP")
    r = run_in(ns, "--timeout", "2", "--deadline", "8")
    assert r.finding("tcp.agent_port")["evidence"]["result"] == "timeout"
    mb = r.finding("network.middlebox")
    assert mb["status"] == "fail", mb
    assert mb["evidence"]["stage"] == "connect" and mb["evidence"]["url_port_result"] == "connected"
    assert "Firewall" in mb["title"]
    hs = r.finding("jnlp4.handshake")
    assert hs["status"] == "skip" and hs["caused_by"] == "tcp.agent_port"


def test_reset_of_the_websocket_upgrade(ns, rules):
    rules("INPUT", "-p", "tcp", "--dport", str(ns["http_port"]), "-m", "string", "--algo", "bm",
          "--string", "Upgrade: websocket", "-j", "REJECT", "--reject-with", "tcp-reset")
    r = run_in(ns, "--timeout", "3", "--websocket")
    mb = r.finding("network.middlebox.websocket")
    assert mb["status"] == "fail", mb
    assert mb["evidence"]["stage"] == "upgrade_request"
    up = r.finding("websocket.upgrade")
    assert up["status"] == "fail" and up["evidence"]["status_code"] is None
    assert up["evidence"]["error_class"] in ("reset", "closed")


def test_proxy_refusing_connect_to_the_agent_port(ns, tmp_path):
    tinyproxy = _need("tinyproxy")
    conf = tmp_path / "tinyproxy.conf"
    conf.write_text("\n".join(["Port 18888", "Listen 127.0.0.1", "Timeout 10", "MaxClients 10", "Allow 127.0.0.1",
                               f"ConnectPort {ns['http_port']}", f'LogFile "{tmp_path}/tp.log"', ""]))
    tp = subprocess.Popen(["ip", "netns", "exec", ns["name"], tinyproxy, "-d", "-c", str(conf)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        subprocess.run(["ip", "netns", "exec", ns["name"], sys.executable, "-c",
                        "from tests.peers.util import wait_port; wait_port('127.0.0.1', 18888)"], cwd=ROOT, check=True)
        r = run_in(ns, "--timeout", "3", env=clean_env(http_proxy="http://127.0.0.1:18888"))
        assert r.finding("tcp.agent_port")["status"] == "fail"
        mb = r.finding("network.middlebox")
        assert mb["status"] == "fail", mb
        assert mb["evidence"]["stage"] == "proxy_connect" and mb["evidence"]["url_port_connect"] == "200"
        assert mb["title"].startswith("Proxy 127.0.0.1:18888 refuses CONNECT to the agent port")
        assert "403" in mb["fixes"][0]["title"]
    finally:
        tp.terminate()
        tp.wait(5)


def test_clean_path_has_no_middlebox(ns, rules):
    r = run_in(ns, "--timeout", "3")
    assert r.finding("network.middlebox")["status"] == "pass"
    assert r.finding("network.middlebox.websocket")["status"] == "pass"
    assert r.finding("jnlp4.handshake")["status"] == "pass"
