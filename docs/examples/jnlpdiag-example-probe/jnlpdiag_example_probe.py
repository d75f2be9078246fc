"""A third-party jnlpdiag probe, written as a plain async generator function.

Why this check: remoting and Jenkins call InetAddress.getLocalHost() on the agent; when the host's
own name does not resolve (a common sight in minimal containers), that call can hang for the DNS
timeout or fail, and the agent starts slowly or logs UnknownHostException.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

from jnlpdiag.findings import Finding, Fix
from jnlpdiag.probe_api import Context, Option, probe

# A probe's own flag: `jnlpdiag check --example-hostname NAME`, listed by `jnlpdiag probes` and --help.
# Prefix a plug-in's options with its name: flags are shared by every probe of a run.
HOSTNAME = Option("example_hostname", "the name to resolve instead of this host's own (the agent's, when "
                  "jnlpdiag runs elsewhere)", metavar="NAME")


@probe(id="example.hostname", layer="host", description="This host's own name resolves (InetAddress.getLocalHost)",
       options=(HOSTNAME,))
async def hostname_resolves(ctx: Context) -> AsyncIterator[Finding]:
    name = ctx.option("example_hostname") or socket.gethostname()
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(name, None), ctx.step_timeout())
    except (TimeoutError, OSError) as exc:
        yield ctx.finding(
            "example.hostname", "fail", f"This host's name {name!r} does not resolve",
            detail=f"getaddrinfo({name!r}) failed: {exc}",
            evidence={"hostname": name, "error": str(exc)},
            fixes=[Fix("Make the host name resolvable", commands=(f"echo '127.0.1.1 {name}' >> /etc/hosts",))],
        )
        return
    addresses = sorted({info[4][0] for info in infos})
    yield ctx.finding("example.hostname", "pass", f"{name} resolves to {', '.join(addresses)}",
                      evidence={"hostname": name, "addresses": addresses})
