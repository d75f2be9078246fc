"""Bad peers and bad input: every case ends in a clear finding and an exit code, in bounded time."""

from __future__ import annotations

import http.server
import socket
import threading

import pytest

from tests.peers.tinyproxy import Tinyproxy
from tests.peers.util import clean_env, free_port, run_cli
from tests.tls.conftest import JDK17
from tests.tls.peers import SilentServer

PREDICT = ("--java-check", "predict", "--java", f"{JDK17}/bin/java")


def _findings(res):
    return {f["id"]: f for f in res.json()["findings"]}


def test_http_url_is_skipped_with_reason():
    res = run_cli("check", "--url", "http://127.0.0.1:9/", "--json", "--probe", "tls.*", *PREDICT, "--timeout", "2")
    found = _findings(res)
    for pid in ("tls.versions", "tls.certificate", "tls.client_auth", "tls.java"):
        assert found[pid]["status"] == "skip"
        assert "http://" in found[pid]["detail"]
    assert res.code == 0


def test_refused_port():
    port = free_port()
    res = run_cli("check", "--url", f"https://127.0.0.1:{port}/", "--json", "--probe", "tls.*", *PREDICT, "--timeout", "2")
    tv = _findings(res)["tls.versions"]
    assert tv["status"] == "fail" and "refused" in tv["title"]
    assert tv["fixes"]
    assert res.code == 2
    assert "Traceback" not in res.stderr


def test_unresolvable_host():
    res = run_cli("check", "--url", "https://no-such-host.invalid/", "--json", "--probe", "tls.versions", "--timeout", "2")
    tv = _findings(res)["tls.versions"]
    assert tv["status"] == "fail" and "resolve" in tv["title"]


def test_silent_server_times_out_within_deadline():
    with SilentServer() as silent:
        res = run_cli(
            "check", "--url", f"https://127.0.0.1:{silent.port}/", "--json", "--probe", "tls.*", *PREDICT, "--timeout", "2"
        )
    assert res.elapsed < 2 * 1.1 + 1.5  # the run deadline plus interpreter start-up
    found = _findings(res)
    assert found["tls.versions"]["status"] == "fail"
    assert all(f["status"] in ("fail", "skip") for f in found.values()), found
    assert "Traceback" not in res.stderr


class _Plain(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a: object) -> None:
        pass


def test_plain_http_port_is_named():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Plain)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        res = run_cli(
            "check",
            "--url",
            f"https://127.0.0.1:{httpd.server_address[1]}/",
            "--json",
            "--probe",
            "tls.versions",
            "--timeout",
            "3",
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
    tv = _findings(res)["tls.versions"]
    assert tv["status"] == "fail" and "does not speak TLS" in tv["title"], tv
    assert any("http://" in s for f in tv["fixes"] for s in f["steps"])


def test_garbage_server():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            try:
                conn.sendall(b"\x16\x03\x01\xff\xff" + b"\x00" * 64)
            except OSError:
                pass
            conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        res = run_cli(
            "check",
            "--url",
            f"https://127.0.0.1:{srv.getsockname()[1]}/",
            "--json",
            "--probe",
            "tls.*",
            *PREDICT,
            "--timeout",
            "3",
        )
    finally:
        stop.set()
        t.join()
        srv.close()
    assert res.code == 2
    assert "Traceback" not in res.stderr
    assert _findings(res)["tls.versions"]["status"] == "fail"


def test_unreadable_client_cert(servers, pki, tmp_path):
    """A --client-cert that is no certificate is a usage error before any handshake (issue 13 §4)."""
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    for extra in (("--client-cert", str(bad)), ("--client-cert", str(bad), "--client-key", str(pki.client_key))):
        res = run_cli("check", "--url", servers["clientcert"].url, "--ca-file", str(pki.ca), "--json",
                      "--probe", "tls.client_auth", *extra, "--timeout", "3")
        assert res.code == 3 and res.stdout == "", res.stdout
        assert len(res.stderr.splitlines()) == 1 and "--client-cert" in res.stderr, res.stderr


def test_scan_through_the_agents_proxy(servers, pki):
    """The agent's JVM proxy (-Dhttps.proxyHost) is the route: handshakes go through CONNECT."""
    with Tinyproxy() as proxy:
        env = clean_env(JAVA_OPTS=f"-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort={proxy.port} -Dhttp.nonProxyHosts=")
        res = run_cli(
            "check",
            "--url",
            servers["both"].url,
            "--ca-file",
            str(pki.ca),
            "--json",
            "--probe",
            "tls.versions",
            "--timeout",
            "5",
            env=env,
        )
        tv = _findings(res)["tls.versions"]
        assert tv["evidence"]["route"].startswith(f"proxy 127.0.0.1:{proxy.port}")
        assert tv["evidence"]["accepted_versions"] == ["TLSv1.2", "TLSv1.3"]
        assert f"localhost:{servers['both'].port}" in proxy.log()


@pytest.mark.parametrize("value", ["--ca-file"])
def test_missing_ca_file_is_a_usage_error(value, tmp_path):
    res = run_cli("check", "--url", "https://127.0.0.1:9/", value, str(tmp_path / "nope.pem"), "--probe", "tls.*")
    assert res.code == 3 and "no such file" in res.stderr
