"""websocket.upgrade against the test controller's real `websockets` server, directly and behind real nginx."""

from __future__ import annotations

import contextlib
import time

import pytest

from tests.peers.nginx import Nginx
from tests.peers.util import free_port, run_cli
from tests.transport.jnlp4_controller import Controller

PROBES = ("--probe", "discovery", "--probe", "websocket.*")


@pytest.fixture(scope="module")
def controller():
    with Controller(nodes=["agent-1", "busy"], connected=("busy",)) as c:
        yield c


@pytest.fixture(scope="module")
def tls_files(ca, tmp_path_factory):
    d = tmp_path_factory.mktemp("wstls")
    leaf = ca.issue_cert("localhost", "127.0.0.1")
    cert, key, cafile = d / "cert.pem", d / "key.pem", d / "ca.pem"
    leaf.private_key_and_cert_chain_pem.write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(cafile))
    return str(cert), str(key), str(cafile)


@pytest.fixture(scope="module")
def proxies(controller, tls_files):
    """nginx in front of the controller: forwarding Upgrade, not forwarding it, short idle timeout, TLS, a page."""
    cert, key, _ = tls_files
    ports = {k: free_port() for k in ("fwd", "nofwd", "short", "tls", "page", "sso")}
    up = f"http://127.0.0.1:{controller.http_port}"
    upgrade = 'proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade";'
    blocks = f"""
    server {{ listen 127.0.0.1:{ports['fwd']}; location / {{ proxy_pass {up}; {upgrade} }} }}
    server {{ listen 127.0.0.1:{ports['nofwd']}; location / {{ proxy_pass {up}; proxy_http_version 1.1; }} }}
    server {{ listen 127.0.0.1:{ports['short']};
              location / {{ proxy_pass {up}; {upgrade} proxy_read_timeout 2s; }} }}
    server {{ listen 127.0.0.1:{ports['tls']} ssl; ssl_certificate {cert}; ssl_certificate_key {key};
              location / {{ proxy_pass {up}; {upgrade} }} }}
    server {{ listen 127.0.0.1:{ports['page']};
              location /wsagents/ {{ default_type text/html; return 200 "<html><title>Portal</title></html>"; }}
              location / {{ proxy_pass {up}; }} }}
    server {{ listen 127.0.0.1:{ports['sso']};
              location = /login {{ return 302 https://sso.example.com/auth; }}
              location / {{ proxy_pass {up}; {upgrade} }} }}
    """
    with Nginx(blocks, list(ports.values())):
        yield {k: f"http://127.0.0.1:{p}/" for k, p in ports.items()} | {"tls": f"https://localhost:{ports['tls']}/"}


def check(url: str, controller: Controller, tmp_path, *extra: str, name: str = "agent-1", secret: str | None = None,
          websocket: bool = True):
    sf = tmp_path / f"s{time.monotonic_ns()}"
    sf.write_text(secret if secret is not None else controller.secret(name))
    args = ["check", "--json", "--url", url, "--name", name, "--secret-file", str(sf), "--timeout", "3", *PROBES]
    if websocket:
        args.append("--websocket")
    return run_cli(*args, *extra)


@contextlib.contextmanager
def jenkins_url(controller: Controller, url: str | None, cli_ws: str = "allow"):
    """Manage Jenkins > System > Jenkins URL (None: not set) and the CLI WebSocket switch, for one test."""
    saved = controller.jenkins_url, controller.cli_ws
    controller.jenkins_url, controller.cli_ws = url, cli_ws
    try:
        yield
    finally:
        controller.jenkins_url, controller.cli_ws = saved


def test_direct_without_auth_check_proves_the_upgrade_on_cli_ws_and_sends_no_secret(controller, tmp_path):
    before = len(controller.ws_events)
    r = check(controller.url, controller, tmp_path)
    f = r.finding("websocket.upgrade")
    assert f["status"] == "pass", f
    assert f["evidence"]["status_code"] == 400 and f["evidence"]["reached_jenkins"] is True
    assert f["evidence"]["upgrade_proven"] is True and f["evidence"]["cli_ws_status"] == 101
    assert f["evidence"]["cli_ws_origin"] == controller.url.rstrip("/")
    assert "only for use from agent.jar" in f["detail"] and "cli/ws" in f["title"]
    assert r.finding("websocket.login")["status"] == "pass"
    new = controller.ws_events[before:]
    assert new and not any(e.get("has_secret") for e in new)
    cli = [e for e in new if e.get("cli")]
    assert cli and cli[0]["accepted"] and cli[0]["upgrade"].lower() == "websocket"
    time.sleep(0.3)
    sessions = [e for e in new if "opened" in e]
    assert sessions and sessions[-1].get("closed") is not None  # closed cleanly, no command sent


