"""Certificate chains: describe them, verify them against a store, match them to a host name.

Verification against the system store and ``--ca-file`` uses OpenSSL's verifier (pyOpenSSL), the
same one curl uses, so "verified" here means what ``curl https://...`` would say. Java's view is
built separately (:mod:`jnlpdiag.tls.predict`), because the JVM builds paths its own way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import ssl
import warnings
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
from OpenSSL import crypto

# OpenSSL X509_V_ERR_* codes (openssl/include/openssl/x509_vfy.h.in) that the verdict names.
ERR_UNABLE_TO_GET_ISSUER = 2
ERR_NOT_YET_VALID = 9
ERR_EXPIRED = 10
ERR_DEPTH_ZERO_SELF_SIGNED = 18
ERR_SELF_SIGNED_IN_CHAIN = 19
ERR_UNABLE_TO_GET_LOCAL_ISSUER = 20
ERR_UNABLE_TO_VERIFY_LEAF = 21

# Signature algorithm OIDs -> the JCA names Java uses in *.disabledAlgorithms.
_JAVA_SIG_NAMES = {
    "1.2.840.113549.1.1.2": "MD2withRSA",
    "1.2.840.113549.1.1.4": "MD5withRSA",
    "1.2.840.113549.1.1.5": "SHA1withRSA",
    "1.2.840.113549.1.1.14": "SHA224withRSA",
    "1.2.840.113549.1.1.11": "SHA256withRSA",
    "1.2.840.113549.1.1.12": "SHA384withRSA",
    "1.2.840.113549.1.1.13": "SHA512withRSA",
    "1.2.840.113549.1.1.10": "RSASSA-PSS",
    "1.2.840.10045.4.1": "SHA1withECDSA",
    "1.2.840.10045.4.3.1": "SHA224withECDSA",
    "1.2.840.10045.4.3.2": "SHA256withECDSA",
    "1.2.840.10045.4.3.3": "SHA384withECDSA",
    "1.2.840.10045.4.3.4": "SHA512withECDSA",
    "1.2.840.10040.4.3": "SHA1withDSA",
    "2.16.840.1.101.3.4.3.2": "SHA256withDSA",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
}


def der_to_cert(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)


def sha256_fp(cert: x509.Certificate) -> str:
    """``AB:CD:...`` as keytool prints it (``keytool -printcert``)."""
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def name_str(name: x509.Name) -> str:
    return name.rfc4514_string()


def common_name(name: x509.Name) -> str | None:
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[-1].value) if attrs else None


def key_desc(key: Any) -> tuple[str, int | None, str | None]:
    """(JCA algorithm, size in bits, curve) of a public key."""
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size, key.curve.name
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size, None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 255, None
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 448, None
    return type(key).__name__, None, None


def java_sig_name(cert: x509.Certificate) -> str:
    oid = cert.signature_algorithm_oid.dotted_string
    return _JAVA_SIG_NAMES.get(oid, cert.signature_algorithm_oid._name)


def sans(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    return ext.get_values_for_type(x509.DNSName), [str(ip) for ip in ext.get_values_for_type(x509.IPAddress)]


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """True when ``parent``'s key signed ``child`` and the names chain."""
    if child.issuer != parent.subject:
        return False
    try:
        child.verify_directly_issued_by(parent)
        return True
    except (ValueError, TypeError, Exception):  # InvalidSignature, unsupported algorithms
        return False


def self_signed(cert: x509.Certificate) -> bool:
    return issued_by(cert, cert)


def ca_issuers_urls(cert: x509.Certificate) -> list[str]:
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return []
    return [
        d.access_location.value
        for d in aia
        if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
    ]


def not_before(cert: x509.Certificate) -> dt.datetime:
    return cert.not_valid_before_utc


def not_after(cert: x509.Certificate) -> dt.datetime:
    return cert.not_valid_after_utc


