"""The client certificate the agent presents ("two-way TLS"): its JVM's key store, or the
``--client-cert``/``--client-key`` override.

How the agent's JVM gets it (OpenJDK 17 ``sun/security/ssl/SSLContextImpl.java``,
``DefaultManagersHolder.getKeyManagers``), which the default ``SSLContext`` and so every
``HttpsURLConnection`` of agent.jar uses:

* ``javax.net.ssl.keyStore`` is the file (``NONE`` or unset: no key store, no certificate);
* ``javax.net.ssl.keyStoreType`` its type, else ``KeyStore.getDefaultType()`` (the security
  property ``keystore.type``: ``pkcs12`` since JDK 9, JEP 229; ``jks`` on 8). With
  ``keystore.type.compat=true`` (the default) a JKS or PKCS12 key store reads either format, so
  the file's own first bytes decide;
* ``javax.net.ssl.keyStorePassword`` opens the store *and* is the key password
  (``kmf.init(ks, passwd)``): one password for both;
* a store that cannot be opened (missing file, wrong password, a key that does not decrypt) makes
  the default ``SSLContext`` fail to initialise, so every HTTPS connection of the agent fails,
  whatever the server asks for.

Which certificate the JVM presents: ``SunX509KeyManagerImpl.chooseClientAlias`` (the default
``ssl.KeyManagerFactory.algorithm``) takes the first key entry whose chain holds a certificate
issued by one of the CA names of the server's CertificateRequest (any entry when the list is
empty); when none does, the JVM sends no certificate at all.

Reading without a JVM: JKS/JCEKS with :mod:`jnlpdiag.tls.truststore` (the file layout of OpenJDK
``JavaKeyStore.java`` and ``KeyProtector.java``; no maintained Python JKS library exists),
PKCS12 with cryptography, PEM files with cryptography.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from jnlpdiag.tls import certs
from jnlpdiag.tls.truststore import read_keystore, recover_jks_key

if TYPE_CHECKING:  # pyOpenSSL is imported only by the probes that shake hands
    from jnlpdiag.tls.handshake import ClientIdentity

KEYSTORE_PROPS = (
    "javax.net.ssl.keyStore",
    "javax.net.ssl.keyStoreType",
    "javax.net.ssl.keyStorePassword",
    "javax.net.ssl.keyStoreProvider",
)
PASSWORD_PROPS = ("javax.net.ssl.keyStorePassword", "javax.net.ssl.trustStorePassword")
# Key store types the JVM reads from a file that this module reads too (keystore.type.compat).
_FILE_TYPES = ("PKCS12", "JKS", "JCEKS")


@dataclass
class KeyEntry:
    """One key entry: a certificate chain (leaf first) with its private key."""

    alias: str
    chain: list[x509.Certificate]
    key: Any  # a cryptography private key


@dataclass
class AgentIdentity:
    """The client identity of the agent and whether it can be used."""

    source: str  # "--client-cert" or "-Djavax.net.ssl.keyStore"
    path: str
    file_format: str | None = None  # what the file is: PKCS12, JKS, JCEKS, PEM
    declared_type: str | None = None  # -Djavax.net.ssl.keyStoreType, None: the JDK's default
    entries: list[KeyEntry] = field(default_factory=list)
    # The JVM cannot open the store: its default SSLContext fails, every HTTPS connection fails.
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.source}={self.path}" if self.source.startswith("-D") else f"{self.source} {self.path}"

    def choose(self, ca_names: list[str] | None = None) -> KeyEntry | None:
        """The entry the JVM presents to a server naming ``ca_names`` (SunX509 chooseClientAlias)."""
        if not ca_names:
            return self.entries[0] if self.entries else None
        wanted = set(ca_names)
        for entry in self.entries:
            if any(certs.name_str(c.issuer) in wanted for c in entry.chain):
                return entry
        return None

    def client_identity(self, ca_names: list[str] | None = None) -> ClientIdentity | None:
        from jnlpdiag.tls.handshake import ClientIdentity

        entry = self.choose(ca_names)
        if entry is None:
            return None
        return ClientIdentity(chain=entry.chain, key=entry.key, source=self.label)

    def facts(self) -> dict[str, Any]:
        """JSON-able: where the identity comes from and the certificate it presents."""
        entry = self.choose()
        return {
            "source": self.source,
            "path": self.path,
            "format": self.file_format,
            "declared_type": self.declared_type,
            "error": self.error,
            "entries": [e.alias for e in self.entries],
            "presented": certificate_facts(entry.chain[0]) if entry else None,
            "chain_length": len(entry.chain) if entry else 0,
            "notes": list(self.notes),
        }


def _names(value: Any) -> list[str]:
    return [str(v) for v in value]


_KU_FIELDS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
)
_EKU_NAMES = {
    ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string: "clientAuth",
    ExtendedKeyUsageOID.SERVER_AUTH.dotted_string: "serverAuth",
    ExtendedKeyUsageOID.CODE_SIGNING.dotted_string: "codeSigning",
    ExtendedKeyUsageOID.EMAIL_PROTECTION.dotted_string: "emailProtection",
    ExtendedKeyUsageOID.TIME_STAMPING.dotted_string: "timeStamping",
    ExtendedKeyUsageOID.OCSP_SIGNING.dotted_string: "OCSPSigning",
    "2.5.29.37.0": "anyExtendedKeyUsage",
}


def key_usage(cert: x509.Certificate) -> list[str] | None:
    """The key usage bits set (OpenSSL's words, camelCase), or None when the extension is absent."""
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    out = []
    for name in _KU_FIELDS:
        if getattr(ku, name):
            parts = name.split("_")
            out.append(parts[0] + "".join(p.title() for p in parts[1:]))
    if ku.key_agreement:
        out += [n for n, on in (("encipherOnly", ku.encipher_only), ("decipherOnly", ku.decipher_only)) if on]
    return out


def extended_key_usage(cert: x509.Certificate) -> list[str] | None:
    """The extended key usages (clientAuth, serverAuth, ... or dotted OIDs), None when absent."""
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return None
    return [_EKU_NAMES.get(oid.dotted_string, oid.dotted_string) for oid in eku]


def certificate_facts(cert: x509.Certificate, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or dt.datetime.now(dt.timezone.utc)
    facts = certs.describe(cert)
    facts["key_usage"] = key_usage(cert)
    facts["extended_key_usage"] = extended_key_usage(cert)
    facts["expired"] = certs.not_after(cert) < now
    facts["not_yet_valid"] = certs.not_before(cert) > now
    return facts


# --- loading ------------------------------------------------------------------------------------


def _from_store(path: str, declared: str | None, password: str | None) -> AgentIdentity:
    ident = AgentIdentity("-Djavax.net.ssl.keyStore", path, declared_type=declared)
    if declared and declared.upper() not in _FILE_TYPES:
        # PKCS11, BCFKS, Windows-MY ...: a provider's store, not a file this tool can read.
        ident.error = f"a {declared} key store cannot be read without the JVM"
        ident.file_format = declared
        return ident
    store = read_keystore(path, password)
    ident.file_format = store.type
    ident.notes += store.notes
    if store.error:
        ident.error = store.error
        return ident
    if store.type == "PKCS12" and password is None and not store.key_entries() and store.notes:
        # PKCS12KeyStore loads without a password but skips the encrypted key; the key manager
        # then fails ("Get Key failed") and with it the default SSLContext.
        ident.error = "no -Djavax.net.ssl.keyStorePassword: the JVM cannot get the key out of this PKCS12 store"
        return ident
    if declared and store.type and declared.upper() != store.type:
        if {declared.upper(), store.type} <= {"PKCS12", "JKS"}:
            ident.notes.append(
                f"-Djavax.net.ssl.keyStoreType={declared} names another format than the file's ({store.type}); "
                "the JVM reads it anyway (keystore.type.compat=true, the default)"
            )
        else:
            # JCEKS is read only as JCEKS (the compat switch covers JKS and PKCS12 only).
            ident.error = f"the file is {store.type}, not {declared} (-Djavax.net.ssl.keyStoreType)"
            return ident
    for entry in store.key_entries():
        key = entry.key
        if key is None:
            if not password:
                # kmf.init(ks, null): a JKS key cannot be recovered without a password.
                ident.error = f"key entry {entry.alias!r} needs -Djavax.net.ssl.keyStorePassword to be recovered"
                return ident
            try:
                key = recover_jks_key(entry, password)
            except ValueError as exc:
                # SunX509KeyManagerImpl: UnrecoverableKeyException, the default SSLContext fails.
                ident.error = f"key entry {entry.alias!r}: {exc} (the key password must equal the store password)"
                return ident
        ident.entries.append(KeyEntry(entry.alias, list(entry.certs), key))
    if not ident.entries:
        ident.notes.append("the key store holds no private key entry: the JVM presents no certificate")
    return ident


def _from_pem(cert_path: str, key_path: str | None) -> AgentIdentity:
    ident = AgentIdentity("--client-cert", cert_path, file_format="PEM")
    try:
        with open(cert_path, "rb") as fh:
            cert_data = fh.read(1024 * 1024)
        chain = x509.load_pem_x509_certificates(cert_data)
        key_data = cert_data
        if key_path:
            with open(key_path, "rb") as fh:
                key_data = fh.read(1024 * 1024)
        key = serialization.load_pem_private_key(key_data, password=None)
    except OSError as exc:
        ident.error = f"cannot read {exc.filename or cert_path}: {exc.strerror or exc}"
        return ident
    except (ValueError, TypeError) as exc:
        ident.error = f"cannot read --client-cert {cert_path} / --client-key {key_path or cert_path}: {exc}"
        return ident
    if not _key_matches(chain[0], key):
        ident.error = f"the key in {key_path or cert_path} does not belong to the certificate in {cert_path}"
        return ident
    ident.entries.append(KeyEntry("--client-cert", chain, key))
    return ident


def _key_matches(cert: x509.Certificate, key: Any) -> bool:
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    try:
        mine = key.public_key().public_bytes(serialization.Encoding.DER, pub)
    except (AttributeError, ValueError):
        return False
    return bool(mine == cert.public_key().public_bytes(serialization.Encoding.DER, pub))


_CACHE: dict[tuple[Any, ...], AgentIdentity | None] = {}
_CACHE_LOCK = threading.Lock()


def _mtime(path: str | None) -> float:
    try:
        return os.path.getmtime(path) if path else 0.0
    except OSError:
        return -1.0


def load_identity(
    props: dict[str, str], client_cert: str | None = None, client_key: str | None = None
) -> AgentIdentity | None:
    """The identity the agent presents: ``--client-cert`` when given, else the JVM's key store from
    its system properties (``props``); None when it has neither. Read once per file version."""
    store = props.get("javax.net.ssl.keyStore") or None
    if store == "NONE":
        store = None
    key = (
        client_cert,
        client_key,
        _mtime(client_cert),
        _mtime(client_key),
        store,
        _mtime(store),
        props.get("javax.net.ssl.keyStoreType"),
        props.get("javax.net.ssl.keyStorePassword"),
    )
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
    ident: AgentIdentity | None
    if client_cert:
        ident = _from_pem(client_cert, client_key)
    elif store:
        declared = props.get("javax.net.ssl.keyStoreType") or None
        password = props.get("javax.net.ssl.keyStorePassword")
        ident = _from_store(store, declared, password if password else None)
    else:
        ident = None
    with _CACHE_LOCK:
        _CACHE[key] = ident
    return ident


def secret_values(props: dict[str, str]) -> list[str]:
    """The key and trust store passwords among the JVM's properties, for the redactor."""
    return [props[p] for p in PASSWORD_PROPS if props.get(p)]


def write_pkcs12(entry: KeyEntry, path: str) -> str:
    """Write ``entry`` as a PKCS12 store (mode 0600) for a JVM; returns its one-time password."""
    import secrets

    from cryptography.hazmat.primitives.serialization import pkcs12

    password = secrets.token_hex(16)
    data = pkcs12.serialize_key_and_certificates(
        b"agent",
        entry.key,
        entry.chain[0],
        entry.chain[1:] or None,
        serialization.BestAvailableEncryption(password.encode()),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return password
