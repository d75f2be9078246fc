"""jnlp4.handshake: speak JNLP4-connect to the agent port exactly as agent.jar does, step by step.

The steps (remoting ``JnlpProtocol4Handler.connect``, commit
fa5f12a8447d0f75e6d17d6b451a60c5e33ec09a; see ``jnlpdiag/jnlp4/``):

1. tcp       - connect to the port the ``tcp`` probe reached (through the agent's proxy, if any);
2. preamble  - ``00 16 "Protocol:JNLP4-connect"``;
3. ack       - ``00 03 "ACK"`` both ways;
4. tls       - a TLS handshake straight on the TCP stream;
5. identity  - the server key must equal the instance identity (``X-Instance-Identity`` from
               discovery, and ``--instance-identity`` / ``JENKINS_INSTANCE_IDENTITY`` when given);
6. headers   - the controller's connection-headers frame. Only with ``--auth-check`` (and a name
               and secret) do we send ``{"Node-Name", "Secret-Key"}``, answer ``OK`` to the
               controller's headers and read its verdict;
7. accepted  - verdict ``OK``: close at once, before the Capability frame, so the node never
               comes online. A refusal is confirmed with ``BYE`` as remoting does.

Never sent, ever: a connection cookie (a matching one makes the controller drop the live agent).
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from typing import Any

from jnlpdiag.findings import Finding, Layer, Status
from jnlpdiag.jnlp4 import headers as hdr
from jnlpdiag.jnlp4 import identity
from jnlpdiag.jnlp4.catalog import fix, refusal_cause
from jnlpdiag.jnlp4.session import Jnlp4Session, StepFailed
from jnlpdiag.probe_api import Context, Probe

from .discovery import DiscoveryProbe
from .tcp import TcpProbe

# Finding titles per failure cause of a step (fix texts are in data/transport-fixes.json).
_TITLES = {
    "protocol_refused": "The agent listener refuses JNLP4-connect",
    "not_jnlp": "Not a Jenkins agent port: the ACK is wrong",
    "ack_timeout": "No ACK from the agent port within the handshake timeout",
    "ack_partial": "Only part of the ACK arrived",
    "ack_closed": "The agent port closed the connection before the ACK",
    "ack_reset": "The connection was reset while waiting for the ACK",
    "tls_reset_after_hello": "Connection reset right after the TLS ClientHello",
    "tls_closed_after_hello": "Connection closed right after the TLS ClientHello",
    "tls_failed": "TLS handshake failed",
    "tls_timeout": "TLS handshake timed out",
}


def _server_name(host: str) -> str | None:
    """SNI as the JDK sends it: only for DNS names with a dot, never for IP literals."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return None
    except ValueError:
        return host if "." in host.strip(".") else None


