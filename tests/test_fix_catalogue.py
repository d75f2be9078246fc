"""Every fix the tool can give: commands are commands, notes are prose, placeholders are filled.

Two halves. (1) Real runs against real peers (nginx, http.server, a silent listener, a TLS front):
every fix they emit is checked as a person would read it. (2) Every entry of every shipped
catalogue is rendered with the placeholder values those real runs used (recorded where the
catalogues fill them); a placeholder no real run supplied takes a value from ``SAMPLES`` below,
and one that is in neither is an unknown name (a typo): the test fails.
"""

from __future__ import annotations

import json
import os
import re
import socket
import string
import threading
from importlib.resources import files
from typing import Any

import pytest

from jnlpdiag import fixcatalog
from jnlpdiag.cli import build_parser
from jnlpdiag.commands.check import prepare
from jnlpdiag.findings import Fix, looks_like_command
from jnlpdiag.runner import run_sync
from tests.peers.controller import identity_b64, jenkins_server
from tests.peers.nginx import Nginx
from tests.peers.util import free_port

# Placeholders the real runs below do not reach (host checks of another machine, log lines,
# packet captures, the compatibility matrix): realistic values, by name.
SAMPLES: dict[str, str] = {
    "path": "/opt/agent/lib/libjffi.so", "dir": "/opt/agent/lib", "prefix": "GLIBC", "uid": "1000",
    "suggest": "/home/jenkins/agent/tmp", "mount_point": "/tmp", "origin": "http://127.0.0.1:8080",
    "java": "/usr/lib/jvm/java-17/bin/java", "java_security": "/usr/lib/jvm/java-17/conf/security/java.security",
    "checker": "TlsCheck.java", "java_opts": "-Djavax.net.ssl.trustStore=/etc/agent/cacerts",
    "names": "jenkins.example.com", "ca_names": "CN=Example Issuing CA", "replacement": "java -jar agent.jar -url https://jenkins.example.com/ -name agent-1 -secret @secret-file",  # noqa: E501
    "keep": "keep -webSocket, -tunnel and -workDir as they were",
    "curl_command": "curl -sI --noproxy '*' http://127.0.0.1:8080/", "server_host": "10.0.0.5",
    "server_port": "50000", "client_host": "10.0.0.9", "client_port": "41234", "location": "https://sso.example.com/",
    "location_root": "https://jenkins.example.com/", "port_raw": "abc", "value": "host:notaport",
    "status": "404", "why": "Not Found", "reason": "agent-1 is already connected", "message": "connection refused",
    "closed_after_s": "60.0", "proxy": "nginx/1.22.1", "address": "127.0.0.1", "name": "agent-1",
    "hostport": "jenkins.example.com:443", "have_java": "11", "cfv": "61", "have": "55", "alert": "handshake_failure",
    "code": "302", "jenkins_url": "https://jenkins.example.com/", "remoting_java": "17", "core_java": "17",
    "bundled_remoting": "3309.v27b_9314fd1a_4", "bundled_remoting_java": "17",
    "recommended_image": "jenkins/inbound-agent:latest-jdk21",
    "agent_image": "jenkins/inbound-agent:3107.v665000b_51092-1", "image": "jenkins/inbound-agent:latest-jdk21",
    "alias": "jenkins-ca", "ca_pem": "jenkins-ca.pem", "client_cert": "agent.pem", "client_key": "agent.key",
    "controller_java_supported": "17, 21", "count": "2", "days_left": "12", "detail": "ELF class 32",
    "difference": "-webSocket", "directory": "/sys/fs/cgroup/kubepods/pod1", "error": "cannot open shared object file",
    "events_file": "/sys/fs/cgroup/memory.events", "expected": "1c:2b:3a", "feature": "11",
    "fingerprint": "AB:CD:EF", "first_missing": "libz.so.1", "glibc": "2.28", "got": "9f:8e:7d", "heap": "4.0 GiB",
    "host_bits": "64", "host_libc": "glibc", "host_machine": "x86-64", "host_newest": "GLIBC_2.36",
    "issuer": "CN=Example CA", "java_version": "17.0.12", "jenkins": "2.479.3", "k8s_min_jenkins": "2.479.1",
    "k8s_plugin_recommended": "4295.v7fa_01b_309c95", "lib_bits": "32", "lib_libc": "musl", "lib_machine": "aarch64",
    "lib_type": "executable", "library": "libjffi.so", "limit": "2.0 GiB", "major": "65", "max_major": "61",
    "min_java": "21", "min_remoting": "3107.v665000b_51092", "missing": "libz.so.1",
    "missing_versions": "GLIBC_2.38", "not_after": "2026-01-01", "not_before": "2027-01-01", "option": "-tunnel",
    "origins": "-webSocket from JENKINS_WEB_SOCKET; -tunnel from JENKINS_TUNNEL", "other": "-webSocket",
    "overhead": "512 MiB", "peer": "HTTP/1.1 400", "percent": "92", "platforms": "linux-aarch64",
    "problem": "no trusted entries", "profile": "/etc/apparmor.d/jenkins-agent", "prop": "java.io.tmpdir",
    "free": "12 MiB", "ram": "1.0 GiB", "san_kind": "DNS", "server": "10.0.0.5:50000",
    "server_versions": "TLSv1.3", "skew": "420", "sni": "jenkins.example.com", "storepass": "changeit",
    "suggest_heap": "1536m", "suggest_jdk": "21", "suggest_limit": "4Gi", "truststore": "/etc/agent/cacerts",
    "url_host": "127.0.0.1", "url_port": "8080", "usage": "1.8 GiB", "version": "8", "versions": "TLSv1",
    "versions_csv": "TLSv1", "host": "jenkins.example.com", "port": "50000", "url": "https://jenkins.example.com/",
    "jnlp_url": "https://jenkins.example.com/computer/agent-1/jenkins-agent.jnlp?encrypt=true",
    "login_url": "https://jenkins.example.com/login", "listener_url": "https://jenkins.example.com/tcpSlaveAgentListener/",
    "path_prefix": "/", "ws_http_url": "https://jenkins.example.com/wsagents/",
    "subject": "CN=agent-1", "problems": "no clientAuth in extendedKeyUsage", "store_out": "/etc/jenkins-agent/client.p12",
    "store_type": "PKCS12", "subject_slash": "/CN=agent-1", "show_cert": "openssl x509 -in agent.pem -noout -text",
}

