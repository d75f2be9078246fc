"""Two-way TLS behind Apache httpd (Debian's apache2 with mod_ssl as a TLS reverse proxy), issue 18.

What Apache 2.4 really answers (checked by hand with curl, openssl s_client and Python's ssl):
- ``SSLVerifyClient require`` for the whole server refuses in the handshake; under TLS 1.3 the
  client sees the alert (certificate_required) only after its handshake completed.
- ``SSLVerifyClient require`` inside ``<Location>`` needs a second handshake: under TLS 1.3 that is
  post-handshake authentication, which only a client that offered it can do. A client that did
  not (Python's ssl by default, the JDK's SunJSSE, ``openssl s_client`` without ``-enable_pha``)
  gets ``403 Forbidden`` with "Reason: Cannot perform Post-Handshake Authentication." in the body,
  whether or not it holds a certificate (error log: AH10158).
"""

from __future__ import annotations

import ipaddress
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.peers.controller import identity_b64, jenkins_server
from tests.peers.nginx import Nginx
from tests.peers.util import clean_env, free_port, run_cli
from tests.tls.conftest import JDK17
from tests.tls.mtls_peers import PASSWORD, Apache, Ca, make_stores, make_truststore, write_pem


@pytest.fixture(scope="module")
def apache(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("apache")
    ca = Ca.make("Agents CA")
    ca_pem = write_pem(d / "ca.pem", ca.cert)
    server_cert, server_key = ca.issue(
        "localhost", eku=[ExtendedKeyUsageOID.SERVER_AUTH],
        sans=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    combined = write_pem(d / "server-combined.pem", server_cert, server_key)
    cert, key = ca.issue("agent-right", eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    p12, _ = make_stores(d, "right", cert, key, ca_pem)
    truststore = make_truststore(d, ca_pem)
    backend = free_port()
    with ExitStack() as stack:
        stack.enter_context(Nginx(jenkins_server(backend, 50000, identity_b64()), [backend]))
        front = stack.enter_context(Apache(combined, ca_pem, backend))
        yield {"ca": ca_pem, "p12": p12, "truststore": truststore, "front": front}


def _run(a: dict[str, Any], port: int, keystore: Path | None = None, java_check: str = "predict") -> Any:
    if a["truststore"] is None:
        pytest.skip("no keytool to make the agent JVM's trust store")
    opts = f"-Djavax.net.ssl.trustStore={a['truststore']} -Djavax.net.ssl.trustStorePassword={PASSWORD}"
    if keystore is not None:
        opts += f" -Djavax.net.ssl.keyStore={keystore} -Djavax.net.ssl.keyStorePassword={PASSWORD}"
    res = run_cli("check", "--url", f"https://localhost:{port}/", "--ca-file", str(a["ca"]), "--json",
                  "--timeout", "6", "--java", f"{JDK17}/bin/java", "--java-check", java_check,
                  "--from-process", "none", "--probe", "discovery", "--probe", "tls.*",
                  env=clean_env(JAVA_OPTS=opts))
    assert "Traceback" not in res.stderr, res.stderr
    assert PASSWORD not in res.stdout and PASSWORD not in res.stderr
    return res


def _bad(res: Any) -> list[tuple[str, str, str]]:
    return [(f["id"], f["status"], f["title"]) for f in res.json()["findings"] if f["status"] in ("fail", "warn")]


def test_server_level_require_without_a_certificate_is_named(apache):
    res = _run(apache, apache["front"].port)
    dj = res.finding("discovery.jenkins")
    assert dj["status"] == "fail" and "requires a client certificate, and the agent sent none" in dj["title"]
    assert dj["caused_by"] == "tls.client_auth"
    ta = res.finding("tls.client_auth")
    assert ta["status"] == "fail" and "requires a client certificate, and the agent has none" in ta["title"]
    assert ta["evidence"]["without_certificate"]["layer"] == "post-handshake"  # TLS 1.3: the alert follows
    assert [r["id"] for r in res.json()["root_causes"]] == ["tls.client_auth"]


def test_server_level_require_with_the_right_certificate_gets_no_failure(apache):
    res = _run(apache, apache["front"].port, apache["p12"], java_check="both")
    assert _bad(res) == []
    ta = res.finding("tls.client_auth")
    assert ta["status"] == "pass" and ta["evidence"]["required"] is True
    assert ta["evidence"]["with_certificate"]["kind"] == "jenkins"  # proxied through to "Jenkins"
    tj = res.finding("tls.java")
    assert (tj["evidence"]["predicted"], tj["evidence"]["observed"]) == ("ok", "ok"), tj["detail"]
    assert res.code == 0


def test_location_require_answers_403_and_is_named(apache):
    res = _run(apache, apache["front"].location_port)
    dj = res.finding("discovery.jenkins")
    assert dj["status"] == "fail" and dj["caused_by"] == "tls.client_auth"
    assert 'Apache httpd answers 403 "Cannot perform Post-Handshake Authentication"' in dj["title"]
    assert "requires a client certificate only after the TLS 1.3 handshake" in dj["title"]
    ta = res.finding("tls.client_auth")
    assert ta["status"] == "fail" and "requires a client certificate" in ta["title"]
    without = ta["evidence"]["without_certificate"]
    assert (without["layer"], without["front"], without["refusal"]) == ("http", "Apache httpd", "post_handshake")


def test_location_require_fails_the_jvm_even_with_the_right_certificate(apache):
    """Not a false alarm: Java 17 itself gets the 403 with the right key store (observed), so the tool
    fails it, and says why (post-handshake authentication), not that the certificate is refused."""
    res = _run(apache, apache["front"].location_port, apache["p12"], java_check="both")
    ta = res.finding("tls.client_auth")
    assert ta["status"] == "fail"
    assert "only after the TLS 1.3 handshake, which the agent's JVM cannot give" in ta["title"]
    assert "refuses the agent's client certificate" not in ta["title"]
    assert ta["evidence"]["problems"] == []  # nothing wrong with the certificate itself
    notes = [n for f in ta["fixes"] for n in f["notes"]]
    assert any("SSLVerifyClient require" in n and "<VirtualHost>" in n for n in notes)
    tj = res.finding("tls.java")
    assert tj["evidence"]["observed"] == "fail" and "Post-Handshake" in tj["title"]
