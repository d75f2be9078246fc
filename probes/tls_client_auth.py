"""tls.client_auth: two-way TLS as the agent meets it. Does the Jenkins HTTPS endpoint require a
client certificate, at whatever layer, and does it accept the one the agent presents?

The agent's identity is ``--client-cert``/``--client-key`` when given, else its JVM's
``-Djavax.net.ssl.keyStore`` (jnlpdiag.tls.keystore). Two requests are made, each a handshake
followed by ``GET <Jenkins path>``: one without a certificate and one with the certificate the
agent's JVM would choose for the CA names the server lists. A refusal is read at every layer
(jnlpdiag.tls.clientauth): a handshake alert, a TLS 1.3 alert after the handshake, a front's HTTP
page (nginx 400 "No required SSL certificate was sent", Apache 403, a proxy's own page). "Asks but
does not require" needs proof: a normal Jenkins answer to the request without a certificate.
The certificate is also judged as the server will judge it (issuer among the CA names, validity,
clientAuth, digitalSignature), and its facts are reported.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from jnlpdiag.findings import Finding, Fix, Layer, Status
from jnlpdiag.fixcatalog import fixes
from jnlpdiag.probe_api import Context, Facts, Probe
from jnlpdiag.tls import certs
from jnlpdiag.tls.agentssl import keystore_bypassed
from jnlpdiag.tls.clientauth import Answer, Problem, classify, judge
from jnlpdiag.tls.endpoint import Endpoint
from jnlpdiag.tls.handshake import ALL_CIPHERS, ClientIdentity, Result, Spec, handshake
from jnlpdiag.tls.keystore import AgentIdentity, KeyEntry

from ._tls import Target, each_endpoint, versions_cause
from .discovery import DiscoveryProbe


@lru_cache(maxsize=1)
def _show_templates() -> dict[str, str]:
    data = json.loads(resources.files("jnlpdiag").joinpath("data/client-auth-answers.json").read_text("utf-8"))
    return dict(data["show_certificate"])


@dataclass
class TlsClientAuthFacts(Facts):
    """Whether the first endpoint asks for a client certificate; every endpoint's by URL."""

    requested: bool | None = None
    required: bool | None = None
    ca_names: list[str] | None = None
    accepted: bool | None = None  # the agent's certificate (None: none presented)
    presented: dict[str, Any] | None = None  # that certificate's facts
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)


class TlsClientAuthProbe(Probe[TlsClientAuthFacts]):
    id = "tls.client_auth"
    layer = Layer.PROTOCOL
    description = "Two-way TLS: does the server require a client certificate, and accept the agent's?"
    after = ("discovery", "tls.versions")
    # The agent's JVM is the judge of the session (tls.java): when it refuses, that is the root cause.
    rests_on = ("url-answers", "tls-session-acceptable")

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        agent: dict[str, Any] = {}

        async def prepare() -> None:
            agent["ident"] = ident = await asyncio.to_thread(ctx.agent.client_identity)  # reads key stores
            agent["bypassed"] = keystore_bypassed(ctx.settings, ident)

        def unreachable(fid: str, index: int, endpoint: Endpoint, why: str) -> Finding:
            # Only a failing tls.versions explains this one (a passing cause would hide a failure).
            cause = versions_cause(ctx, index, endpoint, failing_only=True)
            return ctx.finding(fid, Status.SKIP, f"Skipped: {why}", evidence={"endpoint": endpoint.url}, caused_by=cause)

        async def check(fid: str, index: int, target: Target) -> tuple[Finding, dict[str, Any]]:
            cause = versions_cause(ctx, index, target.endpoint, failing_only=True)
            one = _Check(ctx, fid, target, agent["ident"], agent["bypassed"], cause)
            await one.shake()
            finding = one.finding()
            return finding, one.facts

        async for finding in each_endpoint(ctx, self.id, check, unreachable, prepare):
            yield finding


