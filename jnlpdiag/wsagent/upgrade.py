"""One WebSocket upgrade to ``<url>wsagents/`` the way agent.jar makes it, and what came back.

remoting ``hudson/remoting/Engine.java`` ``runWebSocket`` (commit
fa5f12a8447d0f75e6d17d6b451a60c5e33ec09a): URL = ``url.replaceFirst("^http", "ws") + "wsagents/"``;
headers ``Node-Name``, ``Secret-Key``, ``X-Remoting-Capability`` (plus ``Connection-Cookie`` on
reconnects, which this tool never sends); proxy = JVM ``http.proxyHost`` else env ``proxy_host``,
only for ``http`` URLs that ``NoProxyEvaluator`` lets through. The server side is core
``jenkins/agents/WebSocketAgents.java`` and ``websocket/jetty12-ee9/.../Jetty12EE9Provider.java``
(jenkinsci/jenkins ff9430ee1dc6e319349a488650d914444fe141f3); their refusal texts are in
``data/transport-fixes.json``.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

from jnlpdiag.jnlp4.catalog import data
from jnlpdiag.neterrors import classify
from jnlpdiag.pycompat import Timeouts

# Reverse proxies name themselves in Server / Via.
_PROXIES = (("nginx", "nginx"), ("apache", "apache"), ("httpd", "apache"), ("haproxy", "haproxy"),
            ("envoy", "envoy"), ("istio", "envoy"), ("traefik", "traefik"), ("caddy", "caddy"),
            ("cloudflare", "cloudflare"), ("awselb", "aws-elb"), ("squid", "squid"), ("varnish", "varnish"))


def ws_url(url: str) -> str:
    base = url if url.endswith("/") else url + "/"
    return ("ws" + base[4:] if base.startswith("http") else base) + "wsagents/"


@dataclass
class Attempt:
    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    error_kind: str | None = None  # reset, closed, timeout, refused, dns, tls, proxy, protocol, ...
    error: str | None = None
    connection: Any = None  # an open websockets ClientConnection after a 101
    http_version: str = "HTTP/1.1"
    elapsed_ms: float = 0.0

    @property
    def upgraded(self) -> bool:
        return self.status == 101 and self.connection is not None


async def attempt(url: str, headers: dict[str, str], *, ssl_context: ssl.SSLContext | None, proxy: str | None,
                  timeout: float, ping_interval: float | None = 30.0, user_agent: str | None = None) -> Attempt:
    """Try the upgrade; never raises for network or HTTP outcomes, they are in the result."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidMessage, InvalidProxyStatus, InvalidStatus, InvalidUpgrade, ProxyError

    result = Attempt(url=url)
    t0 = time.monotonic()
    kwargs: dict[str, Any] = {"additional_headers": headers, "proxy": proxy, "open_timeout": timeout,
                              "ping_interval": ping_interval, "ping_timeout": timeout, "close_timeout": 1,
                              "user_agent_header": user_agent, "compression": None}
    if url.startswith("wss:"):
        kwargs["ssl"] = ssl_context
    connector: Any = None
    try:
        connector = _no_redirects(connect)(url, **kwargs)
        result.connection = await connector
        result.status = 101
        response = result.connection.response
        result.headers = {k: v for k, v in response.headers.raw_items()} if response else {}
    except InvalidStatus as exc:
        result.status = exc.response.status_code
        result.headers = dict(exc.response.headers.raw_items())
        result.body = (exc.response.body or b"")[:8192].decode("utf-8", "replace")
    except InvalidProxyStatus as exc:
        result.error_kind, result.error = "proxy", f"proxy answered {exc.response.status_code}"
        result.headers = dict(exc.response.headers.raw_items())
    except InvalidUpgrade as exc:
        result.error_kind, result.error = "protocol", f"invalid upgrade response: {exc}"
    except (InvalidMessage, ProxyError) as exc:
        cause = exc.__cause__ or exc.__context__
        old_http = _old_http_status(cause)
        if old_http is not None and not isinstance(exc, ProxyError):
            # An HTTP/1.0 answer (python -m http.server, some gateways) is an answer, not a network
            # failure: the library only accepts HTTP/1.1, so read the status from its message.
            result.status, result.http_version = old_http
        elif isinstance(cause, (OSError, EOFError, asyncio.IncompleteReadError)) or cause is None:
            kind, msg = classify(cause) if isinstance(cause, OSError) else ("closed", "connection closed")
            result.error_kind, result.error = kind, f"{msg} before a complete HTTP response"
        else:
            result.error_kind, result.error = "protocol", str(exc)
        if isinstance(exc, ProxyError):
            result.error_kind = "proxy"
    except Timeouts:
        # The library stops parsing a response it refuses (an endless or oversized body) and then
        # waits for the server to close: that is a bad answer, not a silent peer.
        refused = getattr(getattr(getattr(connector, "last", None), "protocol", None), "handshake_exc", None)
        if refused is not None:
            result.error_kind = "protocol"
            result.error = f"invalid HTTP response to the upgrade: {refused.__cause__ or refused}"
        else:
            result.error_kind, result.error = "timeout", f"no complete handshake within {timeout:g} s"
    except ssl.SSLError as exc:
        result.error_kind, result.error = classify(exc)
    except OSError as exc:
        result.error_kind, result.error = classify(exc)
    except Exception as exc:  # the library's own errors (bad URI, ...) become a result, not a traceback
        result.error_kind, result.error = "protocol", f"{type(exc).__name__}: {exc}"
    result.elapsed_ms = (time.monotonic() - t0) * 1000
    return result


