"""A controller that puts terminal escapes into every field the tool shows (issue: outside text
reaching the terminal raw).

It is the transport suite's byte-exact controller (tests/transport/jnlp4_controller.py) with hostile
text in what a controller controls: the ``X-Jenkins`` version, ``X-Jenkins-JNLP-Host``, the JNLP4
refusal (remoting ``JnlpProtocol4Handler`` sends ``ERROR: <reason>`` as the connection-header
verdict), the subject of the certificate on the agent port and on HTTPS, and a redirect ``Location``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.transport.jnlp4_controller import Controller, Identity, _response

# Window title (OSC 0 ... BEL), clear screen (CSI 2J), C1 CSI, and the RTL override U+202E.
EVIL = "\x1b]0;PWNED-TITLE\x07\x1b[2J\x9b31m\u202eevil"
# HTTP header values travel as bytes: the same escapes, U+202E as its UTF-8 bytes read as latin-1.
EVIL_HEADER = EVIL.replace("\u202e", "\u202e".encode().decode("latin-1"))


def evil_identity(instance_secret: bytes) -> Identity:
    """The instance identity certificate with escapes in its subject (CN, O, OU)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"instances{EVIL}"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"jenkins.io{EVIL}"),
        x509.NameAttribute(NameOID.COMMON_NAME, hashlib.md5(instance_secret).hexdigest()[:20] + EVIL),  # noqa: S324
    ])
    now = dt.datetime.now(dt.timezone.utc)  # noqa: UP017 - Python 3.9 has no datetime.UTC
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=366))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    return Identity(key=key, cert_pem=cert.public_bytes(serialization.Encoding.PEM),
                    key_pem=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))


def _force(response: Any, name: str, value: str) -> Any:
    """Set a header the websockets library would refuse (it rejects control characters in values):
    the point of this peer is to send the bytes a well-behaved server never would."""
    headers = response.headers
    headers._list = [(k, v) for k, v in headers._list if k.lower() != name.lower()] + [(name, value)]
    headers._dict[name.lower()] = [value]
    return response


class EvilController(Controller):
    """``EvilController(tmp, https=False, advertise_host=False)``: escapes everywhere it can put them."""

    def __init__(self, tmp: Path, *, https: bool = False, advertise_host: bool = False, **kw: Any) -> None:
        http_tls = None
        identity = evil_identity(secrets.token_bytes(32))
        if https:
            pem = tmp / "evil-https.pem"
            pem.write_bytes(identity.cert_pem + identity.key_pem)
            http_tls = (str(pem), str(pem))
        super().__init__(http_tls=http_tls, **kw)
        self.identity = self.tls_identity = identity
        self.advertise_evil_host = advertise_host

    def _process_request(self, connection: Any, request: Any) -> Any:
        path = urlsplit(request.path).path
        if "/computer/" in path or path == "/login":
            return _force(_response(302, "", "text/html", []), "Location", f"{self.url}login{EVIL_HEADER}")
        response = super()._process_request(connection, request)
        if response is not None and path == "/":
            _force(response, "X-Jenkins", f"2.504.1{EVIL_HEADER}")
        if response is not None and path == "/tcpSlaveAgentListener/" and self.advertise_evil_host:
            _force(response, "X-Jenkins-JNLP-Host", f"agents{EVIL_HEADER}")
        return response

    def _judge(self, headers: dict[str, Any], conn: Any) -> str:
        return f"ERROR: Unknown client name{EVIL}"


def reflected_forms(secret: str) -> dict[str, str]:
    """Every form in which a peer can echo the agent secret back (issue: reflected secrets)."""
    raw = secret.encode()
    return {
        "upper": secret.upper(),
        "hex": "0x" + raw.hex(),
        "HEX": "0X" + raw.hex().upper(),
        "first-half": secret[:32],  # the AES key of the agent file
        "second-half": secret[32:],
        "run16": secret[20:36],
        "base64": base64.b64encode(raw).decode(),
        "base64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "base64-of-bytes": base64.b64encode(bytes.fromhex(secret)).decode(),
        "base64url-of-bytes": base64.urlsafe_b64encode(bytes.fromhex(secret)).decode(),
        "urlenc": "".join(f"%{b:02X}" for b in raw),
    }


class ReflectingController(Controller):
    """Refuses every agent with a reason that echoes the Secret-Key it was sent in every form (and as
    the ``X-Jenkins`` version and a ``Location``, where a proxy could put it)."""

    def _judge(self, headers: dict[str, Any], conn: Any) -> str:
        given = str(headers.get("Secret-Key") or "")
        forms = " ".join(f"{k}={v}" for k, v in reflected_forms(given).items()) if given else "no secret"
        return f"ERROR: secret rejected: {forms}"
