"""The secret never crosses the wire without --auth-check: capture loopback traffic with tcpdump and grep it."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time

import pytest

from tests.conftest import is_root
from tests.peers.util import run_cli
from tests.transport.jnlp4_controller import Controller

pytestmark = pytest.mark.privileged


class Capture:
    def __init__(self, path, ports: list[int]) -> None:
        self.path = path
        self.ports = ports

    def __enter__(self) -> Capture:
        expr = " or ".join(f"tcp port {p}" for p in self.ports)
        cmd = ["tcpdump", "-i", "lo", "--immediate-mode", "-U", "-s", "0", "-w", str(self.path), expr]
        self.proc = subprocess.Popen(cmd,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()  # "listening on lo, ..." once the capture runs
        assert "listening" in line, line
        # The filter may drop the first packets after "listening": knock until one is written.
        end = time.monotonic() + 10
        while self.path.stat().st_size <= 24:
            assert time.monotonic() < end, "tcpdump never captured the knock packets"
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.ports[0]), timeout=1).close()
            time.sleep(0.2)
        time.sleep(0.3)
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.5)  # let the last packets land
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(10)

    def data(self) -> bytes:
        return self.path.read_bytes()


@pytest.fixture(scope="module")
def controller():
    if not is_root() or not shutil.which("tcpdump"):
        pytest.skip("capturing loopback traffic needs root and tcpdump (apt-get install tcpdump)")
    with Controller() as c:
        yield c


def _run(c: Controller, tmp_path, *extra: str):
    sf = tmp_path / "secret"
    sf.write_text(c.secret("agent-1"))
    return run_cli("check", "--json", "--url", c.url, "--name", "agent-1", "--secret-file", str(sf), "--timeout", "3",
                   "--probe", "discovery", "--probe", "tcp", "--probe", "jnlp4.*", "--probe", "websocket.*",
                   "--probe", "credentials.jnlp", "--probe", "network.*", *extra)


@pytest.mark.parametrize("mode,marker", [((), b"Protocol:JNLP4-connect"), (("--websocket",), b"GET /wsagents/")],
                         ids=["tcp-agent", "websocket-agent"])
def test_no_secret_on_the_wire_without_auth_check(controller, tmp_path, mode, marker):
    secret = controller.secret("agent-1").encode()
    with Capture(tmp_path / "cap.pcap", [controller.agent_port, controller.http_port]) as cap:
        r = _run(controller, tmp_path, *mode)
    data = cap.data()
    assert len(data) > 2000, "the capture saw no traffic"
    assert b"jenkins-agent.jnlp?encrypt=true" in data and marker in data  # it did see the probes
    assert secret not in data and secret.upper() not in data
    assert r.finding("credentials.jnlp")["status"] in ("pass", "warn")  # the secret was checked, offline
    if not mode:
        assert r.finding("jnlp4.handshake")["evidence"]["secret_sent"] is False
    else:
        assert r.finding("websocket.upgrade")["evidence"]["agent_headers_sent"] == []


def test_capture_does_see_the_secret_when_auth_check_sends_it_in_clear(controller, tmp_path):
    """Control: ws:// with --auth-check sends Secret-Key in plain HTTP, and the capture finds it."""
    secret = controller.secret("agent-1").encode()
    with Capture(tmp_path / "cap.pcap", [controller.http_port]) as cap:
        r = _run(controller, tmp_path, "--websocket", "--auth-check")
    assert r.finding("websocket.upgrade")["evidence"]["status_code"] == 101
    assert secret in cap.data()