# Catalogues filled with str.format rules (jnlpdiag.fixcatalog); the others substitute {name} only.
FORMATTER_FILES = ("transport-fixes.json", "agent_options.json", "discovery.json", "host_java.json", "host_jni.json",
                   "host_memory.json", "host_noexec.json", "tcp.json", "tls.json")


def regex_fill(text: str, values: dict[str, Any]) -> str:
    """{name} substitution; {name|DEFAULT} (log signatures) falls back to DEFAULT."""
    def one(m: re.Match[str]) -> str:
        if m.group(1) in values:
            return str(values[m.group(1)])
        return m.group(2) if m.group(2) is not None else m.group(0)

    return re.sub(r"\{(\w+)(?:\|([^{}]*))?\}", one, text)


# Placeholders a person fills in on purpose (never printed by the tool: the secret, a password).
HUMAN = {"<secret>", "<password>", "<key alias>", "<jenkins keystore>", "<name>"}


def catalogue_entries() -> list[tuple[str, dict[str, Any]]]:
    """(where, entry) for every fix of every shipped data file: a dict with a title and commands."""
    out: list[tuple[str, dict[str, Any]]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("title"), str) and ("commands" in node or "notes" in node):
                out.append((where, node))
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    data = files("jnlpdiag").joinpath("data")
    for path in sorted([*data.iterdir(), *data.joinpath("fixes").iterdir()], key=lambda p: p.name):
        if path.name.endswith(".json"):
            walk(json.loads(path.read_text(encoding="utf-8")), path.name)
    return out


def check_fix(fix: Fix, where: str) -> None:
    texts = [fix.title, *fix.commands, *fix.notes]
    assert fix.title.strip(), where
    for text in texts:
        assert text.strip(), f"{where}: an empty line"
        assert not re.search(r"\bNone\b|\bnull\b", text.replace("/dev/null", "")), f"{where}: {text!r}"
        assert not re.search(r"(?<!%)\{[a-z_]+\}", text), f"{where}: unfilled {text!r}"
        assert not re.search(r"\bsee [^.;]*\b(below|above)\b|\b(snippet|example) (below|above)\b", text), (
            f"{where}: points at something not there: {text!r}")
    # What is copied must run as it is: no <placeholder> but the ones a person must type (a note may
    # describe a thing in angle brackets: "Manage Jenkins > Nodes > <agent>").
    for text in [fix.title, *fix.commands]:
        left = set(re.findall(r"<[a-z_ ]+>", text)) - HUMAN
        assert not left, f"{where}: unfilled {left} in {text!r}"
    for command in fix.commands:
        assert looks_like_command(command), f"{where}: prose shown as a command: {command!r}"
        assert not command.lstrip().startswith("#"), f"{where}: a comment shown as a command: {command!r}"
    for note in fix.notes:
        assert not note.startswith(("$", "# ")), f"{where}: {note!r}"


