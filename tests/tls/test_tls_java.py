"""tls.java: the prediction must match the JVM's own outcome, for every server case of issue 3,
with JDK 17 (Debian, what .ci/run installs) and every other JDK here (Temurin 25), with and
without ``-Djdk.tls.client.protocols=TLSv1.2`` in the agent's options.

The probe runs in-process (Runner, the same code path as the CLI) with ``--java-check both``: one
prediction from the JVM's files, and one real ``HttpsURLConnection`` from ``TlsCheck.java`` in that
JVM. The JVM trusts the test CA through a keytool-made trust store in JAVA_OPTS.
"""

from __future__ import annotations

import os
import stat
from typing import Any

import pytest

from jnlpdiag.options import RunOptions
from jnlpdiag.registry import load_probes, select
from jnlpdiag.runner import run_sync
from jnlpdiag.settings import Settings
from tests.peers.util import clean_env, run_cli
from tests.tls.conftest import JDK17, JDKS, jvm_refuses_tls_rsa, jvm_tls_disabled_algorithms

TLS12 = "-Djdk.tls.client.protocols=TLSv1.2"
# case -> outcome for (jdk17, jdk17 + TLS12, jdk25, jdk25 + TLS12), and the predicted reason when failing
EXPECTED: dict[str, tuple[tuple[str, str, str, str], str | None]] = {
    "tls13": (("ok", "fail", "ok", "fail"), "protocol"),
    "tls12": (("ok", "ok", "ok", "ok"), None),
    "both": (("ok", "ok", "ok", "ok"), None),
    "tls10": (("fail", "fail", "fail", "fail"), "protocol"),
    "expired": (("fail", "fail", "fail", "fail"), "expired"),
    "wronghost": (("fail", "fail", "fail", "fail"), "hostname"),
    "selfsigned": (("fail", "fail", "fail", "fail"), "pkix"),
    "nointermediate": (("fail", "fail", "fail", "fail"), "pkix"),
    "clientcert": (("fail", "fail", "fail", "fail"), "client_cert"),
    # Whether a JDK refuses TLS_RSA_* depends on its update, not its feature version: the JVM says.
    "tlsrsa": (("jvm", "jvm", "jvm", "jvm"), "tls_rsa"),
}
# What the JVM's exception text is classified as, for each predicted reason. OpenSSL answers a
# missing client certificate on TLS 1.2 with a plain handshake_failure alert, as it does a
# missing common suite; on TLS 1.3 with certificate_required.
OBSERVED_AS = {
    "protocol": {"protocol"},
    "expired": {"expired"},
    "hostname": {"hostname"},
    "pkix": {"pkix"},
    "client_cert": {"client_cert", "cipher"},
    "tls_rsa": {"cipher"},
}


def _jdk(name: str) -> str:
    home = JDKS[name]
    if not os.access(f"{home}/bin/java", os.X_OK):
        pytest.skip(f"{home} is not installed")
    return f"{home}/bin/java"


def trust_opts(pki: Any) -> str:
    return f"-Djavax.net.ssl.trustStore={pki.truststore} -Djavax.net.ssl.trustStorePassword=changeit"


def run_probe(url: str, java: str, opts: str, ca_file: str, mode: str = "both", **extra: Any) -> dict[str, Any]:
    probes, _ = load_probes()
    run = RunOptions(timeout=15.0, probe_options={"java_check": mode})
    settings = Settings(url=url, java=java, java_opts=opts, ca_file=ca_file, run=run, **extra)
    report = run_sync(select(probes, ["tls.java"], []), settings)
    findings = {f.id: f for f in report.findings}
    main = findings["tls.java"]
    return {"main": main, "ev": main.evidence, "all": findings}


