"""Property tests (hypothesis, bounded) for the parsers of outside input beyond the core ones
(tests/test_fuzz_core.py has those): version strings, java.security, mountinfo and /proc cgroup,
the log-signature matcher, the pcap analyser and captured streams, saved-report files, agent.jar
metadata, ELF files, key stores, and what the agent port sends back (JNLP4 frames and headers).

Each parser returns a value or raises its own documented error, finishes quickly, and keeps the
invariant named in the test. Generators are structure-aware where random bytes would never get
past a magic number. The long-running atheris harnesses are in fuzz/fuzz_parsers.py.
"""

from __future__ import annotations

import base64
import io
import json
import re
import struct
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

BOUNDED = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
ROOT = Path(__file__).resolve().parent.parent

text_any = st.text(st.characters(codec="utf-8"), max_size=300)  # utf-8: no lone surrogates

# -- version strings -----------------------------------------------------------------------------

# Real version shapes: legacy dotted numbers with Maven qualifiers, and CD builds NNNN[.MMMM].v<hash>.
# (On arbitrary strings Java's own VersionNumber is not transitive, e.g. "0a6" < "" < "_63N3v08P" >
# "0a6", nor antisymmetric with '*' items, and the port follows Java; the compat suite checks that.)
version_like = st.from_regex(r"\A[0-9]{1,4}(\.[0-9]{1,4}){0,3}(-SNAPSHOT|-rc[0-9]|-beta-[0-9]|-alpha)?\Z") | \
    st.from_regex(r"\A3[0-9]{3}(\.3[0-9]{3})?\.v[0-9a-f_]{8,12}\Z")


def _sign(n: int) -> int:
    return (n > 0) - (n < 0)


@BOUNDED
@given(version_like, version_like, version_like)
def test_version_order_is_a_total_order(a, b, c):
    """hudson.util.VersionNumber (the comparator core uses) orders real versions of every scheme
    consistently: antisymmetric and transitive, so sorting never depends on input order."""
    from jnlpdiag.versions import VersionNumber

    va, vb, vc = VersionNumber(a), VersionNumber(b), VersionNumber(c)
    assert _sign(va.compare(vb)) == -_sign(vb.compare(va))
    if va.compare(vb) <= 0 and vb.compare(vc) <= 0:
        assert va.compare(vc) <= 0
    assert (va == vb) == (va.compare(vb) == 0)


@BOUNDED
@given(st.from_regex(r"\A2\.[0-9]{1,3}(\.[0-9])?\Z"))
def test_jenkins_versions_keep_their_line(text):
    from jnlpdiag.versions import parse_jenkins

    v = parse_jenkins(f"  {text}\n")
    assert str(v) == text and v.line == ".".join(text.split(".")[:2])
    assert v.kind == ("lts" if text.count(".") == 2 else "weekly")


# -- java.security ---------------------------------------------------------------------------------

constraint_entry = st.sampled_from([
    "RSA keySize < 2048", "DSA keySize<=1024", "EC keySize < 224", "SHA1 jdkCA & usage TLSServer",
    "SHA1 usage SignedJAR & denyAfter 2019-01-01", "MD5", "TLSv1", "TLS_RSA_*", "include jdk.disabled.namedCurves",
    "include jdk.tls.disabledAlgorithms", "denyAfter", "keySize", "&", "RSA keySize == 99999999999999999999",
]) | st.text(st.sampled_from("ABCDERSA_*&<=> 0123456789.-"), max_size=30)
prop_key = st.sampled_from(["jdk.tls.disabledAlgorithms", "jdk.certpath.disabledAlgorithms",
                            "jdk.disabled.namedCurves", "security.overridePropertiesFile", "include", "a\\ b", "x"])
prop_line = st.one_of(
    st.builds(lambda k, sep, es, cont: k + sep + (",\\\n    " if cont else ", ").join(es),
              prop_key, st.sampled_from(["=", ":", " ", " = ", "\t"]), st.lists(constraint_entry, max_size=5),
              st.booleans()),
    st.sampled_from(["# comment", "! comment", "", "   ", "key\\", "\\u00e9=\\u0041", "k=v\\", "k=\\uZZZZ"]),
    text_any,
)


