"""HTTPS as the agent: the client TLS context every request the tool makes on the agent's behalf
uses (discovery, the JNLP file, WebSocket, the agent.jar download, the tls.* probes), carrying the
certificate the agent's JVM would present.

agent.jar presents its JVM's key store only through the JVM's *default* SSLContext. With
``-noCertificateCheck`` or ``-cert`` it builds its own context with no key managers (remoting
``Engine.getSSLContext``: ``context.init(null, trustManagers, ...)``), so it presents no client
certificate at all; the tool does the same, and says so.
"""

from __future__ import annotations

import os
import secrets
import ssl
import tempfile
import threading
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import hashes, serialization

from jnlpdiag.httpclient import client_ssl_context
from jnlpdiag.tls.keystore import AgentIdentity, KeyEntry

if TYPE_CHECKING:
    from jnlpdiag.agent import AgentView


def keystore_bypassed(settings: Any, ident: AgentIdentity | None) -> str | None:
    """Why agent.jar would not present its JVM's key store over HTTPS (None: it would)."""
    if ident is None or ident.source == "--client-cert":
        return None
    if settings.no_certificate_check:
        return "agent.jar -noCertificateCheck replaces the JVM's default SSL context with one that has no key store"
    if settings.agent_certs:
        return "agent.jar -cert replaces the JVM's default SSL context with one that has no key store"
    return None


def presented_entry(agent: AgentView, ca_names: list[str] | None = None) -> KeyEntry | None:
    """The key entry the agent presents over HTTPS (None: no certificate)."""
    ident = agent.client_identity()
    if ident is None or ident.error or keystore_bypassed(agent.settings, ident):
        return None
    return ident.choose(ca_names)


_CONTEXTS: dict[tuple[Any, ...], ssl.SSLContext] = {}
_LOCK = threading.Lock()


def agent_ssl_context(agent: AgentView, verify: bool = True) -> ssl.SSLContext:
    """The shared client context (system CAs plus ``--ca-file``) with the agent's certificate."""
    settings = agent.settings
    entry = presented_entry(agent)
    if entry is None:
        return client_ssl_context(settings.ca_file, verify)
    leaf = entry.chain[0].fingerprint(hashes.SHA256())
    key = (settings.ca_file, verify, leaf, id(entry.key))
    with _LOCK:
        found = _CONTEXTS.get(key)
        if found is None:
            found = _CONTEXTS[key] = _build(settings.ca_file, verify, entry)
        return found


def _build(ca_file: str | None, verify: bool, entry: KeyEntry) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    load_entry(context, entry)
    return context


def load_entry(context: ssl.SSLContext, entry: KeyEntry) -> None:
    """Put a key entry into an ``ssl`` context. The ``ssl`` module loads keys from files only: the
    chain and the key (encrypted with a one-time password) go to a private temporary directory
    that is removed as soon as they are loaded."""
    password = secrets.token_hex(16).encode()
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in entry.chain)
    key = entry.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )
    with tempfile.TemporaryDirectory(prefix="jnlpdiag-identity-") as tmp:
        cert_file, key_file = os.path.join(tmp, "chain.pem"), os.path.join(tmp, "key.pem")
        for path, data in ((cert_file, chain), (key_file, key)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        context.load_cert_chain(cert_file, key_file, password=password)
