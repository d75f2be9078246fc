"""One fault, one root cause: realistic single-fault runs against real peers, in every output.

The folding rule (findings.fold): a failure that rests on a premise an earlier failure broke is folded
under it. Each scenario below has exactly one fault; JSON (``caused_by``, ``root_causes``), text,
Markdown, the HTML report and the TUI's quit summary (driven by the runner's live events) must all
name exactly one root cause, the right one.
"""

from __future__ import annotations

import http.server
import os
import re
import threading

import pytest

from jnlpdiag.bundle import html as html_report
from jnlpdiag.cli import build_parser
from jnlpdiag.commands.check import prepare
from jnlpdiag.findings import Finding, Status, fold
from jnlpdiag.output import markdown, text
from jnlpdiag.run_report import Report
from jnlpdiag.runner import run_sync
from jnlpdiag.tui.state import RunView, summary
from tests.peers.agent_listener import AgentListener
from tests.peers.controller import identity_b64, jenkins_server
from tests.peers.nginx import Nginx
from tests.peers.util import free_port, wait_port

# Host checks read this machine (a noexec /tmp, a broken agent.jar elsewhere): not part of the fault.
SCOPE = ("--skip", "host.*", "--skip", "compat", "--from-process", "none")


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A private HOME/TMPDIR and no agent settings from this machine's environment."""
    for name in list(os.environ):
        if name.startswith(("JENKINS_", "JAVA_", "REMOTING_")) or name.lower().endswith("_proxy") or name in (
                "JDK_JAVA_OPTIONS", "proxy_host"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    secret = tmp_path / "secret"
    secret.write_text("a" * 64)
    return str(secret)


def live_run(*argv: str) -> tuple[Report, RunView]:
    """Run ``check`` in process; the TUI's model is fed the runner's live events, as on screen."""
    parser, _ = build_parser()
    args = parser.parse_args(["check", *argv, *SCOPE])
    prepared = prepare(args)
    assert not isinstance(prepared, int)
    settings, _, chosen = prepared
    model = RunView()
    model.plan(chosen)
    report = run_sync(chosen, settings, on_event=model.apply)
    return report, model


def assert_one_root(report: Report, model: RunView, root_id: str, folded: set[str]) -> None:
    data = Report.from_dict(report.to_dict())  # what a saved report.json gives back
    roots = data.root_causes()
    assert [f.id for f in roots] == [root_id], [(f.id, f.title) for f in roots]
    by_id = {f.id: f for f in data.findings}
    assert by_id[root_id].caused_by is None
    failing = {f.id for f in data.findings if f.status is Status.FAIL}
    for fid in failing - {root_id}:
        assert by_id[fid].caused_by is not None, fid
    assert folded <= failing
    consequences = set(report.to_dict()["root_causes"][0]["consequences"])
    assert folded <= consequences

    out = text.render(data)
    section = out.split("\n\nAll findings:")[0]
    assert "Root cause:" in section and "Root causes:" not in section
    assert len(re.findall(r"^  \S+ FAIL ", section, flags=re.M)) == 1
    assert f"({root_id})" in section

    md = markdown.render(data)
    heading = re.search(r"^## Root cause(s?)\b.*$", md, flags=re.M)
    assert heading and not heading.group(1), md[:400]
    roots_md = md[heading.end():].split("\n## ")[0]
    assert len(re.findall(r"^### ", roots_md, flags=re.M)) == 1 and by_id[root_id].title in roots_md

    page = html_report.render(data)
    heading = re.search(r"<h2>Root cause(s?)\b[^<]*</h2>", page)
    assert heading and not heading.group(1)
    roots_html = page[heading.end():].split("<h2>")[0]
    assert roots_html.count('<div class="card') == 1 and f'id="{root_id}"' in roots_html

    quit_text = summary(model)
    assert quit_text.count("root cause:") == 1 and f"({root_id})" in quit_text, quit_text


def test_http_server_that_is_not_jenkins_with_websocket(env, tmp_path):
    """The issue's own case: python's http.server, --websocket: 'not Jenkins' explains the rest."""
    port = free_port()
    handler = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        report, model = live_run("--url", f"http://127.0.0.1:{port}/", "--name", "agent-1", "--secret-file", env,
                                 "--websocket", "--timeout", "5")
    finally:
        server.shutdown()
        server.server_close()
    assert_one_root(report, model, "discovery.jenkins",
                    {"discovery", "credentials.jnlp", "websocket.login", "websocket.upgrade"})
    assert report.exit_code == 2
    # http.server answers the upgrade with "HTTP/1.0 404": an answer, said as one (issue 13 §3)
    upgrade = next(f for f in report.findings if f.id == "websocket.upgrade")
    assert upgrade.evidence["status_code"] == 404 and upgrade.evidence["http_version"] == "HTTP/1.0"
    words = upgrade.title + " ".join(fix.title for fix in upgrade.fixes)
    assert "valid HTTP response" not in words and "Cannot reach" not in words, words
    assert "404" in upgrade.title


def test_nothing_listens_at_the_url(env):
    port = free_port()
    report, model = live_run("--url", f"http://127.0.0.1:{port}/", "--name", "agent-1", "--secret-file", env,
                             "--timeout", "3")
    assert_one_root(report, model, "discovery.jenkins", {"discovery"})
    assert report.to_dict()["findings"][0]["id"]  # a real document
    jenkins = next(f for f in report.findings if f.id == "discovery.jenkins")
    assert jenkins.evidence["error_class"] == "refused"


def test_agent_port_refused(env):
    """Jenkins answers, but nothing listens on the agent port it advertises."""
    http_port, agent_port = free_port(), free_port()
    with Nginx(jenkins_server(http_port, agent_port, identity_b64()), [http_port]):
        report, model = live_run("--url", f"http://127.0.0.1:{http_port}/", "--name", "agent-1",
                                 "--secret-file", env, "--skip", "credentials.*", "--skip", "websocket.*",
                                 "--timeout", "3")
    assert_one_root(report, model, "tcp.agent_port", set())
    skipped = [f for f in report.findings if f.probe.startswith("jnlp4")]
    assert skipped and all(f.caused_by == "tcp.agent_port" for f in skipped)


def test_web_server_on_the_agent_port(env):
    """--tunnel at a web server: the listener check fails; the JNLP4 steps follow from it."""
    http_port, web_port = free_port(), free_port()
    blocks = jenkins_server(http_port, 1, identity_b64()) + f"""
    server {{ listen 127.0.0.1:{web_port}; location / {{ return 200 "hello"; }} }}"""
    with Nginx(blocks, [http_port, web_port]):
        report, model = live_run("--url", f"http://127.0.0.1:{http_port}/", "--name", "agent-1",
                                 "--secret-file", env, "--tunnel", f"127.0.0.1:{web_port}",
                                 "--skip", "credentials.*", "--skip", "websocket.*", "--timeout", "3")
    assert_one_root(report, model, "tcp.listener", set())


def test_tls_the_agents_jvm_refuses(env, ca, tmp_path):
    """A certificate nobody here trusts: the JVM's refusal is the root; the Python-side TLS verdicts
    (discovery's untrusted HTTPS, tls.certificate) and everything over the session follow from it."""
    leaf = ca.issue_cert("localhost", "127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    leaf.private_key_and_cert_chain_pem.write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    http_port = free_port()
    with AgentListener() as listener, Nginx(
            jenkins_server(http_port, listener.port, identity_b64(), tls=(str(cert), str(key))), [http_port]):
        wait_port("127.0.0.1", http_port)
        report, model = live_run("--url", f"https://localhost:{http_port}/", "--name", "agent-1",
                                 "--secret-file", env, "--websocket", "--timeout", "20")
    roots = report.root_causes()
    assert [f.probe for f in roots] == ["tls.java"], [(f.id, f.title) for f in roots]
    assert_one_root(report, model, roots[0].id, {"websocket.login", "websocket.upgrade"})
    untrusted = [f for f in report.findings if f.id == "discovery.https" or f.probe == "tls.certificate"]
    assert untrusted and all(f.caused_by for f in untrusted if f.status is not Status.PASS)


def test_comparison_run_never_raises_the_exit_code(env):
    """A TCP agent with a healthy agent port; the WebSocket path is broken (a page at /wsagents/):
    the comparison is reported, as information only."""
    http_port = free_port()
    with AgentListener() as listener:
        blocks = jenkins_server(http_port, listener.port, identity_b64(),
                                extra='location /wsagents/ { return 404; } location = /login { return 404; }')
        with Nginx(blocks, [http_port]):
            report, _ = live_run("--url", f"http://127.0.0.1:{http_port}/", "--name", "agent-1",
                                 "--secret-file", env, "--probe", "discovery", "--probe", "tcp",
                                 "--probe", "websocket.*", "--timeout", "3")
    ws = [f for f in report.findings if f.probe == "websocket.upgrade" and f.status is not Status.PASS]
    assert ws and all(f.informational and f.status is Status.WARN for f in ws)
    assert all(f.title.startswith("(comparison") for f in ws)
    assert not report.root_causes()
    assert report.exit_code == 0, [(f.id, f.status, f.title) for f in report.findings]
    assert report.to_dict()["findings"][-1]["informational"] in (True, False)


def test_fold_rule_units():
    def f(fid: str, status: str, rests: tuple[str, ...] = (), breaks: tuple[str, ...] = (), info: bool = False):
        fixes = [] if status in ("pass", "skip", "error") else [__import__("jnlpdiag.findings").findings.Fix("x")]
        return Finding(fid, "p", "network", status, fid, fixes=fixes, rests_on=rests, breaks=breaks,
                       informational=info)

    a = f("a", "fail", breaks=("x",))
    b = f("b", "fail", rests=("x",))
    assert fold([a], b) == "a"
    # an information-only failure explains nothing, and a pass or skip is never folded
    assert fold([f("c", "warn", breaks=("x",), info=True)], b) is None
    assert fold([a], f("d", "pass", rests=("x",))) is None
    # no loops: a finding that explains the breaker is not folded under it
    c = f("c", "fail", rests=("x",), breaks=("y",))
    d = f("d", "fail", rests=("y",), breaks=("x",))
    d.caused_by = "c"
    assert fold([d, c], c) is None
    # never under itself
    e = f("e", "fail", rests=("x",), breaks=("x",))
    assert fold([e], e) is None
