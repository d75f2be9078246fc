"""tls.client_auth: does the Jenkins HTTPS endpoint ask for a client certificate ("two-way TLS")?

A handshake without a certificate shows whether the server sends a CertificateRequest (seen in
OpenSSL's state machine) and which CA names it lists. Whether the certificate is *required* shows
differently per version: TLS 1.2 fails the handshake; TLS 1.3 completes it and the server sends a
``certificate_required`` alert only afterwards (RFC 8446 4.4.2.4), so one HTTP request is sent and
its answer read. Then every client identity the agent could present is tried: ``--client-cert``
/``--client-key`` and the first key entry of the agent JVM's ``-Djavax.net.ssl.keyStore``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from jnlpdiag.fixcatalog import fixes
from jnlpdiag.model import Finding, Layer, Status
from jnlpdiag.probe import Context, Facts, Probe
from jnlpdiag.tls import certs
from jnlpdiag.tls.handshake import ALL_CIPHERS, ClientIdentity, Result, Spec, handshake

from ._tls import Target, endpoints_or_skip, finding_id, jvm_identity, open_target, settings_identity


@dataclass
class TlsClientAuthFacts(Facts):
    """Whether the first endpoint asks for a client certificate; every endpoint's by URL."""

    requested: bool | None = None
    required: bool | None = None
    ca_names: list[str] | None = None
    identities: dict[str, Any] | None = None
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)


