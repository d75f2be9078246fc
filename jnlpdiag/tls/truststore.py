"""Read Java key stores (JKS, JCEKS, PKCS12) without a JVM: trusted certificates and key entries.

The JKS/JCEKS layout follows OpenJDK ``sun/security/provider/JavaKeyStore.java`` (``engineLoad``
and ``engineStore``: magic ``FEEDFEED``/``CECECECE``, version, entry count, entries of tag 1 =
private key, 2 = trusted certificate, 3 = secret key, then a SHA-1 over the password, the words
"Mighty Aphrodite" and the data). JKS private keys are protected as in
``sun/security/provider/KeyProtector.java`` (salt, SHA-1 key stream, SHA-1 check). PKCS12 goes
through cryptography. As the JDK does, a store loaded without a password is not integrity-checked.

A trust manager trusts every certificate entry and the first certificate of every key entry
(``sun/security/validator/TrustStoreUtil.getTrustedCerts``).
"""

from __future__ import annotations

import hashlib
import struct
import warnings
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

JKS_MAGIC = 0xFEEDFEED
JCEKS_MAGIC = 0xCECECECE
_JKS_KEY_PROTECTOR_OID = "1.3.6.1.4.1.42.2.17.1.1"


@dataclass
class Entry:
    alias: str
    kind: str  # trusted, private_key, secret_key
    certs: list[x509.Certificate] = field(default_factory=list)
    protected_key: bytes | None = None  # JKS EncryptedPrivateKeyInfo (DER)
    key: Any = None  # a cryptography private key, when it could be recovered


@dataclass
class KeyStore:
    path: str
    type: str | None = None  # JKS, JCEKS, PKCS12
    entries: list[Entry] = field(default_factory=list)
    error: str | None = None  # could not be read (the JVM would fail to load it too)
    integrity: str = "unchecked"  # ok, wrong_password, unchecked
    notes: list[str] = field(default_factory=list)

    def anchors(self) -> list[x509.Certificate]:
        out: list[x509.Certificate] = []
        for e in self.entries:
            if e.kind == "trusted" or (e.kind == "private_key" and e.certs):
                out.append(e.certs[0])
        return out

    def key_entries(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == "private_key" and e.certs]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("truncated key store")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u32(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])

    def u64(self) -> int:
        return int(struct.unpack(">Q", self.take(8))[0])

    def utf(self) -> str:
        (n,) = struct.unpack(">H", self.take(2))
        return self.take(n).decode("utf-8", "replace")  # Java modified UTF-8; aliases are ASCII in practice


def _cert(der: bytes) -> x509.Certificate:
    # Some CA certificates in real cacerts files have negative serial numbers; cryptography warns.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return x509.load_der_x509_certificate(der)


def _password_bytes(password: str) -> bytes:
    return password.encode("utf-16-be")


def _read_jks(path: str, data: bytes, password: str | None) -> KeyStore:
    r = _Reader(data)
    magic = r.u32()
    store = KeyStore(path, "JKS" if magic == JKS_MAGIC else "JCEKS")
    version = r.u32()
    if version not in (1, 2):
        store.error = f"unknown {store.type} version {version}"
        return store
    count = r.u32()
    for _ in range(count):
        tag = r.u32()
        alias = r.utf()
        r.u64()  # creation date
        if tag == 1:
            protected = r.take(r.u32())
            chain = []
            for _ in range(r.u32()):
                if version == 2:
                    r.utf()  # certificate type, "X.509"
                chain.append(_cert(r.take(r.u32())))
            store.entries.append(Entry(alias, "private_key", chain, protected_key=protected))
        elif tag == 2:
            if version == 2:
                r.utf()
            store.entries.append(Entry(alias, "trusted", [_cert(r.take(r.u32()))]))
        elif tag == 3:
            # A JCEKS secret key is a serialized Java object of no fixed length: stop here.
            store.notes.append(f"stopped at secret-key entry {alias!r} (a serialized Java object); later entries not read")
            return store
        else:
            store.error = f"unknown entry tag {tag}"
            return store
    if password is not None:
        body = data[: r.pos]
        digest = hashlib.sha1(_password_bytes(password) + b"Mighty Aphrodite" + body).digest()
        stored = data[r.pos : r.pos + 20]
        store.integrity = "ok" if digest == stored else "wrong_password"
        if store.integrity == "wrong_password":
            # JavaKeyStore.engineLoad: "Keystore was tampered with, or password was incorrect"
            store.error = "Keystore was tampered with, or password was incorrect"
    return store


