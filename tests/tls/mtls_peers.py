"""Two-way TLS peers and certificates for tests/tls/test_mtls.py.

Certificates are made with cryptography (trustme cannot leave out clientAuth); key stores with the
real tools an operator uses: ``openssl pkcs12 -export`` and ``keytool -importkeystore`` (JKS).
Fronts: nginx (``ssl_verify_client``), HAProxy (``verify required``) in front of a plain nginx
that answers like Jenkins (tests/peers/controller.py).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from jnlpdiag.pycompat import Timeouts
from tests.peers.util import free_port, wait_port

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
PASSWORD = "s3cret-store-pw"


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "jnlpdiag test"), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    )


@dataclass
class Ca:
    name: x509.Name
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def make(cls, cn: str) -> Ca:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(_name(cn))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=400))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .sign(key, hashes.SHA256())
        )
        return cls(_name(cn), key, cert)

    def issue(
        self,
        cn: str,
        *,
        eku: list[x509.ObjectIdentifier] | None = None,
        digital_signature: bool = True,
        days: tuple[int, int] = (-1, 365),
        sans: list[x509.GeneralName] | None = None,
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + dt.timedelta(days=days[0]))
            .not_valid_after(now + dt.timedelta(days=days[1]))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(digital_signature, False, not digital_signature, False, False, False, False, False, False),
                critical=True,
            )
        )
        if eku is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return builder.sign(self.key, hashes.SHA256()), key


def write_pem(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | None = None) -> Path:
    data = cert.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        data += key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    path.write_bytes(data)
    return path


def keytool() -> str | None:
    for candidate in ("/usr/lib/jvm/java-17-openjdk-amd64/bin/keytool", shutil.which("keytool")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def make_stores(d: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, ca: Path) -> tuple[Path, Path]:
    """(PKCS12 made by openssl, JKS converted from it by keytool), both with PASSWORD."""
    pem = write_pem(d / f"{name}.pem", cert, key)
    p12, jks = d / f"{name}.p12", d / f"{name}.jks"
    subprocess.run(
        ["openssl", "pkcs12", "-export", "-in", str(pem), "-certfile", str(ca), "-name", "agent",
         "-out", str(p12), "-passout", f"pass:{PASSWORD}"],
        check=True, capture_output=True,
    )
    tool = keytool()
    if tool:
        subprocess.run(
            [tool, "-importkeystore", "-noprompt", "-srckeystore", str(p12), "-srcstoretype", "PKCS12",
             "-srcstorepass", PASSWORD, "-destkeystore", str(jks), "-deststoretype", "JKS",
             "-deststorepass", PASSWORD, "-destkeypass", PASSWORD],
            check=True, capture_output=True,
        )
    return p12, jks


def make_truststore(d: Path, ca: Path) -> Path | None:
    """A PKCS12 trust store holding ``ca`` (keytool -importcert), password PASSWORD."""
    tool = keytool()
    if tool is None:
        return None
    path = d / "truststore.p12"
    subprocess.run(
        [tool, "-importcert", "-noprompt", "-alias", "agents-ca", "-file", str(ca), "-keystore", str(path),
         "-storetype", "PKCS12", "-storepass", PASSWORD],
        check=True, capture_output=True,
    )
    return path


class HAProxy:
    """``haproxy -db`` with one TLS frontend (``verify required``) to a plain HTTP backend."""

    def __init__(self, crt: Path, ca: Path, backend_port: int) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="jnlpdiag-haproxy-"))
        (self.dir / "haproxy.cfg").write_text(
            "global\n    maxconn 64\n"
            "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n"
            f"frontend agents\n    bind 127.0.0.1:{self.port} ssl crt {crt} ca-file {ca} verify required\n"
            "    default_backend jenkins\n"
            f"backend jenkins\n    server controller 127.0.0.1:{backend_port}\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> HAProxy:
        if not Path(HAPROXY).exists():
            import pytest

            pytest.skip("haproxy is not installed (apt-get install haproxy)")
        self.proc = subprocess.Popen(
            [HAPROXY, "-db", "-f", str(self.dir / "haproxy.cfg")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            wait_port("127.0.0.1", self.port)
        except Timeouts:
            self.proc.kill()
            err = self.proc.stderr.read().decode() if self.proc.stderr else ""
            raise RuntimeError(f"haproxy did not start: {err}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
APACHE_MODULES = Path("/usr/lib/apache2/modules")  # Debian's apache2 package


class Apache:
    """Debian's ``apache2 -DFOREGROUND`` with mod_ssl as a TLS reverse proxy to a plain HTTP backend,
    on two ports: ``SSLVerifyClient require`` for the whole server (``port``), and only inside
    ``<Location />`` (``location_port``), which under TLS 1.3 needs post-handshake authentication."""

    def __init__(self, crt: Path, ca: Path, backend_port: int) -> None:
        self.port, self.location_port = free_port(), free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="jnlpdiag-apache-"))
        mods = "".join(
            f"LoadModule {name}_module {APACHE_MODULES}/mod_{name}.so\n"
            for name in ("mpm_event", "authz_core", "ssl", "proxy", "proxy_http")
        )
        tls = f"    SSLEngine on\n    SSLCertificateFile {crt}\n    SSLCACertificateFile {ca}\n"
        proxy = f"    ProxyPass / http://127.0.0.1:{backend_port}/\n    ProxyPassReverse / http://127.0.0.1:{backend_port}/\n"
        # As root, the children run as nobody (they read nothing from the temp dir after start).
        user = "User nobody\nGroup nogroup\n" if hasattr(os, "geteuid") and os.geteuid() == 0 else ""
        (self.dir / "httpd.conf").write_text(
            f"ServerRoot {self.dir}\nServerName localhost\nPidFile {self.dir}/httpd.pid\n"
            f"ErrorLog {self.dir}/error.log\nLogLevel warn\n{user}{mods}"
            f"Listen 127.0.0.1:{self.port}\nListen 127.0.0.1:{self.location_port}\n"
            f"<VirtualHost 127.0.0.1:{self.port}>\n{tls}    SSLVerifyClient require\n{proxy}</VirtualHost>\n"
            f"<VirtualHost 127.0.0.1:{self.location_port}>\n{tls}{proxy}"
            "    <Location />\n        SSLVerifyClient require\n    </Location>\n</VirtualHost>\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def error_log(self) -> str:
        path = self.dir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> Apache:
        if not Path(APACHE).exists() or not (APACHE_MODULES / "mod_ssl.so").exists():
            import pytest

            pytest.skip("apache2 is not installed (apt-get install apache2)")
        self.proc = subprocess.Popen(
            [APACHE, "-f", str(self.dir / "httpd.conf"), "-DFOREGROUND"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        try:
            wait_port("127.0.0.1", self.port)
            wait_port("127.0.0.1", self.location_port)
        except Timeouts:
            self.proc.kill()
            err = self.proc.stderr.read().decode() if self.proc.stderr else ""
            raise RuntimeError(f"apache2 did not start: {err} {self.error_log()}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)  # the foreground parent stops its children
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
