"""discovery probe against a real nginx serving Jenkins' documented headers (and sites that are not Jenkins)."""

from __future__ import annotations

import pytest

from tests.peers.agent_listener import AgentListener
from tests.peers.controller import identity_b64, jenkins_server, plain_site
from tests.peers.nginx import Nginx
from tests.peers.tinyproxy import Tinyproxy
from tests.peers.util import clean_env, free_port, run_cli

IDENTITY = identity_b64()


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    import trustme

    ca = trustme.CA()
    d = tmp_path_factory.mktemp("tls")
    cert = ca.issue_cert("localhost", "127.0.0.1")
    cert.cert_chain_pems[0].write_to_path(str(d / "cert.pem"))
    for pem in cert.cert_chain_pems[1:]:
        with open(d / "cert.pem", "ab") as fh:
            fh.write(pem.bytes())
    cert.private_key_pem.write_to_path(str(d / "key.pem"))
    ca.cert_pem.write_to_path(str(d / "ca.pem"))
    listener = AgentListener()
    listener.__enter__()
    ports = {name: free_port() for name in ("ok", "disabled", "stripped", "sso", "plain", "https", "badport", "noid")}
    blocks = "".join([
        jenkins_server(ports["ok"], listener.port, IDENTITY),
        jenkins_server(ports["disabled"], listener.port, IDENTITY, listener="disabled"),
        jenkins_server(ports["stripped"], listener.port, IDENTITY, listener="stripped"),
        jenkins_server(ports["sso"], listener.port, IDENTITY, listener="sso"),
        plain_site(ports["plain"]),
        jenkins_server(ports["https"], listener.port, IDENTITY, tls=(str(d / "cert.pem"), str(d / "key.pem"))),
        jenkins_server(ports["badport"], "-1", IDENTITY),
        jenkins_server(ports["noid"], listener.port, "bm90IGEga2V5"),
    ])
    with Nginx(blocks, list(ports.values())):
        yield {"ports": ports, "ca": str(d / "ca.pem"), "listener": listener}
    listener.__exit__(None, None, None)


def check(*args: str, env: dict[str, str] | None = None):
    return run_cli("check", "--probe", "discovery", "--json", "--timeout", "3", "--from-process", "none", *args,
                   env=env or clean_env())


def test_healthy_controller_reports_every_documented_header(sites):
    port = sites["ports"]["ok"]
    r = check("--url", f"http://127.0.0.1:{port}/")
    assert r.code == 0, r.stdout + r.stderr
    f = r.finding("discovery")
    assert f["status"] == "pass"
    ev = f["evidence"]
    assert ev["jenkins_version"] == "2.479.3"
    assert ev["agent_port"] == sites["listener"].port
    assert ev["agent_host"] == "127.0.0.1"
    assert ev["protocols"] == ["JNLP4-connect", "Ping"]
    assert ev["min_remoting"] == "3107.v665000b_51092"
    assert ev["instance_identity"]["base64"] == IDENTITY
    assert len(ev["instance_identity"]["fingerprint"].split(":")) == 16
    assert ev["http_status"] == 200
    assert r.finding("discovery.jenkins")["status"] == "pass"


def test_tcp_port_disabled_is_named_with_websocket_fix(sites):
    r = check("--url", f"http://127.0.0.1:{sites['ports']['disabled']}/")
    assert r.code == 2
    f = r.finding("discovery")
    assert f["status"] == "fail"
    assert "disabled" in f["title"]
    steps = " ".join(s for fix in f["fixes"] for s in fix["commands"] + fix["notes"])
    assert "-webSocket" in steps and "slaveAgentPort" in steps
    assert [c["id"] for c in r.json()["root_causes"]] == ["discovery"]


def test_tcp_port_disabled_is_fine_for_websocket_agents(sites):
    r = check("--url", f"http://127.0.0.1:{sites['ports']['disabled']}/", "--websocket")
    assert r.code == 0
    assert r.finding("discovery")["status"] == "pass"


