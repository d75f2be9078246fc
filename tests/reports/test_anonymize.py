"""`report --anonymize` touches only free text and address values (issue 13 §5).

A property test writes bundles of reports that validate against docs/report.schema.json, with host
names, IP addresses, placeholders and the schema's own words ("host", "network", "fail") scattered
through every free-text field, and checks that the anonymized report.json still validates, keeps
every structural value, and holds none of the private addresses. The CLI test runs the command
of the issue against a real http.server.
"""

from __future__ import annotations

import http.server
import json
import tempfile
import threading
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.peers.util import clean_env, run_cli

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text())
LAYERS = ["host", "network", "protocol", "compatibility"]
STATUSES = ["pass", "skip", "warn", "fail", "error"]
PRIVATE_HOSTS = ["jenkins.corp.example.org", "build-host-17", "agent-pod-7f9c", "ci.internal"]
PRIVATE_IPS = ["10.20.30.40", "192.168.1.7", "172.16.0.9", "fd00::17"]

word = st.sampled_from([
    *LAYERS, *STATUSES, "HOST", "PORT", "JENKINS_URL", "http://HOST:PORT/", "curl", "the", "agent", "-", ":", "vm",
    "tcp.agent_port", "discovery.jenkins", "127.0.0.1", "::1", "localhost", "https://www.jenkins.io/doc/",
    *PRIVATE_HOSTS, *PRIVATE_IPS, *(f"https://{h}:8443/login" for h in PRIVATE_HOSTS), "http://[fd00::17]:8080/",
    *(f"{ip}:50000" for ip in PRIVATE_IPS[:3]),
])
text = st.lists(word, max_size=8).map(" ".join)
line = text.filter(lambda t: "\n" not in t)
finding_id = st.builds(lambda probe, tail: f"{probe}.{tail}" if tail else probe,
                       st.sampled_from(["tcp", "discovery", "host_java", "tls"]),
                       st.sampled_from(["", "agent_port", "jenkins", "host", "network.ipv6", "x#2"]))
evidence_value = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70000) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["host", "address", "url", "layer", "status", "hosts", "error", "sources"]), inner, max_size=3),
    max_leaves=8)
fix = st.fixed_dictionaries({"title": line.filter(bool) | st.just("Fix it"),
                             "steps": st.lists(text, max_size=3), "docs": st.lists(text, max_size=2)})


@st.composite
def finding(draw: Any, fid: str) -> dict[str, Any]:
    status = draw(st.sampled_from(STATUSES))
    fixes = draw(st.lists(fix, min_size=1 if status in ("warn", "fail") else 0, max_size=2))
    return {"id": fid, "probe": fid.split(".")[0], "layer": draw(st.sampled_from(LAYERS)), "status": status,
            "title": draw(line), "detail": draw(text),
            "evidence": draw(st.dictionaries(st.sampled_from(["host", "url", "address", "layer", "peer", "status"]),
                                             evidence_value, max_size=4)),
            "fixes": fixes, "caused_by": None, "duration_ms": draw(st.floats(0, 1e5))}


@st.composite
def report_doc(draw: Any) -> dict[str, Any]:
    ids = draw(st.lists(finding_id, min_size=1, max_size=6, unique=True))
    findings = [draw(finding(fid)) for fid in ids]
    for f in findings[1:]:
        if draw(st.booleans()):
            f["caused_by"] = findings[0]["id"]
    settings_doc = {
        "url": {"value": draw(st.sampled_from([f"https://{h}/" for h in PRIVATE_HOSTS] + ["http://10.20.30.40:8080/"])),
                "origin": "flag --url"},
        "tunnel": {"value": draw(st.sampled_from(["ci.internal:50000", "192.168.1.7:50000", None])), "origin": "env"},
        "native_libs": {"value": draw(st.lists(text, max_size=2)), "origin": "default"},
        "timeout": {"value": 10.0, "origin": "default"},
        "secret": {"value": "<redacted>", "origin": "flag --secret-file"},
    }
    return {
        "schema": "jnlpdiag.report/1", "tool": {"name": "jnlpdiag", "version": "0.1.0"},
        "host": {"name": draw(st.sampled_from(["build-host-17", "vm", "agent-pod-7f9c"])), "os": "Linux", "kernel": "6.1",
                 "machine": "x86_64", "python": "3.11.7", "uid": 0, "in_container": draw(st.booleans())},
        "settings": settings_doc, "status": "pass", "exit_code": 0, "root_causes": [], "findings": findings,
        "probes": [{"id": f["probe"], "layer": f["layer"], "status": f["status"], "description": draw(text)}
                   for f in findings],
        "started_at": "2026-12-06T12:00:00+00:00", "duration_ms": 12.5,
    }


