"""Probes used by the TUI tests to drive the UI through real network work against the peers.

They are test fixtures, not product probes: ``test.tls12`` performs the TLS handshake a JVM started
with ``-Djdk.tls.client.protocols=TLSv1.2`` performs (client capped at TLS 1.2), so it fails against
the TLS 1.3-only server and passes against the healthy one; ``test.listener`` requires it and reads
the discovery headers over that same TLS 1.2 client; ``test.gate`` holds its RUNNING state until a
test opens the gate, so a test can look at the screen while the run is still going.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from jnlpdiag.findings import Finding, Fix, Layer, Status
from jnlpdiag.httpclient import HttpError, request
from jnlpdiag.probe_api import Context, Probe

TLS_FIX = Fix("Let the agent's JVM offer TLS 1.3",
              steps=("-Djdk.tls.client.protocols=TLSv1.3,TLSv1.2",
                     'export JAVA_OPTS="-Djdk.tls.client.protocols=TLSv1.3,TLSv1.2"'))


def tls12_context(ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


class Tls12ClientProbe(Probe):
    id = "test.tls12"
    layer = Layer.PROTOCOL
    description = "TLS handshake as a JVM limited to TLS 1.2 makes it"
    runs = 0

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        type(self).runs += 1
        url = urlsplit(ctx.settings.url or "")
        host, port = url.hostname or "", url.port or 443
        timeout = ctx.step_timeout()

        def handshake() -> str:
            with socket.create_connection((host, port), timeout=timeout) as raw:
                with tls12_context(ctx.settings.ca_file).wrap_socket(raw, server_hostname=host) as tls:
                    return str(tls.version())

        evidence = {"server": f"{host}:{port}", "client_protocols": ["TLSv1.2"]}
        try:
            version = await asyncio.to_thread(handshake)
        except ssl.SSLError as exc:
            yield ctx.finding(self.id, Status.FAIL, "The server refuses TLS 1.2, the only version the JVM offers",
                              detail="The handshake ended with a TLS alert before any certificate was exchanged.",
                              evidence={**evidence, "alert": exc.reason or str(exc)}, fixes=[TLS_FIX])
            return
        except OSError as exc:
            yield ctx.finding(self.id, Status.FAIL, f"Cannot connect to {host}:{port}",
                              evidence={**evidence, "error": str(exc)},
                              fixes=[Fix("Check the URL", steps=(f"curl -v {ctx.settings.url}",))])
            return
        yield ctx.finding(self.id, Status.PASS, f"TLS handshake with {version} succeeded",
                          evidence={**evidence, "negotiated": version})


class ListenerOverTls12Probe(Probe):
    id = "test.listener"
    layer = Layer.PROTOCOL
    description = "Read the discovery headers over the TLS 1.2 client"
    requires = ("test.tls12",)

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        url = f"{ctx.settings.url}tcpSlaveAgentListener/"
        try:
            resp = await request(url, timeout=ctx.step_timeout(), ssl_context=tls12_context(ctx.settings.ca_file))
        except HttpError as exc:
            yield ctx.finding(self.id, Status.FAIL, f"GET {url} failed: {exc.message}",
                              fixes=[Fix("Check the URL", steps=(f"curl -v {url}",))])
            return
        port = resp.headers.get("x-jenkins-jnlp-port")
        if resp.status != 200 or not port:
            yield ctx.finding(self.id, Status.FAIL, f"{url} answered {resp.status} without X-Jenkins-JNLP-Port",
                              fixes=[Fix("Enable the TCP agent port", steps=("Manage Jenkins > Security",))])
            return
        yield ctx.finding(self.id, Status.PASS, f"Agent port {port} advertised", evidence={"agent_port": port})


class GateProbe(Probe):
    id = "test.gate"
    layer = Layer.HOST
    description = "Waits until the test opens the gate"
    gate = threading.Event()

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        while not self.gate.is_set() and ctx.remaining() > 0.3:
            await asyncio.sleep(0.02)
        yield ctx.finding(self.id, Status.PASS if self.gate.is_set() else Status.SKIP, "The gate opened")


TEST_PROBES: list[type[Probe]] = [GateProbe, Tls12ClientProbe, ListenerOverTls12Probe]
