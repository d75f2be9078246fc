"""The agent secret, given by every route, appears nowhere: not in any bundle file, the zip, the
capture, stdout or stderr — as bytes, base64 or URL-encoded.

Peers: a real nginx serving Jenkins' discovery headers (tests/peers/controller.py) with a
``/wsagents/`` that refuses with 403, and a real process whose argv is an agent command line.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import is_root
from tests.peers.controller import identity_b64, jenkins_server
from tests.peers.nginx import Nginx
from tests.peers.util import clean_env, free_port, run_cli
from tests.reports.secrets import bundle_hits, hits

SECRET = secrets.token_hex(32)  # the shape of a real agent secret (HMAC-SHA256 as hex)
NAME = "agent-redaction"


@pytest.fixture(scope="module")
def controller():
    port, agent_port = free_port(), free_port()
    extra = """
        location = /login { add_header X-Jenkins "2.479.3" always; default_type text/html; return 200 "<html></html>"; }
        location /wsagents/ { add_header X-Jenkins "2.479.3" always; return 403; }
    """
    blocks = jenkins_server(port, agent_port, identity_b64(), extra=extra)
    with Nginx(blocks, [port]):
        yield f"http://127.0.0.1:{port}/"


@pytest.fixture
def agent_process(controller, tmp_path):
    """A long-running process whose argv is `java -jar agent.jar -url ... -secret SECRET -name ...`.

    ``exec -a java`` sets argv[0]; the program (python sleeping) ignores the agent arguments.
    """
    script = "import time; time.sleep(120)"
    cmd = f'exec -a java {sys.executable} -c "{script}" -jar agent.jar -url {controller} -secret {SECRET} -name {NAME}'
    proc = subprocess.Popen(["bash", "-c", cmd], cwd=tmp_path)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
            if cmdline.startswith(b"java\0") and SECRET.encode() in cmdline:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the fake agent process did not start")
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def _routes(controller: str, tmp_path: Path, pid: int | None) -> dict[str, tuple[list[str], dict[str, str]]]:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET + "\n")
    jnlp = tmp_path / "jenkins-agent.jnlp"
    jnlp.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<jnlp codebase="' + controller + 'computer/' + NAME + '/">'
        '<application-desc><argument>' + SECRET + '</argument><argument>' + NAME + '</argument>'
        '<argument>-url</argument><argument>' + controller + '</argument></application-desc></jnlp>\n'
    )
    base = ["--timeout", "2", "--from-process", "none"]
    return {
        "flag": (["--url", controller, "--name", NAME, "--secret", SECRET, *base], clean_env()),
        "file": (["--url", controller, "--name", NAME, "--secret-file", str(secret_file), *base], clean_env()),
        "env": (["--timeout", "2", "--from-process", "none"],
                clean_env(JENKINS_URL=controller, JENKINS_SECRET=SECRET, JENKINS_AGENT_NAME=NAME)),
        "jnlp": (["--jnlp-file", str(jnlp), *base], clean_env()),
        "process": (["--timeout", "2", "--from-process", str(pid)], clean_env()) if pid else ([], {}),
        # The secret on the wire: a WebSocket upgrade with Secret-Key over plain http (when the probe exists).
        "websocket": (["--url", controller, "--name", NAME, "--secret", SECRET, "--websocket", "--auth-check", *base],
                      clean_env()),
    }


@pytest.mark.parametrize("route", ["flag", "file", "env", "jnlp", "process", "websocket"])
def test_secret_never_leaks(route, controller, tmp_path, request):
    pid = request.getfixturevalue("agent_process") if route == "process" else None
    args, env = _routes(controller, tmp_path, pid)[route]
    out = tmp_path / "bundle"
    capture = ["--capture"] if is_root() else []
    res = run_cli("report", "--out", str(out), "--zip", *capture, *args, env=env, timeout=60)
    # Exit 3 is allowed: another probe may break on the stand-in agent process; the bundle is still written.
    assert res.code in (0, 1, 2, 3) and "bundle written to" in res.stdout, res.stderr
    files = sorted(p for p in out.iterdir())
    names = {p.name for p in files}
    assert {"report.json", "summary.md", "report.html", "manifest.json"} <= names
    archive = out.parent / "bundle.zip"
    assert archive.exists()
    # The secret reached the tool by this route (else the test would prove nothing).
    report = json.loads((out / "report.json").read_text())
    assert report["settings"]["secret"]["value"] == "<redacted>", report["settings"].get("secret")
    assert report["settings"]["secret"]["origin"].split()[0] in {"flag", "env", "jnlp-file", "process"}
    found = bundle_hits([*files, archive], SECRET)
    assert found == {}, f"secret found in {found}"
    assert hits(res.stdout.encode(), SECRET) == [], "secret on stdout"
    assert hits(res.stderr.encode(), SECRET) == [], "secret on stderr"
    if is_root():
        assert "capture.pcap" in names, res.stdout
        pcap = (out / "capture.pcap").read_bytes()
        assert hits(pcap, SECRET) == []
        if b"Secret-Key:" in pcap:  # the WebSocket probe sent the secret over plain http: masked in place
            assert b"Secret-Key: " + b"*" * len(SECRET) in pcap
    manifest = json.loads((out / "manifest.json").read_text())
    for entry in manifest["files"]:
        import hashlib

        assert hashlib.sha256((out / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]


def test_bundle_redacts_every_credential_shape(tmp_path):
    """Secrets inside the report data itself (evidence, details, settings) by every shape the redactor knows."""
    from jnlpdiag.bundle import write_bundle
    from jnlpdiag.findings import Finding, Fix, Layer, Status
    from jnlpdiag.redact import Redactor
    from jnlpdiag.run_report import Report

    proxy_pw, store_pw, named, url_pw = "pr0xyPassw0rd", "st0reP4ss!", "my-own-value-42", "urlp4ssw0rd"
    findings = [Finding(
        id="x.agent", probe="x", layer=Layer.PROTOCOL, status=Status.FAIL, title="Agent command line",
        detail=f"java -Dhttps.proxyPassword={proxy_pw} -Djavax.net.ssl.keyStorePassword={store_pw} -jar agent.jar "
               f"-secret {SECRET} -name {NAME}",
        evidence={"env": f"JENKINS_SECRET={SECRET}\nhttp_proxy=http://bob:{url_pw}@proxy.corp:3128\nOTHER={named}",
                  "header": f"Secret-Key: {SECRET}", "argv": ["java", "-jar", "agent.jar", "-secret", SECRET]},
        fixes=[Fix("Use --secret-file", (f"echo {SECRET} > secret.txt",))],
    )]
    report = Report(findings=findings, settings={"https_proxy": {"value": f"http://bob:{url_pw}@proxy:3128",
                                                                 "origin": "env HTTPS_PROXY"}},
                    started_at="2026-01-01T00:00:00+00:00", duration_ms=10.0)
    path = write_bundle(report, tmp_path / "b", Redactor([SECRET, named]), zip=True)
    assert path.suffix == ".zip"
    files = [*(tmp_path / "b").iterdir(), path]
    for value in (SECRET, proxy_pw, store_pw, named, url_pw):
        assert bundle_hits(files, value) == {}, value
    text = (tmp_path / "b" / "summary.md").read_text()
    assert "-Dhttps.proxyPassword=<redacted>" in text and "http://bob:<redacted>@proxy" in text
    assert os.stat(tmp_path / "b" / "report.json").st_mode & 0o077 == 0  # not readable by others


def test_anonymize_replaces_hosts_consistently(tmp_path):
    from jnlpdiag.bundle import write_bundle
    from jnlpdiag.findings import Finding, Layer, Status
    from jnlpdiag.redact import Redactor
    from jnlpdiag.run_report import Report

    findings = [Finding(id="tcp", probe="tcp", layer=Layer.NETWORK, status=Status.PASS,
                        title="Connected to jenkins.corp.example.org:50000 (10.20.30.40)",
                        evidence={"host": "jenkins.corp.example.org", "address": "10.20.30.40", "loop": "127.0.0.1"})]
    settings = {"url": {"value": "https://jenkins.corp.example.org/", "origin": "flag"}}
    report = Report(findings=findings, settings=settings,
                    started_at="2026-01-01T00:00:00+00:00", duration_ms=1.0,
                    host={"name": "build-host-17", "os": "Linux"})
    out = write_bundle(report, tmp_path / "b", Redactor(), capture=b"ignored", anonymize=True)
    data = json.loads((out / "report.json").read_text())
    blob = b"".join(p.read_bytes() for p in out.iterdir())
    for original in (b"jenkins.corp.example.org", b"10.20.30.40", b"build-host-17"):
        assert original not in blob, original
    assert data["settings"]["url"]["value"] == "https://host_1/"
    assert data["findings"][0]["title"] == "Connected to host_1:50000 (ip_1)"
    assert data["findings"][0]["evidence"]["loop"] == "127.0.0.1"  # loopback is kept on purpose
    assert data["host"]["name"].startswith("host_")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["anonymized"] is True and "capture.pcap" not in {f["name"] for f in manifest["files"]}
    assert "left out" in manifest["notes"][0]


@pytest.mark.skipif(not is_root(), reason="needs root to drop CAP_NET_RAW with setpriv (CI runs as root)")
def test_capture_without_rights_is_a_skip_with_the_fix(controller, tmp_path):
    out = tmp_path / "b"
    cmd = ["setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw", sys.executable, "-m", "jnlpdiag", "report",
           "--out", str(out), "--capture", "--url", controller, "--timeout", "2", "--from-process", "none"]
    res = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(), timeout=60)
    assert res.returncode in (0, 1, 2), res.stderr
    report = json.loads((out / "report.json").read_text())
    cap = next(f for f in report["findings"] if f["id"] == "capture")
    assert cap["status"] == "skip"
    assert "CAP_NET_RAW" in cap["detail"]
    steps = " ".join(cap["fixes"][0]["steps"])
    assert "sudo jnlpdiag report --capture" in steps and "setcap cap_net_raw" in steps
    assert not (out / "capture.pcap").exists()
    assert "Packet capture skipped" in res.stdout
