"""A real nginx (Debian package) started by a test with a configuration it writes."""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import textwrap
from pathlib import Path

from jnlpdiag.pycompat import Timeouts
from tests.peers.util import wait_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Nginx:
    """``with Nginx(server_blocks, ports=[...]) as n:`` — ``server_blocks`` is the http{} body.

    The config runs nginx in the foreground as the current user with every path in a temp dir.
    """

    def __init__(self, server_blocks: str, ports: list[int], host: str = "127.0.0.1") -> None:
        self.server_blocks = server_blocks
        self.ports = ports
        self.host = host
        self.dir = Path(tempfile.mkdtemp(prefix="jnlpdiag-nginx-"))
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Nginx:
        if not Path(NGINX).exists():
            import pytest

            pytest.skip("nginx is not installed (apt-get install nginx-light)")
        d = self.dir
        (d / "logs").mkdir()
        conf = textwrap.dedent(f"""
            daemon off;
            master_process off;
            worker_processes 1;
            pid {d}/nginx.pid;
            error_log {d}/logs/error.log warn;
            events {{ worker_connections 256; }}
            http {{
                access_log {d}/logs/access.log;
                client_body_temp_path {d}/body;
                proxy_temp_path {d}/proxy;
                fastcgi_temp_path {d}/fastcgi;
                uwsgi_temp_path {d}/uwsgi;
                scgi_temp_path {d}/scgi;
            """) + textwrap.indent(textwrap.dedent(self.server_blocks), "    ") + "\n}\n"
        (d / "nginx.conf").write_text(conf)
        self.proc = subprocess.Popen([NGINX, "-p", str(d), "-c", str(d / "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            for port in self.ports:
                wait_port(self.host, port)
        except Timeouts:
            self.proc.kill()
            err = self.proc.stderr.read().decode() if self.proc.stderr else ""
            raise RuntimeError(f"nginx did not start: {err}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
