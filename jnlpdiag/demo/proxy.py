"""A reverse proxy that forwards requests but drops the WebSocket upgrade.

It removes the hop-by-hop headers (RFC 9110 §7.6.1: ``Connection`` and the headers it names,
``Upgrade``, ``Keep-Alive``, ``TE``, ``Trailer``, ``Proxy-Connection``) and does not put ``Upgrade``
back - which is what nginx does with a plain ``proxy_pass`` and no
``proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade";``. The controller
then sees an ordinary GET on ``/wsagents/`` and never switches protocols.
"""

from __future__ import annotations

import asyncio

from jnlpdiag.demo.http11 import MAX_HEAD, BadRequest, Request, close, read_request, response
from jnlpdiag.pycompat import Timeouts

HOP_BY_HOP = {"connection", "upgrade", "keep-alive", "te", "trailer", "proxy-connection", "proxy-authorization"}
MAX_BODY = 1024 * 1024
TIMEOUT = 10.0


def forwarded_head(req: Request) -> bytes:
    named = {t.strip().lower() for t in (req.header("Connection") or "").split(",") if t.strip()}
    keep = [(k, v) for k, v in req.headers if k.lower() not in HOP_BY_HOP | named]
    lines = [f"{req.method} {req.target} HTTP/1.1", *(f"{k}: {v}" for k, v in keep), "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class UpgradeDroppingProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_writer: asyncio.StreamWriter | None = None
        try:
            try:
                req = await read_request(reader)
            except (*Timeouts, BadRequest):
                writer.write(response(400, [("Content-Type", "text/plain")], b"Bad Request\n"))
                return
            length = int(req.header("Content-Length") or 0)
            if length < 0 or length > MAX_BODY or req.header("Transfer-Encoding"):
                writer.write(response(413, [("Content-Type", "text/plain")], b"Payload Too Large\n"))
                return
            body = await asyncio.wait_for(reader.readexactly(length), TIMEOUT) if length else b""
            try:
                up_reader, upstream = await asyncio.wait_for(asyncio.open_connection(*self.upstream), TIMEOUT)
            except (*Timeouts, OSError):
                writer.write(response(502, [("Content-Type", "text/plain")], b"Bad Gateway\n"))
                return
            up_writer = upstream
            upstream.write(forwarded_head(req) + body)
            await asyncio.wait_for(upstream.drain(), TIMEOUT)
            while data := await asyncio.wait_for(up_reader.read(65536), TIMEOUT):
                writer.write(data)
                await asyncio.wait_for(writer.drain(), TIMEOUT)
        except (*Timeouts, OSError, asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            if up_writer is not None:
                await close(up_writer)
            try:
                await asyncio.wait_for(writer.drain(), 2)
            except (*Timeouts, OSError, ConnectionError):
                pass
            await close(writer)

    async def start(self, host: str) -> asyncio.Server:
        return await asyncio.start_server(self.handle, host, 0, limit=MAX_HEAD)
