"""Usage validation: every check of what the user asked for, in one place, before any probe runs.

A value no run could use (a port past 65535, a CA file that holds no certificate, a ``--skip`` glob
that names nothing) is a usage error: one line on stderr and exit 3, never a probe ERROR per probe
that trips over it. Commands call :func:`validate_settings` and :func:`resolve_selection` from their
shared prepare step; :func:`seconds` is the type of every duration flag.
"""

from __future__ import annotations

import argparse
import difflib
import fnmatch
import ssl
from collections.abc import Iterable
from urllib.parse import urlsplit

from jnlpdiag.settings import Settings, SettingsError

MAX_SECONDS = 3600.0


class UsageError(SettingsError):
    """Bad input from the user: printed as one line, exit 3."""


def seconds(text: str) -> float:
    """argparse type of a duration flag: more than 0, at most an hour."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (0 < value <= MAX_SECONDS):  # also false for NaN
        raise argparse.ArgumentTypeError(
            f"{text} is out of range: give more than 0 and at most {MAX_SECONDS:g} seconds")
    return value


def _where(settings: Settings, name: str, flag: str) -> str:
    origin = settings.origin(name)
    return flag if origin in ("default", f"flag {flag}") else f"{flag} (from {origin})"


def check_url(url: str, where: str = "--url") -> None:
    """An agent URL that agent.jar could at least parse: http(s), a host, a port in range."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError as exc:
        reason = str(exc).replace("Port out of range 0-65535", "port out of range (1-65535)")
        raise UsageError(f"{where} {url}: {reason}") from None
    if parts.scheme not in ("http", "https"):
        raise UsageError(f"{where} {url}: the URL must start with http:// or https://")
    if not parts.hostname:
        raise UsageError(f"{where} {url}: the URL names no host")
    if port == 0:
        raise UsageError(f"{where} {url}: port 0 is not a port a server listens on (1-65535)")


def check_ca_file(path: str, where: str = "--ca-file") -> None:
    """A CA bundle must hold at least one PEM certificate (Python's ssl reads it the same way)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        ctx.load_verify_locations(cafile=path)
    except (ssl.SSLError, UnicodeDecodeError, ValueError):
        raise UsageError(f"{where} {path}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)") from None
    except OSError as exc:
        raise UsageError(f"{where} {path}: cannot read it: {exc.strerror or exc}") from None


def _has_private_key(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return b"PRIVATE KEY-----" in fh.read(1 << 20)
    except OSError:
        return False


def check_client_identity(cert: str | None, key: str | None) -> None:
    """--client-cert and --client-key come together (the key may sit in the certificate file), and
    the key must belong to the certificate; a TLS client that offers a mismatched pair fails later
    with an error that names neither file."""
    if key and not cert:
        raise UsageError(f"--client-key {key} needs --client-cert (the certificate of that key)")
    if not cert:
        return
    if not key and not _has_private_key(cert):
        raise UsageError(f"--client-cert {cert} needs --client-key (the file holds no private key)")
    from cryptography.hazmat.primitives import serialization

    from jnlpdiag.tls.handshake import load_identity

    try:
        identity = load_identity(cert, key)
    except TypeError:  # cryptography: "Password was not given but private key is encrypted"
        raise UsageError(f"--client-key {key or cert}: the private key is encrypted; "
                         "give an unencrypted PEM key (openssl pkey -in KEY -out plain.pem)") from None
    except (OSError, ValueError) as exc:
        what = f"--client-cert {cert}" + (f" / --client-key {key}" if key else "")
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"{what}: not a PEM certificate and private key ({first})") from None
    if not identity.chain:
        raise UsageError(f"--client-cert {cert}: holds no PEM certificate")
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    if identity.chain[0].public_key().public_bytes(enc, pub) != identity.key.public_key().public_bytes(enc, pub):
        raise UsageError(f"--client-key {key or cert} is not the key of --client-cert {cert}")


def validate_settings(settings: Settings) -> None:
    """Everything a run would trip over, checked once after the sources are merged."""
    if settings.url:
        check_url(settings.url, _where(settings, "url", "--url"))
    if settings.ca_file:
        check_ca_file(settings.ca_file, _where(settings, "ca_file", "--ca-file"))
    check_client_identity(settings.client_cert, settings.client_key)


def resolve_selection(
    include: list[str], exclude: list[str], probe_ids: Iterable[str]
) -> tuple[list[str], list[str], list[str]]:
    """Check ``--probe``/``--skip`` globs against the probe ids: (include, exclude, notes).

    Every glob must match a probe. A finding id (``discovery.jenkins``, printed in every report)
    stands for its probe, the longest probe id it starts with; the note says so.
    """
    ids = sorted(set(probe_ids))
    notes: list[str] = []

    def resolve(flag: str, patterns: list[str]) -> list[str]:
        out = []
        for pat in patterns:
            if any(fnmatch.fnmatchcase(pid, pat) for pid in ids):
                out.append(pat)
                continue
            owners = [pid for pid in ids if pat.startswith(pid + ".") or pat.startswith(pid + "#")]
            if owners:
                owner = max(owners, key=len)
                notes.append(f"{flag} {pat} is a finding of probe {owner}; using {flag} {owner}")
                out.append(owner)
                continue
            close = difflib.get_close_matches(pat, ids, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise UsageError(f"{flag} {pat} matches no probe{hint}; `jnlpdiag probes` lists them")
        return out

    return resolve("--probe", include), resolve("--skip", exclude), notes


def unknown_command(word: str, names: list[str]) -> str:
    """The one line for a first word that is neither a command nor a flag."""
    close = difflib.get_close_matches(word, names, n=1)
    hint = f"did you mean `jnlpdiag {close[0]}`? " if close else ""
    return f"jnlpdiag: unknown command {word!r}; {hint}commands: {', '.join(names)}"
