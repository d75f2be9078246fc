"""tls.versions: which TLS versions and cipher suites the Jenkins HTTPS endpoint accepts.

One handshake per version (TLS 1.0, 1.1, 1.2, 1.3), in parallel, with this probe's own OpenSSL
context lowered to security level 0 so that old versions can be tried at all; then the suites of
each accepted version (jnlpdiag.tls.scan), the default handshake (negotiated version, cipher and
ALPN) and a handshake without SNI (does the certificate change?). The connections follow the
agent's proxy route for its Jenkins URL (jnlpdiag.proxyroute).

The agent's JVM (Java 8u292+, 11.0.11+, 16+) refuses TLS 1.0 and 1.1, so a server that offers
nothing newer fails here; whether the agent's particular JVM agrees is tls.java's verdict.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from jnlpdiag.findings import Finding, Layer, Status
from jnlpdiag.fixcatalog import fixes
from jnlpdiag.probe_api import Context, Facts, Probe
from jnlpdiag.tls.ciphers import iana
from jnlpdiag.tls.endpoint import Endpoint
from jnlpdiag.tls.scan import Scan, scan

from ._tls import Target, each_endpoint

_MODERN = ("TLSv1.2", "TLSv1.3")


@dataclass
class TlsVersionsFacts(Facts):
    """The first endpoint's scan (its fields), and every endpoint's by URL (``endpoints``)."""

    endpoint: str | None = None
    accepted_versions: list[str] = field(default_factory=list)
    suites: dict[str, list[str]] = field(default_factory=dict)
    chain: list[bytes] = field(default_factory=list)
    chain_for_java: list[bytes] = field(default_factory=list)
    reachable: bool | None = None
    negotiated: dict[str, Any] | None = None
    sni: dict[str, Any] | None = None
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)


class TlsVersionsProbe(Probe[TlsVersionsFacts]):
    id = "tls.versions"
    layer = Layer.PROTOCOL
    description = "TLS versions, cipher suites, ALPN and SNI of the Jenkins HTTPS endpoint"
    after = ("discovery",)
    # The agent's JVM is the judge of the session (tls.java): when it refuses, that is the root cause.
    rests_on = ("url-answers", "tls-session-acceptable")

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        def unreachable(fid: str, index: int, endpoint: Endpoint, why: str) -> Finding:
            return ctx.finding(
                fid,
                Status.FAIL,
                f"Cannot reach {endpoint.hostport}: {why}",
                evidence={"endpoint": endpoint.url, "error": why, "accepted_versions": []},
                fixes=fixes("tls", "unreachable", **_values(endpoint)),
            )

        async def check(fid: str, index: int, target: Target) -> tuple[Finding, dict[str, Any]]:
            result = await scan(target.endpoint, target.dest, time.monotonic() + ctx.step_timeout())
            facts = result.to_facts()
            facts["negotiated"] = _negotiated(result)
            facts["sni"] = result.sni_evidence()
            return self._finding(ctx, fid, result, target.route, _values(target.endpoint)), facts

        async for finding in each_endpoint(ctx, self.id, check, unreachable):
            yield finding

    def _finding(self, ctx: Context, fid: str, result: Scan, route: str, values: dict[str, Any]) -> Finding:
        ep = result.endpoint
        accepted = result.accepted_versions
        evidence: dict[str, Any] = {
            "endpoint": ep.url,
            "route": route,
            "accepted_versions": accepted,
            "negotiated": _negotiated(result),
            "alpn": _alpn(result),
            "ciphers": {v: result.suites(v) for v in accepted},
            "versions": {v: r.to_dict() for v, r in result.versions.items()},
            "sni": result.sni_evidence(),
            "scan_ms": round(result.elapsed_ms, 1),
        }
        if not result.reachable:
            evidence["error"] = result.error
            return ctx.finding(
                fid,
                Status.FAIL,
                f"No TLS handshake with {ep.hostport}: {result.error}",
                detail=f"Every handshake failed before TLS started ({result.error_kind}).",
                evidence=evidence,
                fixes=fixes("tls", "unreachable", **values),
            )
        if result.not_tls:
            first = next(iter(result.versions.values()))
            return ctx.finding(
                fid,
                Status.FAIL,
                f"{ep.hostport} does not speak TLS",
                detail=f"OpenSSL read something that is not a TLS record ({first.error}); the port may serve plain HTTP.",
                evidence=evidence,
                fixes=fixes("tls", "not_tls", **values),
            )
        if not accepted:
            reasons = "; ".join(f"{v}: {r.error}" for v, r in result.versions.items() if r.error)
            return ctx.finding(
                fid,
                Status.FAIL,
                f"{ep.hostport} refused every TLS version",
                detail=f"Handshake errors: {reasons}.",
                evidence=evidence,
                fixes=fixes("tls", "no_version", **values),
            )
        legacy = [v for v in accepted if v not in _MODERN]
        if not any(v in _MODERN for v in accepted):
            return ctx.finding(
                fid,
                Status.FAIL,
                f"{ep.hostport} accepts only {', '.join(accepted)}, which current Java disables",
                detail="Java 8u292+, 11.0.11+ and 16+ list TLSv1 and TLSv1.1 in jdk.tls.disabledAlgorithms; the "
                "agent's HTTPS connection to Jenkins fails with 'No appropriate protocol' or a "
                "protocol_version alert.",
                evidence=evidence,
                fixes=fixes(
                    "tls",
                    "legacy_only",
                    "legacy_only_jvm",
                    versions=", ".join(accepted),
                    versions_csv=",".join(accepted),
                    **values,
                ),
            )
        incomplete = [v for v, r in result.versions.items() if r.accepted and not r.complete]
        detail = f"Accepted: {', '.join(accepted)}."
        if legacy:
            detail += f" {', '.join(legacy)} also accepted (current JVMs do not use them)."
        if incomplete:
            detail += f" The suite list of {', '.join(incomplete)} is incomplete (time ran out)."
        neg = evidence["negotiated"]
        if neg.get("version"):
            detail += f" A default client negotiates {neg['version']} with {neg['cipher']}."
        return ctx.finding(fid, Status.PASS, f"{ep.hostport} accepts {', '.join(accepted)}", detail=detail, evidence=evidence)


def _values(endpoint: Endpoint) -> dict[str, Any]:
    return {"url": endpoint.url, "host": endpoint.host, "port": endpoint.port, "hostport": endpoint.hostport}


def _negotiated(result: Scan) -> dict[str, Any]:
    d = result.default
    if d is None or not (d.ok or d.server_hello):
        return {"version": None, "cipher": None, "error": d.error if d else "not tried"}
    out: dict[str, Any] = {"version": d.version, "cipher": iana(d.cipher) if d.cipher else None}
    if not d.ok:
        out["error"] = f"chosen, then the handshake failed: {d.error}"
    return out


def _alpn(result: Scan) -> dict[str, Any]:
    d = result.default
    return {"offered": ["h2", "http/1.1"], "selected": d.alpn if d is not None and d.ok else None}
