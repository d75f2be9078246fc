"""The agent JVM's TLS configuration, read from its home and its options without starting it.

What is read, and where the JDK reads it (OpenJDK sources):

* version: ``<java.home>/release`` (``JAVA_VERSION=``), written by every JDK 9+ build and by 8u;
* security properties: :mod:`jnlpdiag.tls.javasecurity`;
* client protocols: ``-Djdk.tls.client.protocols`` (``SSLContextImpl``), else the defaults of
  ``data/jdk-tls.json``; ``-Dhttps.protocols`` / ``-Dhttps.cipherSuites`` replace them for
  ``HttpsURLConnection`` (``sun.net.www.protocol.https.HttpsClient``), which is how the agent talks
  to the Jenkins URL; ``-Djdk.tls.client.cipherSuites`` replaces the default suites;
* trust store: ``-Djavax.net.ssl.trustStore`` (``NONE`` = none), else
  ``<java.home>/lib/security/jssecacerts``, else ``cacerts``; password
  ``-Djavax.net.ssl.trustStorePassword`` (``sun.security.ssl.TrustStoreManager``);
* key store (client certificate): ``-Djavax.net.ssl.keyStore`` and ``keyStorePassword``, which
  is also the key password of the default key manager (``SSLContextImpl.DefaultManagersHolder``).
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography import x509

from jnlpdiag.jvm import JavaInstall, feature_version, system_properties
from jnlpdiag.tls.ciphers import java_to_iana
from jnlpdiag.tls.javasecurity import (
    Constraint,
    SecurityProperties,
    load_security_properties,
    name_disabled,
    parse_constraints,
    suite_components,
)
from jnlpdiag.tls.truststore import KeyStore, read_keystore

PROTOCOL_ORDER = ("TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1")


@lru_cache(maxsize=1)
def jdk_defaults() -> dict[str, Any]:
    return dict(json.loads(resources.files("jnlpdiag").joinpath("data/jdk-tls.json").read_text("utf-8")))


def java_home_of(executable: str) -> str:
    """``<home>/bin/java`` -> ``<home>``, following symlinks (``/usr/bin/java`` -> alternatives)."""
    real = Path(os.path.realpath(executable))
    home = real.parent.parent
    return str(home)


def read_release(java_home: str) -> dict[str, str]:
    """``<java_home>/release`` as a dict (``JAVA_VERSION``, ``IMPLEMENTOR``...), or ``{}``."""
    for candidate in (Path(java_home) / "release", Path(java_home).parent / "release"):
        try:
            text = candidate.read_text("utf-8", "replace")
        except OSError:
            continue
        out: dict[str, str] = {}
        for line in text.splitlines():
            m = re.match(r'^([A-Z_]+)="?(.*?)"?$', line.strip())
            if m:
                out[m.group(1)] = m.group(2)
        return out
    return {}


@dataclass
class JvmTls:
    executable: str
    origin: str
    java_home: str
    version: str | None = None
    feature: int | None = None
    vendor: str | None = None
    options: list[str] = field(default_factory=list)
    sysprops: dict[str, str] = field(default_factory=dict)
    security: SecurityProperties = field(default_factory=SecurityProperties)
    tls_constraints: list[Constraint] = field(default_factory=list)
    certpath_constraints: list[Constraint] = field(default_factory=list)
    protocols_source: str = "JDK default"
    configured_protocols: list[str] = field(default_factory=list)
    protocols: list[str] = field(default_factory=list)  # after jdk.tls.disabledAlgorithms
    disabled_protocols: dict[str, str] = field(default_factory=dict)
    suites_source: str = "JDK default"
    suites: list[str] = field(default_factory=list)  # Java names, after disabledAlgorithms
    disabled_suites: dict[str, str] = field(default_factory=dict)
    truststore_path: str | None = None
    truststore_origin: str = ""
    truststore: KeyStore | None = None
    jdk_cacerts: str | None = None
    keystore_path: str | None = None
    keystore: KeyStore | None = None
    notes: list[str] = field(default_factory=list)

    def suites_for(self, version: str) -> list[str]:
        """The enabled suites usable with ``version`` (CipherSuite.supportedProtocols)."""
        out = []
        for s in self.suites:
            is13 = not s.startswith(("TLS_", "SSL_")) or "_WITH_" not in s
            if version == "TLSv1.3":
                if is13:
                    out.append(s)
            elif is13:
                continue
            elif version == "TLSv1.2":
                out.append(s)
            elif s.endswith("_SHA") and "_GCM_" not in s and "CHACHA20" not in s:
                out.append(s)  # PROTOCOLS_TO_12 suites also work on TLS 1.0/1.1
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "java": self.executable,
            "origin": self.origin,
            "vendor": self.vendor,
            "protocols": self.protocols,
            "protocols_source": self.protocols_source,
            "disabled_protocols": self.disabled_protocols,
            "suites_source": self.suites_source,
            "enabled_suites": len(self.suites),
            "security_files": self.security.files,
            "truststore": self.truststore_path,
            "truststore_origin": self.truststore_origin,
            "truststore_type": self.truststore.type if self.truststore else None,
            "truststore_entries": len(self.truststore.anchors()) if self.truststore else None,
            "keystore": self.keystore_path,
            "notes": self.notes + self.security.notes + (self.truststore.notes if self.truststore else []),
        }


def _split_list(value: str) -> list[str]:
    return [p.strip().strip('"') for p in value.split(",") if p.strip().strip('"')]


def default_suites(feature: int) -> list[str]:
    data = jdk_defaults()
    tls13 = data["tls13_suites"] if feature >= data["chacha20_min_feature"] else data["tls13_suites_java11"]
    if feature < 11:
        tls13 = []
    tls12 = [s for s in data["tls12_suites"] if feature >= data["chacha20_min_feature"] or "CHACHA20" not in s]
    des = data["tls3des_suites"] if feature <= data["tls3des_max_feature"] else []
    return list(tls13) + tls12 + list(des)


def default_protocols(feature: int) -> list[str]:
    for row in jdk_defaults()["client_protocols"]:
        if feature >= row["min_feature"]:
            return list(row["protocols"])
    return ["TLSv1.2", "TLSv1.1", "TLSv1"]


_BUILT: dict[tuple[str, str, tuple[str, ...], str | None], tuple[JvmTls, tuple[float, ...]]] = {}
_BUILT_LOCK = threading.Lock()


def _stamp(jvm: JvmTls) -> tuple[float, ...]:
    paths = [*jvm.security.files, jvm.truststore_path, jvm.keystore_path, f"{jvm.java_home}/release"]
    out = []
    for path in paths:
        try:
            out.append(os.path.getmtime(path) if path else 0.0)
        except OSError:
            out.append(-1.0)
    return tuple(out)


def build(install: JavaInstall, options: list[str], *, java_home: str | None = None) -> JvmTls:
    """Assemble the JVM's TLS view from its installation and the agent's JVM option words.

    Several tls.* probes ask for the same JVM in one run: it is read once, and read again only
    when one of the files it came from has changed (files only; no JVM is started).
    """
    key = (install.executable, install.origin, tuple(options), java_home)
    with _BUILT_LOCK:
        cached = _BUILT.get(key)
        if cached is not None and _stamp(cached[0]) == cached[1]:
            return cached[0]
        jvm = _build(install, options, java_home=java_home)
        _BUILT[key] = (jvm, _stamp(jvm))
        return jvm


def _build(install: JavaInstall, options: list[str], *, java_home: str | None = None) -> JvmTls:
    home = java_home or java_home_of(install.executable)
    release = read_release(home)
    version = release.get("JAVA_VERSION")
    jvm = JvmTls(
        install.executable,
        install.origin,
        home,
        version=version,
        feature=feature_version(version) if version else None,
        vendor=release.get("IMPLEMENTOR"),
        options=list(options),
    )
    if jvm.feature is None:
        jvm.notes.append(f"no readable {home}/release; assuming the defaults of Java 17")
    feature = jvm.feature or 17
    props = system_properties(options)
    jvm.sysprops = props
    jvm.security = load_security_properties(home, props)
    sec = jvm.security.props
    jvm.tls_constraints = parse_constraints(sec.get("jdk.tls.disabledAlgorithms"), sec)
    jvm.certpath_constraints = parse_constraints(sec.get("jdk.certpath.disabledAlgorithms"), sec)

    # Protocols: HttpsURLConnection applies https.protocols on top of the context's defaults.
    if props.get("https.protocols"):
        jvm.configured_protocols = _split_list(props["https.protocols"])
        jvm.protocols_source = "-Dhttps.protocols"
    elif props.get("jdk.tls.client.protocols"):
        jvm.configured_protocols = _split_list(props["jdk.tls.client.protocols"])
        jvm.protocols_source = "-Djdk.tls.client.protocols"
    else:
        jvm.configured_protocols = default_protocols(feature)
    for proto in jvm.configured_protocols:
        if proto not in PROTOCOL_ORDER:
            jvm.notes.append(f"unknown protocol name {proto!r} in {jvm.protocols_source}")
            continue
        c = name_disabled(jvm.tls_constraints, proto, set())
        if c:
            jvm.disabled_protocols[proto] = f"jdk.tls.disabledAlgorithms: {c.text}"
        else:
            jvm.protocols.append(proto)

    if props.get("https.cipherSuites"):
        configured = _split_list(props["https.cipherSuites"])
        jvm.suites_source = "-Dhttps.cipherSuites"
    elif props.get("jdk.tls.client.cipherSuites"):
        configured = _split_list(props["jdk.tls.client.cipherSuites"])
        jvm.suites_source = "-Djdk.tls.client.cipherSuites"
    else:
        configured = default_suites(feature)
    for suite in configured:
        c = name_disabled(jvm.tls_constraints, suite, suite_components(java_to_iana(suite)))
        if c is None:
            c = name_disabled(jvm.tls_constraints, java_to_iana(suite), set())
        if c:
            jvm.disabled_suites[suite] = c.text
        else:
            jvm.suites.append(suite)

    _trust(jvm, props)
    _keys(jvm, props)
    return jvm


def _trust(jvm: JvmTls, props: dict[str, str]) -> None:
    sec_dir = Path(jvm.java_home) / "lib" / "security"
    if not sec_dir.is_dir() and (Path(jvm.java_home) / "jre" / "lib" / "security").is_dir():
        sec_dir = Path(jvm.java_home) / "jre" / "lib" / "security"
    cacerts = sec_dir / "cacerts"
    jvm.jdk_cacerts = str(cacerts) if cacerts.exists() else None
    path = props.get("javax.net.ssl.trustStore")
    if path and path != "NONE":
        jvm.truststore_path, jvm.truststore_origin = path, "-Djavax.net.ssl.trustStore"
    elif (sec_dir / "jssecacerts").exists():
        jvm.truststore_path, jvm.truststore_origin = str(sec_dir / "jssecacerts"), "JDK jssecacerts"
    elif cacerts.exists():
        jvm.truststore_path, jvm.truststore_origin = str(cacerts), "JDK cacerts"
    if jvm.truststore_path:
        password = props.get("javax.net.ssl.trustStorePassword") or None
        jvm.truststore = read_keystore(jvm.truststore_path, password)
    else:
        jvm.notes.append("the JVM has no trust store (no cacerts, no -Djavax.net.ssl.trustStore)")


def _keys(jvm: JvmTls, props: dict[str, str]) -> None:
    path = props.get("javax.net.ssl.keyStore")
    if path and path != "NONE":
        jvm.keystore_path = path
        jvm.keystore = read_keystore(path, props.get("javax.net.ssl.keyStorePassword") or None)


@lru_cache(maxsize=8)
def _cacerts_fingerprints(path: str, mtime: float) -> frozenset[bytes]:
    from cryptography.hazmat.primitives import hashes

    store = read_keystore(path)
    return frozenset(c.fingerprint(hashes.SHA256()) for c in store.anchors())


def is_jdk_ca(jvm: JvmTls, cert: x509.Certificate) -> bool:
    """``jdkCA``: the anchor is one of the CAs shipped in the JDK's own cacerts (AnchorCertificates)."""
    from cryptography.hazmat.primitives import hashes

    if not jvm.jdk_cacerts:
        return False
    try:
        mtime = os.path.getmtime(jvm.jdk_cacerts)
    except OSError:
        return False
    return cert.fingerprint(hashes.SHA256()) in _cacerts_fingerprints(jvm.jdk_cacerts, mtime)
