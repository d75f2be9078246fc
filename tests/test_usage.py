"""Bad input is a usage error before any probe runs: one line on stderr, exit 3, nothing on stdout,
and the peer named by --url sees no request (issue 13 §4)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from tests.peers.util import clean_env, run_cli


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.seen.append(self.path)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[tuple[str, list[str]]]:
    """A real http.server that records every request it gets."""
    seen: list[str] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", seen
    finally:
        server.shutdown()
        server.server_close()


def _usage_error(*args: str) -> str:
    r = run_cli(*args, env=clean_env(TMPDIR="/nonexistent-usage-test"))
    lines = r.stderr.splitlines()
    assert r.code == 3, (r.code, r.stderr)
    assert len(lines) == 1 and r.stdout == "", (r.stdout, r.stderr)
    assert "ERROR" not in r.stderr and "Traceback" not in r.stderr
    return lines[0]


def test_port_out_of_range():
    line = _usage_error("check", "--url", "http://127.0.0.1:99999/", "--from-process", "none")
    assert line == "jnlpdiag: --url http://127.0.0.1:99999/: port out of range (1-65535)"


def test_unclosed_ipv6_bracket():
    line = _usage_error("check", "--url", "http://[::1", "--from-process", "none")
    assert line == "jnlpdiag: --url http://[::1: Invalid IPv6 URL"


def test_url_without_http_scheme_or_host():
    assert "http:// or https://" in _usage_error("check", "--url", "jenkins:8080", "--from-process", "none")
    assert "names no host" in _usage_error("check", "--url", "http://:8080/", "--from-process", "none")


def test_url_from_the_environment_names_its_origin():
    r = run_cli("check", "--from-process", "none", env=clean_env(JENKINS_URL="http://127.0.0.1:70000/"))
    assert r.code == 3 and "--url (from env JENKINS_URL)" in r.stderr and "out of range" in r.stderr


def test_ca_file_that_is_not_pem_fails_before_any_request(site):
    url, seen = site
    line = _usage_error("check", "--url", url, "--ca-file", "/etc/passwd", "--from-process", "none")
    assert line == "jnlpdiag: --ca-file /etc/passwd: holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
    assert seen == []


def test_a_real_ca_file_is_accepted(site, ca_file):
    url, seen = site
    r = run_cli("check", "--url", url, "--ca-file", ca_file, "--from-process", "none", "--probe", "discovery",
                "--timeout", "5", "--json")
    assert r.code in (0, 1, 2) and r.json()["findings"]
    assert seen, "the probe ran and reached the site"


def test_client_cert_and_key_come_together(ca, tmp_path, site):
    url, seen = site
    leaf = ca.issue_cert("agent-1")
    cert, key, both = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "both.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    both.write_bytes(leaf.private_key_pem.bytes() + leaf.cert_chain_pems[0].bytes())
    base = ("check", "--url", url, "--from-process", "none")

    assert _usage_error(*base, "--client-cert", str(cert)) == (
        f"jnlpdiag: --client-cert {cert} needs --client-key (the file holds no private key)")
    assert _usage_error(*base, "--client-key", str(key)) == (
        f"jnlpdiag: --client-key {key} needs --client-cert (the certificate of that key)")
    other = ca.issue_cert("someone-else")
    other_key = tmp_path / "other-key.pem"
    other.private_key_pem.write_to_path(str(other_key))
    assert "is not the key of --client-cert" in _usage_error(*base, "--client-cert", str(cert),
                                                             "--client-key", str(other_key))
    assert "not a PEM certificate" in _usage_error(*base, "--client-cert", "/etc/passwd", "--client-key", str(key))
    assert seen == []
    # The pair, and a PEM holding both, are accepted: the run goes on to the probes.
    for extra in (("--client-cert", str(cert), "--client-key", str(key)), ("--client-cert", str(both))):
        r = run_cli(*base, *extra, "--probe", "discovery", "--timeout", "5", "--json")
        assert r.code in (0, 1, 2), r.stderr
    assert seen


@pytest.mark.parametrize("value", ["0", "-1", "3601", "nan", "abc"])
def test_timeout_out_of_range_says_the_range_once(value):
    line = _usage_error("check", "--timeout", value, "--from-process", "none")
    assert line.startswith("jnlpdiag check: argument --timeout: ")
    assert "between 0 and" not in line  # the old message contradicted itself for 0
    if value != "abc":
        assert "more than 0 and at most 3600 seconds" in line


def test_unknown_subcommand():
    assert _usage_error("nosuch") == (
        "jnlpdiag: unknown command 'nosuch'; commands: analyze, check, demo, logs, matrix, probes, report, show, tui")
    assert "did you mean `jnlpdiag check`?" in _usage_error("chek", "--url", "http://x/")


def test_unknown_flag_is_one_line():
    assert "unrecognized arguments: --no-such-flag" in _usage_error("check", "--no-such-flag")


def test_skip_glob_matching_nothing():
    assert _usage_error("check", "--skip", "nosuch*", "--from-process", "none") == (
        "jnlpdiag: --skip nosuch* matches no probe; `jnlpdiag probes` lists them")
    assert "did you mean tcp?" in _usage_error("check", "--probe", "tpc", "--from-process", "none")


def test_probe_given_as_a_finding_id_runs_its_probe(site):
    url, _ = site
    r = run_cli("check", "--url", url, "--probe", "discovery.jenkins", "--from-process", "none", "--timeout", "5",
                "--json")
    assert r.code in (0, 1, 2), r.stderr
    assert "--probe discovery.jenkins is a finding of probe discovery; using --probe discovery" in r.stderr
    assert [p["id"] for p in r.json()["probes"]] == ["discovery"]
    # A --skip by finding id skips its probe too.
    r = run_cli("check", "--url", url, "--probe", "discovery", "--probe", "tcp", "--skip", "tcp.agent_port",
                "--from-process", "none", "--timeout", "5", "--json")
    assert "tcp" not in [p["id"] for p in r.json()["probes"]]