@BOUNDED
@given(st.lists(prop_line, max_size=12))
def test_java_security_parsing(lines):
    """java.util.Properties syntax plus DisabledAlgorithmConstraints entries: never an exception,
    ``include`` loops terminate, and a keySize rule means what it says."""
    from jnlpdiag.tls import javasecurity as js

    text = "\n".join(lines)
    props = dict(js.parse_properties(text))
    for value in props.values():
        constraints = js.parse_constraints(value, props)
        for c in constraints:
            assert c.algorithm and c.text
            if c.key_size and c.algorithm.upper() == "RSA" and not c.usage:
                op, n = c.key_size
                bits = max(0, n - 1)
                hit = js.key_disabled([c], "RSA", bits)
                assert (hit is not None) == {"<": bits < n, "<=": bits <= n, ">": bits > n, ">=": bits >= n,
                                             "==": bits == n, "!=": bits != n}[op]
        js.name_disabled(constraints, "TLS_RSA_WITH_AES_128_GCM_SHA256",
                         js.suite_components("TLS_RSA_WITH_AES_128_GCM_SHA256"))
        js.certpath_disabled(constraints, "SHA1withRSA", jdk_ca=True)


# Java's Properties.load ends lines at \n and \r only; Python's str.splitlines also at these.
_PY_ONLY_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85"


@BOUNDED
@given(st.from_regex(r"\A[a-z][a-z.]{0,20}\Z"),
       st.text(st.characters(codec="latin-1", exclude_characters="\\\n\r" + _PY_ONLY_BREAKS), max_size=40))
def test_java_security_simple_lines_round_trip(key, value):
    from jnlpdiag.tls.javasecurity import parse_properties

    assume(not value.startswith((" ", "\t", "\f")))
    assert parse_properties(f"{key}={value}") == [(key, value)]


@pytest.mark.parametrize("char", list(_PY_ONLY_BREAKS))
def test_java_security_line_ends_are_javas(char):
    from jnlpdiag.tls.javasecurity import parse_properties

    # Java: one entry "jdk.tls.disabledAlgorithms" = "SSLv3, <char>TLSv1"; a split line loses TLSv1.
    assert parse_properties(f"jdk.tls.disabledAlgorithms=SSLv3,{char}TLSv1") == [
        ("jdk.tls.disabledAlgorithms", f"SSLv3,{char}TLSv1")]


# -- mountinfo, /proc/<pid>/cgroup ---------------------------------------------------------------

path_part = st.text(st.sampled_from("abc xyz\t\\-_.é"), min_size=1, max_size=8)
mount_path = st.lists(path_part, min_size=0, max_size=4).map(lambda parts: "/" + "/".join(parts))


def _escape(path: str) -> str:
    """proc_pid_mountinfo(5): space, tab, newline and backslash as octal escapes."""
    return "".join(f"\\{ord(ch):03o}" if ch in " \t\n\\" else ch for ch in path)


@BOUNDED
@given(st.integers(0, 2**31), st.integers(0, 4095), mount_path, mount_path,
       st.lists(st.sampled_from(["rw", "ro", "noexec", "nosuid", "relatime"]), min_size=1, max_size=4),
       st.lists(st.sampled_from(["shared:1", "master:2", "propagate_from:3", "unbindable"]), max_size=3),
       st.sampled_from(["ext4", "overlay", "tmpfs", "nfs4", "fuse.sshfs"]))
def test_mountinfo_lines_round_trip(mount_id, minor, root, point, options, optional, fstype):
    from jnlpdiag.hostinfo.mountinfo import parse, parse_line

    line = (f"{mount_id} 1 8:{minor} {_escape(root)} {_escape(point)} {','.join(options)} "
            f"{' '.join(optional)}{' ' if optional else ''}- {fstype} /dev/x rw,lowerdir=/a:/b")
    m = parse_line(line)
    assert (m.mount_id, m.minor, m.root, m.mount_point, m.fstype) == (mount_id, minor, root, point, fstype)
    assert list(m.options) == options and list(m.optional) == optional
    assert parse("garbage\n" + line + "\n\n1 2") == [m]


