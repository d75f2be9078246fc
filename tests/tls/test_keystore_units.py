"""The agent's client identity without a JVM (jnlpdiag.tls.keystore), the answers of two-way TLS
fronts (jnlpdiag.tls.clientauth) and the HTTPS context made with it (jnlpdiag.tls.agentssl).
Stores are written by the real tools (openssl pkcs12, keytool)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from jnlpdiag.agent import build_agent_view
from jnlpdiag.redact import Redactor
from jnlpdiag.settings import Settings
from jnlpdiag.tls import agentssl
from jnlpdiag.tls.clientauth import alert_name, classify, judge
from jnlpdiag.tls.handshake import Result
from jnlpdiag.tls.keystore import load_identity
from tests.tls.mtls_peers import PASSWORD, Ca, keytool, make_stores, write_pem


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("stores")
    ca = Ca.make("Unit CA")
    ca_pem = write_pem(d / "ca.pem", ca.cert)
    cert, key = ca.issue("agent-unit", eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    p12, jks = make_stores(d, "agent", cert, key, ca_pem)
    return {"dir": d, "ca": ca, "p12": p12, "jks": jks, "pem": d / "agent.pem"}


def _props(path: Path, password: str | None = PASSWORD, store_type: str | None = None) -> dict[str, str]:
    props = {"javax.net.ssl.keyStore": str(path)}
    if password is not None:
        props["javax.net.ssl.keyStorePassword"] = password
    if store_type:
        props["javax.net.ssl.keyStoreType"] = store_type
    return props


@pytest.mark.parametrize("kind", ["p12", "jks"])
def test_reads_the_key_entry_of_pkcs12_and_jks(stores, kind):
    if kind == "jks" and keytool() is None:
        pytest.skip("no keytool")
    ident = load_identity(_props(stores[kind]))
    assert ident is not None and ident.error is None
    assert ident.file_format == {"p12": "PKCS12", "jks": "JKS"}[kind]
    entry = ident.choose()
    assert entry is not None and entry.alias == "agent"
    facts = ident.facts()["presented"]
    assert facts["subject"] == "CN=agent-unit,O=jnlpdiag test" and facts["extended_key_usage"] == ["clientAuth"]
    # SunX509 chooses by the CertificateRequest's CA names: none fits another CA.
    assert ident.choose(["CN=Unit CA,O=jnlpdiag test"]) is entry
    assert ident.choose(["CN=Someone else"]) is None


@pytest.mark.parametrize(
    "password,declared,error",
    [
        ("wrong", None, "password"),  # PKCS12: MAC check fails, as the JVM's "keystore password was incorrect"
        (None, None, "no -Djavax.net.ssl.keyStorePassword"),  # the JVM: "Get Key failed"
        (PASSWORD, "PKCS11", "cannot be read without the JVM"),
        (PASSWORD, "JCEKS", "not JCEKS"),
    ],
)
def test_a_store_the_jvm_cannot_open_is_an_error(stores, password, declared, error):
    ident = load_identity(_props(stores["p12"], password, declared))
    assert ident is not None and ident.error and error in ident.error, ident.error
    assert ident.choose() is None or ident.error  # nothing is presented from a broken store


def test_a_declared_type_the_compat_mode_reads_is_a_note(stores):
    if keytool() is None:
        pytest.skip("no keytool")
    ident = load_identity(_props(stores["jks"], store_type="PKCS12"))
    assert ident is not None and ident.error is None and ident.entries
    assert any("keystore.type.compat" in n for n in ident.notes)


def test_missing_file_and_wrong_jks_password(stores, tmp_path):
    ident = load_identity(_props(tmp_path / "nope.p12"))
    assert ident is not None and "cannot read" in (ident.error or "")
    if keytool():
        ident = load_identity(_props(stores["jks"], "wrong"))
        assert ident is not None and "password was incorrect" in (ident.error or "")


def test_client_cert_override_wins_and_checks_the_key(stores, tmp_path):
    ident = load_identity(_props(stores["p12"]), str(stores["pem"]))
    assert ident is not None and ident.source == "--client-cert" and ident.entries
    _, other_key = stores["ca"].issue("someone")
    from cryptography.hazmat.primitives import serialization

    key_file = tmp_path / "other.key"
    key_file.write_bytes(
        other_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    ident = load_identity({}, str(stores["pem"]), str(key_file))
    assert ident is not None and "does not belong" in (ident.error or "")


def test_judge_names_what_the_server_will_refuse():
    ca = Ca.make("Judge CA")
    names = ["CN=Judge CA,O=jnlpdiag test"]
    good, key = ca.issue("a", eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    from jnlpdiag.tls.keystore import KeyEntry

    assert judge(KeyEntry("a", [good], key), names) == []
    assert [p.code for p in judge(KeyEntry("a", [good], key), ["CN=Other"])] == ["other_ca"]
    expired, key = ca.issue("b", eku=[ExtendedKeyUsageOID.CLIENT_AUTH], days=(-30, -1))
    assert [p.code for p in judge(KeyEntry("b", [expired], key), names)] == ["expired"]
    server_only, key = ca.issue("c", eku=[ExtendedKeyUsageOID.SERVER_AUTH], digital_signature=False)
    assert [p.code for p in judge(KeyEntry("c", [server_only], key), names)] == ["eku", "key_usage"]
    no_eku, key = ca.issue("d")
    assert judge(KeyEntry("d", [no_eku], key), names, dt.datetime.now(dt.timezone.utc)) == []  # no EKU: any use


def test_answers_at_every_layer():
    assert alert_name("[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required (_ssl.c:2580)") == (
        "certificate_required"
    )
    assert alert_name("sslv3 alert unsupported certificate") == "unsupported_certificate"
    assert alert_name("wrong version number") is None
    post = Result(ok=True, after_alert=True, after_error="tlsv13 alert certificate required")
    assert classify(post, sent_certificate=False).layer == "post-handshake"
    nginx = Result(ok=True, cert_requested=True, http_status="HTTP/1.1 400 Bad Request",
                   http_body="<title>400 No required SSL certificate was sent</title>")
    a = classify(nginx, sent_certificate=False)
    assert (a.kind, a.refusal, a.front) == ("refused", "missing", "nginx")
    apache = Result(ok=True, http_status="HTTP/1.1 403 Forbidden", http_headers={"server": "Apache"},
                    http_body="Reason: Cannot perform Post-Handshake Authentication.<br />")
    a = classify(apache, sent_certificate=True)
    assert (a.kind, a.refusal, a.front) == ("refused", "post_handshake", "Apache httpd")  # even with a certificate
    page = Result(ok=True, cert_requested=True, http_status="HTTP/1.1 403 Forbidden", http_headers={"server": "HAProxy"},
                  http_body="<h1>403 Forbidden</h1>Request forbidden by administrative rules.")
    assert classify(page, sent_certificate=False).kind == "refused"  # a proxy's own page after a CertificateRequest
    jenkins = Result(ok=True, cert_requested=True, http_status="HTTP/1.1 403 Forbidden", http_headers={"x-jenkins": "2.479"})
    assert classify(jenkins, sent_certificate=False).kind == "jenkins"  # Jenkins' own 403 is a normal answer
    unrelated = Result(ok=True, http_status="HTTP/1.1 502 Bad Gateway")
    assert classify(unrelated, sent_certificate=False).kind == "other"  # no CertificateRequest: proves nothing


def test_https_context_presents_the_certificate_and_leaves_no_file(stores, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    # A relative key store path is the agent's: resolved against its working directory.
    monkeypatch.chdir(stores["dir"])
    settings = Settings(java_opts=f"-Djavax.net.ssl.keyStore=agent.p12 -Djavax.net.ssl.keyStorePassword={PASSWORD}")
    agent = build_agent_view(settings, env={})
    assert agentssl.presented_entry(agent) is not None
    context = agentssl.agent_ssl_context(agent)
    assert context is agentssl.agent_ssl_context(agent)  # shared, like client_ssl_context
    assert os.listdir(tmp_path) == []  # the chain and the (encrypted) key were removed after loading
    # agent.jar -noCertificateCheck builds its own context without the key store (remoting Engine).
    settings.no_certificate_check = True
    assert agentssl.presented_entry(agent) is None
    assert "noCertificateCheck" in (agentssl.keystore_bypassed(settings, agent.client_identity()) or "")


def test_store_passwords_are_secrets():
    settings = Settings(java_opts=f"-Djavax.net.ssl.keyStore=/x.p12 -Djavax.net.ssl.keyStorePassword={PASSWORD} "
                                  "-Djavax.net.ssl.trustStorePassword=trust-pw-123")
    redact = Redactor(settings.secret_values())
    assert redact(f"could not open with {PASSWORD} or trust-pw-123") == "could not open with <redacted> or <redacted>"


def test_openssl_reads_the_store_we_write(stores, tmp_path):
    """write_pkcs12 (the --client-cert store handed to the JVM checker) is a PKCS12 others read."""
    from jnlpdiag.tls.keystore import write_pkcs12

    ident = load_identity(_props(stores["p12"]))
    assert ident is not None
    path = tmp_path / "out.p12"
    password = write_pkcs12(ident.entries[0], str(path))
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    out = subprocess.run(["openssl", "pkcs12", "-in", str(path), "-nokeys", "-passin", f"pass:{password}"],
                         capture_output=True, text=True, check=True).stdout
    assert "agent-unit" in out
