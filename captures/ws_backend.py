"""WebSocket backend used by record.sh: accepts an upgrade on any path, then closes with 1008.

A real `websockets` server (not a Jenkins controller): it answers a request without the Upgrade
header with 426, as RFC 6455 servers do, which is what a proxy that drops hop-by-hop headers causes.
"""

import asyncio
import sys

import websockets


async def handler(ws: websockets.ServerConnection) -> None:
    await ws.close(code=1008, reason="jnlpdiag capture: policy violation")


async def main(port: int) -> None:
    async with websockets.serve(handler, "127.0.0.1", port, close_timeout=0.5):
        await asyncio.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 10)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
