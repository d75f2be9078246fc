"""tls.certificate: is the Jenkins HTTPS certificate chain one an agent can accept?

The chain exactly as the server sends it (taken from tls.versions when it ran, else one handshake
of our own) is checked for: trust against this host's CA store (what curl says: ``verified``),
against ``--ca-file``, and against the agent JVM's trust store (path building as the JVM does it,
jnlpdiag.tls.predict); a host-name match (DNS and IP SANs); the validity window and days left,
also by the server's clock (its ``Date`` header), so that a skewed clock that flips the verdict is
named; key type and size and signature algorithm; an incomplete chain (the missing intermediate
is named) and a self-signed certificate.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from jnlpdiag.findings import Finding, Fix, Layer, Status, worst
from jnlpdiag.fixcatalog import fixes
from jnlpdiag.probe_api import Context, Probe
from jnlpdiag.tls import certs
from jnlpdiag.tls.endpoint import Endpoint
from jnlpdiag.tls.handshake import ALL_CIPHERS, Spec, handshake
from jnlpdiag.tls.predict import build_path

from ._tls import Target, each_endpoint, server_date, versions_cause
from .tls_versions import TlsVersionsProbe

EXPIRY_WARN_DAYS = 30
_WEAK_BITS = {"RSA": 2048, "DSA": 2048, "EC": 224}


@dataclass
class Problem:
    status: Status
    code: str
    message: str
    fixes: list[Fix] = field(default_factory=list)


class TlsCertificateProbe(Probe):
    id = "tls.certificate"
    layer = Layer.PROTOCOL
    description = "HTTPS certificate chain: trust (system, --ca-file, the agent JVM), host name, validity, key"
    after = ("discovery", "tls.versions")
    # The agent's JVM is the judge of the session (tls.java): when it refuses, that is the root cause.
    rests_on = ("url-answers", "tls-session-acceptable")

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        def unreachable(fid: str, index: int, endpoint: Endpoint, why: str) -> Finding:
            cause = versions_cause(ctx, index, endpoint)
            return ctx.finding(fid, Status.SKIP, f"Skipped: {why}", evidence={"endpoint": endpoint.url}, caused_by=cause)

        async def check(fid: str, index: int, target: Target) -> tuple[Finding, None]:
            endpoint = target.endpoint
            chain_der, java_der, error = await self._chains(ctx, target)
            if not chain_der:
                return ctx.finding(
                    fid,
                    Status.SKIP,
                    f"Skipped: no certificate from {endpoint.hostport}",
                    detail=f"No TLS handshake completed ({error}).",
                    evidence={"endpoint": endpoint.url, "error": error},
                    caused_by=versions_cause(ctx, index, endpoint),
                ), None
            date, date_source = await server_date(ctx, target)
            return await asyncio.to_thread(self._assess, ctx, fid, endpoint, chain_der, java_der, date, date_source), None

        async for finding in each_endpoint(ctx, self.id, check, unreachable):
            yield finding

    async def _chains(self, ctx: Context, target: Target) -> tuple[list[bytes], list[bytes], str | None]:
        facts = ctx.facts(TlsVersionsProbe).endpoints.get(target.endpoint.url)
        if facts and facts.get("chain"):
            return list(facts["chain"]), list(facts.get("chain_for_java") or facts["chain"]), None
        deadline = time.monotonic() + ctx.step_timeout()
        result = await asyncio.to_thread(handshake, target.dest, Spec(ciphers=ALL_CIPHERS, sni=target.endpoint.sni), deadline)
        if not result.ok:
            return [], [], result.error
        java = result.chain
        if target.endpoint.java_sni is None and target.endpoint.sni is not None:
            nosni = await asyncio.to_thread(handshake, target.dest, Spec(ciphers=ALL_CIPHERS), deadline)
            java = nosni.chain if nosni.ok else result.chain
        return result.chain, java, None

    def _assess(
        self,
        ctx: Context,
        fid: str,
        ep: Endpoint,
        chain_der: list[bytes],
        java_der: list[bytes],
        server_now: dt.datetime | None,
        date_source: str,
    ) -> Finding:
        """One finding for the chain: its trust, host name, validity and keys, each checked apart."""
        chain = [certs.der_to_cert(d) for d in chain_der]
        leaf = chain[0]
        values = _fix_values(ep, leaf)
        problems: list[Problem] = []
        trust = _check_trust(ctx.settings.ca_file, chain, values, problems)
        java_verdict = self._java_trust(ctx, chain if not java_der else [certs.der_to_cert(d) for d in java_der])
        match, how = _check_host_name(leaf, ep, values, problems)
        validity = _check_validity(chain, server_now, values, problems)
        _check_keys(chain, values, problems)

        verdict = worst([p.status for p in problems]) if problems else Status.PASS
        evidence: dict[str, Any] = {
            "endpoint": ep.url,
            "verified": trust.system.ok,
            "verified_ca_file": trust.by_cafile.ok if trust.by_cafile else None,
            "verified_java": java_verdict.get("verified"),
            "java_trust_store": java_verdict.get("trust_store"),
            "hostname_match": match,
            "hostname_detail": how,
            "not_before": certs.not_before(leaf).isoformat(),
            "not_after": certs.not_after(leaf).isoformat(),
            "days_left": values["days_left"],  # the same whole days the title and fix say
            "self_signed": certs.self_signed(leaf),
            "incomplete_chain": bool(trust.judged.incomplete_chain) and not trust.trusted,
            "missing_issuer": None if trust.trusted else trust.judged.missing_issuer,
            "chain": [certs.describe(c) for c in chain],
            "verification": {
                "system": trust.system.to_dict(),
                "ca_file": trust.by_cafile.to_dict() if trust.by_cafile else None,
                "java": java_verdict,
            },
            "clock_skew_s": round(validity.skew, 1) if validity.skew is not None else None,
            "server_date_source": date_source,
            "problems": [p.code for p in problems],
        }
        if verdict is Status.PASS:
            system, by_cafile = trust.system, trust.by_cafile
            anchor = system.anchor if system.ok else (by_cafile.anchor if by_cafile else None)
            return ctx.finding(
                fid,
                Status.PASS,
                f"Certificate of {ep.host} is valid for {int(validity.days_left)} more days",
                detail=f"Trusted by {'the system CA store' if system.ok else '--ca-file'} (anchor {anchor}); {how}.",
                evidence=evidence,
            )
        shown = [p for p in problems if p.status is verdict]
        all_fixes: list[Fix] = []
        for p in problems:
            all_fixes += [f for f in p.fixes if f not in all_fixes]
        return ctx.finding(
            fid,
            verdict,
            shown[0].message,
            detail=" ".join(f"{p.message}." for p in problems),
            evidence=evidence,
            fixes=all_fixes,
        )

    def _java_trust(self, ctx: Context, chain: list[x509.Certificate]) -> dict[str, Any]:
        """Would the agent JVM's trust store anchor this chain? (no JVM is started)"""
        jvm = ctx.agent.jvm_tls()
        if jvm is None:
            return {"verified": None, "trust_store": None, "why": "no java found"}
        store = jvm.truststore
        if store is None or store.error:
            return {
                "verified": False if store else None,
                "trust_store": jvm.truststore_path,
                "why": store.error if store else "no trust store",
            }
        _, anchor = build_path(chain, store.anchors())
        return {
            "verified": anchor is not None,
            "trust_store": jvm.truststore_path,
            "anchor": certs.name_str(anchor.subject) if anchor is not None else None,
        }


