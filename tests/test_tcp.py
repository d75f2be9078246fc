"""tcp probe: a listening agent port, a closed port, a blackholed port (in a network namespace),
something else on the port, and a proxy that refuses CONNECT."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import uuid

import pytest

from tests.conftest import is_root
from tests.peers.agent_listener import AgentListener
from tests.peers.nginx import Nginx
from tests.peers.tinyproxy import Tinyproxy
from tests.peers.util import clean_env, free_port, run_cli


def tcp(*args: str, env: dict[str, str] | None = None, timeout: str = "3"):
    return run_cli("check", "--probe", "tcp", "--json", "--timeout", timeout, "--from-process", "none", *args,
                   env=env or clean_env())


def test_listening_agent_port_is_identified_as_jenkins():
    with AgentListener(version="2.479.3") as listener:
        r = tcp("--direct", f"127.0.0.1:{listener.port}")
    assert r.code == 0, r.stdout
    f = r.finding("tcp.agent_port")
    assert f["evidence"]["result"] == "connected"
    assert f["evidence"]["source"] == "direct"
    assert f["evidence"]["addresses"][0]["latency_ms"] >= 0
    hello = r.finding("tcp.listener")
    assert hello["status"] == "pass"
    assert hello["evidence"]["jenkins_version"] == "2.479.3"
    assert hello["evidence"]["client_seen"] == "127.0.0.1"
    assert hello["evidence"]["nat"] is False


def test_ipv6_loopback_listener():
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this host")
    try:
        listener = AgentListener(host="::1")
    except OSError as exc:
        pytest.skip(f"cannot bind ::1: {exc}")
    with listener:
        r = tcp("--direct", f"[::1]:{listener.port}")
    f = r.finding("tcp.agent_port")
    assert f["evidence"]["result"] == "connected"
    assert f["evidence"]["addresses"][0]["family"] == "IPv6"


def test_closed_port_is_refused_in_under_a_second():
    r = tcp("--direct", f"127.0.0.1:{free_port()}")
    f = r.finding("tcp.agent_port")
    assert f["status"] == "fail"
    assert f["evidence"]["result"] == "refused"
    assert f["evidence"]["addresses"][0]["latency_ms"] < 1000
    assert f["fixes"]
    assert r.code == 2


def test_http_server_on_agent_port_is_not_a_jenkins_port():
    port = free_port()
    block = f'server {{ listen 127.0.0.1:{port}; location / {{ return 400 "bad"; }} }}'
    with Nginx(block, [port]):
        r = tcp("--direct", f"127.0.0.1:{port}")
    f = r.finding("tcp.listener")
    assert f["status"] == "fail"
    assert "HTTP server" in f["title"]
    assert "0x48545450" in f["detail"]  # what agent.jar would log: 'HTTP/' instead of the ACK


def test_silent_service_is_reported():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    conns = []

    def accept() -> None:
        while True:
            try:
                conns.append(srv.accept()[0])  # accept and never answer
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        r = tcp("--direct", f"127.0.0.1:{srv.getsockname()[1]}", timeout="2")
    finally:
        srv.close()
    f = r.finding("tcp.listener")
    assert f["status"] == "fail" and "silent" in f["title"]
    assert r.elapsed < 2 * 1.1 + 1.5  # the run ends near its deadline even against a silent peer


def test_tunnel_overrides_discovered_port():
    with AgentListener() as listener:
        r = tcp("--url", "http://127.0.0.1:1/", "--tunnel", f"127.0.0.1:{listener.port}")
    f = r.finding("tcp.agent_port")
    assert f["evidence"]["source"] == "tunnel" and f["evidence"]["result"] == "connected"


def test_invalid_direct_value():
    r = tcp("--direct", "no-port-here")
    f = r.finding("tcp.agent_port")
    assert f["status"] == "fail" and "Invalid" in f["title"]


def test_proxy_refusing_connect_is_named():
    with AgentListener() as listener, Tinyproxy(connect_ports=[443]) as proxy:
        env = clean_env(JAVA_OPTS=f"-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort={proxy.port} -Dhttp.nonProxyHosts=")
        r = tcp("--direct", f"127.0.0.1:{listener.port}", env=env)
    f = r.finding("tcp.agent_port")
    assert f["status"] == "fail"
    assert f["evidence"]["result"] == "proxy_refused"
    assert "403" in f["evidence"]["proxy_status"]


def test_proxy_allowing_connect_reaches_listener():
    with AgentListener() as listener, Tinyproxy() as proxy:
        env = clean_env(JAVA_OPTS=f"-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort={proxy.port} -Dhttp.nonProxyHosts=")
        r = tcp("--direct", f"127.0.0.1:{listener.port}", env=env)
    assert r.finding("tcp.agent_port")["evidence"]["result"] == "connected"
    assert r.finding("tcp.listener")["status"] == "pass"


@pytest.fixture
def blackhole_netns():
    """A network namespace (made here, removed after) whose loopback drops TCP port 50000."""
    if not is_root() or not shutil.which("ip") or not shutil.which("iptables"):
        pytest.skip("needs root with ip and iptables to create a network namespace with a DROP rule")
    name = f"jd-bh-{uuid.uuid4().hex[:6]}"
    try:
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"cannot create a network namespace: {exc.stderr.decode().strip()}")
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "netns", "exec", name, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "50000",
                        "-j", "DROP"], check=True, capture_output=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def test_blackholed_port_times_out_within_timeout_plus_ten_percent(blackhole_netns):
    proc = subprocess.run(
        ["ip", "netns", "exec", blackhole_netns, sys.executable, "-m", "jnlpdiag", "check", "--probe", "tcp",
         "--json", "--timeout", "3", "--from-process", "none", "--direct", "127.0.0.1:50000"],
        capture_output=True, text=True, env=clean_env(), timeout=60,
    )
    import json

    report = json.loads(proc.stdout)
    f = next(x for x in report["findings"] if x["id"] == "tcp.agent_port")
    assert f["evidence"]["result"] == "timeout"
    assert report["duration_ms"] <= 3000 * 1.1
    assert proc.returncode == 2


# -- issue 13 §3: the words say what the peer did --------------------------------------------------

def _identity() -> str:
    from tests.peers.controller import identity_b64

    return identity_b64()


def test_web_server_that_answers_at_once_predicts_the_incorrect_ack_line():
    """nginx answers agent.jar's binary preamble at once ('HTTP/1.1 400'): remoting's AckFilterLayer
    logs the bytes it got."""
    port = free_port()
    with Nginx(f'server {{ listen 127.0.0.1:{port}; location / {{ return 200 "hello"; }} }}', [port]):
        r = tcp("--direct", f"127.0.0.1:{port}", "--instance-identity", _identity())
    f = r.finding("tcp.listener")
    assert f["status"] == "fail"
    assert f["evidence"]["predicted_agent_log"] == ["Incorrect acknowledgement sequence, expected 0x000341434b "
                                                   "got 0x485454502f"]
    assert "got 0x485454502f" in f["detail"] and "Timeout waiting for ACK" not in f["detail"]


def test_web_server_that_waits_for_a_request_line_predicts_the_ack_timeout():
    """python -m http.server answers GET but waits on the preamble (no newline in it): agent.jar logs
    'Timeout waiting for ACK' after 10 s, not an incorrect acknowledgement."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from tests.peers.util import wait_port

        wait_port("127.0.0.1", port)
        r = tcp("--direct", f"127.0.0.1:{port}", "--instance-identity", _identity(), timeout="6")
    finally:
        proc.terminate()
        proc.wait(5)
    f = r.finding("tcp.listener")
    assert f["status"] == "fail" and "HTTP" in f["title"]
    assert f["evidence"]["predicted_agent_log"] == ["Timeout waiting for ACK",
                                                   "Connection closed before acknowledgement sent"]
    assert "Incorrect acknowledgement" not in f["detail"]


def test_listener_that_accepts_and_never_answers_is_not_called_a_firewall():
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    threading.Thread(target=lambda: [held.append(server.accept()[0]) for _ in range(10)], daemon=True).start()
    try:
        r = tcp("--direct", f"127.0.0.1:{server.getsockname()[1]}", "--instance-identity", _identity())
    finally:
        server.close()
        for s in held:
            s.close()
    f = r.finding("tcp.listener")
    assert f["status"] == "fail" and "stayed silent" in f["title"]
    words = " ".join([f["detail"], *(x["title"] for x in f["fixes"]),
                      *(c for x in f["fixes"] for c in x["commands"] + x["notes"])]).lower()
    assert "firewall" not in words and "dropped" not in words.replace("drops the packets", "")
    assert "nc -vz" not in words and "accepts connections but never answers" in words
