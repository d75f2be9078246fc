"""``jnlpdiag analyze`` on the real captures in captures/ (see captures/README.md for how each was recorded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.peers.util import run_cli

CAPTURES = Path(__file__).resolve().parents[2] / "captures"


def analyze(name: str) -> tuple[int, dict]:
    res = run_cli("analyze", "--json", str(CAPTURES / name))
    assert res.stderr == "", res.stderr
    return res.code, res.json()


def finding(doc: dict, fid: str) -> dict:
    for f in doc["findings"]:
        if f["id"] == fid:
            return f
    raise KeyError(f"{fid} not in {[f['id'] for f in doc['findings']]}")


def test_tls13_ok():
    code, doc = analyze("tls13-ok.pcap")
    assert code == 0 and doc["status"] == "pass"
    tls = finding(doc, "stream1.tls")
    assert tls["evidence"]["chosen"] == "TLS 1.3" and tls["evidence"]["offered"] == ["TLS 1.3"]
    assert tls["evidence"]["sni"] == "jenkins.example.test"
    assert tls["evidence"]["certificate"] == "encrypted (TLS 1.3)"


def test_unknown_ca_alert_from_the_client_with_certificate_subject():
    code, doc = analyze("tls12-alert-unknown-ca.pcap")
    assert code == 2
    tls = finding(doc, "stream1.tls")
    assert tls["status"] == "fail" and "unknown_ca (48)" in tls["title"] and "client" in tls["title"]
    assert tls["evidence"]["certificate"]["subject"] == "O=jnlpdiag capture,CN=jenkins.example.test"
    assert tls["evidence"]["chosen"] == ["TLS 1.2"]
    assert any("keytool -importcert" in s for s in tls["fixes"][0]["steps"])
    assert doc["streams"][0]["certificate_subject"].endswith("CN=jenkins.example.test")


def test_protocol_version_alert_from_the_server():
    code, doc = analyze("tls-alert-protocol-version.pcap")
    tls = finding(doc, "stream1.tls")
    assert code == 2 and "protocol_version (70)" in tls["title"] and "server" in tls["title"]
    assert tls["evidence"]["offered"] == ["TLS 1.2"]
    assert "127.0.0.1:14433" in " ".join(tls["fixes"][0]["steps"])


def test_refused_and_unanswered_syn():
    code, doc = analyze("tcp-refused.pcap")
    assert code == 2 and finding(doc, "stream1.tcp")["title"].startswith("Connection to 127.0.0.1:14434 refused")
    code, doc = analyze("tcp-syn-unanswered.pcap")
    tcp = finding(doc, "stream1.tcp")
    assert code == 2 and tcp["title"].startswith("No answer to 2 SYN(s)")
    assert tcp["evidence"]["waited_s"] >= 0.9  # the kernel's 1 s SYN retransmission


def test_reset_right_after_client_hello_is_the_middlebox_signature():
    code, doc = analyze("tls-reset-after-clienthello.pcap")
    tls = finding(doc, "stream1.tls")
    assert code == 2 and "middlebox or DPI" in tls["title"] and "blocked.example.test" in tls["title"]
    assert tls["evidence"]["reset_packet"] == tls["evidence"]["client_hello_packet"] + 1
    assert tls["evidence"]["reset_ttl"] == tls["evidence"]["synack_ttl"] == 64
    assert "TLS 1.3" in tls["evidence"]["offered"]


def test_websocket_upgrade_and_close_code():
    code, doc = analyze("ws-upgrade-101-close-1008.pcap")
    assert code == 2
    assert finding(doc, "stream1.websocket")["status"] == "pass"
    close = finding(doc, "stream2.close")
    assert close["status"] == "fail" and "1008 policy_violation" in close["title"]
    assert close["evidence"]["reason"] == "jnlpdiag capture: policy violation"


def test_upgrade_headers_stripped_by_the_proxy():
    code, doc = analyze("ws-upgrade-headers-stripped.pcap")
    assert code == 2
    stripped = finding(doc, "stream2.upgrade")
    assert stripped["status"] == "fail" and "removed the Upgrade/Connection headers" in stripped["title"]
    assert "Upgrade" not in stripped["evidence"]["request_headers"]
    assert stripped["evidence"]["client_leg_stream"] == 1
    assert any("proxy_set_header Upgrade" in s for s in stripped["fixes"][0]["commands"] + stripped["fixes"][0]["notes"])
    refused = finding(doc, "stream1.websocket")
    assert refused["status"] == "fail" and refused["caused_by"] == "stream2.upgrade"


def test_jnlp4_preamble_answered_by_http():
    code, doc = analyze("jnlp4-answered-by-http.pcap")
    f = finding(doc, "stream1.jnlp4")
    assert code == 2 and "answered with HTTP" in f["title"] and f["evidence"]["reply_hex"].startswith("485454502f")


def test_text_output_lists_streams_and_fixes():
    res = run_cli("analyze", str(CAPTURES / "ws-upgrade-headers-stripped.pcap"))
    assert res.code == 2
    assert "#1" in res.stdout and "#2" in res.stdout and "fix: Make the reverse proxy forward" in res.stdout


def test_pcapng_is_read_too(tmp_path):
    """scapy's pcapng writer (a real, independent implementation) re-encodes a capture."""
    from scapy.utils import PcapNgWriter, rdpcap

    packets = rdpcap(str(CAPTURES / "tls12-alert-unknown-ca.pcap"))
    out = tmp_path / "x.pcapng"
    with PcapNgWriter(str(out)) as w:
        for p in packets:
            w.write(p)
    res = run_cli("analyze", "--json", str(out))
    assert res.json()["format"] == "pcapng"
    assert "unknown_ca" in res.finding("stream1.tls")["title"]


