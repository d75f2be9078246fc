"""Fault injection with iptables in a network namespace the test creates (root only, as in CI):
a blackholed port (DROP) and a reset right after the TLS ClientHello (string match + REJECT
--reject-with tcp-reset), against the transport suite's byte-exact test controller and a real
``openssl s_server``. The tool runs inside the namespace, so only the namespace's loopback is used."""

from __future__ import annotations

import shutil
import sys

import pytest

from tests.conftest import ROOT
from tests.hostile import servers as S
from tests.hostile.conftest import Namespace

pytestmark = pytest.mark.privileged

# Every TLS ClientHello starts with a handshake record (type 0x16) whose legacy version is 0x0301
# (RFC 8446 section 5.1: "legacy_record_version ... MUST be set to 0x0301 for an initial
# ClientHello"); the JNLP4 preamble, ACK and HTTP requests never contain these bytes.
CLIENT_HELLO = "|16 03 01|"


def _secret_file(tmp_path, value: str) -> str:
    path = tmp_path / "secret"
    path.write_text(value)
    return str(path)


def _agent_args(ctl: dict, tmp_path) -> list[str]:
    return ["--url", ctl["url"], "--name", "agent-1", "--secret-file", _secret_file(tmp_path, ctl["secrets"]["agent-1"])]


def test_blackholed_agent_port(hostile, controller_in, tmp_path):
    ns: Namespace = controller_in["ns"]
    ns.iptables("-A", "INPUT", "-p", "tcp", "--dport", "50000", "-j", "DROP")
    out = hostile(*_agent_args(controller_in, tmp_path), netns=ns.name)
    assert out.finding("discovery")["status"] == "pass"  # HTTP answers: only the agent port is dropped
    f = out.finding("tcp.agent_port")
    assert f["status"] == "fail" and f["evidence"]["result"] == "timeout"
    assert f["fixes"]
    assert "tcp.agent_port" in out.root_causes
    hs = out.finding("jnlp4.handshake")
    assert hs["status"] == "skip" and hs["caused_by"] == "tcp.agent_port"
    assert out.code == 2


def test_blackholed_url_port(hostile, controller_in, tmp_path):
    ns: Namespace = controller_in["ns"]
    ns.iptables("-A", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "DROP")
    out = hostile(*_agent_args(controller_in, tmp_path), netns=ns.name)
    f = out.finding("discovery.jenkins")
    assert f["status"] == "fail" and f["evidence"]["error_class"] == "timeout"
    assert f["evidence"]["stage"] in ("connect", "response")
    assert out.root_causes[0] == "discovery.jenkins"
    assert out.code == 2


def test_reset_after_client_hello_on_the_agent_port(hostile, controller_in, tmp_path):
    ns: Namespace = controller_in["ns"]
    ns.iptables("-A", "INPUT", "-p", "tcp", "--dport", "50000", "-m", "string", "--algo", "bm",
                "--hex-string", CLIENT_HELLO, "-j", "REJECT", "--reject-with", "tcp-reset")
    out = hostile(*_agent_args(controller_in, tmp_path), netns=ns.name)
    assert out.finding("tcp.listener")["status"] == "pass"  # the plaintext hello still works
    mb = out.finding("network.middlebox")
    assert mb["status"] == "fail"
    assert mb["evidence"]["stage"] == "client_hello" and mb["evidence"]["result"] == "reset"
    hs = out.finding("jnlp4.handshake")
    assert hs["status"] == "fail" and hs["evidence"]["cause"] == "tls_reset_after_hello"
    assert out.root_causes == ["network.middlebox"]
    assert out.code == 2


def test_reset_after_client_hello_on_https(hostile, netns, ca, tmp_path):
    """A real openssl s_server on 8443 in the namespace; the ClientHello to it is answered by a RST."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed (apt-get install openssl)")
    cert, key = S.write_cert(ca, tmp_path)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = netns.popen("openssl", "s_server", "-quiet", "-accept", "127.0.0.1:8443", "-cert", cert, "-key", key,
                         "-www", "-naccept", "1000")
    try:
        netns.exec(sys.executable, "-c", "from tests.peers.util import wait_port; wait_port('127.0.0.1', 8443)",
                   cwd=ROOT, check=True)
        netns.iptables("-A", "INPUT", "-p", "tcp", "--dport", "8443", "-m", "string", "--algo", "bm",
                       "--hex-string", CLIENT_HELLO, "-j", "REJECT", "--reject-with", "tcp-reset")
        out = hostile("--url", "https://127.0.0.1:8443/", "--ca-file", str(ca_file), netns=netns.name)
    finally:
        server.terminate()
        server.wait(5)
    f = out.finding("discovery.jenkins")
    assert f["status"] == "fail" and f["evidence"]["error_class"] == "reset" and f["evidence"]["stage"] == "tls"
    versions = out.finding("tls.versions")
    assert versions["status"] == "fail" and "reset" in (versions["title"] + versions["detail"]).lower()
    assert out.code == 2
