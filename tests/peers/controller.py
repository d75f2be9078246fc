"""Jenkins' HTTP discovery surface served by a real nginx, for discovery-probe tests.

Headers as core sends them: ``Functions.advertiseHeaders`` (X-Jenkins, X-Hudson, X-Jenkins-Session;
sent even on the anonymous 403) and ``hudson/TcpSlaveAgentListener/index.jelly`` (X-Hudson-JNLP-Port,
X-Jenkins-JNLP-Port, optional X-Jenkins-JNLP-Host, X-Instance-Identity, X-Jenkins-Agent-Protocols,
X-Remoting-Minimum-Version; body "Jenkins", text/plain).
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def identity_b64() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def jenkins_server(port: int, agent_port: int | str, identity: str, *, version: str = "2.479.3",
                   session: str = "6c0d7a58", protocols: str = "JNLP4-connect, Ping",
                   min_remoting: str = "3107.v665000b_51092", listener: str = "ok", agent_host: str | None = None,
                   tls: tuple[str, str] | None = None, host: str = "127.0.0.1", extra: str = "") -> str:
    """An nginx server{} block. ``listener``: ok | disabled (404) | stripped (200, no headers) | sso (403 page)."""
    listen = f"listen {host}:{port}" + (" ssl" if tls else "") + ";"
    tls_conf = f"ssl_certificate {tls[0]}; ssl_certificate_key {tls[1]};" if tls else ""
    jnlp_host = f'add_header X-Jenkins-JNLP-Host "{agent_host}" always;' if agent_host else ""
    advertise = (f'add_header X-Hudson "1.395" always; add_header X-Jenkins "{version}" always; '
                 f'add_header X-Jenkins-Session "{session}" always;')
    listener_block = {
        "ok": f"""
            add_header X-Hudson-JNLP-Port "{agent_port}" always;
            add_header X-Jenkins-JNLP-Port "{agent_port}" always;
            {jnlp_host}
            add_header X-Instance-Identity "{identity}" always;
            add_header X-Jenkins-Agent-Protocols "{protocols}" always;
            add_header X-Remoting-Minimum-Version "{min_remoting}" always;
            default_type "text/plain;charset=UTF-8";
            return 200 "Jenkins";""",
        "disabled": 'default_type "text/html"; return 404 "<html><body>Not Found</body></html>";',
        "stripped": 'default_type "text/plain;charset=UTF-8"; return 200 "Jenkins";',
        "sso": 'default_type "text/html"; return 403 "<html><head><title>Sign in - Corp SSO</title></head></html>";',
    }[listener]
    return f"""
server {{
    {listen}
    server_name localhost;
    {tls_conf}
    {extra}
    location = /tcpSlaveAgentListener/ {{ {listener_block} }}
    location / {{
        {advertise}
        add_header X-Instance-Identity "{identity}" always;
        default_type "text/html";
        return 403 "<html><head><title>Sign in [Jenkins]</title></head></html>";
    }}
}}
"""


def plain_site(port: int, host: str = "127.0.0.1") -> str:
    return f"""
server {{
    listen {host}:{port};
    location / {{ default_type "text/html"; return 200 "<html><head><title>Welcome to nginx!</title></head></html>"; }}
}}
"""