def _fix_values(ep: Endpoint, leaf: x509.Certificate) -> dict[str, Any]:
    """What the fix texts name; the checks below add what they learn (missing, names, days_left)."""
    return {
        "url": ep.url,
        "host": ep.host,
        "port": ep.port,
        "hostport": ep.hostport,
        "not_after": certs.not_after(leaf).isoformat(),
        "not_before": certs.not_before(leaf).isoformat(),
        "fingerprint": certs.sha256_fp(leaf),
        "alias": f"jenkins-{ep.host}",
        "san_kind": "IP" if ep.is_ip else "DNS",
    }


@dataclass
class Trust:
    system: certs.Verification  # this host's store: curl's verdict
    by_cafile: certs.Verification | None  # --ca-file, when given and readable
    trusted: bool

    @property
    def judged(self) -> certs.Verification:
        """The verification the verdict quotes: --ca-file's when given, else the system's."""
        return self.by_cafile or self.system


def _check_trust(ca_file: str | None, chain: list[x509.Certificate], values: dict[str, Any],
                 problems: list[Problem]) -> Trust:
    """Trust by this host's CA store and by ``--ca-file`` (the agent JVM's store is judged apart)."""
    leaf = chain[0]
    cafile, capath = certs.system_store_paths()
    system_certs = certs.load_pem_file(cafile) if cafile else []
    system = certs.verify(chain, certs.make_store(cafile, capath), "the system CA store", system_certs)
    ca_certs: list[x509.Certificate] = []
    by_cafile = None
    if ca_file:
        try:
            ca_certs = certs.load_pem_file(ca_file)
            by_cafile = certs.verify(
                chain, certs.make_store(certs=ca_certs), f"--ca-file {ca_file}", ca_certs, explicit=True
            )
        except (OSError, ValueError) as exc:
            problems.append(
                Problem(
                    Status.FAIL,
                    "ca_file",
                    f"--ca-file {ca_file} is unreadable: {exc}",
                    fixes("tls", "cert_untrusted", missing="(the CA)", **values),
                )
            )
    trusted = system.ok or bool(by_cafile and by_cafile.ok)
    if not trusted:
        v = by_cafile or system
        values["missing"] = v.missing_issuer or certs.name_str(leaf.issuer)
        if v.self_signed_leaf:
            problems.append(
                Problem(
                    Status.FAIL,
                    "self_signed",
                    f"Self-signed certificate {certs.name_str(leaf.subject)}",
                    fixes(
                        "tls",
                        "cert_self_signed",
                        "cert_self_signed_trust",
                        truststore="<truststore>",
                        storepass="<password>",
                        **values,
                    ),
                )
            )
        elif v.incomplete_chain:
            problems.append(
                Problem(
                    Status.FAIL,
                    "incomplete_chain",
                    f"Incomplete chain: the server does not send the intermediate {v.missing_issuer}",
                    fixes("tls", "cert_incomplete_chain", **values),
                )
            )
        else:
            problems.append(
                Problem(Status.FAIL, "untrusted", f"Not trusted: {v.error}", fixes("tls", "cert_untrusted", **values))
            )
    return Trust(system, by_cafile, trusted)


