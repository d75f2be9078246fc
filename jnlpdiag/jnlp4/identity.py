"""The controller's instance identity: the key the agent pins the JNLP4 TLS certificate to.

- remoting ``org/jenkinsci/remoting/protocol/cert/PublicKeyMatchingX509ExtendedTrustManager.java``
  accepts the chain iff ``chain[0].getPublicKey().getEncoded()`` equals the trusted key's DER (the
  X.509 SubjectPublicKeyInfo); no CA, hostname or date check.
- remoting ``org/jenkinsci/remoting/util/KeyUtils.java`` ``fingerprint``: MD5 of that DER, lowercase
  hex pairs joined by ``:`` (what the agent logs as ``Remote identity confirmed: <fp>``).
- remoting ``JnlpEndpointResolver.getIdentity``: the header / ``-instanceIdentity`` value is the
  base64 of that DER, an RSA key.
(All at commit fa5f12a8447d0f75e6d17d6b451a60c5e33ec09a.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_der_public_key


class IdentityError(ValueError):
    pass


def fingerprint(spki_der: bytes) -> str:
    return ":".join(f"{b:02x}" for b in hashlib.md5(spki_der).digest())  # noqa: S324 - remoting's format


def decode(value: str) -> bytes:
    """SubjectPublicKeyInfo DER of a base64 identity, or IdentityError saying why it is invalid."""
    try:
        der = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise IdentityError("not valid base64") from None
    try:
        key = load_der_public_key(der)
    except (ValueError, TypeError, UnsupportedAlgorithm):  # the last: a key type OpenSSL does not know
        raise IdentityError("not a DER SubjectPublicKeyInfo") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise IdentityError("not an RSA key")
    return der


def spki_of_certificate(cert_der: bytes) -> bytes:
    """The certificate's SubjectPublicKeyInfo DER; IdentityError for what cannot be read."""
    try:
        cert = x509.load_der_x509_certificate(cert_der)
        return cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion) as exc:
        raise IdentityError(f"unreadable certificate key: {exc}"[:200]) from None


def subject_of_certificate(cert_der: bytes) -> str:
    try:
        return x509.load_der_x509_certificate(cert_der).subject.rfc4514_string()
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion) as exc:
        raise IdentityError(f"unreadable certificate subject: {exc}"[:200]) from None


def matches(spki_der: bytes, expected_der: bytes) -> bool:
    """``KeyUtils.equals``: byte equality of the encoded keys."""
    return spki_der == expected_der
