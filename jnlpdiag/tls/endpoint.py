"""Which TLS endpoints a run checks, and how to reach them.

The agent speaks TLS, judged by its JVM's trust store, on the HTTPS Jenkins URL (discovery,
``/tcpSlaveAgentListener/``, the JNLP file) and on the ``wss://`` URL of WebSocket mode, which is
the same origin. The JNLP4 TCP port is not such an endpoint: its TLS runs inside the protocol,
after the ACK, and is pinned to the instance identity instead of a CA (remoting
``JnlpProtocol4Handler``; see the jnlp4.* probes), so a ``-tunnel``/``-direct`` endpoint is not a
``tls.*`` target. When discovery ended on another HTTPS origin (a redirect), that origin is checked
too, because the agent follows the URL it was given, and a mismatch is worth seeing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from jnlpdiag.settings import Settings


@dataclass(frozen=True)
class Endpoint:
    url: str
    host: str
    port: int
    label: str

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
            return True
        except ValueError:
            return False

    @property
    def sni(self) -> str | None:
        """What curl, browsers and Python send as SNI: the host name, never an IP literal."""
        return None if self.is_ip else self.host

    @property
    def java_sni(self) -> str | None:
        """What SunJSSE sends: only names with a dot inside (``Utilities.rawToSNIHostName``)."""
        host = self.host[:-1] if self.host.endswith(".") else self.host
        if self.is_ip or "." not in host or host.startswith("."):
            return None
        return host

    @property
    def hostport(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _https(url: str | None, label: str) -> Endpoint | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("https", "wss") or not parts.hostname:
        return None
    try:
        port = parts.port or 443
    except ValueError:
        return None
    return Endpoint(url=url, host=parts.hostname, port=port, label=label)


def tls_endpoints(settings: Settings, final_url: str | None) -> tuple[list[Endpoint], str]:
    """(endpoints, why none) from the settings and the URL discovery ended on (after redirects)."""
    url = settings.url
    if not url:
        return [], "no Jenkins URL is known (give --url, or run where the agent's settings can be read)"
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        return [], f"the Jenkins URL {url!r} is neither http:// nor https://"
    endpoints: list[Endpoint] = []
    main = _https(url, "Jenkins URL" + (" and its wss:// WebSocket endpoint" if settings.websocket else ""))
    if main:
        endpoints.append(main)
    final = _https(final_url, "Jenkins URL after redirects")
    if final and (final.host.lower(), final.port) not in {(e.host.lower(), e.port) for e in endpoints}:
        endpoints.append(final)
    if not endpoints:
        mode = "ws://" if settings.websocket else "http://"
        return [], f"the Jenkins URL is http:// ({url}), so the agent uses no TLS here (plain {mode})"
    return endpoints, ""


async def resolve(host: str, port: int, timeout: float) -> list[tuple[Any, ...]]:
    """(family, sockaddr) pairs in the JVM's order: IPv4 first (``java.net.preferIPv6Addresses=false``).

    The lookup itself is the one resolver, :func:`jnlpdiag.httpclient.resolve`; only the order is the JVM's.
    """
    from jnlpdiag.httpclient import resolve as lookup  # where used: tls.versions (benchmarked) needs no HTTP client

    infos = await asyncio.wait_for(lookup(host, port), timeout)
    seen: set[Any] = set()
    out: list[tuple[Any, ...]] = []
    for family, _type, _proto, _canon, sockaddr in sorted(infos, key=lambda i: i[0] != socket.AF_INET):
        if sockaddr in seen:
            continue
        seen.add(sockaddr)
        out.append((family, sockaddr))
    return out