def _old_http_status(cause: BaseException | None) -> tuple[int, str] | None:
    """(status, version) from websockets' "unsupported protocol; expected HTTP/1.1: HTTP/1.0 404 ..."."""
    m = re.search(r"expected HTTP/1\.1: (HTTP/1\.0) (\d{3})\b", str(cause or ""))
    return (int(m.group(2)), m.group(1)) if m else None


def _no_redirects(connect: Any) -> Any:
    """``connect`` that reports a redirect instead of following it.

    agent.jar's Tyrus client follows none (remoting ``Engine.runWebSocket`` sets only PROXY_URI,
    PROXY_HEADERS and SSL_ENGINE_CONFIGURATOR; Tyrus ``ClientProperties.REDIRECT_ENABLED`` defaults to
    false), and following one would carry ``Secret-Key`` to whatever host the redirect names: the
    library strips only Authorization/Cookie headers on a cross-origin redirect.
    """

    class NoRedirects(connect):  # type: ignore[misc,valid-type]
        last: Any = None  # the connection being opened, to tell why a handshake timed out

        def process_redirect(self, exc: Exception) -> Exception:
            return exc

        async def open_tcp_connection(self) -> Any:
            self.last = await super().open_tcp_connection()
            return self.last

    return NoRedirects


def jenkins_text(body: str) -> tuple[str, str] | None:
    """(meaning, text) when the body carries one of Jenkins' own /wsagents/ refusal texts."""
    for entry in data()["websocket"]["jenkins_texts"]:
        if entry["text"] in body:
            return entry["meaning"], entry["text"]
    return None


def status_meaning(status: int) -> str | None:
    value = data()["websocket"]["proxy_statuses"].get(str(status))
    return str(value) if value else None


def proxy_name(headers: dict[str, str]) -> tuple[str | None, str | None]:
    """(kind, header value) of a reverse proxy named by Server or Via."""
    for name in ("Server", "Via", "server", "via"):
        value = headers.get(name) or ""
        low = value.lower()
        for needle, kind in _PROXIES:
            if needle in low:
                return kind, value[:80]
    return None, None


async def hold(connection: Any, seconds: float) -> tuple[float | None, int | None, str]:
    """Keep an accepted connection open (the library answers and sends pings) for ``seconds``.

    Returns (seconds until it was cut or None if it lasted, close code, how it ended).
    """
    t0 = time.monotonic()
    try:
        await asyncio.wait_for(connection.wait_closed(), seconds)
    except Timeouts:
        return None, None, "still open"
    elapsed = time.monotonic() - t0
    # websockets keeps the close frames and any error it met reading the peer's frames on the
    # Sans-I/O protocol object (websockets.protocol.Protocol: close_rcvd, close_sent, parser_exc).
    protocol = getattr(connection, "protocol", None)
    rcvd = getattr(protocol, "close_rcvd", None)
    sent = getattr(protocol, "close_sent", None)
    error = getattr(protocol, "parser_exc", None)
    if error is not None:
        # The peer broke RFC 6455 (a frame over the size limit, a close code no endpoint may send,
        # ...); the library closed with 1009 or 1002.
        code = sent.code if sent is not None else connection.close_code
        return elapsed, code, f"the peer broke the WebSocket protocol ({error}); closed with {code}"
    if rcvd is not None:
        reason = f" {rcvd.reason}" if rcvd.reason else ""
        return elapsed, rcvd.code, f"closed by the peer with code {rcvd.code}{reason}"
    return elapsed, connection.close_code, "cut without a close frame (TCP closed or reset: typical of a proxy idle timeout)"