@pytest.mark.parametrize("jdk", ["jdk17", "jdk25"])
@pytest.mark.parametrize("client_opts", ["", TLS12], ids=["default", "tls12"])
@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_prediction_matches_jvm(servers, pki, case, jdk, client_opts):
    java = _jdk(jdk)
    outcomes, reason = EXPECTED[case]
    want = outcomes[{"jdk17": 0, "jdk25": 2}[jdk] + (1 if client_opts else 0)]
    if want == "jvm":
        want = "fail" if jvm_refuses_tls_rsa(JDKS[jdk]) else "ok"
    r = run_probe(servers[case].url, java, f"{trust_opts(pki)} {client_opts}".strip(), str(pki.ca))
    ev = r["ev"]
    assert ev["observed"] is not None, ev["observed_error"]
    assert ev["predicted"] == ev["observed"], (ev["predicted_reason"], ev["observed_error"])
    assert ev["observed"] == want, (ev["predicted_reason"], ev["observed_error"])
    assert "tls.java.disagreement" not in r["all"]
    assert ev["java_version"].startswith({"jdk17": "17", "jdk25": "25"}[jdk])
    assert ev["java_home"] == JDKS[jdk]
    if want == "fail":
        assert r["main"].status.value == "fail" and r["main"].fixes
        code = "protocol" if (case == "tls13" and client_opts) else reason
        assert ev["predicted_code"] == code, ev["predicted_reason"]
        assert ev["observed_code"] in OBSERVED_AS[code], ev["observed_error"]
    else:
        assert r["main"].status.value == "pass"
        assert ev["observed_protocol"] == ev["predicted_version"]


def test_missing_ca_fix_names_keytool_and_fingerprint(servers, pki):
    """Without the CA in its trust store the JVM fails PKIX; the fix is the exact keytool line."""
    r = run_probe(servers["both"].url, _jdk("jdk17"), "", str(pki.ca))
    ev = r["ev"]
    assert ev["predicted"] == ev["observed"] == "fail"
    assert ev["predicted_code"] == "pkix" and ev["observed_code"] == "pkix"
    steps = [s for f in r["main"].fixes for s in f.steps]
    keytool = next(s for s in steps if s.startswith("keytool -importcert"))
    assert f"-file {pki.ca}" in keytool and f"{JDK17}/lib/security/cacerts" in keytool
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    ca = x509.load_pem_x509_certificate(pki.ca.read_bytes())
    fp = ca.fingerprint(hashes.SHA256()).hex().upper()
    assert ":".join(fp[i : i + 2] for i in range(0, len(fp), 2)) in keytool


def test_jvm_keystore_client_certificate(servers, pki):
    opts = f"{trust_opts(pki)} -Djavax.net.ssl.keyStore={pki.client_p12} -Djavax.net.ssl.keyStorePassword=changeit"
    ev = run_probe(servers["clientcert"].url, _jdk("jdk17"), opts, str(pki.ca))["ev"]
    assert ev["predicted"] == ev["observed"] == "ok", (ev["predicted_reason"], ev["observed_error"])
    assert "changeit" not in str(ev["jvm_options"])


@pytest.mark.parametrize("jdk", ["jdk17", "jdk25"])
def test_java_security_override_allows_tls_rsa(servers, pki, tmp_path, jdk):
    """-Djava.security.properties with TLS_RSA_* removed (the java_tls_rsa_jvm fix): a JDK that
    refuses TLS_RSA_* then talks to a TLS_RSA-only server, and the prediction follows."""
    java = _jdk(jdk)
    if not jvm_refuses_tls_rsa(JDKS[jdk]):
        pytest.skip(f"{JDKS[jdk]} accepts TLS_RSA_* already")
    kept = ", ".join(e for e in jvm_tls_disabled_algorithms(JDKS[jdk]) if e != "TLS_RSA_*")
    override = tmp_path / "tls.security"
    override.write_text(f"jdk.tls.disabledAlgorithms={kept}\n")
    ev = run_probe(servers["tlsrsa"].url, java, f"{trust_opts(pki)} -Djava.security.properties={override}", str(pki.ca))["ev"]
    assert ev["predicted"] == ev["observed"] == "ok", (ev["predicted_reason"], ev["observed_error"])
    assert ev["observed_suite"].startswith("TLS_RSA_")