def _structure(doc: dict[str, Any]) -> Any:
    """Everything the schema defines as structure: what anonymizing must never change."""
    return {
        "top": {k: doc[k] for k in ("schema", "tool", "status", "exit_code", "started_at", "duration_ms")},
        "settings": {k: v["origin"] for k, v in doc["settings"].items()},
        "findings": [(f["id"], f["probe"], f["layer"], f["status"], f["caused_by"], sorted(f["evidence"]), len(f["fixes"]))
                     for f in doc["findings"]],
        "roots": [(r["id"], r["layer"], r["consequences"]) for r in doc["root_causes"]],
        "probes": [(p["id"], p["layer"], p["status"]) for p in doc.get("probes", [])],
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report_doc())
def test_anonymized_bundle_still_validates_and_hides_addresses(doc):
    from jnlpdiag.bundle import write_bundle
    from jnlpdiag.redact import Redactor
    from jnlpdiag.run_report import Report

    report = Report.from_dict(doc)
    before = report.to_dict()
    jsonschema.validate(before, SCHEMA)  # the generator makes schema-valid reports
    with tempfile.TemporaryDirectory() as tmp:
        out = write_bundle(report, Path(tmp) / "b", Redactor(), anonymize=True)
        after = json.loads((out / "report.json").read_text())
        blob = b"".join(p.read_bytes() for p in out.iterdir())
    jsonschema.validate(after, SCHEMA)
    Report.from_dict(after)
    assert _structure(after) == _structure(before)
    # An address is found wherever the report names it as one (a URL, a setting, the host name);
    # a bare word elsewhere cannot be told from prose. IP addresses are found anywhere.
    dump = json.dumps(before)
    named = [h for h in PRIVATE_HOSTS if f"://{h}" in dump or h == before["host"]["name"]
             or h in str(before["settings"]["tunnel"]["value"])]
    for private in (*named, *PRIVATE_IPS):
        assert private.encode() not in blob, private
    assert "HOST" not in json.dumps(before) or "HOST" in json.dumps(after)  # placeholders are not hosts
    assert "127.0.0.1" not in json.dumps(before) or "127.0.0.1" in json.dumps(after)  # loopback kept


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_report_anonymize_against_http_server(tmp_path):
    """The issue's command: `report --out D --anonymize --url` at `python3 -m http.server` (not Jenkins)."""
    (tmp_path / "site").mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: _Quiet(*a, directory=str(tmp_path / "site")))  # type: ignore[misc]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        out = tmp_path / "D"
        r = run_cli("report", "--out", str(out), "--zip", "--anonymize", "--url",
                    f"http://127.0.0.1:{server.server_address[1]}/", "--tunnel", "10.20.30.40:50000",
                    "--from-process", "none", "--timeout", "3", env=clean_env(TMPDIR=str(tmp_path)))
    finally:
        server.shutdown()
        server.server_close()
    assert r.code == 2, r.stderr
    assert "Traceback" not in r.stderr and "not a valid" not in r.stderr
    data = json.loads((out / "report.json").read_text())
    jsonschema.validate(data, SCHEMA)
    assert {f["layer"] for f in data["findings"]} <= set(LAYERS)
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "report.html", "report.json", "summary.md"]
    assert b"10.20.30.40" not in b"".join(p.read_bytes() for p in out.iterdir())
    assert "ip_1:50000" in json.dumps(data)
    assert (tmp_path / "D.zip").is_file()