def test_origin_refused_is_not_proven_and_names_the_jenkins_url_setting(controller, tmp_path):
    with jenkins_url(controller, "https://jenkins.example.com/"):
        r = check(controller.url, controller, tmp_path)
    f = r.finding("websocket.upgrade")
    assert f["status"] == "warn" and "not proven" in f["title"]
    assert f["evidence"]["cli_ws_status"] == 403 and f["evidence"]["upgrade_proven"] is False
    assert "Unexpected request origin" in f["evidence"]["cli_ws_error"]
    assert any("--auth-check" in c for c in f["fixes"][0]["steps"])
    url = r.finding("websocket.jenkins_url")
    assert url["status"] == "warn" and controller.url in url["title"]
    assert r.code == 1


@pytest.mark.parametrize("url,mode,text", [
    (None, "allow", "Jenkins URL is not configured"),
    ("", "disabled", "WebSocket support for CLI disabled"),
])
def test_cli_ws_refusals_are_not_proven(controller, tmp_path, url, mode, text):
    with jenkins_url(controller, url, mode):
        r = check(controller.url, controller, tmp_path)
    f = r.finding("websocket.upgrade")
    assert f["status"] == "warn" and text in f["title"]
    assert f["evidence"]["upgrade_proven"] is False


def test_servlet_container_without_websocket_fails(controller, tmp_path):
    with jenkins_url(controller, "", "unsupported"):
        r = check(controller.url, controller, tmp_path)
    f = r.finding("websocket.upgrade")
    assert f["status"] == "fail" and "without WebSocket support" in f["title"]
    assert f["evidence"]["cli_ws_status"] == 404


def test_nginx_forwarding_upgrade_is_proven_without_the_secret(proxies, controller, tmp_path):
    before = len(controller.ws_events)
    with jenkins_url(controller, proxies["fwd"]):
        r = check(proxies["fwd"], controller, tmp_path)
    f = r.finding("websocket.upgrade")
    assert f["status"] == "pass", f
    assert f["evidence"]["upgrade_proven"] is True and "nginx" in f["evidence"]["proxy"]
    assert not any(e.get("has_secret") for e in controller.ws_events[before:])
    assert r.code == 0, r.stdout


def test_nginx_dropping_upgrade_fails_without_the_secret(proxies, controller, tmp_path):
    with jenkins_url(controller, proxies["nofwd"]):
        r = check(proxies["nofwd"], controller, tmp_path)
    f = r.finding("websocket.upgrade")
    assert f["status"] == "fail", f
    assert f["evidence"]["cli_ws_status"] == 400 and f["evidence"]["upgrade_proven"] is False
    assert "nginx" in f["title"] and "drops the WebSocket upgrade" in f["title"]
    assert "proxy_set_header Upgrade $http_upgrade" in f["evidence"]["snippets"]["nginx"]
    assert "proxy_set_header Upgrade" in f["detail"]
    assert r.code == 2


def test_hold_on_the_cli_socket_finds_the_idle_timeout(proxies, controller, tmp_path):
    with jenkins_url(controller, proxies["short"]):
        r = check(proxies["short"], controller, tmp_path, "--hold", "8", "--deadline", "15")
    assert r.finding("websocket.upgrade")["evidence"]["upgrade_proven"] is True
    f = r.finding("websocket.hold")
    assert f["status"] == "fail", f
    assert 1.5 <= f["evidence"]["closed_after_s"] <= 5.0


def test_direct_with_auth_check_is_accepted_and_closed(controller, tmp_path):
    before = len(controller.ws_events)
    r = check(controller.url, controller, tmp_path, "--auth-check")
    f = r.finding("websocket.upgrade")
    assert f["status"] == "pass", f
    assert f["evidence"]["status_code"] == 101 and f["evidence"]["reached_jenkins"] is True
    time.sleep(0.3)
    sessions = [e for e in controller.ws_events[before:] if "opened" in e]
    assert sessions and sessions[0].get("closed") is not None
    assert sessions[0]["closed"] - sessions[0]["opened"] < 2.0
    assert not any(e.get("cookie") for e in controller.ws_events[before:])


@pytest.mark.parametrize("name,secret,fragment,status", [
    ("nobody", "0" * 64, "no agent named nobody", 400),
    ("agent-1", "f" * 64, "secret is wrong", 403),
    ("busy", None, "already connected", 400),
])
def test_direct_auth_check_refusals(controller, tmp_path, name, secret, fragment, status):
    r = check(controller.url, controller, tmp_path, "--auth-check", name=name, secret=secret)
    f = r.finding("websocket.upgrade")
    assert f["status"] == "fail"
    assert f["evidence"]["status_code"] == status
    assert fragment in f["title"]
    assert f["fixes"]