@BOUNDED
@given(text_any)
def test_mountinfo_and_cgroup_any_text(text):
    from jnlpdiag.hostinfo.cgroup import parse_proc_cgroup
    from jnlpdiag.hostinfo.mountinfo import MountinfoError, mount_for, parse, parse_line

    mounts = parse(text)
    mount_for("/home/jenkins/agent", mounts)
    for line in text.splitlines():
        try:
            parse_line(line)
        except MountinfoError:
            pass
    v2, v1 = parse_proc_cgroup(text + "\n0::/kubepods/pod1\n")
    assert v2 == "/kubepods/pod1"


# -- the log-signature matcher ---------------------------------------------------------------------

LOGS = sorted((ROOT / "tests" / "reports" / "logs").glob("*.log"))
log_noise = st.lists(st.one_of(
    text_any.map(lambda t: t.replace("\n", " ")),
    st.sampled_from(["\tat hudson.remoting.Engine.run(Engine.java:1)", "Caused by: java.io.IOException: x",
                     "\t... 12 more", "SEVERE: x", "2024-01-01 10:00:00.000+0000 [id=1] INFO x", "    ", ""]),
), max_size=40)


@BOUNDED
@given(st.sampled_from(LOGS) if LOGS else st.nothing(), log_noise, log_noise)
def test_log_signatures_in_noise(log, before, after):
    """Any text around a real log excerpt: no exception, every line counted, every finding quotes a
    line that exists and carries a fix when it is not a pass."""
    from jnlpdiag.logs import analyze_lines

    lines = [*before, *log.read_text(errors="replace").splitlines(), *after]
    numbered = [("agent.log", n, text) for n, text in enumerate(lines, 1)]
    result = analyze_lines(numbered, ["agent.log"])
    assert result.lines == len(lines)
    for f in result.findings:
        for quote in f.evidence.get("matched", []):
            source, number, _ = quote.split(":", 2)
            assert source == "agent.log" and 1 <= int(number) <= len(lines)
        if f.status.value in ("warn", "fail"):
            assert f.fixes
    json.dumps(result.to_dict())


# -- the pcap analyser and captured streams -------------------------------------------------------


def _ipv4_tcp(src_port: int, dst_port: int, flags: int, payload: bytes) -> bytes:
    """An IPv4 + TCP header around ``payload`` (RFC 791 / RFC 9293 layouts; checksums left 0)."""
    tcp = struct.pack(">HHIIBBHHH", src_port, dst_port, 1000, 2000, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 1, 0, 64, 6, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 2]))
    return ip + tcp + payload


