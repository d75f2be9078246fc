"""What the four ``tls.*`` probes share (beside them, not in the library: it speaks the probe API):
their endpoints and targets (reached over the agent's proxy route), the one loop over those
endpoints, finding ids per endpoint, the server's clock, and masking of option words."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import re
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

from jnlpdiag.findings import Finding, Status
from jnlpdiag.probe_api import Context
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


# One endpoint's work: (finding id, index, target) -> its finding, and the facts it publishes (or None).
EndpointCheck = Callable[[str, int, Target], Awaitable[tuple[Finding, Optional[dict[str, Any]]]]]
# A target that could not be opened: (finding id, index, endpoint, why) -> its finding.
Unreachable = Callable[[str, int, Endpoint, str], Finding]


async def each_endpoint(
    ctx: Context,
    probe_id: str,
    check: EndpointCheck,
    unreachable: Unreachable,
    prepare: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[Finding]:
    """The per-endpoint loop of the ``tls.*`` probes: one finding per TLS endpoint.

    No endpoint: the skip finding. Else ``prepare`` (once), then per endpoint its target, and
    ``unreachable`` or ``check``. Facts a check returns are published: the first endpoint's as
    the probe's own fields, every endpoint's by URL under ``endpoints``.
    """
    endpoints, skip = endpoints_or_skip(ctx, probe_id)
    if skip is not None:
        yield skip
        return
    if prepare is not None:
        await prepare()
    published: dict[str, Any] = {}
    for index, endpoint in enumerate(endpoints):
        fid = finding_id(probe_id, index, endpoint)
        target = await open_target(ctx, endpoint)
        if isinstance(target, str):
            yield unreachable(fid, index, endpoint, target)
            continue
        finding, facts = await check(fid, index, target)
        if facts is not None:
            published[endpoint.url] = facts
            if index == 0:
                ctx.publish(**facts)
            ctx.publish(endpoints=published)
        yield finding


def versions_cause(ctx: Context, index: int, endpoint: Endpoint, failing_only: bool = False) -> str | None:
    """The tls.versions finding for the same endpoint, if it ran (and failed, with ``failing_only``)."""
    versions_id = finding_id("tls.versions", index, endpoint)
    for f in ctx.findings_of("tls.versions"):
        if f.id == versions_id and (not failing_only or f.status is Status.FAIL):
            return versions_id
    return None


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
