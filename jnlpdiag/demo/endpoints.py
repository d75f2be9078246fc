"""Start and stop the demo endpoints on a private event loop thread; build the demo agent's settings."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import tempfile
import threading
from pathlib import Path

from jnlpdiag.demo.certs import make_certs
from jnlpdiag.demo.controller import Controller
from jnlpdiag.demo.proxy import UpgradeDroppingProxy
from jnlpdiag.demo.tls_front import Tls13Front
from jnlpdiag.options import RunOptions
from jnlpdiag.pycompat import Timeouts
from jnlpdiag.settings import Secret, Settings

HOST = "127.0.0.1"
AGENT_NAME = "demo-agent"
DEMO_JAVA_OPTS = "-Djdk.tls.client.protocols=TLSv1.2"
ORIGIN = "demo"
LABEL = "loopback demo endpoints, not a real Jenkins"


class DemoEndpoints:
    """``with DemoEndpoints() as demo:`` runs the controller, the proxy and the TLS 1.3 front."""

    def __init__(self, start_timeout: float = 20.0) -> None:
        self.start_timeout = start_timeout
        self.secret = secrets.token_hex(32)  # the shape of a Jenkins agent secret: 64 hex digits
        self.folder = Path(tempfile.mkdtemp(prefix="jnlpdiag-demo-"))
        self.ports: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.ports['tls']}/"

    @property
    def ca_file(self) -> Path:
        return self.folder / "demo-ca.pem"

    def describe(self) -> list[str]:
        return [
            f"controller (HTTP surface)  http://{HOST}:{self.ports['controller']}/  agent port {self.ports['agent']}",
            f"reverse proxy (drops the WebSocket Upgrade)  http://{HOST}:{self.ports['proxy']}/",
            f"TLS 1.3-only front  {self.url}  (CA: {self.ca_file})",
        ]

    def settings(self, timeout: float = 5.0) -> Settings:
        """The demo agent: WebSocket, through the front, with a JVM limited to TLS 1.2."""
        values = {
            "url": self.url, "name": AGENT_NAME, "secret": Secret(self.secret), "websocket": True,
            "ca_file": str(self.ca_file), "java_opts": DEMO_JAVA_OPTS,
        }
        s = Settings(**values)  # type: ignore[arg-type]
        s.origins = {name: ORIGIN for name in values}
        # Safe here: the "controller" is ours. --auth-check makes the WebSocket check send the agent headers.
        s.run = RunOptions(timeout=timeout, auth_check=True, origins={"timeout": ORIGIN, "auth_check": ORIGIN})
        return s

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        certs = make_certs(self.folder)
        controller = Controller(AGENT_NAME, self.secret)
        http, agent = await controller.start(HOST)
        proxy = await UpgradeDroppingProxy((HOST, http.sockets[0].getsockname()[1])).start(HOST)
        servers = {"controller": http, "agent": agent, "proxy": proxy}
        front = Tls13Front((HOST, proxy.sockets[0].getsockname()[1]), certs.cert_file, certs.key_file)
        tls_port = await asyncio.to_thread(front.start, HOST)
        self.ports = {name: srv.sockets[0].getsockname()[1] for name, srv in servers.items()}
        self.ports["tls"] = tls_port
        controller.root_url = self.url
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await asyncio.to_thread(front.stop)
            for srv in servers.values():
                srv.close()
            for srv in servers.values():
                try:
                    await asyncio.wait_for(srv.wait_closed(), 2)
                except Timeouts:
                    pass

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start() through _error
            self._error = exc
        finally:
            self._ready.set()
            try:
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.wait(pending, timeout=2))
            finally:
                loop.close()

    def start(self) -> DemoEndpoints:
        self._thread = threading.Thread(target=self._main, name="jnlpdiag-demo", daemon=True)
        self._thread.start()
        if not self._ready.wait(self.start_timeout) or self._error is not None or not self.ports:
            self.stop()
            raise RuntimeError(f"the demo endpoints did not start: {self._error or 'timeout'}")
        return self

    def stop(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:
                pass
        if self._thread is not None:
            self._thread.join(5)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> DemoEndpoints:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