class _Check:
    """One endpoint: the two requests, and the verdict."""

    def __init__(
        self, ctx: Context, fid: str, target: Target, ident: AgentIdentity | None, bypassed: str | None, cause: str | None
    ) -> None:
        self.ctx, self.fid, self.target, self.ident, self.bypassed, self.cause = ctx, fid, target, ident, bypassed, cause
        self.bare: Result | None = None
        self.with_cert: Result | None = None
        self.entry: KeyEntry | None = None
        self.facts: dict[str, Any] = {}

    def _spec(self, identity: ClientIdentity | None = None) -> Spec:
        ep = self.target.endpoint
        path = urlsplit(ep.url).path or "/"
        host_header = ep.host if ep.port == 443 else ep.hostport
        return Spec(ciphers=ALL_CIPHERS, sni=ep.sni, http_host=host_header, http_path=path, identity=identity)

    async def shake(self) -> None:
        deadline = time.monotonic() + self.ctx.step_timeout()
        self.bare = await asyncio.to_thread(handshake, self.target.dest, self._spec(), deadline)
        ident = self.ident
        if ident is None or ident.error or self.bypassed:
            return
        # The JVM picks its certificate by the CA names of the CertificateRequest (SunX509).
        self.entry = ident.choose(self.bare.client_ca_names)
        if self.entry is None:
            return
        chosen = ClientIdentity(chain=self.entry.chain, key=self.entry.key, source=ident.label)
        self.with_cert = await asyncio.to_thread(handshake, self.target.dest, self._spec(chosen), deadline)

    # -- verdict -----------------------------------------------------------------------------------

    def finding(self) -> Finding:
        assert self.bare is not None
        ep, ident, bare = self.target.endpoint, self.ident, self.bare
        without = classify(bare, sent_certificate=False)
        with_answer = classify(self.with_cert, sent_certificate=True) if self.with_cert else None
        ca_names = bare.client_ca_names
        shown = self.entry or (ident.choose() if ident and not ident.error else None)
        problems = judge(shown, ca_names) if shown else []
        requested = bare.cert_requested or (without.kind == "refused")
        required: bool | None
        if without.kind == "refused":
            required = True
        elif without.kind in ("jenkins", "answered"):
            required = False
        else:
            required = None
        accepted = None if with_answer is None else with_answer.kind != "refused"
        values = self._values(ca_names, shown, problems, with_answer or without)
        evidence: dict[str, Any] = {
            "endpoint": ep.url,
            "requested": requested,
            "required": required,
            "ca_names": ca_names,
            "version_tested": bare.version,
            "without_certificate": without.to_dict(),
            "with_certificate": with_answer.to_dict() if with_answer else None,
            "client_identity": ident.facts() if ident else None,
            "presented": certs_facts(self.entry),
            "problems": [p.message for p in problems],
        }
        if self.bypassed:
            evidence["keystore_not_presented"] = self.bypassed
        self.facts = {
            "requested": requested,
            "required": required,
            "ca_names": ca_names,
            "accepted": accepted,
            "presented": evidence["presented"],
        }
        verdict = self._verdict(without, with_answer, required, requested, accepted, problems, evidence, values)
        seen = self.ctx.facts(DiscoveryProbe).client_cert_refusal
        if seen and verdict.status is not Status.FAIL:
            # discovery.jenkins names this probe as its cause: never leave that failure without one.
            evidence["discovery_refusal"] = seen
            return self._f(
                Status.FAIL,
                f"{ep.hostport} refused the agent's discovery request for its client certificate: {seen}",
                detail=f"Here, without a certificate: {without.reason}"
                + (f"; with the agent's: {with_answer.reason}" if with_answer else "")
                + ". The answers differ between requests: look at the front's configuration per location.",
                evidence=evidence,
                fixes=fixes("tls", "client_auth_required", **values),
            )
        return verdict

    def _verdict(
        self,
        without: Answer,
        with_answer: Answer | None,
        required: bool | None,
        requested: bool,
        accepted: bool | None,
        problems: list[Problem],
        evidence: dict[str, Any],
        values: dict[str, Any],
    ) -> Finding:
        """Findings, most specific first."""
        ep, ident, bare = self.target.endpoint, self.ident, self.bare
        assert bare is not None
        if ident is not None and ident.error:
            what = "client certificate" if ident.source == "--client-cert" else "key store"
            key = "client_cert_unreadable" if ident.source == "--client-cert" else "keystore_unreadable"
            return self._f(
                Status.FAIL,
                f"The agent's {what} cannot be opened: {ident.error}",
                detail=(
                    f"{ident.label}: {ident.error}. The JVM fails to build its default SSL context, so "
                    "every HTTPS connection of the agent fails, whatever the server asks for."
                    if ident.source != "--client-cert"
                    else f"{ident.label}: {ident.error}. The tool's requests go out without a certificate."
                ),
                evidence=evidence,
                fixes=fixes("tls", key, **values),
            )
        if without.kind == "failed":
            return self._f(
                Status.SKIP,
                f"Skipped: no TLS handshake with {ep.hostport} completed",
                detail=f"Handshake error: {bare.error}.",
                evidence=evidence,
            )
        if required:
            return self._required(without, with_answer, problems, evidence, values)
        if with_answer is not None and with_answer.kind == "refused":
            # Optional, but a certificate that is sent is checked (nginx: 400 "The SSL certificate error").
            return self._f(
                Status.FAIL,
                f"{ep.hostport} refuses the agent's client certificate: {with_answer.reason}",
                detail=self._problem_text(problems)
                + " Without a certificate the server answers normally; with this one it refuses.",
                evidence=evidence,
                fixes=self._cert_fixes(problems, values, "client_cert_refused"),
            )
        if required is False:
            if requested:
                tail = f"; the agent's certificate is accepted ({_subject(self.entry)})" if accepted else ""
                return self._f(
                    Status.PASS,
                    f"{ep.hostport} asks for a client certificate but does not require one{tail}",
                    detail=f"Without a certificate: {without.reason}. Accepted issuers: {values['ca_names']}.",
                    evidence=evidence,
                )
            return self._f(Status.PASS, f"{ep.hostport} does not ask for a client certificate", evidence=evidence)
        # No proof either way: an answer that is not Jenkins', and no refusal we can name.
        if accepted:
            return self._f(
                Status.PASS,
                f"{ep.hostport} accepts the agent's client certificate ({_subject(self.entry)})",
                detail=f"With it: {with_answer.reason if with_answer else ''}. Without a certificate: {without.reason}.",
                evidence=evidence,
            )
        return self._f(
            Status.WARN,
            f"Not proven whether {ep.hostport} requires a client certificate: {without.reason}",
            detail="A request without a certificate got an answer that is not Jenkins' and names no reason. "
            "Compare with the agent's certificate: jnlpdiag check --client-cert agent.pem --client-key agent.key.",
            evidence=evidence,
            fixes=fixes("tls", *(["client_cert_show"] if values.get("show_cert") else []), "client_auth_unproven", **values),
        )

    def _required(
        self,
        without: Answer,
        with_answer: Answer | None,
        problems: list[Problem],
        evidence: dict[str, Any],
        values: dict[str, Any],
    ) -> Finding:
        ep, ident = self.target.endpoint, self.ident
        how = f"Without a certificate: {without.reason}."
        if with_answer is not None and with_answer.kind != "refused":
            return self._f(
                Status.PASS,
                f"{ep.hostport} requires a client certificate; the agent's is accepted ({_subject(self.entry)})",
                detail=f"{how} With {self.ident.label if self.ident else 'it'}: {with_answer.reason}.",
                evidence=evidence,
            )
        if "post_handshake" in (without.refusal, with_answer.refusal if with_answer else None):
            # Apache's per-location SSLVerifyClient under TLS 1.3: the certificate is never asked for,
            # since SunJSSE does not offer post-handshake auth; agent.jar gets the same 403 with any key store.
            answer = with_answer if with_answer is not None else without
            has = "its certificate is never asked for" if with_answer is not None else "the agent has none either"
            return self._f(
                Status.FAIL,
                f"{ep.hostport} requires a client certificate only after the TLS 1.3 handshake, which the "
                f"agent's JVM cannot give ({has}): {answer.reason}",
                detail=f"{how} The front asks for the certificate by post-handshake authentication (RFC 8446 "
                "4.6.2); the JDK's TLS client never offers it, so agent.jar gets this answer whatever key store "
                "it has. Asked for in the handshake, the same certificate would do.",
                evidence=evidence,
                fixes=fixes("tls", "client_cert_post_handshake", **values),
            )
        if with_answer is not None:
            return self._f(
                Status.FAIL,
                f"{ep.hostport} refuses the agent's client certificate: {with_answer.reason}",
                detail=f"{how} {self._problem_text(problems)}",
                evidence=evidence,
                fixes=self._cert_fixes(problems, values, "client_cert_refused"),
            )
        if self.bypassed:
            return self._f(
                Status.FAIL,
                f"{ep.hostport} requires a client certificate, and the agent presents none: {self.bypassed}",
                detail=f"{how} The key store {ident.path if ident else ''} is configured, but not used for HTTPS.",
                evidence=evidence,
                fixes=fixes("tls", "keystore_bypassed", **values),
            )
        if ident is not None and ident.entries:
            # The JVM found no entry issued by a CA the server names: it sends no certificate.
            why = problems[0].message if problems else "no key entry fits"
            return self._f(
                Status.FAIL,
                f"{ep.hostport} requires a client certificate, and the agent's JVM sends none: {why}",
                detail=f"{how} {self._problem_text(problems)}",
                evidence=evidence,
                fixes=self._cert_fixes(problems, values, "client_cert_other_ca"),
            )
        have = (
            f" ({ident.label} holds no key entry)" if ident is not None else " (no -Djavax.net.ssl.keyStore, no --client-cert)"
        )
        return self._f(
            Status.FAIL,
            f"{ep.hostport} requires a client certificate, and the agent has none{have}",
            detail=f"{how} Accepted issuers: {values['ca_names']}. "
            "The agent's JVM presents one only from -Djavax.net.ssl.keyStore.",
            evidence=evidence,
            fixes=fixes("tls", "client_auth_required", "client_auth_optional", **values),
        )

    # -- helpers -----------------------------------------------------------------------------------

    def _f(self, status: Status, title: str, **kw: Any) -> Finding:
        # A refused (or unopenable) client identity: no HTTPS session of the agent's is accepted,
        # so what fails on that premise (discovery, the JNLP file, WebSocket) folds under this.
        breaks = ("tls-session-acceptable",) if status is Status.FAIL else ()
        return self.ctx.finding(self.fid, status, title, caused_by=self.cause, breaks=breaks, **kw)

    def _problem_text(self, problems: list[Problem]) -> str:
        if not problems:
            return (
                "The certificate itself looks right (issuer, validity, clientAuth, digitalSignature): "
                "the server's log says why."
            )
        return "The agent's certificate: " + "; ".join(p.message for p in problems) + "."

    def _cert_fixes(self, problems: list[Problem], values: dict[str, Any], fallback: str) -> list[Fix]:
        codes = {p.code for p in problems}
        keys: list[str] = ["client_cert_show"] if values.get("show_cert") else []
        if "other_ca" in codes:
            keys.append("client_cert_other_ca")
        if codes & {"expired", "not_yet_valid", "eku", "key_usage"}:
            keys.append("client_cert_reissue")
            if values.get("store_type") == "JKS":
                keys.append("client_cert_to_jks")
        if not codes:
            keys.append(fallback)
        return fixes("tls", *keys, **values)

    def _values(
        self, ca_names: list[str], entry: KeyEntry | None, problems: list[Problem], answer: Answer
    ) -> dict[str, Any]:
        ep, ident, s = self.target.endpoint, self.ident, self.ctx.settings
        values: dict[str, Any] = {
            "url": ep.url,
            "host": ep.host,
            "port": ep.port,
            "hostport": ep.hostport,
            "ca_names": "; ".join(ca_names) or "any CA",
            "client_cert": s.client_cert or "<client.pem>",
            "client_key": s.client_key or s.client_cert or "<client.key>",
            "reason": answer.reason,
            "problems": "; ".join(p.message for p in problems) or "see the server's log",
            "path": ident.path if ident else "<keystore>",
            "store_type": (ident.file_format or ident.declared_type or "PKCS12") if ident else "PKCS12",
            "store_out": "agent-client.p12",
        }
        if entry is not None and ident is not None:
            leaf = entry.chain[0]
            values["subject"] = certs.name_str(leaf.subject)
            values["issuer"] = certs.name_str(leaf.issuer)
            values["subject_slash"] = "/" + "/".join(
                f"{a.rfc4514_attribute_name}={a.value!s}" for a in leaf.subject
            )
            template = _show_templates().get(ident.file_format or "PEM")
            if template:
                values["show_cert"] = template.format(path=ident.path, alias=entry.alias)
        return values


def certs_facts(entry: KeyEntry | None) -> dict[str, Any] | None:
    from jnlpdiag.tls.keystore import certificate_facts

    return certificate_facts(entry.chain[0]) if entry else None


def _subject(entry: KeyEntry | None) -> str:
    return certs.name_str(entry.chain[0].subject) if entry else "?"
