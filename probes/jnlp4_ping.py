"""jnlp4.ping: the controller's own liveness check of the agent listener, ``Protocol:Ping``.

core ``hudson/TcpSlaveAgentListener.java`` ``PingAgentProtocol`` (jenkinsci/jenkins
ff9430ee1dc6e319349a488650d914444fe141f3): the client writes ``writeUTF("Protocol:Ping")``
(``000d 50726f746f636f6c3a50696e67``) and the listener answers exactly ``Ping\\n`` and closes. It
needs no secret and leaves only a FINE log line on the controller. Run only where the controller
lists ``Ping`` in ``X-Jenkins-Agent-Protocols`` (or, in direct mode, where nothing is known).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from jnlpdiag.findings import Finding, Layer, Status
from jnlpdiag.jnlp4 import preamble
from jnlpdiag.jnlp4.ack import describe_peer
from jnlpdiag.jnlp4.catalog import fix
from jnlpdiag.neterrors import classify
from jnlpdiag.probe_api import Context, Probe
from jnlpdiag.pycompat import Timeouts

from .discovery import DiscoveryProbe
from .tcp import TcpProbe


class Jnlp4PingProbe(Probe):
    id = "jnlp4.ping"
    layer = Layer.PROTOCOL
    description = "Protocol:Ping on the agent port: the listener must answer 'Ping' (no secret involved)"
    requires = ("tcp",)
    rests_on = ("agent-listener-published", "agent-port-reachable", "agent-port-is-listener")
    after = ("discovery",)

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        tcp = ctx.facts(TcpProbe)
        if not tcp.connected or tcp.via_proxy:
            yield ctx.finding(self.id, Status.SKIP, "No direct connection to the agent port to ping",
                              caused_by=ctx.failure_of("tcp"))
            return
        protocols = ctx.facts(DiscoveryProbe).protocols
        if protocols is not None and preamble.PING not in protocols:
            yield ctx.finding(self.id, Status.SKIP, "The controller does not list the Ping protocol",
                              evidence={"protocols": protocols})
            return
        host, port = str(tcp.host), int(tcp.port or 0)
        values = {"host": host, "port": port, "url": ctx.settings.url or ""}
        evidence: dict[str, object] = {"target": f"{host}:{port}", "sent_hex": preamble.preamble(preamble.PING).hex()}
        answer = b""
        writer = None
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), ctx.step_timeout())
            writer.write(preamble.preamble(preamble.PING))
            await writer.drain()
            end = asyncio.get_running_loop().time() + ctx.step_timeout()
            while len(answer) < 256:
                chunk = await asyncio.wait_for(reader.read(256 - len(answer)),
                                               max(0.01, end - asyncio.get_running_loop().time()))
                if not chunk:
                    break
                answer += chunk
        except (*Timeouts, OSError) as exc:
            kind, msg = classify(exc)
            evidence.update(result=kind, answer_hex=answer.hex())
            yield ctx.finding(self.id, Status.FAIL, f"Ping on {host}:{port}: {msg}",
                              detail="A Jenkins listener answers 'Ping' at once and closes.",
                              evidence=evidence, fixes=[fix("ping_failed", **values)])
            return
        finally:
            if writer is not None:
                writer.close()
        evidence["answer_hex"] = answer.hex()
        if answer == preamble.PING_ANSWER:
            yield ctx.finding(self.id, Status.PASS, f"The agent listener on {host}:{port} answers Ping",
                              evidence=evidence)
            return
        _, what = describe_peer(answer)
        yield ctx.finding(self.id, Status.FAIL, f"Ping on {host}:{port} got no 'Ping' answer",
                          detail=f"Expected 50696e670a ('Ping\\n'); {what}.", evidence=evidence,
                          fixes=[fix("ping_failed", **values)])
