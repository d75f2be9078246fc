"""Certificates (trustme) and real TLS servers shared by the tls.* tests, started once per session."""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
import subprocess
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.tls.peers import OpenSSLServer, PyTlsServer, self_signed

JDK17 = "/usr/lib/jvm/java-17-openjdk-amd64"
JDK25 = "/usr/lib/jvm/temurin-25-jdk-amd64"
JDKS = {"jdk17": JDK17, "jdk25": JDK25}


@functools.cache
def jvm_tls_disabled_algorithms(home: str) -> tuple[str, ...]:
    """This JDK's own effective ``jdk.tls.disabledAlgorithms`` entries.

    Asked of the JVM itself (``-XshowSettings:security:properties``), not of our parser, so it is
    an independent oracle: which entries a JDK has depends on its update, not its feature version
    (Debian's 17.0.15 accepts TLS_RSA, 17.0.19+ took JDK-8245545 and refuses it).
    """
    out = subprocess.run(
        [f"{home}/bin/java", "-XshowSettings:security:properties", "-version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stderr
    block = out.split("jdk.tls.disabledAlgorithms=", 1)
    if len(block) < 2:
        pytest.skip(f"{home} cannot print its security properties")
    entries = []
    for line in block[1].splitlines()[1:]:
        if not line.startswith(" " * 12):  # the value's items are indented deeper than the next key
            break
        entries.append(line.strip().rstrip(","))
    return tuple(entries)


def jvm_refuses_tls_rsa(home: str) -> bool:
    return "TLS_RSA_*" in jvm_tls_disabled_algorithms(home)


RSA_ONLY = "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA"


@dataclass
class Pki:
    dir: Path
    ca: Path
    other_ca: Path
    truststore: Path  # PKCS12 made by keytool, password changeit, holding ca
    client_cert: Path
    client_key: Path
    client_p12: Path  # password changeit
    other_client_cert: Path
    other_client_key: Path
    files: dict[str, tuple[Path, Path, Path | None]]  # name -> (cert, key, chain to send)


def _write_leaf(d: Path, name: str, leaf: trustme.LeafCert) -> tuple[Path, Path]:
    cert, key = d / f"{name}.pem", d / f"{name}.key"
    cert.write_bytes(leaf.cert_chain_pems[0].bytes())
    key.write_bytes(leaf.private_key_pem.bytes())
    return cert, key


def _keytool() -> str:
    for home in (os.environ.get("JAVA_HOME"), JDK17, JDK25):
        if home and os.access(os.path.join(home, "bin", "keytool"), os.X_OK):
            return os.path.join(home, "bin", "keytool")
    found = shutil.which("keytool")
    if not found:
        pytest.skip("no keytool (apt-get install openjdk-17-jdk-headless)")
    return found


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("tls-pki")
    now = dt.datetime.now(dt.timezone.utc)
    ca = trustme.CA()
    other = trustme.CA()
    ca.cert_pem.write_to_path(str(d / "ca.pem"))
    other.cert_pem.write_to_path(str(d / "other-ca.pem"))
    files: dict[str, tuple[Path, Path, Path | None]] = {}

    def leaf(name: str, *idents: str, chain: Path | None = None, issuer: trustme.CA = ca, **kw: object) -> None:
        cert, key = _write_leaf(d, name, issuer.issue_cert(*idents, **kw))  # type: ignore[arg-type]
        files[name] = (cert, key, chain)

    leaf("leaf", "localhost", "127.0.0.1")
    leaf("rsa", "localhost", "127.0.0.1", key_type=trustme.KeyType.RSA)
    leaf(
        "expired",
        "localhost",
        "127.0.0.1",
        not_before=now - dt.timedelta(days=30),
        not_after=now - dt.timedelta(days=1),
    )
    leaf("wronghost", "jenkins.example.org")
    leaf("soon", "localhost", "127.0.0.1", not_before=now - dt.timedelta(days=10), not_after=now + dt.timedelta(days=1))
    inter = ca.create_child_ca()
    inter.cert_pem.write_to_path(str(d / "intermediate.pem"))
    leaf("viaintermediate", "localhost", "127.0.0.1", issuer=inter)
    files["fullchain"] = (files["viaintermediate"][0], files["viaintermediate"][1], d / "intermediate.pem")
    self_signed(d / "selfsigned.pem", d / "selfsigned.key", "localhost")
    files["selfsigned"] = (d / "selfsigned.pem", d / "selfsigned.key", None)

    client_cert, client_key = _write_leaf(d, "client", ca.issue_cert("agent@example.org", common_name="agent"))
    other_cert, other_key = _write_leaf(d, "other-client", other.issue_cert("intruder@example.org", common_name="intruder"))
    truststore = d / "truststore.p12"
    subprocess.run(
        [
            _keytool(),
            "-importcert",
            "-noprompt",
            "-alias",
            "jenkins-ca",
            "-file",
            str(d / "ca.pem"),
            "-keystore",
            str(truststore),
            "-storetype",
            "PKCS12",
            "-storepass",
            "changeit",
        ],
        check=True,
        capture_output=True,
    )
    client_p12 = d / "client.p12"
    subprocess.run(
        [
            "openssl",
            "pkcs12",
            "-export",
            "-in",
            str(client_cert),
            "-inkey",
            str(client_key),
            "-name",
            "agent",
            "-out",
            str(client_p12),
            "-passout",
            "pass:changeit",
        ],
        check=True,
        capture_output=True,
    )
    return Pki(
        d,
        d / "ca.pem",
        d / "other-ca.pem",
        truststore,
        client_cert,
        client_key,
        client_p12,
        other_cert,
        other_key,
        files,
    )


# name -> (certificate set, extra s_server arguments); "{ca}" becomes the CA file.
OPENSSL_CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "tls13": ("leaf", ("-tls1_3",)),
    "tls12": ("leaf", ("-tls1_2",)),
    "both": ("leaf", ("-no_tls1", "-no_tls1_1")),
    "tls10": ("leaf", ("-tls1", "-cipher", "DEFAULT:@SECLEVEL=0")),
    "expired": ("expired", ()),
    "wronghost": ("wronghost", ()),
    "selfsigned": ("selfsigned", ()),
    "nointermediate": ("viaintermediate", ()),
    "fullchain": ("fullchain", ()),
    "clientcert": ("leaf", ("-Verify", "1", "-verify_return_error", "-CAfile", "{ca}")),
    "clientcert12": ("leaf", ("-tls1_2", "-Verify", "1", "-verify_return_error", "-CAfile", "{ca}")),
    "clientoptional": ("leaf", ("-verify", "1", "-verify_return_error", "-CAfile", "{ca}")),
    "tlsrsa": ("rsa", ("-tls1_2", "-cipher", RSA_ONLY)),
}


@pytest.fixture(scope="session")
def servers(pki: Pki):
    """Every server case, running for the whole session: name -> server (with .url and .port)."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed (apt-get install openssl)")
    with ExitStack() as stack:
        out: dict[str, OpenSSLServer | PyTlsServer] = {}
        for name, (files, args) in OPENSSL_CASES.items():
            cert, key, chain = pki.files[files]
            real_args = tuple(a.replace("{ca}", str(pki.ca)) for a in args)
            out[name] = stack.enter_context(OpenSSLServer(str(cert), str(key), *real_args, chain=str(chain) if chain else None))
        soon_cert, soon_key, _ = pki.files["soon"]
        out["skew"] = stack.enter_context(PyTlsServer(str(soon_cert), str(soon_key), dt.timedelta(days=3)))
        yield out
