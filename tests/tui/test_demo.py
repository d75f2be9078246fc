"""`jnlpdiag demo`: the loopback endpoints answer as the controller code does, reproduce the two
faults (TLS 1.3-only front, proxy dropping the WebSocket upgrade) and are gone after the command."""

from __future__ import annotations

import asyncio
import base64
import re
import socket
import ssl
import urllib.request
from pathlib import Path

import pytest
import websockets
from cryptography.hazmat.primitives.serialization import load_der_public_key

from jnlpdiag.demo import DemoEndpoints
from jnlpdiag.demo.controller import CAPABILITY
from jnlpdiag.registry import load_probes
from jnlpdiag.tui.app import JnlpdiagApp
from tests.peers.util import run_cli
from tests.tui.conftest import run_async, screen_text, wait_for


@pytest.fixture(scope="module")
def demo():
    with DemoEndpoints() as d:
        yield d


def test_controller_serves_the_discovery_headers_behind_tls13(demo):
    ctx = ssl.create_default_context(cafile=str(demo.ca_file))
    with urllib.request.urlopen(demo.url + "tcpSlaveAgentListener/", context=ctx, timeout=5) as resp:
        assert resp.status == 200 and resp.read() == b"Jenkins"
        h = resp.headers
        assert h["X-Jenkins-JNLP-Port"] == h["X-Hudson-JNLP-Port"] == str(demo.ports["agent"])
        assert h["X-Jenkins-Agent-Protocols"] == "JNLP4-connect, Ping"
        assert h["X-Remoting-Minimum-Version"]
        assert "X-Jenkins-JNLP-Host" not in h  # only sent when the hostName property is set
        load_der_public_key(base64.b64decode(h["X-Instance-Identity"]))  # a real RSA public key
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(demo.url, context=ctx, timeout=5)
    assert err.value.code == 403 and err.value.headers["X-Jenkins"]


def test_tls12_client_gets_a_protocol_version_alert(demo):
    ctx = ssl.create_default_context(cafile=str(demo.ca_file))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection(("127.0.0.1", demo.ports["tls"]), timeout=5) as raw:
        with pytest.raises(ssl.SSLError, match="PROTOCOL_VERSION"):
            ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def test_agent_port_hello_and_ping(demo):
    with socket.create_connection(("127.0.0.1", demo.ports["agent"]), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = s.recv(4096)
    assert data.startswith(b"HTTP/1.0 200 OK\r\n") and b"Jenkins-Agent-Protocols: JNLP4-connect, Ping\r\n" in data
    with socket.create_connection(("127.0.0.1", demo.ports["agent"]), timeout=5) as s:
        s.sendall(bytes.fromhex("000d50726f746f636f6c3a50696e67"))  # writeUTF("Protocol:Ping")
        assert s.recv(16) == b"Ping\n"


def test_encrypted_agent_file_decrypts_with_the_secret(demo):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

    try:
        from cryptography.hazmat.decrepit.ciphers.modes import CFB8
    except ImportError:
        from cryptography.hazmat.primitives.ciphers.modes import CFB8
    from defusedxml import ElementTree

    ctx = ssl.create_default_context(cafile=str(demo.ca_file))
    url = demo.url + "computer/demo-agent/jenkins-agent.jnlp?encrypt=true"
    with urllib.request.urlopen(url, context=ctx, timeout=5) as resp:
        body = resp.read()
    # remoting Launcher.parseJnlpArguments: IV = 16 bytes, AES/CFB8, key = fromHex(secret)[:16]
    dec = Cipher(algorithms.AES(bytes.fromhex(demo.secret)[:16]), CFB8(body[:16])).decryptor()
    root = ElementTree.fromstring(dec.update(body[16:]) + dec.finalize())
    args = [a.text for a in root.iter("argument")]
    assert args[:3] == [demo.secret, "demo-agent", "-webSocket"] and args[-2:] == ["-url", demo.url]
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url.replace("?encrypt=true", ""), context=ctx, timeout=5)
    assert err.value.code == 403
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url.replace("demo-agent", "other"), context=ctx, timeout=5)
    assert err.value.code == 404


def ws_headers(demo) -> dict[str, str]:
    return {"Node-Name": "demo-agent", "Secret-Key": demo.secret, "X-Remoting-Capability": CAPABILITY}


@run_async
async def test_websocket_upgrade_direct_works_and_the_proxy_drops_it(demo):
    # Straight to the controller: a real WebSocket client completes the handshake (it checks
    # Sec-WebSocket-Accept), gets the remoting headers, then the demo's close frame.
    direct = f"ws://127.0.0.1:{demo.ports['controller']}/wsagents/"
    async with websockets.connect(direct, additional_headers=ws_headers(demo), open_timeout=5) as ws:
        assert ws.response.headers["X-Remoting-Capability"] == CAPABILITY
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd.code == 1000
    # Through the proxy the Upgrade header is gone: the controller answers 400, as Jetty does.
    via_proxy = f"ws://127.0.0.1:{demo.ports['proxy']}/wsagents/"
    with pytest.raises(websockets.InvalidStatus) as err:
        async with websockets.connect(via_proxy, additional_headers=ws_headers(demo), open_timeout=5):
            pass
    assert err.value.response.status_code == 400
    assert err.value.response.body == b"only WS connections accepted here"
    # Wrong secret is refused before any upgrade (WebSocketAgents.checkInvalidRequest).
    with pytest.raises(websockets.InvalidStatus) as err:
        async with websockets.connect(direct, additional_headers={**ws_headers(demo), "Secret-Key": "0" * 64},
                                      open_timeout=5):
            pass
    assert err.value.response.status_code == 403


def test_demo_command_diagnoses_and_stops_its_endpoints():
    r = run_cli("demo", "--no-ui", "--timeout", "3", timeout=120)
    assert r.code in (0, 1, 2), r.stderr
    assert r.stdout.startswith("DEMO (loopback demo endpoints, not a real Jenkins)")
    ports = [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)/", r.stderr)]
    ca = re.search(r"CA: (\S+)\)", r.stderr)
    assert len(ports) == 3 and ca
    assert not Path(ca.group(1)).exists()  # its temp folder is removed
    for port in ports:  # and nothing listens any more
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    registered = {p.id for p in load_probes()[0]}
    if "discovery" in registered:
        assert "Jenkins 2.504.1" in r.stdout
    roots = r.stdout.split("Root cause", 1)[-1].split("All findings:")[0]
    if {"tls.java", "websocket.upgrade"} <= registered:  # the two faults the demo is built to show
        # both shown in the root cause section: the proxy fault as a root of its own, or as what the
        # TLS fault leads to (the agent's JVM never gets as far as the upgrade)
        assert "(tls.java)" in roots and re.search(r"\(websocket\.upgrade\)|leads to: .*websocket\.upgrade", roots), \
            r.stdout
    assert re.search(r"\b[0-9a-f]{64}\b", r.stdout + r.stderr) is None  # the demo agent's secret never shows


@run_async
async def test_demo_is_labelled_in_the_ui(demo):
    probes = [p for p in load_probes()[0] if p.id in ("discovery", "tcp", "agent.options")]
    if not probes:
        pytest.skip("no built-in probe registered")
    app = JnlpdiagApp.demo(probes, demo.settings(3.0), "loopback demo endpoints, not a real Jenkins")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.model.runs and not app.model.running, what="the demo run")
        await wait_for(pilot, lambda: screen_text(app).startswith(" DEMO "), what="the DEMO label")
        first = screen_text(app).splitlines()[0]
        assert first.startswith(" DEMO ") and demo.url in first
        assert demo.secret not in screen_text(app)