def test_stripped_headers_blame_the_proxy(sites):
    r = check("--url", f"http://127.0.0.1:{sites['ports']['stripped']}/")
    f = r.finding("discovery")
    assert f["status"] == "fail" and "is not Jenkins" in f["title"]
    assert "strips" in f["detail"]


def test_sso_wall_on_listener(sites):
    r = check("--url", f"http://127.0.0.1:{sites['ports']['sso']}/")
    f = r.finding("discovery")
    assert f["status"] == "fail" and "403" in f["title"]
    assert any("tcpSlaveAgentListener" in s for fix in f["fixes"] for s in fix["commands"] + fix["notes"])


def test_plain_site_is_not_jenkins_and_listener_failure_follows_from_it(sites):
    r = check("--url", f"http://127.0.0.1:{sites['ports']['plain']}/")
    assert r.code == 2
    root = r.finding("discovery.jenkins")
    assert root["status"] == "fail" and "Not Jenkins" in root["title"]
    assert root["evidence"]["page_title"] == "Welcome to nginx!"
    assert r.finding("discovery")["caused_by"] == "discovery.jenkins"
    assert [c["id"] for c in r.json()["root_causes"]] == ["discovery.jenkins"]


def test_https_with_ca_file(sites):
    r = check("--url", f"https://localhost:{sites['ports']['https']}/", "--ca-file", sites["ca"])
    assert r.code == 0, r.stdout
    assert r.finding("discovery.jenkins")["evidence"]["tls"]["version"].startswith("TLSv1.")


def test_https_untrusted_warns_and_still_discovers(sites):
    r = check("--url", f"https://localhost:{sites['ports']['https']}/")
    assert r.code == 1, r.stdout
    assert r.finding("discovery.https")["status"] == "warn"
    assert r.finding("discovery")["status"] == "pass"


def test_invalid_port_and_identity(sites):
    r = check("--url", f"http://127.0.0.1:{sites['ports']['badport']}/")
    assert "invalid port" in r.finding("discovery")["title"]
    r = check("--url", f"http://127.0.0.1:{sites['ports']['noid']}/")
    assert "invalid X-Instance-Identity" in r.finding("discovery")["title"]


def test_refused_and_dns_failures_are_classified():
    r = check("--url", f"http://127.0.0.1:{free_port()}/")
    assert r.finding("discovery.jenkins")["evidence"]["error_class"] == "refused"
    r = check("--url", "http://no-such-host.invalid/")
    assert r.finding("discovery.jenkins")["evidence"]["error_class"] == "dns"
    assert r.code == 2 and "Traceback" not in r.stderr


def test_no_url_is_a_failure_with_fix():
    r = check()
    f = r.finding("discovery")
    assert f["status"] == "fail" and f["fixes"]


def test_agent_route_through_jvm_proxy_differs_from_curl(sites):
    """With -Dhttp.proxyHost (and an empty nonProxyHosts, so loopback is proxied as the JDK does), the
    agent goes through the proxy while curl would not; the request really crosses tinyproxy."""
    port = sites["ports"]["ok"]
    with Tinyproxy() as proxy:
        env = clean_env(JAVA_OPTS=f"-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort={proxy.port} -Dhttp.nonProxyHosts=")
        r = check("--url", f"http://127.0.0.1:{port}/", env=env)
        assert r.code == 0, r.stdout
        route = r.finding("discovery.route")
        assert route["evidence"]["differs"] is True
        assert f"127.0.0.1:{proxy.port}" in route["evidence"]["agent"]
        assert "tcpSlaveAgentListener" in proxy.log()


def test_env_http_proxy_is_not_used_for_loopback(sites):
    """remoting's NoProxyEvaluator never proxies loopback addresses."""
    port = sites["ports"]["ok"]
    with Tinyproxy() as proxy:
        r = check("--url", f"http://127.0.0.1:{port}/", env=clean_env(http_proxy=proxy.url))
        assert r.code == 0
        assert r.finding("discovery.route")["evidence"]["agent"].startswith("direct")
        assert "tcpSlaveAgentListener" not in proxy.log()