@pytest.mark.parametrize("content, message", [
    (b"", "empty or too short"),
    (b"GIF89a not a capture at all", "not a pcap or pcapng file"),
    (b"\xd4\xc3\xb2\xa1\x02\x00", "truncated pcap global header"),
])
def test_bad_files_are_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.pcap"
    path.write_bytes(content)
    res = run_cli("analyze", str(path))
    assert res.code == 3 and message in res.stderr and "Traceback" not in res.stderr
    assert run_cli("analyze", str(tmp_path / "missing.pcap")).code == 3


def test_truncated_file_is_an_error_but_keeps_what_was_read(tmp_path):
    data = (CAPTURES / "tls12-alert-unknown-ca.pcap").read_bytes()
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:-30])
    res = run_cli("analyze", "--json", str(path))
    assert res.code == 3 and "truncated" in res.stderr
    doc = res.json()
    assert doc["truncated"] and finding(doc, "capture.truncated")["status"] == "error"
    assert finding(doc, "stream1.tcp")["status"] == "pass"


def test_hostile_record_length_is_refused(tmp_path):
    header = (CAPTURES / "tcp-refused.pcap").read_bytes()[:24]
    path = tmp_path / "huge.pcap"
    path.write_bytes(header + b"\0" * 8 + (2**31).to_bytes(4, "little") * 2 + b"x" * 10)
    res = run_cli("analyze", str(path), timeout=20)
    assert res.code == 3 and "corrupt" in res.stderr


def test_mutated_captures_never_crash():
    """Random byte flips and cuts of every real capture: an analysis or a PcapError, nothing else."""
    import random

    from jnlpdiag.analyze import PcapError, analyze_bytes
    from jnlpdiag.capture.scrub import scrub_pcap
    from jnlpdiag.redact import Redactor

    redactor = Redactor(["jenkins.example.test"])
    rng = random.Random(8)
    for path in sorted(CAPTURES.glob("*.pcap")):
        blob = path.read_bytes()
        for _ in range(60):
            data = bytearray(blob)
            for _ in range(rng.randint(1, 12)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            data = data[: rng.randint(0, len(data))] if rng.random() < 0.3 else data
            try:
                analysis = analyze_bytes(bytes(data))
                scrubbed, _ = scrub_pcap(bytes(data), redactor)
            except PcapError:
                continue
            assert len(scrubbed) == len(data)
            for f in analysis.findings:
                assert "\n" not in f.title and (f.fixes or not f.status.needs_fix)
