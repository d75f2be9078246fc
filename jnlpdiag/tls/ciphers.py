"""Cipher-suite names: OpenSSL's (what pyOpenSSL reports) and IANA's (what Java and RFCs use)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    data = json.loads(resources.files("jnlpdiag").joinpath("data/tls-cipher-names.json").read_text("utf-8"))
    return dict(data["openssl_to_iana"])


def iana(openssl_name: str) -> str:
    """IANA name of an OpenSSL cipher name; TLS 1.3 names (and unknown ones) are returned as-is."""
    return _table().get(openssl_name, openssl_name)


@lru_cache(maxsize=1)
def _java_aliases() -> dict[str, str]:
    data = json.loads(resources.files("jnlpdiag").joinpath("data/jdk-tls.json").read_text("utf-8"))
    return dict(data["java_names_to_iana"])


def java_to_iana(java_name: str) -> str:
    """Java still calls a few suites ``SSL_*``; their IANA name starts with ``TLS_``."""
    return _java_aliases().get(java_name, java_name)
