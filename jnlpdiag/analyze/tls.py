"""Read the plaintext part of a TLS conversation from a reassembled byte stream.

Wire formats: records, ClientHello/ServerHello and extensions per RFC 8446 §4-5 (supported_versions
is extension 43, server_name 0, ALPN 16); TLS 1.2 Certificate per RFC 5246 §7.4.2; alerts per
RFC 8446 §6 (level, description). What is encrypted (TLS 1.3 certificates, alerts after the
handshake) is counted, not read. Names of alerts come from jnlpdiag/data/tls-alerts.json.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

VERSION_NAMES = {0x0300: "SSL 3.0", 0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}
# RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest.
_HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
_MAX_HANDSHAKE = 1 << 20


def version_name(v: int) -> str:
    return VERSION_NAMES.get(v, f"0x{v:04x}")


def _grease(v: int) -> bool:
    # RFC 8701: GREASE values are 0x?a?a with both bytes equal.
    return (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)


@cache
def alert_names() -> dict[int, dict[str, Any]]:
    data = json.loads(resources.files("jnlpdiag").joinpath("data/tls-alerts.json").read_text("utf-8"))
    return {int(a["code"]): a for a in data["alerts"]}


def looks_like_tls(data: bytes) -> bool:
    return len(data) >= 3 and data[0] in (0x15, 0x16) and data[1] == 0x03 and data[2] <= 0x04


@dataclass
class TlsAlert:
    level: str
    code: int
    name: str


@dataclass
class TlsSide:
    """What one direction of the conversation showed in clear."""

    records: int = 0
    hello: str | None = None  # "client_hello" | "server_hello" | "hello_retry_request"
    versions: list[str] = field(default_factory=list)  # offered (client) or chosen (server)
    legacy_version: str | None = None
    cipher_suite: int | None = None
    server_name: str | None = None
    alpn: list[str] = field(default_factory=list)
    certificates: list[bytes] = field(default_factory=list)
    alerts: list[TlsAlert] = field(default_factory=list)
    encrypted_records: int = 0
    change_cipher_spec: bool = False
    malformed: str | None = None


def _extensions(body: bytes) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    pos = 0
    while pos + 4 <= len(body):
        etype, elen = struct.unpack(">HH", body[pos:pos + 4])
        out[etype] = body[pos + 4:pos + 4 + elen]
        pos += 4 + elen
    return out


def _client_hello(msg: bytes, side: TlsSide) -> None:
    legacy = struct.unpack(">H", msg[:2])[0]
    pos = 2 + 32
    pos += 1 + msg[pos]  # session id
    (cs_len,) = struct.unpack(">H", msg[pos:pos + 2])
    pos += 2 + cs_len
    pos += 1 + msg[pos]  # compression methods
    side.hello = "client_hello"
    side.legacy_version = version_name(legacy)
    ext = _extensions(msg[pos + 2:pos + 2 + struct.unpack(">H", msg[pos:pos + 2])[0]]) if pos + 2 <= len(msg) else {}
    if 43 in ext and ext[43]:
        raw = ext[43][1:1 + ext[43][0]]
        versions = [struct.unpack(">H", raw[i:i + 2])[0] for i in range(0, len(raw) - 1, 2)]
        side.versions = [version_name(v) for v in versions if not _grease(v)]
    else:
        side.versions = [version_name(legacy)]
    if 0 in ext and len(ext[0]) > 5 and ext[0][2] == 0:
        (name_len,) = struct.unpack(">H", ext[0][3:5])
        side.server_name = ext[0][5:5 + name_len].decode("ascii", "replace")
    if 16 in ext and len(ext[16]) > 2:
        raw, pos2 = ext[16][2:], 0
        while pos2 < len(raw):
            n = raw[pos2]
            side.alpn.append(raw[pos2 + 1:pos2 + 1 + n].decode("ascii", "replace"))
            pos2 += 1 + n


def _server_hello(msg: bytes, side: TlsSide) -> None:
    legacy = struct.unpack(">H", msg[:2])[0]
    side.hello = "hello_retry_request" if msg[2:34] == _HRR_RANDOM else "server_hello"
    pos = 2 + 32
    pos += 1 + msg[pos]
    side.cipher_suite = struct.unpack(">H", msg[pos:pos + 2])[0]
    pos += 3
    ext = _extensions(msg[pos + 2:pos + 2 + struct.unpack(">H", msg[pos:pos + 2])[0]]) if pos + 2 <= len(msg) else {}
    side.legacy_version = version_name(legacy)
    chosen = struct.unpack(">H", ext[43][:2])[0] if 43 in ext and len(ext[43]) >= 2 else legacy
    side.versions = [version_name(chosen)]
    if 16 in ext and len(ext[16]) > 3:
        side.alpn = [ext[16][3:3 + ext[16][2]].decode("ascii", "replace")]


def _certificates(msg: bytes, side: TlsSide) -> None:
    total = int.from_bytes(msg[:3], "big")
    pos = 3
    while pos + 3 <= min(len(msg), 3 + total):
        n = int.from_bytes(msg[pos:pos + 3], "big")
        side.certificates.append(msg[pos + 3:pos + 3 + n])
        pos += 3 + n


def parse(data: bytes) -> TlsSide:
    """Parse one direction: records from the start of ``data`` (which must be TLS)."""
    side = TlsSide()
    handshake = bytearray()
    pos = 0
    while pos + 5 <= len(data):
        ctype, _ver, length = struct.unpack(">BHH", data[pos:pos + 5])
        if ctype not in (20, 21, 22, 23, 24) or length > 18432:
            side.malformed = f"not a TLS record at byte {pos} (type {ctype}, length {length})"
            break
        body = data[pos + 5:pos + 5 + length]
        pos += 5 + length
        side.records += 1
        if ctype == 20:
            side.change_cipher_spec = True
        elif ctype == 21:
            if len(body) == 2:  # an encrypted alert is longer (it carries a MAC or an AEAD tag)
                info = alert_names().get(body[1])
                side.alerts.append(TlsAlert("fatal" if body[0] == 2 else "warning" if body[0] == 1 else str(body[0]),
                                            body[1], info["name"] if info else f"unknown_{body[1]}"))
            else:
                side.encrypted_records += 1
        elif ctype == 23:
            side.encrypted_records += 1
        elif ctype == 22:
            if side.change_cipher_spec:
                side.encrypted_records += 1  # after ChangeCipherSpec, handshake messages are encrypted
                continue
            handshake += body
            if len(handshake) > _MAX_HANDSHAKE:
                side.malformed = "handshake larger than 1 MiB"
                break
    hpos = 0
    try:
        while hpos + 4 <= len(handshake):
            mtype = handshake[hpos]
            mlen = int.from_bytes(handshake[hpos + 1:hpos + 4], "big")
            if hpos + 4 + mlen > len(handshake):
                break  # the rest came after the capture ended
            msg = bytes(handshake[hpos + 4:hpos + 4 + mlen])
            if mtype == 1:
                _client_hello(msg, side)
            elif mtype == 2:
                _server_hello(msg, side)
            elif mtype == 11:
                _certificates(msg, side)
            hpos += 4 + mlen
    except (struct.error, IndexError) as exc:
        side.malformed = f"malformed handshake message: {exc}"
    return side


def certificate_summary(der: bytes) -> dict[str, Any]:
    """Subject, issuer, validity and SANs of a DER certificate (empty dict when unreadable)."""
    try:
        from cryptography import x509

        cert = x509.load_der_x509_certificate(der)
        # cryptography parses fields lazily: a damaged certificate fails here, not at load time.
        out: dict[str, Any] = {
            "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "not_before": cert.not_valid_before_utc.isoformat(),
            "not_after": cert.not_valid_after_utc.isoformat(),
            "self_signed": cert.subject == cert.issuer,
        }
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            out["dns_names"] = san.get_values_for_type(x509.DNSName)
        except x509.ExtensionNotFound:
            pass
    except Exception as exc:  # a cut or damaged certificate in a capture is data, not a crash
        return {"unreadable": f"{type(exc).__name__}: {str(exc)[:120]}"}
    return out
