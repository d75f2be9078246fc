"""Every server case of issue 3 through the real CLI: versions, certificate and client-auth verdicts.

Each case is a real ``openssl s_server`` (or Python ssl server) with trustme certificates; the CLI
runs as a user would run it (``jnlpdiag check --url ... --ca-file ca.pem --json --probe 'tls.*'``).
tls.java runs in ``predict`` mode here (no JVM); the JVM itself is exercised in test_tls_java.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.peers.util import clean_env, run_cli
from tests.tls.conftest import JDK17

# case -> expected (accepted_versions, tls.versions status, tls.certificate status, certificate problem,
#                   (requested, required), tls.client_auth status)
EXPECTED: dict[str, tuple[list[str], str, str, str | None, tuple[bool, bool], str]] = {
    "tls13": (["TLSv1.3"], "pass", "pass", None, (False, False), "pass"),
    "tls12": (["TLSv1.2"], "pass", "pass", None, (False, False), "pass"),
    "both": (["TLSv1.2", "TLSv1.3"], "pass", "pass", None, (False, False), "pass"),
    "tls10": (["TLSv1"], "fail", "pass", None, (False, False), "pass"),
    "expired": (["TLSv1.2", "TLSv1.3"], "pass", "fail", "expired", (False, False), "pass"),
    "wronghost": (["TLSv1.2", "TLSv1.3"], "pass", "fail", "hostname", (False, False), "pass"),
    "selfsigned": (["TLSv1.2", "TLSv1.3"], "pass", "fail", "self_signed", (False, False), "pass"),
    "nointermediate": (["TLSv1.2", "TLSv1.3"], "pass", "fail", "incomplete_chain", (False, False), "pass"),
    "fullchain": (["TLSv1.2", "TLSv1.3"], "pass", "pass", None, (False, False), "pass"),
    "clientcert": (["TLSv1.2", "TLSv1.3"], "pass", "pass", None, (True, True), "fail"),
    "clientcert12": (["TLSv1.2"], "pass", "pass", None, (True, True), "fail"),
    "clientoptional": (["TLSv1.2", "TLSv1.3"], "pass", "pass", None, (True, False), "pass"),
    "tlsrsa": (["TLSv1.2"], "pass", "pass", None, (False, False), "pass"),
    "skew": (["TLSv1.2", "TLSv1.3"], "pass", "warn", "clock_skew", (False, False), "pass"),
}


def _check(servers: dict[str, Any], pki: Any, case: str, *extra: str, env: dict[str, str] | None = None):
    server = servers[case]
    res = run_cli(
        "check",
        "--url",
        server.url,
        "--ca-file",
        str(pki.ca),
        "--json",
        "--probe",
        "tls.*",
        "--java-check",
        "predict",
        "--java",
        f"{JDK17}/bin/java",
        "--timeout",
        "5",
        "--from-process",
        "none",  # JAVA_OPTS is the agent's: never a java -jar agent.jar that runs here at the same time
        *extra,
        env=env or clean_env(),
    )
    assert "Traceback" not in res.stderr, res.stderr
    return res


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_case(servers, pki, case):
    versions, v_status, c_status, problem, (requested, required), a_status = EXPECTED[case]
    res = _check(servers, pki, case)
    tv = res.finding("tls.versions")
    assert tv["evidence"]["accepted_versions"] == versions
    assert tv["status"] == v_status, tv
    for v in versions:  # the suites of every accepted version are listed, by IANA name
        assert tv["evidence"]["ciphers"][v], tv["evidence"]["ciphers"]
        assert all(c.startswith("TLS_") for c in tv["evidence"]["ciphers"][v])
    assert set(tv["evidence"]["negotiated"]) >= {"version", "cipher"}
    assert "selected" in tv["evidence"]["alpn"]

    tc = res.finding("tls.certificate")
    assert tc["status"] == c_status, (tc["title"], tc["evidence"]["problems"])
    if problem:
        assert problem in tc["evidence"]["problems"]
        assert tc["fixes"]
    else:
        assert tc["evidence"]["problems"] == []
    for key in ("verified", "not_after", "hostname_match", "chain"):
        assert key in tc["evidence"]
    assert tc["evidence"]["chain"][0]["sha256"].count(":") == 31

    ta = res.finding("tls.client_auth")
    assert (ta["evidence"]["requested"], ta["evidence"]["required"]) == (requested, required)
    assert ta["status"] == a_status
    if requested:
        assert ta["evidence"]["ca_names"] and "trustme" in ta["evidence"]["ca_names"][0]

    tj = res.finding("tls.java")
    assert tj["evidence"]["observed"] is None  # predict never starts a JVM
    assert tj["evidence"]["predicted"] in ("ok", "fail")
    worst = max((f["status"] for f in res.json()["findings"]), key=["pass", "skip", "warn", "fail"].index)
    assert res.code == {"pass": 0, "skip": 0, "warn": 1, "fail": 2}[worst]


def test_names_what_is_wrong(servers, pki):
    """The verdicts name the exact problem: the missing intermediate, the host name, the expiry."""
    res = _check(servers, pki, "nointermediate")
    tc = res.finding("tls.certificate")
    assert tc["evidence"]["incomplete_chain"] is True
    assert "Testing CA" in tc["evidence"]["missing_issuer"]
    assert "intermediate" in tc["title"]
    assert any("fullchain" in step for fix in tc["fixes"] for step in fix["steps"])

    tc = _check(servers, pki, "wronghost").finding("tls.certificate")
    assert tc["evidence"]["hostname_match"] is False
    assert "jenkins.example.org" in tc["detail"]
    assert any("subjectAltName=DNS:localhost" in s for f in tc["fixes"] for s in f["steps"])

    tc = _check(servers, pki, "selfsigned").finding("tls.certificate")
    assert tc["evidence"]["self_signed"] is True and tc["evidence"]["verified"] is False

    tc = _check(servers, pki, "expired").finding("tls.certificate")
    assert tc["evidence"]["days_left"] < 0

    tv = _check(servers, pki, "tls10").finding("tls.versions")
    assert "disables" in tv["title"] and tv["fixes"]


def test_clock_skew_flips_validity(servers, pki):
    tc = _check(servers, pki, "skew").finding("tls.certificate")
    assert 2.9 * 86400 < tc["evidence"]["clock_skew_s"] < 3.1 * 86400
    assert "server's clock" in tc["detail"]
    assert "expiring" in tc["evidence"]["problems"]  # one day left


def test_client_certificate_accepted_and_rejected(servers, pki):
    ok = _check(servers, pki, "clientcert", "--client-cert", str(pki.client_cert), "--client-key", str(pki.client_key))
    ta = ok.finding("tls.client_auth")
    assert ta["status"] == "pass", ta
    assert ta["evidence"]["with_certificate"]["kind"] == "answered"
    assert ta["evidence"]["presented"]["subject"].startswith("CN=agent,")
    assert "clientAuth" in ta["evidence"]["presented"]["extended_key_usage"]

    bad = _check(
        servers,
        pki,
        "clientcert12",
        "--client-cert",
        str(pki.other_client_cert),
        "--client-key",
        str(pki.other_client_key),
    )
    ta = bad.finding("tls.client_auth")
    assert ta["status"] == "fail"
    assert ta["evidence"]["with_certificate"] is None  # the JVM chooses no entry for these CA names
    assert "sends none" in ta["title"]  # another CA: the JVM would not even send it
    assert any("not by a CA the server names" in p for p in ta["evidence"]["problems"])


def test_jvm_keystore_identity_is_tried(servers, pki):
    env = clean_env(
        JAVA_OPTS=f"-Djavax.net.ssl.keyStore={pki.client_p12} -Djavax.net.ssl.keyStorePassword=changeit "
        f"-Djavax.net.ssl.trustStore={pki.truststore} -Djavax.net.ssl.trustStorePassword=changeit"
    )
    res = _check(servers, pki, "clientcert", env=env)
    ta = res.finding("tls.client_auth")
    assert ta["evidence"]["client_identity"]["source"] == "-Djavax.net.ssl.keyStore"
    assert ta["evidence"]["with_certificate"]["kind"] != "refused"
    assert ta["status"] == "pass"
    tj = res.finding("tls.java")
    assert tj["evidence"]["predicted"] == "ok", tj["evidence"]["predicted_reason"]
    assert "changeit" not in res.stdout  # passwords in JVM options never reach the output
