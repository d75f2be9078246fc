"""A real forward proxy (Debian's tinyproxy) started by a test."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.peers.util import free_port, wait_port

TINYPROXY = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"


class Tinyproxy:
    """``connect_ports``: ports CONNECT may reach (tinyproxy's ConnectPort; none listed = all)."""

    def __init__(self, connect_ports: list[int] | None = None, deny_all: bool = False) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="jnlpdiag-tinyproxy-"))
        self.connect_ports = connect_ports
        self.deny_all = deny_all
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Tinyproxy:
        if not Path(TINYPROXY).exists():
            import pytest

            pytest.skip("tinyproxy is not installed (apt-get install tinyproxy)")
        lines = [f"Port {self.port}", "Listen 127.0.0.1", "Timeout 10", "MaxClients 20",
                 f"LogFile \"{self.dir}/tinyproxy.log\"", "LogLevel Info", "DisableViaHeader No"]
        lines.append("Allow 10.255.255.254" if self.deny_all else "Allow 127.0.0.1")
        for p in self.connect_ports or []:
            lines.append(f"ConnectPort {p}")
        conf = self.dir / "tinyproxy.conf"
        conf.write_text("\n".join(lines) + "\n")
        self.proc = subprocess.Popen([TINYPROXY, "-d", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port("127.0.0.1", self.port)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        p = self.dir / "tinyproxy.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def __exit__(self, *exc: object) -> None:
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
