"""Headless Chromium driven over the DevTools protocol, to look at a report as a browser renders it.

Chromium writes the port it listens on to ``DevToolsActivePort`` in its profile folder; the tests
then open one page target over a WebSocket and send protocol commands (Page.navigate,
Emulation.setDeviceMetricsOverride, Runtime.evaluate, Page.captureScreenshot, Page.printToPDF), as
documented at https://chromedevtools.github.io/devtools-protocol/. Runtime.evaluate is not subject to
the page's Content-Security-Policy, so the report keeps forbidding scripts while the test reads its
rendered DOM.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]


class Browser:
    def __init__(self, profile: Path) -> None:
        self.profile = profile
        self.proc = subprocess.Popen([CHROMIUM or "chromium", *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        end = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()) and time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.proc.returncode}")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            page = next(t for t in json.load(resp) if t["type"] == "page")
        self._connection = connect(page["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024, open_timeout=10)
        self.ws = self._connection.__enter__()
        self.ids = itertools.count(1)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv(timeout=30))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def open(self, url: str, width: int, height: int, mobile: bool = False) -> None:
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=mobile)
        self.send("Page.enable")
        self.send("Page.navigate", url=url)
        end = time.monotonic() + 20
        while self.js("document.readyState") != "complete" and time.monotonic() < end:
            time.sleep(0.05)

    def js(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def media(self, kind: str) -> None:
        self.send("Emulation.setEmulatedMedia", media=kind)

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))
        return path

    def pdf(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(self.send("Page.printToPDF", printBackground=False)["data"]))
        return path

    def close(self) -> None:
        try:
            self._connection.__exit__(None, None, None)
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
