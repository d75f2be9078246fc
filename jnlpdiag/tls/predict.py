"""Predict what the agent's JVM will make of a server, from the scan and the JVM's configuration.

The checks run in the order of a SunJSSE client handshake through ``HttpsURLConnection`` (how the
agent reaches the Jenkins URL), and the first failure is the prediction, worded as the JVM words
it, so that it can be matched with the agent's log:

1. enabled protocols (configured minus ``jdk.tls.disabledAlgorithms``) -- none: ``No appropriate
   protocol``; no overlap with the server: ``Received fatal alert: protocol_version``;
2. cipher suites for the negotiated (highest common) version -- none in common: ``Received fatal
   alert: handshake_failure`` (where JDK 24+, and 17/21 updates that took JDK-8245545, meet a TLS_RSA-only server);
3. PKIX path building from the chain as sent (without SNI for a dotless host name) to the trust
   store's anchors, validity, ``jdk.certpath.disabledAlgorithms`` and key sizes (``X509TrustManagerImpl``
   / ``PKIXValidator``);
4. host name (``HostnameChecker`` TYPE_TLS);
0. the key store (``-Djavax.net.ssl.keyStore``): one the JVM cannot open makes its default
   ``SSLContext`` fail before any connection (``SSLContextImpl.DefaultManagersHolder``);
5. client certificate, when the server requires one -- TLS 1.3 reports it only after the handshake
   (``certificate_required``), which the JVM sees on its first read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from jnlpdiag.tls import certs
from jnlpdiag.tls.ciphers import java_to_iana
from jnlpdiag.tls.javasecurity import certpath_disabled, key_disabled
from jnlpdiag.tls.jvmtls import PROTOCOL_ORDER, JvmTls, is_jdk_ca


@dataclass
class ServerView:
    host: str
    accepted_versions: list[str]
    suites: dict[str, list[str]]  # IANA names per accepted version
    chain: list[x509.Certificate]  # as the JVM receives it
    client_auth_required: bool | None = None
    client_ca_names: list[str] = field(default_factory=list)
    identity_accepted: bool | None = None  # the JVM key store's certificate, tried by tls.client_auth


@dataclass
class Prediction:
    outcome: str  # ok, fail
    reason: str  # ok, protocol, no_protocol, cipher, tls_rsa, truststore, pkix, expired, not_yet_valid,
    #              certpath, hostname, client_cert, keystore
    message: str
    version: str | None = None
    suite: str | None = None
    anchor: str | None = None
    missing_issuer: str | None = None
    untrusted: x509.Certificate | None = None  # the certificate to import into the trust store
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def _fail(reason: str, message: str, **kw: Any) -> Prediction:
    return Prediction("fail", reason, message, **kw)


def _same_cert(a: x509.Certificate, b: x509.Certificate) -> bool:
    return a.subject == b.subject and certs.spki_sha256(a) == certs.spki_sha256(b)


def build_path(
    chain: list[x509.Certificate], anchors: list[x509.Certificate]
) -> tuple[list[x509.Certificate], x509.Certificate | None]:
    """(path from the leaf, anchor) as PKIX builds it from the sent certificates; anchor None on failure."""
    if not chain:
        return [], None
    path = [chain[0]]
    pool = list(chain[1:])
    current = chain[0]
    for _ in range(len(chain) + 1):
        anchor = next((a for a in anchors if _same_cert(current, a)), None)
        if anchor is not None:
            # A trusted certificate in the chain ends the path; the part below it is validated
            # (PKIXValidator.engineValidate; a trusted leaf is accepted as it is).
            return path[:-1], anchor
        anchor = next((a for a in anchors if certs.issued_by(current, a)), None)
        if anchor is not None:
            return path, anchor
        parent = next((c for c in pool if certs.issued_by(current, c) and c is not current), None)
        if parent is None:
            return path, None
        pool.remove(parent)
        path.append(parent)
        current = parent
    return path, None


def predict(
    jvm: JvmTls,
    server: ServerView,
    *,
    no_certificate_check: bool = False,
    agent_certs: list[x509.Certificate] | None = None,
    now: dt.datetime | None = None,
    keystore_error: str | None = None,
) -> Prediction:
    """The JVM's handshake with ``server``, step by step as JSSE meets them; the first step that
    fails is the prediction."""
    now = now or dt.datetime.now(dt.timezone.utc)
    # 0. the key store; agent.jar's own context (-noCertificateCheck, -cert) does not load it
    failed = _key_store(jvm, keystore_error, no_certificate_check, agent_certs)
    if failed:
        return failed
    # 1. protocols
    version = _protocol(jvm, server)
    if isinstance(version, Prediction):
        return version
    # 2. cipher suites of that version
    suite = _suite(jvm, server, version)
    if isinstance(suite, Prediction):
        return suite
    ok_kw: dict[str, Any] = {"version": version, "suite": suite}
    # 3. certificate path, and 4. host name
    failed = _certificate_path(jvm, server, ok_kw, no_certificate_check, agent_certs, now)
    if failed:
        return failed
    # 5. client certificate
    failed = _client_certificate(jvm, server, version, ok_kw, no_certificate_check, agent_certs)
    if failed:
        return failed
    return Prediction("ok", "ok", f"handshake completes with {version} and {suite}", **ok_kw)


def _key_store(jvm: JvmTls, keystore_error: str | None, no_certificate_check: bool,
               agent_certs: list[x509.Certificate] | None) -> Prediction | None:
    if keystore_error and not no_certificate_check and agent_certs is None:
        return _fail(
            "keystore",
            "java.security.NoSuchAlgorithmException: Error constructing implementation (algorithm: Default, "
            f"provider: SunJSSE) -- the key store {jvm.keystore_path} cannot be opened: {keystore_error}",
        )
    return None


def _protocol(jvm: JvmTls, server: ServerView) -> str | Prediction:
    """The version both sides enable (the newest), or the failure."""
    if not jvm.protocols:
        return _fail(
            "no_protocol",
            "No appropriate protocol (protocol is disabled or cipher suites are inappropriate): "
            f"every protocol in {jvm.protocols_source} ({', '.join(jvm.configured_protocols)}) is disabled",
            details={"disabled_protocols": jvm.disabled_protocols},
        )
    common = [p for p in PROTOCOL_ORDER if p in jvm.protocols and p in server.accepted_versions]
    if not common:
        return _fail(
            "protocol",
            "Received fatal alert: protocol_version -- the JVM enables "
            f"{', '.join(jvm.protocols) or 'nothing'} ({jvm.protocols_source}), the server accepts "
            f"{', '.join(server.accepted_versions) or 'nothing'}",
            details={
                "jvm_protocols": jvm.protocols,
                "server_versions": server.accepted_versions,
                "disabled_protocols": jvm.disabled_protocols,
            },
        )
    return common[0]


def _suite(jvm: JvmTls, server: ServerView, version: str) -> str | Prediction:
    """The suite of ``version`` the JVM picks (IANA name), or the failure."""
    jvm_suites = jvm.suites_for(version)
    server_suites = server.suites.get(version, [])
    shared = [s for s in jvm_suites if java_to_iana(s) in server_suites]
    if not shared:
        disabled_by_jvm = [s for s in server_suites if s in jvm.disabled_suites]
        reason = "cipher"
        if server_suites and all(s.startswith("TLS_RSA_") for s in server_suites):
            reason = "tls_rsa"
        elif not jvm_suites:
            return _fail(
                "no_protocol",
                "No appropriate protocol (protocol is disabled or cipher suites are "
                f"inappropriate): no enabled cipher suite works with {version}",
                version=version,
            )
        return _fail(
            reason,
            "Received fatal alert: handshake_failure -- no cipher suite in common for "
            f"{version}: the server accepts {', '.join(server_suites) or 'none'}"
            + (
                f"; the JVM disables {', '.join(disabled_by_jvm)} "
                f"({'; '.join(sorted({jvm.disabled_suites[s] for s in disabled_by_jvm}))})"
                if disabled_by_jvm
                else ""
            ),
            version=version,
            details={
                "server_suites": server_suites,
                "jvm_suites": [java_to_iana(s) for s in jvm_suites],
                "disabled_by_jvm": disabled_by_jvm,
            },
        )
    return java_to_iana(shared[0])


def _certificate_path(jvm: JvmTls, server: ServerView, ok_kw: dict[str, Any], no_certificate_check: bool,
                      agent_certs: list[x509.Certificate] | None, now: dt.datetime) -> Prediction | None:
    """PKIX: a path to an anchor of the trust store (or -cert), valid now, within the certpath
    constraints, for the host name; fills ``ok_kw`` (anchor, details)."""
    if not server.chain:
        return _fail("pkix", "the server sent no certificate", **ok_kw)
    leaf = server.chain[0]
    if no_certificate_check:
        ok_kw["details"] = {"certificate_check": "off (-noCertificateCheck)"}
    else:
        if agent_certs is not None:
            anchors, store_label = agent_certs, "the agent's -cert certificates"
        else:
            store = jvm.truststore
            if store is None:
                return _fail("truststore", "the JVM has no trust store", **ok_kw)
            if store.error:
                return _fail("truststore", f"the trust store {jvm.truststore_path} cannot be loaded: {store.error}", **ok_kw)
            anchors, store_label = store.anchors(), f"the trust store {jvm.truststore_path}"
        if not anchors:
            return _fail(
                "truststore",
                "java.security.InvalidAlgorithmParameterException: the trustAnchors parameter "
                f"must be non-empty ({store_label} holds no certificate the JVM can read)",
                **ok_kw,
            )
        path, anchor = build_path(server.chain, anchors)
        if anchor is None:
            top = path[-1]
            missing = None if certs.self_signed(top) else certs.name_str(top.issuer)
            return _fail(
                "pkix",
                "PKIX path building failed: unable to find valid certification path to requested "
                f"target -- {store_label} has no anchor for "
                + (
                    f"{missing} (issuer of {certs.name_str(top.subject)})"
                    if missing
                    else f"the self-signed {certs.name_str(top.subject)}"
                ),
                missing_issuer=missing,
                untrusted=top if missing is None else None,
                **ok_kw,
            )
        ok_kw["anchor"] = certs.name_str(anchor.subject)
        for cert in path:
            if now < certs.not_before(cert):
                return _fail(
                    "not_yet_valid",
                    "PKIX path validation failed: validity check failed -- "
                    f"{certs.name_str(cert.subject)} is not valid before {certs.not_before(cert).isoformat()}",
                    **ok_kw,
                )
            if now > certs.not_after(cert):
                return _fail(
                    "expired",
                    "PKIX path validation failed: validity check failed -- "
                    f"{certs.name_str(cert.subject)} expired {certs.not_after(cert).isoformat()}",
                    **ok_kw,
                )
        jdk_ca = is_jdk_ca(jvm, anchor)
        for cert in path:
            sig = certs.java_sig_name(cert)
            c = certpath_disabled(jvm.certpath_constraints, sig, jdk_ca=jdk_ca, today=now.date())
            if c is not None:
                return _fail(
                    "certpath",
                    f"Algorithm constraints check failed on signature algorithm: {sig} "
                    f"({certs.name_str(cert.subject)}; jdk.certpath.disabledAlgorithms: {c.text})",
                    **ok_kw,
                )
        for cert in [*path, anchor]:
            alg, bits, _ = certs.key_desc(cert.public_key())
            c = key_disabled(jvm.certpath_constraints, alg, bits) or key_disabled(jvm.tls_constraints, alg, bits)
            if c is not None:
                return _fail(
                    "certpath",
                    f"Algorithm constraints check failed on keysize limits: {alg} {bits} bit "
                    f"({certs.name_str(cert.subject)}; {c.text})",
                    **ok_kw,
                )
        # 4. host name
        match, how = certs.java_hostname_match(leaf, server.host)
        if not match:
            return _fail("hostname", f"java.security.cert.CertificateException: {how}", **ok_kw)
    return None


def _client_certificate(jvm: JvmTls, server: ServerView, version: str, ok_kw: dict[str, Any],
                        no_certificate_check: bool, agent_certs: list[x509.Certificate] | None) -> Prediction | None:
    """What the JVM presents when the server asks for a client certificate."""
    if server.client_auth_required:
        if no_certificate_check or agent_certs is not None:
            return _fail(
                "client_cert",
                "Received fatal alert: certificate_required -- agent.jar's own SSL context for "
                "-noCertificateCheck / -cert has no key store, so the JVM presents no client certificate",
                **ok_kw,
            )
        ks = jvm.keystore
        if ks is None:
            alert = "certificate_required" if version == "TLSv1.3" else "bad_certificate or handshake_failure"
            return _fail(
                "client_cert",
                f"Received fatal alert: {alert} -- the server requires a client certificate "
                "and the JVM has no key store (-Djavax.net.ssl.keyStore)",
                **ok_kw,
            )
        if ks.error:
            return _fail("client_cert", f"the key store {jvm.keystore_path} cannot be loaded: {ks.error}", **ok_kw)
        wanted = set(server.client_ca_names)
        usable = [e for e in ks.key_entries() if not wanted or any(certs.name_str(c.issuer) in wanted for c in e.certs)]
        if not usable:
            return _fail(
                "client_cert",
                f"the key store {jvm.keystore_path} holds no certificate issued by a CA the "
                f"server accepts ({', '.join(sorted(wanted)) or 'any'}), so the JVM sends none",
                **ok_kw,
            )
        if server.identity_accepted is False:
            return _fail(
                "client_cert",
                f"the server rejects the client certificate of the key store {jvm.keystore_path}",
                **ok_kw,
            )
    return None