def describe(cert: x509.Certificate) -> dict[str, Any]:
    """JSON-able facts about one certificate (the ``chain`` evidence entries)."""
    alg, bits, curve = key_desc(cert.public_key())
    dns, ips = sans(cert)
    return {
        "subject": name_str(cert.subject),
        "issuer": name_str(cert.issuer),
        "sha256": sha256_fp(cert),
        "serial": format(cert.serial_number, "x"),
        "not_before": not_before(cert).isoformat(),
        "not_after": not_after(cert).isoformat(),
        "key": f"{alg} {bits}" + (f" ({curve})" if curve else "") if bits else alg,
        "signature_algorithm": java_sig_name(cert),
        "self_signed": self_signed(cert),
        "ca": is_ca(cert),
        "san_dns": dns,
        "san_ip": ips,
    }


# --- host names ---------------------------------------------------------------------------------


def _dns_match(pattern: str, host: str) -> bool:
    """RFC 6125 6.4.3: a wildcard only as the whole left-most label, never across dots."""
    pattern = pattern.lower().rstrip(".")
    host = host.lower().rstrip(".")
    if pattern == host:
        return True
    if not pattern.startswith("*."):
        return False
    suffix = pattern[1:]
    if suffix.count(".") < 2:  # "*.com" style wildcards match nothing
        return False
    return host.endswith(suffix) and "." not in host[: -len(suffix)] and len(host) > len(suffix)


def hostname_match(cert: x509.Certificate, host: str) -> tuple[bool, str]:
    """As curl and Python check it: SANs only (no CN fallback), IP literals against IP SANs."""
    dns, ips = sans(cert)
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        addr = None
    if addr is not None:
        ok = any(ipaddress.ip_address(ip) == addr for ip in ips)
        return ok, (f"IP SAN {addr}" if ok else f"no IP SAN equals {addr} (IP SANs: {ips or 'none'})")
    for name in dns:
        if _dns_match(name, host):
            return True, f"DNS SAN {name}"
    return False, f"no DNS SAN matches {host} (DNS SANs: {dns or 'none'})"


def java_hostname_match(cert: x509.Certificate, host: str) -> tuple[bool, str]:
    """sun.security.util.HostnameChecker (TYPE_TLS) as HttpsURLConnection uses it.

    IP literal: IP SANs only. Name: the DNS SANs; the subject's most specific CN only when the
    certificate has no DNS SAN at all. The JDK's messages are quoted so that a reader can match
    them with the agent log.
    """
    dns, ips = sans(cert)
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        addr = None
    if addr is not None:
        if not ips:
            return False, "No subject alternative names present"
        if any(ipaddress.ip_address(ip) == addr for ip in ips):
            return True, f"IP SAN {addr}"
        return False, f"No subject alternative names matching IP address {addr} found"
    if dns:
        for name in dns:
            if _dns_match(name, host):
                return True, f"DNS SAN {name}"
        return False, f"No subject alternative DNS name matching {host} found."
    cn = common_name(cert.subject)
    if cn and _dns_match(cn, host):
        return True, f"subject CN {cn} (no DNS SAN)"
    return False, f"No name matching {host} found"


# --- verification --------------------------------------------------------------------------------


