"""Two-way TLS as agents run it (issue 18), against real fronts: nginx ``ssl_verify_client on`` and
``optional``, HAProxy ``verify required`` and ``openssl s_server -Verify``; the agent's identity
comes from PKCS12 and JKS key stores in ``JAVA_OPTS`` (or ``--client-cert``), as agent.jar gets it.
"""

from __future__ import annotations

import ipaddress
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.peers.controller import identity_b64, jenkins_server
from tests.peers.nginx import Nginx
from tests.peers.util import clean_env, free_port, run_cli
from tests.tls.conftest import JDK17
from tests.tls.mtls_peers import PASSWORD, Ca, HAProxy, keytool, make_stores, make_truststore, write_pem
from tests.tls.peers import OpenSSLServer

CLIENT = [ExtendedKeyUsageOID.CLIENT_AUTH]
SERVER_ONLY = [ExtendedKeyUsageOID.SERVER_AUTH]


@dataclass
class Mtls:
    dir: Path
    ca: Path
    truststore: Path | None  # the agent JVM's -Djavax.net.ssl.trustStore
    urls: dict[str, str]  # front -> https URL
    stores: dict[str, tuple[Path, Path]]  # client case -> (p12, jks)
    pems: dict[str, Path]  # client case -> PEM with key


@pytest.fixture(scope="module")
def mtls(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("mtls")
    ca, other = Ca.make("Agents CA"), Ca.make("Another CA")
    ca_pem = write_pem(d / "ca.pem", ca.cert)
    other_pem = write_pem(d / "other-ca.pem", other.cert)
    server_cert, server_key = ca.issue(
        "localhost",
        eku=[ExtendedKeyUsageOID.SERVER_AUTH],
        sans=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    # One PEM with the certificate and its key: nginx, HAProxy and s_server all read it.
    combined = write_pem(d / "server-combined.pem", server_cert, server_key)
    stores, pems = {}, {}
    for name, issuer, kw in (
        ("right", ca, {"eku": CLIENT}),
        ("other_ca", other, {"eku": CLIENT}),
        ("expired", ca, {"eku": CLIENT, "days": (-30, -1)}),
        ("no_client_auth", ca, {"eku": SERVER_ONLY}),
    ):
        cert, key = issuer.issue(f"agent-{name}", **kw)
        pems[name] = write_pem(d / f"{name}-full.pem", cert, key)
        stores[name] = make_stores(d, name, cert, key, ca_pem if issuer is ca else other_pem)
    identity = identity_b64()
    ports = {"on": free_port(), "optional": free_port(), "plain": free_port(), "gate": free_port()}
    tls = (str(combined), str(combined))
    blocks = "\n".join(
        [
            jenkins_server(ports["on"], 50000, identity, tls=tls,
                           extra=f"ssl_client_certificate {ca_pem}; ssl_verify_client on;"),
            jenkins_server(ports["optional"], 50000, identity, tls=tls,
                           extra=f"ssl_client_certificate {ca_pem}; ssl_verify_client optional;"),
            jenkins_server(ports["plain"], 50000, identity),
            # A front that asks, and refuses with a page of its own (a policy, not nginx's 400).
            jenkins_server(ports["gate"], 50000, identity, tls=tls,
                           extra=f"ssl_client_certificate {ca_pem}; ssl_verify_client optional; "
                           "if ($ssl_client_verify != SUCCESS) { return 403 '<h1>Certificate policy</h1>'; }"),
        ]
    )
    with ExitStack() as stack:
        stack.enter_context(Nginx(blocks, list(ports.values())))
        haproxy = stack.enter_context(HAProxy(combined, ca_pem, ports["plain"]))
        s_server = stack.enter_context(
            OpenSSLServer(str(combined), str(combined), "-Verify", "1", "-verify_return_error", "-CAfile", str(ca_pem))
        )
        urls = {
            "nginx_on": f"https://localhost:{ports['on']}/",
            "nginx_optional": f"https://localhost:{ports['optional']}/",
            "nginx_gate": f"https://localhost:{ports['gate']}/",
            "haproxy": f"https://localhost:{haproxy.port}/",
            "s_server": s_server.url,
        }
        yield Mtls(d, ca_pem, make_truststore(d, ca_pem), urls, stores, pems)


def _java_opts(store: Path | None, password: str = PASSWORD, store_type: str | None = None) -> str:
    if store is None:
        return ""
    opts = f"-Djavax.net.ssl.keyStore={store} -Djavax.net.ssl.keyStorePassword={password}"
    return opts + (f" -Djavax.net.ssl.keyStoreType={store_type}" if store_type else "")


def _run(m: Mtls, front: str, *extra: str, java_opts: str = "", probes: tuple[str, ...] = ("discovery", "tls.*"),
         java_check: str = "predict", env: dict[str, str] | None = None) -> Any:
    if m.truststore is None:
        pytest.skip("no keytool to make the agent JVM's trust store")
    java_opts = f"-Djavax.net.ssl.trustStore={m.truststore} -Djavax.net.ssl.trustStorePassword={PASSWORD} {java_opts}"
    args = ["check", "--url", m.urls[front], "--ca-file", str(m.ca), "--json", "--timeout", "6",
            "--java", f"{JDK17}/bin/java", "--java-check", java_check, "--from-process", "none"]
    for p in probes:
        args += ["--probe", p]
    res = run_cli(*args, *extra, env=clean_env(JAVA_OPTS=java_opts, **(env or {})))
    assert "Traceback" not in res.stderr, res.stderr
    assert PASSWORD not in res.stdout and PASSWORD not in res.stderr  # the store password is a secret
    return res


def _bad(res: Any) -> list[tuple[str, str, str]]:
    return [(f["id"], f["status"], f["title"]) for f in res.json()["findings"] if f["status"] in ("fail", "warn")]


@pytest.mark.parametrize("front", ["nginx_on", "haproxy", "s_server"])
@pytest.mark.parametrize("kind", ["p12", "jks"])
def test_a_right_keystore_gets_no_failure_at_all(mtls, front, kind):
    if kind == "jks" and keytool() is None:
        pytest.skip("no keytool to make a JKS store")
    p12, jks = mtls.stores["right"]
    store = p12 if kind == "p12" else jks
    probes = ("tls.*",) if front == "s_server" else ("discovery", "tls.*")  # s_server is not Jenkins
    res = _run(mtls, front, java_opts=_java_opts(store), probes=probes)
    assert _bad(res) == []
    ta = res.finding("tls.client_auth")
    assert ta["evidence"]["required"] is True
    ident = ta["evidence"]["client_identity"]
    assert ident["source"] == "-Djavax.net.ssl.keyStore" and ident["format"] == ("PKCS12" if kind == "p12" else "JKS")
    presented = ta["evidence"]["presented"]
    assert presented["subject"] == "CN=agent-right,O=jnlpdiag test"
    assert presented["issuer"] == "CN=Agents CA,O=jnlpdiag test"
    assert presented["extended_key_usage"] == ["clientAuth"] and "digitalSignature" in presented["key_usage"]
    assert presented["not_after"] and presented["expired"] is False
    assert res.code == 0


def test_nginx_on_without_a_certificate_is_named(mtls):
    res = _run(mtls, "nginx_on")
    dj = res.finding("discovery.jenkins")
    assert dj["status"] == "fail"
    assert "requires a client certificate, and the agent sent none" in dj["title"]
    assert "No required SSL certificate was sent" in dj["title"]
    assert dj["caused_by"] == "tls.client_auth"
    ta = res.finding("tls.client_auth")
    assert ta["status"] == "fail" and "requires a client certificate, and the agent has none" in ta["title"]
    assert ta["evidence"]["without_certificate"]["layer"] == "http"
    assert ta["evidence"]["without_certificate"]["front"] == "nginx"
    assert "asks" not in ta["title"]
    roots = [r["id"] for r in res.json()["root_causes"]]
    assert roots == ["tls.client_auth"], roots
    steps = [s for f in ta["fixes"] for s in f["steps"]]
    assert any(s.startswith("openssl pkcs12 -export") for s in steps)


def test_nginx_optional_asks_but_does_not_require(mtls):
    res = _run(mtls, "nginx_optional")
    ta = res.finding("tls.client_auth")
    assert ta["status"] == "pass" and "asks for a client certificate but does not require one" in ta["title"]
    assert ta["evidence"]["without_certificate"]["kind"] == "jenkins"  # proven by a Jenkins answer
    assert _bad(res) == []


def test_a_fronts_own_refusal_page_is_named(mtls):
    res = _run(mtls, "nginx_gate", probes=("tls.client_auth",))
    ta = res.finding("tls.client_auth")
    assert ta["status"] == "fail" and "requires a client certificate" in ta["title"]
    assert ta["evidence"]["without_certificate"]["reason"].startswith("nginx/")  # the Server header
    assert "403" in ta["evidence"]["without_certificate"]["reason"]
    res = _run(mtls, "nginx_gate", java_opts=_java_opts(mtls.stores["right"][0]))
    assert _bad(res) == []


def test_nginx_optional_refuses_an_expired_certificate(mtls):
    res = _run(mtls, "nginx_optional", java_opts=_java_opts(mtls.stores["expired"][0]))
    dj = res.finding("discovery.jenkins")
    assert dj["status"] == "fail" and "refuses the agent's client certificate" in dj["title"]
    assert "The SSL certificate error" in dj["title"]
    ta = res.finding("tls.client_auth")
    assert ta["status"] == "fail" and "refuses the agent's client certificate" in ta["title"]
    assert any(p.startswith("it expired on") for p in ta["evidence"]["problems"])
    steps = [s for f in ta["fixes"] for s in f["steps"]]
    assert any("openssl x509 -req" in s and "-extfile client-ext.cnf" in s for s in steps)
    assert any(s.startswith("openssl pkcs12 -in ") and "-ext keyUsage,extendedKeyUsage" in s for s in steps)


def test_haproxy_without_certificate_and_without_client_auth(mtls):
    res = _run(mtls, "haproxy")
    ta = res.finding("tls.client_auth")
    assert ta["status"] == "fail" and "requires a client certificate" in ta["title"]
    assert ta["evidence"]["without_certificate"]["layer"] == "post-handshake"  # TLS 1.3: the alert follows the handshake
    assert res.finding("discovery.jenkins")["caused_by"] == "tls.client_auth"

    p12, jks = mtls.stores["no_client_auth"]
    res = _run(mtls, "haproxy", java_opts=_java_opts(jks if keytool() else p12))
    ta = res.finding("tls.client_auth")
    assert ta["status"] == "fail" and "refuses the agent's client certificate" in ta["title"], ta["title"]
    assert "alert" in ta["title"]
    assert any("without clientAuth" in p for p in ta["evidence"]["problems"])
    if keytool():
        steps = [s for f in ta["fixes"] for s in f["steps"]]
        assert any(s.startswith("keytool -exportcert -rfc -alias agent") for s in steps)
        assert any(s.startswith("keytool -importkeystore") and "-deststoretype JKS" in s for s in steps)


@pytest.mark.parametrize("case,problem", [("other_ca", "not by a CA the server names"), ("expired", "it expired on")])
def test_s_server_verify_judges_the_certificate(mtls, case, problem):
    res = _run(mtls, "s_server", java_opts=_java_opts(mtls.stores[case][0]), probes=("tls.client_auth",))
    ta = res.finding("tls.client_auth")
    assert ta["status"] == "fail"
    assert any(problem in p for p in ta["evidence"]["problems"]), ta["evidence"]["problems"]
    if case == "other_ca":
        assert "the agent's JVM sends none" in ta["title"]  # SunX509 picks no entry for these CA names
        assert ta["evidence"]["with_certificate"] is None


def test_a_keystore_that_cannot_be_opened(mtls):
    p12, _ = mtls.stores["right"]
    res = _run(mtls, "nginx_optional", java_opts=_java_opts(p12, password="wrong-password-1"),
               probes=("tls.client_auth", "tls.java"))
    ta = res.finding("tls.client_auth")
    assert ta["status"] == "fail" and "key store cannot be opened" in ta["title"]
    assert "every HTTPS connection of the agent fails" in ta["detail"]
    assert "wrong-password-1" not in res.stdout
    tj = res.finding("tls.java")
    assert tj["evidence"]["predicted_code"] == "keystore"


def test_the_jvm_observes_with_the_agents_keystore(mtls):
    """The JVM checker runs with the agent's key store options (JKS), and with --client-cert."""
    if keytool() is None:
        pytest.skip("no keytool to make a JKS store")
    _, jks = mtls.stores["right"]
    res = _run(mtls, "nginx_on", java_opts=_java_opts(jks, store_type="JKS"), probes=("tls.java",), java_check="both")
    tj = res.finding("tls.java")
    assert (tj["evidence"]["predicted"], tj["evidence"]["observed"]) == ("ok", "ok"), tj["detail"]

    res = _run(mtls, "nginx_on", probes=("tls.java",), java_check="run")
    tj = res.finding("tls.java")
    assert tj["evidence"]["observed"] == "fail"  # nginx answers 400: the JVM sees an HTTP answer
    # ... or, at the TLS layer, a handshake alert: either way not a silent pass.

    res = _run(mtls, "haproxy", "--client-cert", str(mtls.pems["right"]), probes=("tls.java",), java_check="both")
    tj = res.finding("tls.java")
    assert (tj["evidence"]["predicted"], tj["evidence"]["observed"]) == ("ok", "ok"), tj["detail"]


def test_no_certificate_check_keeps_the_keystore_out(mtls):
    """agent.jar -noCertificateCheck builds its own SSL context without key managers (remoting
    Engine.getSSLContext), so the key store is not presented: the tool says so, and the JVM checker,
    which does the same, fails against a front that requires a certificate."""
    res = _run(mtls, "haproxy", java_opts=_java_opts(mtls.stores["right"][0]), probes=("tls.client_auth", "tls.java"),
               java_check="both", env={"REMOTING_OPTS": "-noCertificateCheck"})
    ta = res.finding("tls.client_auth")
    assert ta["status"] == "fail" and "-noCertificateCheck" in ta["title"]
    assert "keystore_not_presented" in ta["evidence"]
    tj = res.finding("tls.java")
    assert (tj["evidence"]["predicted"], tj["evidence"]["observed"]) == ("fail", "fail"), tj["detail"]
    assert tj["caused_by"] == "tls.client_auth"
