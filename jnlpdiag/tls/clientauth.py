"""Two-way TLS, whichever layer enforces it: what a server's answer says about client certificates,
and how a server will judge the certificate the agent presents.

A server can refuse a client without a (good) certificate in four places: the handshake (an
alert), right after a TLS 1.3 handshake (the alert comes with the first read, RFC 8446 4.4.2.4),
the HTTP layer of a front (nginx completes the handshake with ``ssl_verify_client on`` and answers
400; Apache httpd 403) or a proxy's own page. Only a normal Jenkins answer (``X-Jenkins``) to a
request without a certificate proves that one is not required. The fronts' texts are data
(``data/client-auth-answers.json``, with sources).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from cryptography import x509

from jnlpdiag.tls import certs
from jnlpdiag.tls.handshake import Result
from jnlpdiag.tls.keystore import KeyEntry, extended_key_usage, key_usage


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    text = resources.files("jnlpdiag").joinpath("data/client-auth-answers.json").read_text("utf-8")
    return dict(json.loads(text))


@dataclass
class Answer:
    """What one request (with or without a certificate) got."""

    # jenkins: a Jenkins answer (X-Jenkins); answered: a 2xx/3xx answer, so nothing refused the
    # request; refused: a layer refused the client; other: an answer that proves neither; failed
    kind: str
    layer: str | None = None  # handshake, post-handshake, http
    reason: str = ""  # one line: what the server did
    refusal: str | None = None  # missing (no certificate) / refused (the certificate was rejected)
    front: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "layer": self.layer, "reason": self.reason, "refusal": self.refusal, "front": self.front}


_ALERT = re.compile(r"alert[ _]([a-z][a-z _]*)")


def alert_name(error: str | None) -> str | None:
    """``tlsv13 alert certificate required`` (OpenSSL's reason text, also inside Python's
    ``[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] ...``) -> ``certificate_required``, when it is an
    alert that refuses a client certificate."""
    for m in _ALERT.finditer((error or "").lower()):
        name = m.group(1).strip().replace(" ", "_")
        if name in _data()["alerts"]:
            return name
    return None


def http_refusal(status: int, headers: dict[str, str], body: str) -> Answer | None:
    """A front's HTTP answer that names a client-certificate refusal (data/client-auth-answers.json).
    ``headers`` with lower-case names."""
    if _is_jenkins(headers):
        return None
    low = body.lower()
    for sig in _data()["signatures"]:
        if sig["status"] == status and sig["text"].lower() in low:
            said = f'"{sig["text"]}"' if sig["text"] else ""
            return Answer("refused", "http", f"{sig['front']} answers {status} {said}".rstrip(), sig["refusal"], sig["front"])
    return None


def _is_jenkins(headers: dict[str, str]) -> bool:
    return "x-jenkins" in headers or "x-hudson" in headers


def _status(line: str | None) -> int | None:
    parts = (line or "").split(" ", 2)
    if len(parts) >= 2 and parts[1].isascii() and parts[1].isdigit():
        return int(parts[1])
    return None


def classify(result: Result, *, sent_certificate: bool) -> Answer:
    """Read one handshake-plus-request result (handshake.handshake with ``http_host`` set)."""
    missing_or_refused = "refused" if sent_certificate else "missing"
    if not result.ok:
        alert = alert_name(result.error)
        if result.cert_requested or (alert and alert != "handshake_failure") or (sent_certificate and alert):
            reason = f"the handshake fails with alert {alert}" if alert else f"the handshake fails: {result.error}"
            return Answer("refused", "handshake", reason, missing_or_refused)
        return Answer("failed", "handshake", f"the handshake fails: {result.error}")
    if result.after_alert:
        alert = alert_name(result.after_error) or result.after_error
        return Answer("refused", "post-handshake", f"alert {alert} after the handshake", missing_or_refused)
    status = _status(result.http_status)
    if status is None:
        return Answer("other", "http", result.after_error or "no HTTP answer after the handshake")
    if _is_jenkins(result.http_headers):
        return Answer("jenkins", "http", f"Jenkins answers {result.http_status}")
    if 200 <= status < 400:
        return Answer("answered", "http", f"the server answers {result.http_status}")
    named = http_refusal(status, result.http_headers, result.http_body)
    if named is not None:
        return named
    server = result.http_headers.get("server", "")
    who = f"{server} " if server else "the front "
    if result.cert_requested and status in (400, 401, 403, 495, 496):
        # A front that asked for a certificate and answers with its own error page, not Jenkins'.
        return Answer(
            "refused", "http", f"{who}answers {result.http_status} (not Jenkins: no X-Jenkins header)",
            missing_or_refused, server or None,
        )
    return Answer("other", "http", f"{who}answers {result.http_status} (not Jenkins: no X-Jenkins header)")


# --- the certificate as the server will judge it ----------------------------------------------


@dataclass
class Problem:
    code: str  # other_ca, expired, not_yet_valid, eku, key_usage
    message: str


def _issuers(entry: KeyEntry) -> list[str]:
    return [certs.name_str(c.issuer) for c in entry.chain]


def judge(entry: KeyEntry, ca_names: list[str], now: dt.datetime | None = None) -> list[Problem]:
    """What the server (and the JVM choosing a certificate for it) will hold against ``entry``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    leaf: x509.Certificate = entry.chain[0]
    out: list[Problem] = []
    if ca_names and not set(_issuers(entry)) & set(ca_names):
        out.append(
            Problem(
                "other_ca",
                f"it is issued by {certs.name_str(leaf.issuer)}, not by a CA the server names "
                f"({'; '.join(ca_names)}), so the agent's JVM does not send it",
            )
        )
    if certs.not_after(leaf) < now:
        out.append(Problem("expired", f"it expired on {certs.not_after(leaf):%Y-%m-%d %H:%M} UTC"))
    elif certs.not_before(leaf) > now:
        out.append(Problem("not_yet_valid", f"it is valid only from {certs.not_before(leaf):%Y-%m-%d %H:%M} UTC"))
    eku = extended_key_usage(leaf)
    if eku is not None and "clientAuth" not in eku:
        out.append(
            Problem("eku", f"its extended key usage is {', '.join(eku) or 'empty'}, without clientAuth")
        )
    ku = key_usage(leaf)
    if ku is not None and "digitalSignature" not in ku:
        out.append(Problem("key_usage", f"its key usage is {', '.join(ku) or 'empty'}, without digitalSignature"))
    return out