def test_nginx_forwarding_upgrade_accepts(proxies, controller, tmp_path):
    r = check(proxies["fwd"], controller, tmp_path, "--auth-check")
    f = r.finding("websocket.upgrade")
    assert f["status"] == "pass", f
    assert f["evidence"]["status_code"] == 101


def test_nginx_dropping_upgrade_is_named_with_the_snippet(proxies, controller, tmp_path):
    r = check(proxies["nofwd"], controller, tmp_path, "--auth-check")
    f = r.finding("websocket.upgrade")
    assert f["status"] == "fail"
    assert f["evidence"]["status_code"] == 400
    assert f["evidence"]["reached_jenkins"] is True
    assert "nginx" in f["evidence"]["proxy"]
    assert "drops the WebSocket upgrade" in f["title"]
    assert "proxy_set_header Upgrade $http_upgrade" in f["evidence"]["snippets"]["nginx"]
    assert "ingress" in f["evidence"]["snippets"]
    assert r.code == 2


def test_a_page_instead_of_jenkins(proxies, controller, tmp_path):
    r = check(proxies["page"], controller, tmp_path)
    f = r.finding("websocket.upgrade")
    assert f["status"] == "fail"
    assert f["evidence"]["status_code"] == 200 and f["evidence"]["reached_jenkins"] is False
    assert "nginx" in f["evidence"]["proxy"]


def test_login_redirect_is_not_ready(proxies, controller, tmp_path):
    r = check(proxies["sso"], controller, tmp_path)
    f = r.finding("websocket.login")
    assert f["status"] == "fail"
    assert f["evidence"]["status_code"] == 302
    assert "login is not ready: 302" in f["title"]


def test_wss_through_nginx_with_ca_file(proxies, controller, tmp_path, tls_files):
    r = check(proxies["tls"], controller, tmp_path, "--auth-check", "--ca-file", tls_files[2])
    f = r.finding("websocket.upgrade")
    assert f["status"] == "pass", f
    assert f["evidence"]["ws_url"].startswith("wss://")


def test_wss_untrusted_certificate(proxies, controller, tmp_path):
    r = check(proxies["tls"], controller, tmp_path)
    f = r.finding("websocket.upgrade")
    assert f["status"] == "fail"
    assert f["evidence"]["error_class"] == "tls"


def test_hold_finds_the_idle_timeout(proxies, controller, tmp_path):
    t0 = time.monotonic()
    r = check(proxies["short"], controller, tmp_path, "--auth-check", "--hold", "8", "--deadline", "15")
    f = r.finding("websocket.hold")
    assert f["status"] == "fail", f
    assert 1.5 <= f["evidence"]["closed_after_s"] <= 5.0
    assert "proxy_read_timeout" in " ".join(f["fixes"][0]["commands"] + f["fixes"][0]["notes"])
    assert time.monotonic() - t0 < 15


def test_hold_that_lasts(proxies, controller, tmp_path):
    r = check(proxies["fwd"], controller, tmp_path, "--auth-check", "--hold", "2", "--deadline", "8")
    f = r.finding("websocket.hold")
    assert f["status"] == "pass"
    assert f["evidence"]["closed_after_s"] is None and f["evidence"]["held_s"] == pytest.approx(2, abs=0.3)


def test_tcp_agent_gets_only_a_comparison_and_no_secret(proxies, controller, tmp_path):
    before = len(controller.ws_events)
    r = check(proxies["page"], controller, tmp_path, "--auth-check", websocket=False)
    f = r.finding("websocket.upgrade")
    assert f["status"] == "warn" and f["title"].startswith("(comparison")
    assert f["evidence"]["agent_headers_sent"] == []
    assert not any(e.get("has_secret") for e in controller.ws_events[before:])


def test_tcp_agent_comparison_that_proves_nothing_is_a_skip(proxies, controller, tmp_path):
    """A TCP agent: the comparison's unproven upgrade (the Jenkins URL setting differs, so cli/ws
    refuses the origin) is information, shown as a skip: no warning, no exit code."""
    with jenkins_url(controller, "https://jenkins.example.com/"):
        r = check(proxies["fwd"], controller, tmp_path, websocket=False)
    f = r.finding("websocket.upgrade")
    assert f["status"] == "skip" and f["informational"] and f["title"].startswith("(comparison")
    assert r.finding("websocket.jenkins_url")["status"] == "skip"
    assert not [x for x in r.json()["findings"] if x["probe"] == "websocket.upgrade" and x["status"] == "warn"]