@pytest.fixture(scope="module")
def real_values() -> dict[str, Any]:
    """Run realistic single-fault checks; record every value the catalogues were filled with."""
    pool: dict[str, Any] = {}
    emitted: list[tuple[str, Fix]] = []
    words: list[tuple[str, str]] = []
    original = fixcatalog.fill

    def recording(text: str, values: dict[str, Any]) -> str:
        # A probe's own "<unknown>" marker is not a value from the run.
        pool.update({k: v for k, v in values.items()
                     if v not in (None, "") and not (isinstance(v, str) and v.startswith("<") and v.endswith(">"))})
        return original(text, values)

    saved = {k: os.environ.get(k) for k in ("HOME", "TMPDIR")}
    mp = pytest.MonkeyPatch()
    mp.setattr(fixcatalog, "fill", recording)
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    threading.Thread(target=lambda: [silent.accept() for _ in range(20)], daemon=True).start()
    bare = socket.create_server(("127.0.0.1", 0))  # an HTTP answer with no Server header and no title

    def answer_bare() -> None:
        while True:
            try:
                conn, _ = bare.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
                except OSError:
                    pass

    threading.Thread(target=answer_bare, daemon=True).start()
    http_port, web_port = free_port(), free_port()
    blocks = jenkins_server(http_port, silent.getsockname()[1], identity_b64()) + f"""
    server {{ listen 127.0.0.1:{web_port}; location / {{ return 200 "hello"; }} }}"""
    parser, _ = build_parser()
    try:
        with Nginx(blocks, [http_port, web_port]):
            for argv in (
                ["--url", f"http://127.0.0.1:{http_port}/", "--name", "agent-1", "--secret", "a" * 64],
                ["--url", f"http://127.0.0.1:{http_port}/", "--tunnel", f"127.0.0.1:{web_port}"],
                ["--url", f"http://127.0.0.1:{web_port}/", "--websocket", "--name", "agent-1"],
                ["--url", f"http://127.0.0.1:{free_port()}/", "--name", "agent-1"],
                ["--url", f"https://127.0.0.1:{http_port}/"],
                ["--url", f"http://127.0.0.1:{bare.getsockname()[1]}/", "--probe", "discovery"],
            ):
                args = parser.parse_args(["check", *argv, "--timeout", "3", "--from-process", "none"])
                prepared = prepare(args)
                assert not isinstance(prepared, int)
                settings, _, chosen = prepared
                report = run_sync(chosen, settings)
                emitted += [(f"{f.id} ({' '.join(argv[:2])})", fix) for f in report.findings for fix in f.fixes]
                words += [(f.id, text) for f in report.findings for text in (f.title, f.detail)]
    finally:
        mp.undo()
        silent.close()
        bare.close()
        for k, v in saved.items():
            if v is not None:
                os.environ[k] = v
    assert len(emitted) >= 8, "the real runs gave too few fixes to judge"
    pool["_emitted"] = emitted
    pool["_words"] = words
    return pool


def test_every_fix_of_the_real_runs_reads_right(real_values):
    for where, fix in real_values["_emitted"]:
        check_fix(fix, where)


def test_no_none_or_null_in_the_words_of_the_real_runs(real_values):
    for fid, text in real_values["_words"]:
        assert not re.search(r"\bNone\b|\bnull\b", text.replace("/dev/null", "")), f"{fid}: {text!r}"


def test_every_catalogue_fix_renders_with_real_placeholders(real_values):
    entries = catalogue_entries()
    assert len(entries) > 150
    used_real = 0
    values = {**SAMPLES, **{k: v for k, v in real_values.items() if not k.startswith("_")}}
    for where, entry in entries:
        texts = [entry["title"], *entry.get("commands", ()), *entry.get("notes", ())]
        if where.startswith(FORMATTER_FILES):  # filled by str.format rules ({{ is a brace)
            names = {name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name}
            fix = fixcatalog.fix_from_entry(entry, values)
        else:  # filled by {name} substitution; other braces (nginx config) stay as written
            names = {name for text in texts for name in re.findall(r"\{(\w+)\}", text)}  # {name|DEFAULT}: optional
            fix = Fix(regex_fill(entry["title"], values), docs=tuple(entry.get("docs", ())),
                      commands=tuple(regex_fill(t, values) for t in entry.get("commands", ())),
                      notes=tuple(regex_fill(t, values) for t in entry.get("notes", ())))
        unknown = names - set(real_values) - set(SAMPLES)
        assert not unknown, f"{where}: placeholder(s) {unknown} come from nowhere"
        used_real += len(names & set(real_values))
        check_fix(fix, where)
    assert used_real > 50, "the real runs filled too few placeholders"


def test_no_shipped_data_points_outside_the_project():
    data = files("jnlpdiag").joinpath("data")
    for path in [*data.iterdir(), *data.joinpath("fixes").iterdir()]:
        if path.name.endswith(".json"):
            text = path.read_text(encoding="utf-8")
            assert "../" not in text and "shared/research" not in text, path.name


def test_legacy_steps_split_into_commands_and_notes():
    fix = Fix.from_dict({"title": "t", "steps": ["# prose here", "curl -sI http://x/"], "docs": []})
    assert fix.commands == ("curl -sI http://x/",) and fix.notes == ("prose here",)
    again = Fix.from_dict(fix.to_dict())
    assert again == fix and fix.to_dict()["steps"] == ["curl -sI http://x/"]
