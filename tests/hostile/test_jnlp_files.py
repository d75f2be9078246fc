"""Hostile .jnlp files: an XML entity bomb, external entities and a 100 MB file, both served by the
"controller" (encrypted with the agent's secret, as core EncryptedSlaveAgentJnlpFile does, so the
credentials.jnlp probe decrypts and parses them) and given as --jnlp-file."""

from __future__ import annotations

import pytest

from tests.hostile import servers as S
from tests.hostile.conftest import SCHEDULING_SLACK, T, run_tool

SECRET = "0123456789abcdef" * 4
NAME = "agent-1"

# "Billion laughs": ten levels of ten references, 10**10 'a's if expanded.
BOMB = (b'<?xml version="1.0"?>\n<!DOCTYPE jnlp [\n <!ENTITY a "aaaaaaaaaa">\n'
        + b"".join(b' <!ENTITY %c "%s">\n' % (98 + i, (b"&%c;" % (97 + i)) * 10) for i in range(9))
        + b"]>\n<jnlp><application-desc><argument>&j;</argument></application-desc></jnlp>\n")


def _xxe(url: str) -> bytes:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE jnlp [<!ENTITY x SYSTEM "{url}xxe">]>\n'
            f"<jnlp><application-desc><argument>{SECRET}</argument><argument>{NAME}</argument>"
            "<argument>&x;</argument></application-desc></jnlp>\n").encode()


def _external_dtd(url: str) -> bytes:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE jnlp SYSTEM "{url}evil.dtd">\n'
            f"<jnlp><application-desc><argument>{SECRET}</argument><argument>{NAME}</argument>"
            "</application-desc></jnlp>\n").encode()


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret"
    path.write_text(SECRET)
    return str(path)


@pytest.mark.parametrize("kind", ["entity_bomb", "external_entity", "external_dtd"])
def test_served_hostile_xml_is_refused_not_fetched(hostile, secret_file, kind):
    with S.Server(S.recorder) as elsewhere:
        document = {"entity_bomb": BOMB, "external_entity": _xxe(elsewhere.url),
                    "external_dtd": _external_dtd(elsewhere.url)}[kind]
        with S.Server(S.jnlp_server(SECRET, NAME, document)) as peer:
            out = hostile("--url", peer.url, "--name", NAME, "--secret-file", secret_file,
                          "--probe", "discovery", "--probe", "credentials.jnlp")
            served = [r for r in peer.received if b"jenkins-agent.jnlp" in r]
        fetched = list(elsewhere.received)
    assert served, "the agent file was not asked for"
    assert fetched == []  # no external entity or DTD was fetched
    f = out.finding("credentials.jnlp")
    assert f["status"] == "fail"
    assert "declares a DTD or XML entities" in f["title"] and "DTDForbidden" in f["title"]
    assert f["evidence"]["decrypted"] is True and f["evidence"]["secret_sent"] is False
    assert f["fixes"]
    assert out.code == 2


def test_served_100_megabyte_jnlp_is_not_read(hostile, secret_file):
    pieces, size = S.huge_jnlp(SECRET, NAME, 100 * 1024 * 1024)
    with S.Server(S.jnlp_server(SECRET, NAME, pieces, declared_length=size)) as peer:
        # --websocket: the TCP port of this "controller" is off, so discovery passes and only the
        # agent file decides the exit code.
        out = hostile("--url", peer.url, "--name", NAME, "--secret-file", secret_file, "--websocket",
                      "--probe", "discovery", "--probe", "credentials.jnlp")
    assert out.finding("discovery")["status"] == "pass"
    f = out.finding("credentials.jnlp")
    assert f["status"] == "warn"
    assert "larger than 256 KB" in f["title"] and "secret not checked" in f["title"]
    assert f["evidence"]["bytes_read"] == 256 * 1024
    assert f["fixes"]
    assert out.code == 1


@pytest.mark.parametrize("kind", ["entity_bomb", "external_entity", "huge"])
def test_jnlp_file_argument(tmp_path, startup, kind):
    """--jnlp-file from a stranger: a usage error (exit 3) with one line saying why, nothing parsed."""
    path = tmp_path / f"{kind}.jnlp"
    if kind == "entity_bomb":
        path.write_bytes(BOMB)
    elif kind == "external_entity":
        path.write_bytes(_xxe("file:///etc/"))
    else:
        with open(path, "wb") as f:
            f.truncate(100 * 1024 * 1024)  # sparse: 100 MB without writing them
    out = run_tool("--jnlp-file", str(path), sandbox=tmp_path / "sandbox")
    assert out.code == 3
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"jnlpdiag: --jnlp-file {path}: refused")
    assert "Traceback" not in out.stderr
    assert out.elapsed - startup <= T * 1.1 + SCHEDULING_SLACK
    assert out.leftovers == []