def _check_host_name(leaf: x509.Certificate, ep: Endpoint, values: dict[str, Any],
                     problems: list[Problem]) -> tuple[bool, str]:
    """The host name, as curl and Python check it (SANs only)."""
    match, how = certs.hostname_match(leaf, ep.host)
    if not match:
        dns, ips = certs.sans(leaf)
        values["names"] = ", ".join(dns + ips) or "none"
        problems.append(
            Problem(
                Status.FAIL,
                "hostname",
                f"Certificate does not name {ep.host}: {how}",
                fixes("tls", "cert_hostname", "cert_hostname_url", **values),
            )
        )
    return match, how


@dataclass
class Validity:
    days_left: float
    skew: float | None  # the server's clock minus this host's, in seconds


def _check_validity(chain: list[x509.Certificate], server_now: dt.datetime | None, values: dict[str, Any],
                    problems: list[Problem]) -> Validity:
    """The validity window, by this host's clock and by the server's (its Date header)."""
    leaf = chain[0]
    now = dt.datetime.now(dt.timezone.utc)
    days_left = (certs.not_after(leaf) - now).total_seconds() / 86400
    values["days_left"] = int(days_left)
    local_ok = all(certs.not_before(c) <= now <= certs.not_after(c) for c in chain)
    skew = (server_now - now).total_seconds() if server_now else None
    values["skew"] = int(skew) if skew is not None else None
    for c in chain:
        if now > certs.not_after(c):
            problems.append(
                Problem(
                    Status.FAIL,
                    "expired",
                    f"Certificate {certs.name_str(c.subject)} expired {certs.not_after(c).isoformat()}",
                    fixes("tls", "cert_expired", **values),
                )
            )
        elif now < certs.not_before(c):
            problems.append(
                Problem(
                    Status.FAIL,
                    "not_yet_valid",
                    f"Certificate {certs.name_str(c.subject)} is not valid before {certs.not_before(c).isoformat()}",
                    fixes("tls", "cert_not_yet_valid", "clock_skew", **values),
                )
            )
    if server_now is not None:
        server_ok = all(certs.not_before(c) <= server_now <= certs.not_after(c) for c in chain)
        if server_ok != local_ok:
            whose = "this host's clock" if server_ok else "the server's clock"
            problems.append(
                Problem(
                    Status.WARN,
                    "clock_skew",
                    f"Clock skew of {int(skew or 0)} s flips the validity check: by {whose} the certificate is not valid",
                    fixes("tls", "clock_skew", **values),
                )
            )
    if 0 <= days_left < EXPIRY_WARN_DAYS and local_ok:
        problems.append(
            Problem(
                Status.WARN,
                "expiring",
                f"Certificate expires in {int(days_left)} days",
                fixes("tls", "cert_expiring", **values),
            )
        )
    return Validity(days_left, skew)


def _check_keys(chain: list[x509.Certificate], values: dict[str, Any], problems: list[Problem]) -> None:
    """Key size and signature strength of every certificate of the chain."""
    for c in chain:
        alg, bits, _ = certs.key_desc(c.public_key())
        sig = certs.java_sig_name(c)
        weak_key = bits is not None and alg in _WEAK_BITS and bits < _WEAK_BITS[alg]
        weak_sig = (sig.upper().startswith(("SHA1", "MD5", "MD2"))) and not certs.self_signed(c)
        if weak_key or weak_sig:
            what = f"{alg} {bits}-bit key" if weak_key else f"{sig} signature"
            problems.append(
                Problem(
                    Status.WARN,
                    "weak",
                    f"Weak {what} in {certs.name_str(c.subject)}",
                    fixes("tls", "cert_weak", **values),
                )
            )
