"""The pieces of tls.java's prediction, each against real inputs: the JDKs' own java.security
files, key stores written by the JDK's keytool, certificates built with cryptography."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from jnlpdiag.jvm import JavaInstall
from jnlpdiag.tls import certs, jvmtls
from jnlpdiag.tls.javacheck import checker_options
from jnlpdiag.tls.javasecurity import (
    certpath_disabled,
    load_security_properties,
    name_disabled,
    parse_constraints,
    parse_properties,
    suite_components,
)
from jnlpdiag.tls.truststore import read_keystore, recover_jks_key
from tests.tls.conftest import JDK17, JDK25, _keytool, jvm_refuses_tls_rsa


def test_properties_format():
    text = "# comment\n! also\nkey1 = value one\nkey2:two\nkey3 three \\\n    continued\\\\\nkey4=a\\u0041\\tb\n  \n"
    assert parse_properties(text) == [("key1", "value one"), ("key2", "two"), ("key3", "three continued\\"), ("key4", "aA\tb")]


def _home(tmp_path: Path, master: str) -> Path:
    (tmp_path / "conf" / "security").mkdir(parents=True)
    (tmp_path / "conf" / "security" / "java.security").write_text(master)
    return tmp_path


def test_overrides_includes_and_replacement(tmp_path):
    home = _home(tmp_path / "jdk", "security.overridePropertiesFile=true\na=1\nb=2\ninclude ${java.home}/extra.security\n")
    (home / "extra.security").write_text("c=3\n")
    over = tmp_path / "over.security"
    over.write_text("b=20\n")
    props = load_security_properties(str(home), {"java.security.properties": str(over)}).props
    assert (props["a"], props["b"], props["c"]) == ("1", "20", "3")
    props = load_security_properties(str(home), {"java.security.properties": "=" + str(over)}).props
    assert props == {"b": "20"}
    locked = _home(tmp_path / "locked", "security.overridePropertiesFile=false\nb=2\n")
    sp = load_security_properties(str(locked), {"java.security.properties": str(over)})
    assert sp.props["b"] == "2" and "ignored" in sp.notes[0]


@pytest.mark.parametrize("home", [JDK17, JDK25])
def test_real_java_security(home):
    if not Path(home, "conf/security/java.security").exists():
        pytest.skip(f"{home} not installed")
    sp = load_security_properties(home, {})
    tls = parse_constraints(sp.get("jdk.tls.disabledAlgorithms"), sp.props)
    cp = parse_constraints(sp.get("jdk.certpath.disabledAlgorithms"), sp.props)
    assert name_disabled(tls, "TLSv1.1", set()) and not name_disabled(tls, "TLSv1.2", set())
    for suite in (
        "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
        "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_DH_anon_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_NULL_SHA256",
    ):
        assert name_disabled(tls, suite, suite_components(suite)), suite
    assert not name_disabled(
        tls, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", suite_components("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
    )
    rsa_kx = name_disabled(tls, "TLS_RSA_WITH_AES_128_GCM_SHA256", suite_components("TLS_RSA_WITH_AES_128_GCM_SHA256"))
    assert bool(rsa_kx) == jvm_refuses_tls_rsa(home)  # what the JVM itself prints (JDK-8245545)
    assert certpath_disabled(cp, "MD5withRSA", jdk_ca=False)
    assert certpath_disabled(cp, "SHA1withRSA", jdk_ca=True) and not certpath_disabled(cp, "SHA1withRSA", jdk_ca=False)
    assert not certpath_disabled(cp, "SHA256withECDSA", jdk_ca=True)


def test_jvm_protocols_from_options():
    install = JavaInstall(f"{JDK17}/bin/java", "test")
    if not Path(install.executable).exists():
        pytest.skip("JDK 17 not installed")
    jvm = jvmtls.build(install, [])
    assert jvm.feature == 17 and jvm.protocols == ["TLSv1.3", "TLSv1.2"]
    assert set(jvm.disabled_protocols) == {"TLSv1.1", "TLSv1"}
    jvm = jvmtls.build(install, ["-Djdk.tls.client.protocols=TLSv1.2", "-Dhttps.protocols=TLSv1.3"])
    assert jvm.protocols == ["TLSv1.3"] and jvm.protocols_source == "-Dhttps.protocols"
    assert jvm.truststore is not None and len(jvm.truststore.anchors()) > 50  # the JDK's cacerts


def test_keystores_written_by_keytool(pki, tmp_path):
    keytool = _keytool()
    jks = tmp_path / "t.jks"
    subprocess.run(
        [
            keytool,
            "-importcert",
            "-noprompt",
            "-alias",
            "ca",
            "-file",
            str(pki.ca),
            "-keystore",
            str(jks),
            "-storetype",
            "JKS",
            "-storepass",
            "secret1",
        ],
        check=True,
        capture_output=True,
    )
    ks = read_keystore(str(jks), "secret1")
    assert ks.type == "JKS" and ks.integrity == "ok" and len(ks.anchors()) == 1
    assert read_keystore(str(jks), "wrong").error == "Keystore was tampered with, or password was incorrect"
    assert read_keystore(str(jks)).integrity == "unchecked" and len(read_keystore(str(jks)).anchors()) == 1
    keys = tmp_path / "k.jks"
    subprocess.run(
        [
            keytool,
            "-importkeystore",
            "-srckeystore",
            str(pki.client_p12),
            "-srcstoretype",
            "PKCS12",
            "-srcstorepass",
            "changeit",
            "-destkeystore",
            str(keys),
            "-deststoretype",
            "JKS",
            "-deststorepass",
            "storepw",
            "-destkeypass",
            "storepw",
        ],
        check=True,
        capture_output=True,
    )
    ks = read_keystore(str(keys), "storepw")
    key = recover_jks_key(ks.key_entries()[0], "storepw")
    assert key.public_key().public_numbers() == ks.key_entries()[0].certs[0].public_key().public_numbers()
    with pytest.raises(ValueError):
        recover_jks_key(ks.key_entries()[0], "bad")
    p12 = read_keystore(str(pki.truststore), "changeit")
    assert p12.type == "PKCS12" and len(p12.anchors()) == 1
    assert read_keystore(str(pki.truststore)).anchors() == []  # encrypted, no password: nothing, as in the JVM


@pytest.mark.parametrize("data", [b"", b"\xfe\xed\xfe\xed\x00\x00\x00\x02\x00\x00\x00\x05", b"\x30\x03abc", b"garbage!"])
def test_broken_keystores_give_errors(tmp_path, data):
    p = tmp_path / "ks"
    p.write_bytes(data)
    ks = read_keystore(str(p), "x")
    assert ks.error and not ks.anchors()


def _cert(subject_cn: str, sans: list[x509.GeneralName] | None) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    now = dt.datetime.now(dt.timezone.utc)
    b = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if sans is not None:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return b.sign(key, hashes.SHA256())


def test_hostname_rules_java_vs_curl():
    cn_only = _cert("jenkins.example.org", None)
    assert certs.java_hostname_match(cn_only, "jenkins.example.org")[0] is True  # JDK falls back to the CN
    assert certs.hostname_match(cn_only, "jenkins.example.org")[0] is False  # curl/Python do not
    wild = _cert("x", [x509.DNSName("*.example.org")])
    assert certs.java_hostname_match(wild, "ci.example.org")[0]
    assert not certs.java_hostname_match(wild, "a.ci.example.org")[0]
    import ipaddress

    ip = _cert("x", [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    ok, why = certs.java_hostname_match(ip, "127.0.0.2")
    assert not ok and why == "No subject alternative names matching IP address 127.0.0.2 found"


def test_checker_drops_options_that_would_collide():
    words = ["-Xmx1g", "-agentlib:jdwp=transport=dt_socket,server=y,address=5005", "-javaagent:/x.jar", "-cp", "a.jar", "-Dx=y"]
    assert checker_options(words) == ["-Xmx1g", "-Dx=y"]