class TlsClientAuthProbe(Probe[TlsClientAuthFacts]):
    id = "tls.client_auth"
    layer = Layer.PROTOCOL
    description = "Client-certificate authentication (two-way TLS): requested, required, and accepted?"
    after = ("discovery", "tls.versions")
    # The agent's JVM is the judge of the session (tls.java): when it refuses, that is the root cause.
    rests_on = ("url-answers", "tls-session-acceptable")

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        endpoints, skip = endpoints_or_skip(ctx, self.id)
        if skip is not None:
            yield skip
            return
        identities = await asyncio.to_thread(self._identities, ctx)  # reads key stores
        published: dict[str, Any] = {}
        for index, endpoint in enumerate(endpoints):
            fid = finding_id(self.id, index, endpoint)
            versions_id = finding_id("tls.versions", index, endpoint)
            cause = versions_id if any(f.id == versions_id for f in ctx.findings_of("tls.versions")) else None
            target = await open_target(ctx, endpoint)
            if isinstance(target, str):
                yield ctx.finding(fid, Status.SKIP, f"Skipped: {target}", evidence={"endpoint": endpoint.url}, caused_by=cause)
                continue
            bare, tried = await self._handshakes(ctx, target, identities)
            finding, facts = self._finding(ctx, fid, target, bare, tried, identities, cause)
            published[endpoint.url] = facts
            if index == 0:
                ctx.publish(**facts)
            ctx.publish(endpoints=published)
            yield finding

    def _identities(self, ctx: Context) -> dict[str, ClientIdentity | str]:
        """source -> identity (or why it cannot be used); only the configured ones."""
        out: dict[str, ClientIdentity | str] = {}
        own = settings_identity(ctx.settings)
        if own is not None:
            out["--client-cert"] = own
        jvm = ctx.agent.jvm_tls()
        if jvm is not None:
            from_jvm = jvm_identity(jvm)
            if from_jvm is not None:
                out["-Djavax.net.ssl.keyStore"] = from_jvm
        return out

    async def _handshakes(
        self, ctx: Context, target: Target, identities: dict[str, ClientIdentity | str]
    ) -> tuple[Result, dict[str, Result]]:
        ep = target.endpoint
        host_header = ep.host if ep.port == 443 else ep.hostport
        deadline = time.monotonic() + ctx.step_timeout()

        def spec(identity: ClientIdentity | None = None) -> Spec:
            return Spec(ciphers=ALL_CIPHERS, sni=ep.sni, http_host=host_header, identity=identity)

        usable = {src: ident for src, ident in identities.items() if isinstance(ident, ClientIdentity)}
        jobs = [asyncio.to_thread(handshake, target.dest, spec(), deadline)]
        jobs += [asyncio.to_thread(handshake, target.dest, spec(ident), deadline) for ident in usable.values()]
        results = await asyncio.gather(*jobs)
        return results[0], dict(zip(usable, results[1:], strict=True))

    def _finding(
        self,
        ctx: Context,
        fid: str,
        target: Target,
        bare: Result,
        tried: dict[str, Result],
        identities: dict[str, ClientIdentity | str],
        cause: str | None,
    ) -> tuple[Finding, dict[str, Any]]:
        ep = target.endpoint
        values: dict[str, Any] = {
            "url": ep.url,
            "host": ep.host,
            "port": ep.port,
            "hostport": ep.hostport,
            "client_cert": ctx.settings.client_cert or "<client.pem>",
            "client_key": ctx.settings.client_key or ctx.settings.client_cert or "<client.key>",
        }
        requested = bare.cert_requested
        required: bool | None
        if bare.ok:
            required = requested and bare.after_alert
        else:
            required = True if requested else None
        ca_names = bare.client_ca_names
        values["ca_names"] = "; ".join(ca_names) or "any CA"
        accepted: dict[str, bool] = {src: _accepted(r) for src, r in tried.items()}
        evidence: dict[str, Any] = {
            "endpoint": ep.url,
            "requested": requested,
            "required": required,
            "ca_names": ca_names,
            "version_tested": bare.version,
            "without_certificate": bare.http_status or bare.after_error or bare.error,
            "client_certificates": {
                src: (
                    {"error": ident}
                    if isinstance(ident, str)
                    else {
                        "subject": certs.name_str(ident.chain[0].subject),
                        "issuer": certs.name_str(ident.chain[0].issuer),
                        "accepted": accepted.get(src),
                        "answer": _answer(tried[src]) if src in tried else None,
                    }
                )
                for src, ident in identities.items()
            },
        }
        facts = {"requested": requested, "required": required, "ca_names": ca_names, "identities": accepted}
        if required is None:
            return ctx.finding(
                fid,
                Status.SKIP,
                f"Skipped: no TLS handshake with {ep.hostport} completed",
                detail=f"Handshake error: {bare.error}.",
                evidence=evidence,
                caused_by=cause,
            ), facts
        broken = {src: ident for src, ident in identities.items() if isinstance(ident, str)}
        rejected = [src for src, ok in accepted.items() if not ok]
        if broken and (required or "--client-cert" in broken):
            return ctx.finding(
                fid,
                Status.FAIL,
                f"Client certificate unusable: {next(iter(broken.values()))}",
                evidence=evidence,
                fixes=fixes("tls", "client_cert_unreadable", **values),
            ), facts
        if rejected and requested:
            src = rejected[0]
            ident = identities[src]
            assert isinstance(ident, ClientIdentity)
            values["issuer"] = certs.name_str(ident.chain[0].issuer)
            return ctx.finding(
                fid,
                Status.FAIL,
                f"{ep.hostport} rejects the client certificate of {src}",
                detail=f"The server answered {_answer(tried[src])}. It accepts certificates issued by: {values['ca_names']}.",
                evidence=evidence,
                fixes=fixes("tls", "client_auth_rejected", **values),
            ), facts
        if required:
            if accepted and all(accepted.values()):
                return ctx.finding(
                    fid,
                    Status.PASS,
                    f"{ep.hostport} requires a client certificate; {', '.join(accepted)} is accepted",
                    evidence=evidence,
                ), facts
            how = (
                "a certificate_required alert after the handshake (TLS 1.3)" if bare.ok else f"a failed handshake ({bare.error})"
            )
            return ctx.finding(
                fid,
                Status.FAIL,
                f"{ep.hostport} requires a client certificate, and the agent has none",
                detail=f"Without a certificate the server answers with {how}. Accepted issuers: {values['ca_names']}. "
                "The agent's JVM presents one only from -Djavax.net.ssl.keyStore.",
                evidence=evidence,
                fixes=fixes("tls", "client_auth_required", "client_auth_optional", **values),
            ), facts
        if requested:
            return ctx.finding(
                fid,
                Status.PASS,
                f"{ep.hostport} asks for a client certificate but does not require one",
                detail=f"Accepted issuers: {values['ca_names']}.",
                evidence=evidence,
            ), facts
        return ctx.finding(fid, Status.PASS, f"{ep.hostport} does not ask for a client certificate", evidence=evidence), facts


def _accepted(result: Result) -> bool:
    return result.ok and not result.after_alert


def _answer(result: Result) -> str:
    if not result.ok:
        return f"handshake failed: {result.error}"
    return result.http_status or (f"alert after the handshake: {result.after_error}" if result.after_error else "nothing")