@dataclass
class Verification:
    ok: bool
    store: str  # "system", "--ca-file", ...
    code: int | None = None
    error: str | None = None
    depth: int | None = None
    missing_issuer: str | None = None  # DN of the issuer nobody had
    incomplete_chain: bool = False
    self_signed_leaf: bool = False
    anchor: str | None = None  # subject of the trust anchor that ended the path

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": self.ok, "store": self.store}
        for key in ("error", "missing_issuer", "anchor"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.incomplete_chain:
            out["incomplete_chain"] = True
        if self.self_signed_leaf:
            out["self_signed_leaf"] = True
        return out


def system_store_paths() -> tuple[str | None, str | None]:
    """Where this host's OpenSSL (not the one bundled with cryptography) keeps its CAs."""
    paths = ssl.get_default_verify_paths()
    cafile = os.environ.get(paths.openssl_cafile_env) or paths.cafile or paths.openssl_cafile
    capath = os.environ.get(paths.openssl_capath_env) or paths.capath or paths.openssl_capath
    return (cafile if cafile and os.path.isfile(cafile) else None, capath if capath and os.path.isdir(capath) else None)


def load_pem_file(path: str) -> list[x509.Certificate]:
    """Certificates of a PEM bundle (or one DER certificate)."""
    with open(path, "rb") as fh:
        data = fh.read(32 * 1024 * 1024)
    # System bundles hold a few CA certificates with negative serials; cryptography warns about them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return x509.load_pem_x509_certificates(data)
        except ValueError:
            return [x509.load_der_x509_certificate(data)]


def make_store(
    cafile: str | None = None, capath: str | None = None, certs: list[x509.Certificate] | None = None
) -> crypto.X509Store:
    store = crypto.X509Store()
    if cafile or capath:
        store.load_locations(cafile, capath)
    for cert in certs or ():
        try:
            store.add_cert(crypto.X509.from_cryptography(cert))
        except crypto.Error:
            pass  # duplicate
    return store


def verify(
    chain: list[x509.Certificate],
    store: crypto.X509Store,
    label: str,
    known: list[x509.Certificate],
    at: dt.datetime | None = None,
    explicit: bool = False,
) -> Verification:
    """Verify ``chain`` (leaf first, as sent) with OpenSSL and say what was missing, by name.

    ``explicit``: the store is a CA file the user named for this server (``--ca-file``); when it
    lacks the issuer of the chain's top, the server most likely omits an intermediate.
    """
    if not chain:
        return Verification(False, label, error="the server sent no certificate")
    leaf = chain[0]
    if at is not None:
        store.set_time(at.astimezone(dt.timezone.utc) if at.tzinfo else at)
    ctx = crypto.X509StoreContext(
        store, crypto.X509.from_cryptography(leaf), [crypto.X509.from_cryptography(c) for c in chain[1:]]
    )
    try:
        path = [c.to_cryptography() for c in ctx.get_verified_chain()]
        return Verification(True, label, anchor=name_str(path[-1].subject) if path else None)
    except crypto.X509StoreContextError as exc:
        errors = exc.errors if isinstance(exc.errors, list) else []
        code = errors[0] if len(errors) > 0 else None
        depth = errors[1] if len(errors) > 1 else None
        message = errors[2] if len(errors) > 2 else str(exc)
        out = Verification(False, label, code=code, error=str(message), depth=depth)
    if code == ERR_DEPTH_ZERO_SELF_SIGNED or (len(chain) == 1 and self_signed(leaf)):
        out.self_signed_leaf = True
        out.error = f"self-signed certificate ({name_str(leaf.subject)}) that {label} does not trust"
    elif code in (ERR_UNABLE_TO_GET_LOCAL_ISSUER, ERR_UNABLE_TO_GET_ISSUER, ERR_UNABLE_TO_VERIFY_LEAF):
        # Walk the chain as sent to the last certificate whose issuer was sent too.
        last = leaf
        pool = list(chain[1:])
        while True:
            parent = next((c for c in pool if issued_by(last, c)), None)
            if parent is None or parent is last:
                break
            pool.remove(parent)
            last = parent
        if not self_signed(last):
            out.missing_issuer = name_str(last.issuer)
            issuer_known = any(c.subject == last.issuer for c in known)
            # A missing issuer named in the certificate's AIA extension, or one for which a CA
            # store was given but lacks it, is most likely an intermediate the server omitted.
            out.incomplete_chain = bool(ca_issuers_urls(last)) or (explicit and not issuer_known)
            what = "an intermediate CA the server did not send" if out.incomplete_chain else "an issuer"
            out.error = f"{name_str(last.subject)} is issued by {out.missing_issuer}, {what}, which {label} does not have"
        else:
            out.error = f"the chain ends at {name_str(last.subject)}, a root that {label} does not trust"
    return out


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def spki_sha256(cert: x509.Certificate) -> str:
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()
