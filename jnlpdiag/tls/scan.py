"""What a TLS server accepts: protocol versions, cipher suites per version, ALPN, SNI behaviour.

Cipher suites are found the way sslyze splits its work into one-connection jobs, but without one
handshake per candidate: offer every suite this OpenSSL has, note the one the server picks, take
it out of the offer, and repeat until the server refuses. That costs one handshake per *accepted*
suite (plus one), not one per known suite, and the four versions run in parallel threads.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from OpenSSL import SSL

from jnlpdiag.tls.ciphers import iana
from jnlpdiag.tls.endpoint import Endpoint
from jnlpdiag.tls.handshake import ALL_CIPHERS, ALL_TLS13, VERSIONS, Dest, Result, Spec, handshake

MAX_SUITES_PER_VERSION = 64  # a bound on the elimination loop, far above any real server
PARTS = 2  # parallel eliminations per TLS <= 1.2 version
_NOT_TLS = ("wrong version number", "packet length too long", "record layer failure", "http request")
_NETWORK = ("refused", "unreachable", "dns", "timeout", "proxy")


@lru_cache(maxsize=1)
def client_suites_tls12() -> tuple[str, ...]:
    """Every TLS <= 1.2 suite this OpenSSL offers under ALL_CIPHERS, OpenSSL names, in its order."""
    ctx = SSL.Context(SSL.TLS_METHOD)
    ctx.set_cipher_list(ALL_CIPHERS.encode())
    names = SSL.Connection(ctx, None).get_cipher_list()
    return tuple(n for n in names if not n.startswith("TLS_"))


@dataclass
class VersionResult:
    version: str
    accepted: bool | None  # None: no answer either way (network trouble)
    ciphers: list[str] = field(default_factory=list)  # OpenSSL names, in the order found
    error: str | None = None
    error_kind: str | None = None
    chain: list[bytes] = field(default_factory=list)
    complete: bool = True  # False when the deadline cut the enumeration short

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "ciphers": [iana(c) for c in self.ciphers],
            "error": self.error,
            "complete": self.complete,
        }


@dataclass
class Scan:
    endpoint: Endpoint
    dest: Dest
    versions: dict[str, VersionResult] = field(default_factory=dict)
    default: Result | None = None
    nosni: Result | None = None
    error: str | None = None  # the endpoint could not be scanned at all (DNS, refused, ...)
    error_kind: str | None = None
    elapsed_ms: float = 0.0

    @property
    def accepted_versions(self) -> list[str]:
        return [v for v in VERSIONS if self.versions.get(v) and self.versions[v].accepted]

    @property
    def reachable(self) -> bool:
        return self.error is None and any(r.accepted is not None for r in self.versions.values())

    @property
    def not_tls(self) -> bool:
        """Every version failed in a way that means the peer does not speak TLS at all."""
        results = list(self.versions.values())
        return (
            bool(results)
            and not self.accepted_versions
            and all(r.error and any(s in r.error.lower() for s in _NOT_TLS) for r in results)
        )

    @property
    def chain(self) -> list[bytes]:
        """The chain as sent with SNI (as curl and browsers see it)."""
        if self.default and self.default.ok and self.default.chain:
            return self.default.chain
        for version in reversed(VERSIONS):
            vr = self.versions.get(version)
            if vr and vr.chain:
                return vr.chain
        return []

    @property
    def chain_without_sni(self) -> list[bytes] | None:
        if self.endpoint.sni is None:
            return self.chain
        if self.nosni and self.nosni.ok:
            return self.nosni.chain
        return None

    def chain_for_java(self) -> list[bytes]:
        """The chain the JVM will get: SunJSSE sends no SNI for a dotless name (``localhost``)."""
        if self.endpoint.java_sni is None and self.endpoint.sni is not None:
            no_sni = self.chain_without_sni
            if no_sni:
                return no_sni
        return self.chain

    def suites(self, version: str) -> list[str]:
        """IANA names of the suites the server accepted with ``version``."""
        vr = self.versions.get(version)
        return [iana(c) for c in vr.ciphers] if vr and vr.accepted else []

    def sni_evidence(self) -> dict[str, Any]:
        if self.endpoint.sni is None:
            return {"sent": None, "without_sni": "not applicable: the host is an IP address"}
        with_sni = _fingerprint(self.chain)
        if self.nosni is None:
            outcome = "not tested"
        elif not self.nosni.ok:
            outcome = f"handshake failed: {self.nosni.error}"
        else:
            outcome = "same certificate" if _fingerprint(self.nosni.chain) == with_sni else "different certificate"
        return {"sent": self.endpoint.sni, "without_sni": outcome, "java_sends_sni": self.endpoint.java_sni is not None}

    def to_facts(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint.url,
            "accepted_versions": self.accepted_versions,
            "suites": {v: self.suites(v) for v in self.accepted_versions},
            "chain": self.chain,
            "chain_for_java": self.chain_for_java(),
            "reachable": self.reachable,
        }


def _fingerprint(chain: list[bytes]) -> str | None:
    return hashlib.sha256(chain[0]).hexdigest() if chain else None


def _chosen(result: Result, version: str) -> bool:
    """The server accepted ``version`` and chose a suite, even if the handshake failed later
    (a TLS 1.2 server that requires a client certificate aborts after its ServerHello)."""
    if result.ok:
        return True
    return result.server_hello and result.version == version and bool(result.cipher)


def _spec(version: str, sni: str | None, offer: list[str]) -> Spec:
    if version == "TLSv1.3":
        return Spec(min_version=version, max_version=version, ciphers=ALL_CIPHERS, tls13_suites=tuple(offer), sni=sni)
    return Spec(min_version=version, max_version=version, ciphers=":".join(offer) + ":@SECLEVEL=0", sni=sni)


def _candidates(version: str) -> list[str]:
    return list(ALL_TLS13) if version == "TLSv1.3" else list(client_suites_tls12())


def _first(dest: Dest, version: str, sni: str | None, deadline: float) -> VersionResult:
    """Is ``version`` accepted at all? One handshake offering every suite."""
    first = handshake(dest, _spec(version, sni, _candidates(version)), deadline)
    if not _chosen(first, version):
        accepted = None if first.error_kind in _NETWORK else False
        return VersionResult(version, accepted, error=first.error, error_kind=first.error_kind)
    return VersionResult(version, True, ciphers=[first.cipher] if first.cipher else [], chain=first.chain)


def _eliminate(dest: Dest, version: str, sni: str | None, offer: list[str], deadline: float) -> tuple[list[str], bool]:
    """Suites the server accepts among ``offer``: offer, note its pick, drop it, repeat.
    Returns (found, complete)."""
    remaining = list(offer)
    found: list[str] = []
    while remaining and len(found) < MAX_SUITES_PER_VERSION:
        if time.monotonic() >= deadline:
            return found, False
        result = handshake(dest, _spec(version, sni, remaining), deadline)
        if not _chosen(result, version) or not result.cipher:
            return found, result.error_kind != "timeout"
        if result.cipher not in remaining:
            return found, True  # the server chose something we did not offer; stop rather than loop
        found.append(result.cipher)
        remaining.remove(result.cipher)
    return found, True


async def _enumerate(out: Scan, dest: Dest, sni: str | None, deadline: float) -> None:
    """The remaining suites of every accepted version, each candidate list split in interleaved
    parts eliminated in parallel, so one long list does not serialize the whole scan."""
    parts: list[tuple[VersionResult, list[str]]] = []
    for vr in out.versions.values():
        if not vr.accepted:
            continue
        rest = [c for c in _candidates(vr.version) if c not in vr.ciphers]
        n = 1 if vr.version == "TLSv1.3" else PARTS
        parts += [(vr, rest[i::n]) for i in range(n) if rest[i::n]]
    found = await asyncio.gather(*(asyncio.to_thread(_eliminate, dest, vr.version, sni, offer, deadline) for vr, offer in parts))
    for (vr, _offer), (suites, complete) in zip(parts, found):
        vr.ciphers += suites
        vr.complete = vr.complete and complete


async def scan(
    endpoint: Endpoint,
    dest: Dest,
    deadline: float,
    *,
    enumerate_suites: bool = True,
    versions: tuple[str, ...] = VERSIONS,
) -> Scan:
    """All versions (with their suites), the default handshake (ALPN) and the no-SNI handshake, in parallel."""
    t0 = time.monotonic()
    out = Scan(endpoint, dest)
    sni = endpoint.sni
    jobs: list[Any] = [asyncio.to_thread(_first, dest, v, sni, deadline) for v in versions]
    jobs.append(asyncio.to_thread(handshake, dest, Spec(sni=sni, alpn=("h2", "http/1.1")), deadline))
    if sni is not None:
        jobs.append(asyncio.to_thread(handshake, dest, Spec(ciphers=ALL_CIPHERS, sni=None), deadline))
    results = await asyncio.gather(*jobs)
    for vr in results[: len(versions)]:
        out.versions[vr.version] = vr
    out.default = results[len(versions)]
    if enumerate_suites:
        await _enumerate(out, dest, sni, deadline)
    if sni is not None:
        out.nosni = results[len(versions) + 1]
    if not out.reachable:
        first = next(iter(out.versions.values()), None)
        out.error = first.error if first else "not scanned"
        out.error_kind = first.error_kind if first else "error"
    out.elapsed_ms = (time.monotonic() - t0) * 1000
    return out