tls_record = st.builds(lambda ctype, ver, body, declared: struct.pack(">BHH", ctype, ver, declared(len(body))) + body,
                       st.sampled_from([20, 21, 22, 23, 99]), st.sampled_from([0x0301, 0x0303, 0x0304, 0xFFFF]),
                       st.binary(max_size=200), st.sampled_from([lambda n: n, lambda n: 0xFFFF, lambda n: n // 2]))
stream_payload = st.one_of(
    st.lists(tls_record, max_size=4).map(b"".join),
    st.sampled_from([b"GET /wsagents/ HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
                     b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x88\x02\x03\xe8",
                     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n",
                     b"\x00\x16Protocol:JNLP4-connect", b"\x00\x03ACK"]),
    st.binary(max_size=300),
)
packet = st.builds(lambda sp, dp, fl, pl: _ipv4_tcp(sp, dp, fl, pl), st.sampled_from([50000, 40000, 443, 8080]),
                   st.sampled_from([50000, 40000, 443, 8080]), st.sampled_from([0x02, 0x12, 0x10, 0x18, 0x04, 0x11]),
                   stream_payload) | st.binary(max_size=60)


def _pcap(packets: list[bytes], linktype: int, lie: int) -> bytes:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    for i, data in enumerate(packets):
        incl = len(data) + (lie if i == 0 else 0)
        out += struct.pack("<IIII", 1700000000 + i, i, max(incl, 0), len(data)) + data
    return out


@BOUNDED
@given(st.lists(packet, max_size=8), st.sampled_from([101, 228, 0, 1, 12, 147]), st.sampled_from([0, 0, 0, -3, 7]))
def test_pcap_analyser_on_built_captures(packets, linktype, lie):
    """Captures whose headers parse, with TCP streams of TLS records, HTTP and JNLP4 bytes inside:
    an analysis whose findings all serialise, or a PcapError."""
    from jnlpdiag.analyze import PcapError, analyze_bytes

    try:
        analysis = analyze_bytes(_pcap(packets, linktype, lie))
    except PcapError as exc:
        assert str(exc)
        return
    for f in analysis.findings:
        json.dumps(f.to_dict())


@BOUNDED
@given(st.lists(packet, max_size=8), st.sampled_from([101, 228, 0, 1, 12, 147]), st.sampled_from([0, 0, 0, -3, 7]),
       st.integers(0, 3))
def test_streaming_capture_reader_with_tight_limits(packets, linktype, lie, cut):
    """The same built captures read as a stream with tiny per-connection limits (every cap path), and
    cut short at any byte: an analysis that serialises, or a PcapError; with no limit reached, the
    same analysis as the whole file read at once."""
    import io

    from jnlpdiag.analyze import PcapError, analyze_bytes, analyze_stream
    from jnlpdiag.analyze.streams import Limits

    blob = _pcap(packets, linktype, lie)
    blob = blob[:len(blob) - cut * 5] if cut else blob
    try:
        tight = analyze_stream(io.BytesIO(blob), limits=Limits(per_direction=32, events=2, total=64, connections=1))
        whole = analyze_stream(io.BytesIO(blob))
        memory = analyze_bytes(blob)
    except PcapError as exc:
        assert str(exc)
        return
    json.dumps(tight.to_dict(), default=str)
    assert whole.to_dict() == memory.to_dict()


@BOUNDED
@given(stream_payload)
def test_captured_stream_parsers(data):
    from jnlpdiag.analyze import httpws, tls

    side = tls.parse(data)
    assert all(isinstance(c, (bytes, bytearray)) for c in side.certificates)
    for requests in (True, False):
        httpws.messages(data, requests=requests)
    offset = httpws.upgrade_offset(data)
    assert offset is None or 0 <= offset <= len(data)
    httpws.ws_frames(data)


# -- saved reports from a stranger (jnlpdiag show) --------------------------------------------------

json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text_any | st.sampled_from(
    ["\x1b[2J\x1b[31mred", "\u202eevil", "pass", "fail", "network", "\x00"])
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.sampled_from(["id", "probe", "layer", "status", "title", "detail", "evidence", "fixes", "steps", "x"]),
    inner, max_size=6), max_leaves=25)
finding_like = st.fixed_dictionaries({"id": text_any, "probe": text_any, "layer": st.sampled_from(["network", "host", "x"]),
                                      "status": st.sampled_from(["pass", "warn", "fail", "skip", "error", "bogus"]),
                                      "title": text_any},
                                     optional={"detail": json_value, "evidence": json_value, "caused_by": json_value,
                                               "fixes": st.lists(st.fixed_dictionaries(
                                                   {"title": text_any, "steps": st.lists(text_any, max_size=3)}),
                                                   max_size=2)})
report_like = st.fixed_dictionaries({"schema": st.just("jnlpdiag.report/1"),
                                     "findings": st.lists(finding_like, max_size=5)},
                                    optional={"settings": json_value, "host": json_value, "tool": json_value,
                                              "probes": json_value, "started_at": json_value, "duration_ms": json_value})


@BOUNDED
@given(st.one_of(report_like.map(lambda d: json.dumps(d).encode()), st.binary(max_size=500),
                 st.sampled_from([b"[" * 100000, b"\xef\xbb\xbf{}", b'{"schema": "jnlpdiag.report/1"}'])))
def test_saved_report_files(tmp_path_factory, raw):
    """`jnlpdiag show FILE`: a report or one ReportFileError line; what is shown carries no terminal
    control sequence, whatever the file held."""
    from jnlpdiag.output import renderers
    from jnlpdiag.redact import Redactor
    from jnlpdiag.tui.loading import ReportFileError, load_report
    from jnlpdiag.tui.state import sanitized_report

    path = tmp_path_factory.mktemp("report") / "report.json"
    path.write_bytes(raw)
    try:
        report, _ = load_report(path)
    except ReportFileError as exc:
        assert str(exc)
        return
    text = renderers()["text"](sanitized_report(report, Redactor([])))
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text), repr(text)