def test_https_protocols_and_empty_truststore(servers, pki, tmp_path):
    ev = run_probe(servers["tls13"].url, _jdk("jdk17"), f"{trust_opts(pki)} -Dhttps.protocols=TLSv1.2", str(pki.ca))["ev"]
    assert ev["predicted"] == ev["observed"] == "fail"
    assert ev["predicted_code"] == "protocol"
    # A PKCS12 trust store read without its password: the JVM sees no entry at all.
    ev = run_probe(servers["both"].url, _jdk("jdk17"), f"-Djavax.net.ssl.trustStore={pki.truststore}", str(pki.ca))["ev"]
    assert ev["predicted"] == ev["observed"] == "fail"
    assert ev["predicted_code"] == ev["observed_code"] == "truststore"


def test_agent_cert_and_no_certificate_check(servers, pki):
    """agent.jar -cert @ca.pem (only those trusted) and -noCertificateCheck, predicted and observed."""
    ev = run_probe(servers["both"].url, _jdk("jdk17"), "", str(pki.ca), agent_certs=[f"@{pki.ca}"])["ev"]
    assert ev["predicted"] == ev["observed"] == "ok", (ev["predicted_reason"], ev["observed_error"])
    ev = run_probe(servers["selfsigned"].url, _jdk("jdk17"), "", str(pki.ca), no_certificate_check=True)["ev"]
    assert ev["predicted"] == ev["observed"] == "ok", (ev["predicted_reason"], ev["observed_error"])


def test_cli_with_java_opts(servers, pki):
    env = clean_env(JAVA_OPTS=f"{trust_opts(pki)} {TLS12}")
    res = run_cli(
        "check",
        "--url",
        servers["tls13"].url,
        "--ca-file",
        str(pki.ca),
        "--json",
        "--probe",
        "tls.*",
        "--java",
        f"{JDK17}/bin/java",
        "--timeout",
        "15",
        env=env,
    )
    tj = res.finding("tls.java")
    assert tj["evidence"]["predicted"] == tj["evidence"]["observed"] == "fail"
    assert "protocol_version" in tj["evidence"]["observed_error"]
    assert res.code == 2
    assert "changeit" not in res.stdout


def test_predict_mode_never_starts_a_jvm(servers, pki, tmp_path):
    marker = tmp_path / "started"
    wrapper = tmp_path / "bin" / "java"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\ntouch {marker}\nexec {JDK17}/bin/java "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    res = run_cli(
        "check",
        "--url",
        servers["both"].url,
        "--ca-file",
        str(pki.ca),
        "--json",
        "--probe",
        "tls.java",
        "--java",
        str(wrapper),
        "--java-check",
        "predict",
        "--timeout",
        "5",
    )
    tj = res.finding("tls.java")
    assert tj["evidence"]["observed"] is None and tj["evidence"]["predicted"] in ("ok", "fail")
    assert not marker.exists()
    # ... and "run" does start it (the wrapper is a real java).
    res = run_cli(
        "check",
        "--url",
        servers["both"].url,
        "--json",
        "--probe",
        "tls.java",
        "--java",
        str(wrapper),
        "--java-check",
        "run",
        "--timeout",
        "15",
    )
    assert marker.exists()
    assert res.finding("tls.java")["evidence"]["predicted"] is None


@pytest.mark.parametrize("launch", ["classes", "source"])
def test_precompiled_checker_and_its_source_fallback_agree(servers, pki, monkeypatch, launch):
    """The shipped Java 8 classes run by default; without them the source launch gives the same verdict."""
    import asyncio

    from jnlpdiag.tls import javacheck

    monkeypatch.setattr(javacheck, "USE_CLASSES", launch == "classes")
    java = _jdk("jdk17")
    words = trust_opts(pki).split()
    ok = asyncio.run(javacheck.observe(java, JDK17, words, servers["both"].url, 20))
    bad = asyncio.run(javacheck.observe(java, JDK17, [], servers["both"].url, 20))
    assert (ok.result, bad.result) == ("ok", "fail"), (ok.error, bad.error)
    assert javacheck.classify(bad) == "pkix"
    used = ok.command[ok.command.index(java) + 1:]
    if launch == "classes":
        assert "TlsCheck" in used and any(w.endswith("java/classes") for w in used)
    else:
        assert any(w.endswith("TlsCheck.java") for w in used) and "-cp" not in used
