"""Which proxy the agent would use for each connection, modelled on remoting; and curl's choice.

The agent does not pick proxies the way curl does. Sources (jenkinsci/remoting at
fa5f12a8447d0f75e6d17d6b451a60c5e33ec09a):
- discovery request: ``JnlpAgentEndpointResolver.openURLConnection`` — JVM ``http.proxyHost`` /
  ``https.proxyHost`` if set, else env ``http_proxy`` for ``http://`` URLs only.
- raw TCP agent port: ``JnlpAgentEndpointResolver.getResolvedHttpProxyAddress`` — the JVM's
  ``ProxySelector`` for ``http://host:port`` (``http.proxyHost``), else env ``http_proxy`` (lower
  case only) — even when the Jenkins URL is https; reached with ``CONNECT``.
- WebSocket: ``Engine.runWebSocket`` — ``http.proxyHost`` else env ``proxy_host``, only for http.
- ``no_proxy``/``NO_PROXY``: ``hudson/remoting/NoProxyEvaluator.java`` and ``docs/no_proxy.md``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from jnlpdiag.httpclient import Proxy
from jnlpdiag.settings import Settings

DIRECT = "direct"


@dataclass(frozen=True)
class Route:
    proxy: Proxy | None
    why: str

    def describe(self) -> str:
        return f"proxy {self.proxy.host}:{self.proxy.port} ({self.why})" if self.proxy else f"direct ({self.why})"


def should_proxy(host: str, no_proxy: str | None) -> bool:
    """remoting's ``NoProxyEvaluator.shouldProxy``: loopback never, then the no_proxy entries."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return False
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None and ip.is_loopback:
        return False
    if not no_proxy:
        return True
    sep = "," if "," in no_proxy else "|"
    for raw in no_proxy.split(sep):
        entry = raw.strip().lower()
        if not entry:
            continue
        if ip is not None:
            try:
                if ip in ipaddress.ip_network(entry, strict=False):
                    return False
                continue
            except ValueError:
                pass
        # NoProxyEvaluator: stripLeadingStarDot(stripLeadingDot(entry)), in that order.
        entry = entry[1:] if entry.startswith(".") else entry
        entry = entry[2:] if entry.startswith("*.") else entry
        # A plain suffix match, as remoting does (so "jenkins.io" also matches "myjenkins.io").
        if entry and host.endswith(entry):
            return False
    return True


def _jvm_proxy(props: dict[str, str], scheme: str) -> Proxy | None:
    host = props.get(f"{scheme}.proxyHost")
    if not host:
        return None
    try:
        port = int(props.get(f"{scheme}.proxyPort") or (443 if scheme == "https" else 80))
    except ValueError:
        port = 80
    return Proxy(host, port)


def _env_http_proxy(settings: Settings) -> Proxy | None:
    # remoting reads System.getenv("http_proxy") only: an upper-case HTTP_PROXY is ignored.
    if settings.http_proxy and settings.origin("http_proxy") != "env HTTP_PROXY":
        try:
            return Proxy.parse(settings.http_proxy)
        except ValueError:
            return None
    return None


# The JDK's DefaultProxySelector default for http.nonProxyHosts when the property is not set.
_JDK_DEFAULT_NON_PROXY = "localhost|127.*|[::1]|0.0.0.0|[::0]"


def _jvm_non_proxy(host: str, props: dict[str, str]) -> bool:
    """``http.nonProxyHosts``: ``|``-separated, ``*`` wildcard at the start or end only."""
    spec = props.get("http.nonProxyHosts", _JDK_DEFAULT_NON_PROXY)
    host = host.lower()
    for pattern in spec.split("|"):
        pattern = pattern.strip().lower()
        if pattern.startswith("[") and pattern.endswith("]"):
            pattern = pattern[1:-1]
        if not pattern:
            continue
        if pattern.startswith("*") and host.endswith(pattern[1:]):
            return True
        if pattern.endswith("*") and host.startswith(pattern[:-1]):
            return True
        if host == pattern:
            return True
    return False


def agent_discovery_route(url_scheme: str, host: str, settings: Settings, props: dict[str, str]) -> Route:
    jvm = _jvm_proxy(props, url_scheme)
    if jvm is not None and not _jvm_non_proxy(host, props):
        return Route(jvm, f"JVM {url_scheme}.proxyHost")
    if props.get("http.proxyHost"):
        return Route(None, "JVM proxy settings in use; env ignored")
    if url_scheme == "http":
        env = _env_http_proxy(settings)
        if env and should_proxy(host, settings.no_proxy):
            return Route(env, "env http_proxy")
    return Route(None, "no proxy applies")


def agent_tcp_route(host: str, settings: Settings, props: dict[str, str]) -> Route:
    jvm = _jvm_proxy(props, "http")
    if jvm is not None and not _jvm_non_proxy(host, props):
        return Route(jvm, "JVM http.proxyHost (ProxySelector for http://host:port)")
    env = _env_http_proxy(settings)
    if env and should_proxy(host, settings.no_proxy):
        return Route(env, "env http_proxy, used by remoting for the raw TCP port")
    return Route(None, "no proxy applies")


def curl_route(url_scheme: str, host: str, settings: Settings) -> Route:
    """curl's choice: http_proxy for http, https_proxy/HTTPS_PROXY for https, and no_proxy."""
    value = settings.http_proxy if url_scheme == "http" else settings.https_proxy
    if value and should_proxy(host, settings.no_proxy):
        try:
            return Route(Proxy.parse(value), f"env {url_scheme}_proxy")
        except ValueError:
            pass
    return Route(None, "no proxy applies")