def test_saved_report_error_is_one_safe_line(tmp_path):
    from jnlpdiag.tui.loading import ReportFileError, load_report

    path = tmp_path / "report.json"
    path.write_text(json.dumps({"schema": "jnlpdiag.report/1", "findings": [
        {"id": "x\n\x1b[2J\x1b[31mOWNED", "probe": "p", "layer": "network", "status": "warn", "title": "t"}]}))
    with pytest.raises(ReportFileError) as err:
        load_report(path)
    assert not re.search(r"[\x00-\x1f\x7f]", str(err.value)), repr(str(err.value))


# -- agent.jar, ELF, key stores ----------------------------------------------------------------------

manifest_text = st.lists(st.one_of(
    st.sampled_from(["Manifest-Version: 1.0", "Main-Class: hudson.remoting.jnlp.Main", "Version: 3107.v665000b_51092",
                     " continued", ":", "Version:", ""]), text_any.map(lambda t: t.replace("\n", ""))), max_size=8
).map("\r\n".join)


@st.composite
def jars(draw):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))) as z:
        if draw(st.booleans()):
            z.writestr("META-INF/MANIFEST.MF", draw(manifest_text))
        if draw(st.booleans()):
            z.writestr("hudson/remoting/Launcher.class",
                       b"\xca\xfe\xba\xbe" + draw(st.binary(min_size=0, max_size=8)))
        if draw(st.booleans()):
            z.writestr("hudson/remoting/hudson-version.properties", draw(text_any))
    data = buf.getvalue()
    return data[: draw(st.integers(len(data) // 2, len(data)))]


@BOUNDED
@given(jars() | st.binary(max_size=300))
def test_agent_jar_metadata(data):
    """A downloaded agent.jar (or a login page, a truncated zip): errors are data, never raised."""
    from jnlpdiag.compat.jar import agent_jar_info

    info = agent_jar_info(data)
    assert info.error is None or isinstance(info.error, str)
    assert info.java is None or info.java >= 1


def _zip_with_bad_local_name() -> bytes:
    """A zip whose entry is flagged UTF-8 (general purpose bit 11) and whose local header name is not
    UTF-8 (APPNOTE.TXT 4.3.7 and 4.4.4): found by the jar_metadata fuzz target."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nVersion: 1\r\n\r\n")
    data = bytearray(buf.getvalue())
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    struct.pack_into("<H", data, local + 6, struct.unpack_from("<H", data, local + 6)[0] | 0x800)
    struct.pack_into("<H", data, central + 8, struct.unpack_from("<H", data, central + 8)[0] | 0x800)
    data[local + 30] = 0x96
    return bytes(data)


# A zip whose central directory points the first entry before the start of the file (found by the
# jar_metadata fuzz target, 252 bytes).
_ZIP_NEGATIVE_OFFSET = (
    "UEsDBBQAAAAAAK6CeV0N1ZYBXgAAAF4AAAAUAAAATUVUQS1JTkYvTUFOSUZFU1QuTQBodWRzb24vcmVtb3RpbmcvTGF1bmNoZXIuY2xhc3PK"
    "/rq+AAAANFBLAQIUAxQAAAAAAK6CeV0N1ZYBXgAAAF4AAAAUAAAAAAAAAAAAAACAAQAAAABNRVRBLUlORi9NQU5JRkVTVC5NRlBLAQIUAxQA"
    "AAAAAK6CeV3BtxePCAAAAAgAAAAeAAAAAAAAAAAAAACAAZAAAABodWRzb24vcmVtb3Rpbm8vTGF1bmNoZXIuY2xhc3NQSwUGAAAAAAIAAgCO"
    "AAAA1AAAAAAA")


# Found by the jar_metadata atheris target: a zip whose central directory claims "version 14.8"
# (zipfile raises NotImplementedError while opening it).
_ZIP_FUTURE_VERSION = (
    "UEsDBBQAAAAAAECGeV0N1ZYBXgAAAF4AAAAUAAAATUVUQS1JTkYvTUFOSUZFU1QuTUZNYW5pZmVzdC1WZXJzaW9uOiAxLjANCk1h"
    "aW4tQ2xhc3M6IGh1ZHNvbi5yZW1vdGluZy5qbmxwLk1haW4NClZlcnNpb246IDMxMDcudjY2NTAwMGJfNTEwOTINCg0KUEsDBBQA"
    "AAAAAECGeV3BtxePCAAAAAgAAAAeAAAAaHVkc29uL3J0b21laW5nL0xhdW5jaGVyLmNsYXNzyv66vgAAADRQSwECFAOUAAAAAABA"
    "hnldDdWWAV4AAABeAAAAFAAAAAAAAAAAAAAAggEAAAAAAABUQS1JTkYvTUFOSUZFU1QuTUZQSwECFAMUAAAAAABAhnldwbcXjwgA"
    "AAAIAAAAHgAAAAAAAAAAAAAAgAGQAAAAaHVkc29uL3JlbW90aW5nL0xhdW5jaGVyLmNsYXNzUEsFBgAAAAACAAIAjgAAANQAAAAA"
    "AA=="
)


@pytest.mark.parametrize("make", [_zip_with_bad_local_name, lambda: base64.b64decode(_ZIP_NEGATIVE_OFFSET),
                                  lambda: base64.b64decode(_ZIP_FUTURE_VERSION)],
                         ids=["non-utf8-name", "negative-offset", "future-zip-version"])
def test_agent_jar_with_a_corrupt_zip_is_an_error_not_a_crash(make):
    from jnlpdiag.compat.jar import agent_jar_info

    assert agent_jar_info(make()).error


# -- what the agent port sends back (JNLP4) -----------------------------------------------------------


@BOUNDED
@given(st.dictionaries(text_any, st.none() | text_any, max_size=5))
def test_jnlp4_headers_round_trip(headers):
    """ConnectionHeaders.toString / fromString: what we write, we read back."""
    from jnlpdiag.jnlp4.headers import from_string, to_string

    assert from_string(to_string(headers)) == headers


@BOUNDED
@given(text_any | st.sampled_from(['{"a":"\\u12', '{"a":null,}', '{"a" "b"}', '{}x', "{" * 500]))
def test_jnlp4_headers_any_text(text):
    from jnlpdiag.jnlp4.headers import ParseError, Verdict, from_string

    verdict = Verdict.parse(text)
    assert verdict.accepted == (verdict.kind in ("OK", "UNKNOWN"))
    try:
        from_string(text)
    except ParseError as exc:
        assert str(exc)


@BOUNDED
@given(text_any.filter(lambda t: len(t.encode()) <= 65535), st.binary(max_size=20))
def test_jnlp4_frames(text, rest):
    from jnlpdiag.jnlp4.framing import FrameError, unwrap_utf8, wrap_utf8

    assert unwrap_utf8(wrap_utf8(text) + rest) == (text, rest)
    try:
        unwrap_utf8(rest)
    except FrameError:
        pass


@BOUNDED
@given(st.binary(max_size=200))
def test_agent_port_answers(data):
    from jnlpdiag.jnlp4 import ack, preamble

    ack.check(data)
    assert isinstance(ack.incorrect_message(data), str)
    assert all(isinstance(x, str) for x in ack.describe_peer(data))
    refusal = preamble.listener_refusal(data)
    assert refusal is None or isinstance(refusal, str)


@BOUNDED
@given(st.lists(st.sampled_from(["java", "-jar", "agent.jar", "-cp", "-url", "-secret", "@/x", "-jnlpUrl",
                                 "hudson.remoting.jnlp.Main", "-Dx=y", "--", ""]) | text_any, max_size=12))
def test_agent_command_lines(argv):
    from jnlpdiag.settings.process import split_agent_cmdline

    split = split_agent_cmdline(argv)
    assert split is None or isinstance(split[0], list)


@pytest.mark.parametrize("value", ["", "AAAA", "MIIB" + "A" * 300, "not base64!", "MA=="])
def test_instance_identity_values(value):
    from jnlpdiag.jnlp4.identity import IdentityError, decode

    with pytest.raises(IdentityError):
        decode(value)
