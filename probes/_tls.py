"""What the four ``tls.*`` probes share (beside them, not in the library: it speaks the probe API):
their endpoints and targets (reached over the agent's proxy route), finding ids per endpoint, the
server's clock, and masking of option words."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jnlpdiag.model import Finding
from jnlpdiag.probe import Context
from jnlpdiag.pycompat import Timeouts
from jnlpdiag.tls.endpoint import Endpoint, resolve, tls_endpoints
from jnlpdiag.tls.handshake import ALL_CIPHERS, Dest, Spec, handshake

from .discovery import DiscoveryProbe

if TYPE_CHECKING:  # imported where used: tls.versions, the benchmarked probe, needs neither
    from jnlpdiag.httpclient import Proxy


@dataclass
class Target:
    endpoint: Endpoint
    dest: Dest
    route: str  # "direct (...)" or "proxy host:port (...)"
    proxy: Proxy | None = None


def endpoints_or_skip(ctx: Context, probe_id: str) -> tuple[list[Endpoint], Finding | None]:
    """The TLS endpoints for a tls.* probe, or (``[]``, the skip finding it should yield)."""
    endpoints, why_none = tls_endpoints(ctx.settings, ctx.facts(DiscoveryProbe).url)
    if endpoints:
        return endpoints, None
    return [], ctx.finding(probe_id, "skip", "Skipped: no TLS endpoint", detail=why_none,
                           evidence={"url": ctx.settings.url})


def finding_id(probe_id: str, index: int, endpoint: Endpoint) -> str:
    """The first endpoint's finding is the probe id; any other is suffixed with its host:port."""
    return probe_id if index == 0 else f"{probe_id}@{endpoint.hostport}"


async def open_target(ctx: Context, endpoint: Endpoint) -> Target | str:
    """Resolve the endpoint (or the agent's proxy for it); a string says why that failed."""
    route = ctx.agent.discovery_route("https", endpoint.host)
    host, port = (route.proxy.host, route.proxy.port) if route.proxy else (endpoint.host, endpoint.port)
    budget = ctx.step_timeout()  # outside the try: the run's deadline is the runner's to report
    try:
        addresses = await resolve(host, port, budget)
    except Timeouts:
        return f"resolving {host} timed out"
    except OSError as exc:
        return f"cannot resolve {host}: {exc.strerror or exc}"
    if not addresses:
        return f"{host} has no address"
    dest = Dest(
        tuple(addresses),
        connect=endpoint.hostport if route.proxy else None,
        proxy_auth=route.proxy.auth_header() if route.proxy else None,
    )
    return Target(endpoint, dest, route.describe(), route.proxy)


_SECRET_WORD = re.compile(r"(?i)^(-D[^=]*(password|secret|token)[^=]*=).*$")


def mask_words(words: list[str]) -> list[str]:
    """JVM option words for output: values of ``-D...password=`` and the like replaced."""
    return [_SECRET_WORD.sub(r"\1<redacted>", w) for w in words]


async def server_date(ctx: Context, target: Target) -> tuple[dt.datetime | None, str]:
    """The server's clock (its ``Date`` header) and where it came from.

    Read from discovery's facts when it ran, else from one request after a handshake of our own
    (same route, any version, no certificate check), which also works where a strict client fails.
    """
    discovery = ctx.facts(DiscoveryProbe)
    raw = discovery.server_date or (discovery.root_headers or {}).get("Date")
    source = "discovery (Date header)"
    if not raw:
        ep = target.endpoint
        spec = Spec(ciphers=ALL_CIPHERS, sni=ep.sni, http_host=ep.host if ep.port == 443 else ep.hostport)
        result = await asyncio.to_thread(handshake, target.dest, spec, time.monotonic() + ctx.step_timeout())
        if not result.ok or result.http_status is None:
            return None, f"no Date header: {result.error or result.after_error or 'no HTTP answer'}"
        raw = result.http_headers.get("date")
        source = f"GET {ep.url}"
    if not raw:
        return None, "the server sends no Date header"
    try:
        parsed = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None, f"unreadable Date header {raw[:60]!r}"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed, source