class Jnlp4HandshakeProbe(Probe):
    id = "jnlp4.handshake"
    layer = Layer.PROTOCOL
    description = ("JNLP4-connect like agent.jar: preamble, ACK, TLS, instance identity, connection headers "
                   "(name and secret only with --auth-check; never a cookie)")
    requires = ("tcp",)
    rests_on = ("agent-listener-published", "agent-port-reachable", "agent-port-is-listener")
    after = ("discovery", "network.middlebox")

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        s = ctx.settings
        tcp = ctx.facts(TcpProbe)
        if not tcp.connected or not tcp.host or not tcp.port:
            yield ctx.finding(self.id, Status.SKIP, "No reachable agent port to speak JNLP4-connect to",
                              caused_by=ctx.failure_of("tcp"))
            return
        host, port = tcp.host, tcp.port
        route = ctx.agent.tcp_route(host) if tcp.via_proxy else None
        expected = self._expected_identities(ctx)
        values: dict[str, Any] = {"host": host, "port": port, "url": ctx.jenkins_url() or "",
                                  "name": s.name or "<name>"}
        evidence: dict[str, Any] = {
            "target": f"{host}:{port}", "via_proxy": tcp.via_proxy, "stage_reached": None, "failed_at": None,
            "identity_match": None, "tls": None, "refusal": None, "auth_check": s.run.auth_check, "secret_sent": False,
            "cookie_sent": False,
        }
        session = Jnlp4Session(host, port, proxy=route.proxy if route else None, server_name=_server_name(host))
        try:
            async for finding in self._handshake(ctx, session, expected, evidence, values):
                yield finding
        except StepFailed as exc:
            yield self._step_failure(ctx, exc, evidence, values)
        finally:
            await session.close()
            evidence["transcript"] = session.transcript

    # -- the steps -------------------------------------------------------------------------------

    async def _handshake(self, ctx: Context, session: Jnlp4Session, expected: list[tuple[str, bytes]],
                         evidence: dict[str, Any], values: dict[str, Any]) -> AsyncIterator[Finding]:
        s = ctx.settings
        await session.connect(ctx.step_timeout())
        evidence["stage_reached"] = "tcp"
        await session.preamble_and_ack(ctx.step_timeout())
        evidence["stage_reached"] = "ack"  # a correct ACK also proves the preamble was accepted
        tls = await session.tls_handshake(ctx.step_timeout())
        evidence["stage_reached"] = "tls"
        evidence["tls"] = {"version": tls.version, "cipher": tls.cipher}

        # identity: remoting's PublicKeyMatchingX509ExtendedTrustManager compares the whole SPKI.
        try:
            got = identity.spki_of_certificate(tls.peer_cert_der) if tls.peer_cert_der else b""
            subject = identity.subject_of_certificate(tls.peer_cert_der) if tls.peer_cert_der else None
        except identity.IdentityError as exc:  # a key no one can compare: remoting rejects it too
            got, subject = b"", f"({exc})"
        got_fp = identity.fingerprint(got) if got else None
        evidence["identity"] = {"got": got_fp, "subject": subject,
                                "expected": {src: identity.fingerprint(der) for src, der in expected}}
        mismatched = [(src, der) for src, der in expected if not identity.matches(got, der)]
        if mismatched:
            evidence["identity_match"] = False
            evidence["failed_at"] = "identity"
            src, der = mismatched[0]
            yield ctx.finding(
                self.id, Status.FAIL,
                f"The agent port presents identity {got_fp}, but {src} says {identity.fingerprint(der)}",
                detail="agent.jar refuses this TLS certificate ('Public key of the first certificate in chain ... is "
                       "not in the list of trusted keys'): the TCP port reaches another Jenkins, or a proxy answers. "
                       "Nothing was sent after TLS.",
                evidence=evidence,
                fixes=[fix("identity_mismatch", got=got_fp, expected=identity.fingerprint(der), **values)],
            )
            return
        evidence["identity_match"] = True if expected else None
        evidence["stage_reached"] = "identity"

        server_headers = await session.read_frame(ctx.step_timeout(), "connection headers")
        try:
            parsed = hdr.from_string(server_headers)
        except hdr.ParseError as exc:
            raise StepFailed("headers", "malformed", f"the controller's headers do not parse: {exc}") from None
        evidence["server_header_names"] = sorted(parsed)  # names only: the cookie value stays private

        if not s.run.auth_check:
            evidence["stage_reached"] = "headers"
            evidence["stopped"] = "before sending the name and secret (no --auth-check)"
            yield ctx.finding(
                self.id, Status.PASS if expected else Status.WARN,
                f"JNLP4-connect works up to the connection headers on {values['host']}:{values['port']} "
                f"({tls.version})" + ("" if expected else ", identity not verified"),
                detail="Preamble, ACK, TLS and the controller's headers all arrived. The name and secret were not "
                       "sent, so a running agent is not disturbed; add --auth-check to have the controller judge "
                       "them." + ("" if expected else " No instance identity was known to compare the key with."),
                evidence=evidence, fixes=[] if expected else [fix("identity_unknown", **values)],
            )
            return
        if not expected:
            evidence["stage_reached"] = "headers"
            evidence["stopped"] = "the controller's identity could not be verified: the secret was not sent"
            yield ctx.finding(self.id, Status.WARN, "Not sending the secret to an unverified controller",
                              detail="--auth-check was given but no instance identity is known (agent.jar itself "
                                     "would not connect without one).",
                              evidence=evidence, fixes=[fix("identity_unknown", **values)])
            return
        if not s.name or not s.secret:
            evidence["stage_reached"] = "headers"
            evidence["stopped"] = "no agent name or secret known"
            yield ctx.finding(self.id, Status.SKIP,
                              "JNLP4-connect works up to the headers; --auth-check needs a name and a secret",
                              detail="Give --name and --secret-file (or JENKINS_AGENT_NAME / JENKINS_SECRET).",
                              evidence=evidence)
            return

        # The agent's headers, in the order Engine's HashMap iterates them; never the cookie.
        mine = hdr.to_string({hdr.CLIENT_NAME_KEY: s.name, hdr.SECRET_KEY: s.secret.reveal()})
        await session.send_frame(mine, "connection headers (name, secret)")
        evidence["secret_sent"] = True
        await session.send_frame(hdr.OK, "OK (to the controller's headers)")
        verdict = hdr.Verdict.parse(await session.read_frame(ctx.step_timeout(), "verdict"))
        evidence["stage_reached"] = "headers"
        if verdict.accepted:
            evidence["stage_reached"] = "accepted"
            evidence["stopped"] = "right after the verdict, before the Capability frame: the node did not come online"
            yield ctx.finding(self.id, Status.PASS, f"The controller accepts agent {s.name} over JNLP4-connect",
                              detail="The connection was closed at once after the controller's OK; no channel was "
                                     "started.", evidence=evidence)
            return
        await session.send_frame("BYE", "BYE (confirming the refusal)")
        evidence["refusal"] = verdict.reason
        evidence["failed_at"] = "headers"
        cause, groups = refusal_cause(verdict.reason)
        yield ctx.finding(
            self.id, Status.FAIL, f"The controller refuses agent {s.name}: {verdict.reason}"[:200],
            detail=f"Response frame '{verdict.kind}: {verdict.reason}'. agent.jar logs 'Local headers refused by "
                   f"remote: {verdict.reason}'.",
            evidence=evidence, fixes=[fix(cause, reason=verdict.reason, **{**values, **groups})],
        )

    # -- helpers ---------------------------------------------------------------------------------

    def _expected_identities(self, ctx: Context) -> list[tuple[str, bytes]]:
        """Keys the server must present: discovery's header and the configured identity."""
        out: list[tuple[str, bytes]] = []
        der = ctx.facts(DiscoveryProbe).identity_der
        if isinstance(der, (bytes, bytearray)):
            out.append(("X-Instance-Identity", bytes(der)))
        value = ctx.settings.instance_identity
        if value:
            try:
                out.append((f"-instanceIdentity ({ctx.settings.origin('instance_identity')})", identity.decode(value)))
            except identity.IdentityError:
                pass  # the agent options probe reports an invalid value
        return out

    def _step_failure(self, ctx: Context, exc: StepFailed, evidence: dict[str, Any],
                      values: dict[str, Any]) -> Finding:
        evidence["failed_at"] = exc.stage
        evidence["cause"] = exc.cause
        evidence.update({k: v for k, v in exc.data.items() if k not in evidence})
        if exc.stage == "preamble" and evidence["stage_reached"] == "tcp":
            pass  # refused at the preamble: stage_reached stays "tcp"
        elif exc.stage == "ack":
            evidence["stage_reached"] = "preamble"
        key = exc.cause if exc.cause in _TITLES else (
            "headers_failed" if exc.stage == "headers" else "ack_reset" if exc.stage == "ack" else "tls_failed")
        if exc.stage == "tcp":
            key = "tcp_failed"
        caused_by = None
        if key in ("tls_reset_after_hello", "tls_closed_after_hello", "ack_reset", "ack_timeout"):
            caused_by = ctx.failure_of("network.middlebox")
        title = _TITLES.get(exc.cause, f"JNLP4-connect failed at the {exc.stage} step")
        fix_key = "ack_closed" if key == "ack_partial" else key
        return ctx.finding(
            self.id, Status.FAIL, f"{title} ({values['host']}:{values['port']})",
            detail=exc.message, evidence=evidence, caused_by=caused_by,
            fixes=[fix(fix_key, peer=exc.data.get("peer", "unknown"), alert=exc.data.get("alert", exc.message),
                       message=exc.message, **values)],
        )