def _read_pkcs12(path: str, data: bytes, password: str | None) -> KeyStore:
    store = KeyStore(path, "PKCS12")
    attempts: list[bytes | None] = [password.encode() if password is not None else None]
    if password is None:
        attempts.append(b"")
    last: Exception | None = None
    for pw in attempts:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p12 = pkcs12.load_pkcs12(data, pw)
        except (ValueError, TypeError) as exc:
            last = exc
            continue
        store.integrity = "ok" if pw is not None else "unchecked"
        if p12.key is not None and p12.cert is not None:
            chain = [p12.cert.certificate] + [c.certificate for c in p12.additional_certs]
            alias = (p12.cert.friendly_name or b"").decode("utf-8", "replace") or "key"
            store.entries.append(Entry(alias, "private_key", chain, key=p12.key))
        else:
            if p12.cert is not None:
                store.entries.append(
                    Entry((p12.cert.friendly_name or b"").decode("utf-8", "replace"), "trusted", [p12.cert.certificate])
                )
            for c in p12.additional_certs:
                store.entries.append(Entry((c.friendly_name or b"").decode("utf-8", "replace"), "trusted", [c.certificate]))
        return store
    if password is None:
        # PKCS12KeyStore skips encrypted contents when no password is given: the JVM sees no entry.
        store.notes.append("no password given and the store's contents are encrypted: the JVM reads no entry")
        return store
    store.error = f"cannot read PKCS12 store: {last}"
    if "password" in str(last).lower() or "mac" in str(last).lower():
        store.integrity = "wrong_password"
    return store


def read_keystore(path: str, password: str | None = None) -> KeyStore:
    """Read a key store, detecting its format from its first bytes (as keystore.type.compat does)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(64 * 1024 * 1024)
    except OSError as exc:
        return KeyStore(path, error=f"cannot read {path}: {exc.strerror or exc}")
    if len(data) < 4:
        return KeyStore(path, error=f"{path} is empty or truncated")
    magic = struct.unpack(">I", data[:4])[0]
    try:
        if magic in (JKS_MAGIC, JCEKS_MAGIC):
            return _read_jks(path, data, password)
        if data[0] == 0x30:
            return _read_pkcs12(path, data, password)
    except (ValueError, struct.error) as exc:
        return KeyStore(path, error=f"{path}: {exc}")
    return KeyStore(path, error=f"{path} is neither a JKS/JCEKS nor a PKCS12 key store")


# --- JKS private keys (for a client certificate in javax.net.ssl.keyStore) -----------------------


def _der_tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the DER element at ``pos``."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    return tag, pos, pos + length


def recover_jks_key(entry: Entry, password: str) -> Any:
    """The private key of a JKS key entry (KeyProtector.recover), or raise ValueError."""
    if entry.protected_key is None:
        raise ValueError("not a JKS key entry")
    data = entry.protected_key
    tag, start, end = _der_tlv(data, 0)  # EncryptedPrivateKeyInfo SEQUENCE
    tag, a_start, a_end = _der_tlv(data, start)  # AlgorithmIdentifier SEQUENCE
    tag, o_start, o_end = _der_tlv(data, a_start)  # OID
    oid = _decode_oid(data[o_start:o_end])
    if oid != _JKS_KEY_PROTECTOR_OID:
        raise ValueError(f"key protected with {oid}, not the JKS key protector")
    tag, e_start, e_end = _der_tlv(data, a_end)
    protected = data[e_start:e_end]
    salt, body, check = protected[:20], protected[20:-20], protected[-20:]
    pw = _password_bytes(password)
    stream = bytearray()
    digest = salt
    while len(stream) < len(body):
        digest = hashlib.sha1(pw + digest).digest()
        stream += digest
    plain = bytes(b ^ k for b, k in zip(body, stream))
    if hashlib.sha1(pw + plain).digest() != check:
        raise ValueError("Cannot recover key (wrong key password)")
    return serialization.load_der_private_key(plain, password=None)


def _decode_oid(raw: bytes) -> str:
    parts = [raw[0] // 40, raw[0] % 40]
    value = 0
    for byte in raw[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(p) for p in parts)
