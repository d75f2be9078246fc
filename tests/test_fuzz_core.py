"""Property tests (hypothesis, bounded) for the core parsers that read outside input.

Each parser must either return a value or raise its own documented error — never anything else —
and must finish quickly on any input. The longer-running atheris harnesses live under fuzz/.
"""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jnlpdiag.probes.discovery import parse_identity
from jnlpdiag.probes.tcp import describe_answer, parse_hello

from jnlpdiag.hostport import split_host_port
from jnlpdiag.httpclient import HttpError, parse_head
from jnlpdiag.proxyroute import should_proxy
from jnlpdiag.run_report import Report
from jnlpdiag.settings.agentargs import parse_agent_args
from jnlpdiag.settings.jnlpfile import JnlpFileError, parse_jnlp_bytes
from jnlpdiag.targets import TargetsError, parse_targets

BOUNDED = settings(max_examples=300, deadline=1000, suppress_health_check=[HealthCheck.too_slow])

xml_like = st.one_of(
    st.binary(max_size=2048),
    st.builds(lambda args: ("<jnlp><application-desc>" + "".join(f"<argument>{a}</argument>" for a in args)
                            + "</application-desc></jnlp>").encode("utf-8", "surrogatepass"),
              st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="<&"),
                               max_size=40), max_size=8)),
    st.sampled_from([b'<!DOCTYPE x [<!ENTITY a "b">]><jnlp/>', b"<jnlp>", b"\xef\xbb\xbf<jnlp/>", b""]),
)


@BOUNDED
@given(xml_like)
def test_jnlp_reader(data):
    try:
        args = parse_jnlp_bytes(data)
    except JnlpFileError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert isinstance(args, list) and all(isinstance(a, str) for a in args)


@BOUNDED
@given(st.binary(max_size=4096))
def test_http_response_head(data):
    try:
        version, status, reason, headers = parse_head(data)
    except HttpError as exc:
        assert exc.kind == "protocol"
    else:
        assert 0 <= status <= 999 and version.startswith("HTTP/")


TOKEN = "f00dfacecafe0123456789abcdef0123"


@BOUNDED
@given(st.lists(st.text(max_size=30).filter(lambda a: TOKEN not in a), max_size=10),
       st.lists(st.text(max_size=30).filter(lambda a: TOKEN not in a), max_size=10))
def test_agent_args_never_keep_the_secret(before, after):
    argv = [*before, "-secret", TOKEN, *after]
    parsed = parse_agent_args(argv)
    assert TOKEN not in parsed.redacted_argv
    assert TOKEN in parsed.secrets


@BOUNDED
@given(st.text(max_size=100))
def test_host_port(value):
    try:
        host, port = split_host_port(value)
    except ValueError:
        return
    assert port is None or 0 < port < 65536


@BOUNDED
@given(st.binary(max_size=2048))
def test_listener_answer(data):
    hello = parse_hello(data)
    assert hello is None or isinstance(hello, dict)
    assert isinstance(describe_answer(data), str)


@BOUNDED
@given(st.text(max_size=200))
def test_instance_identity(value):
    result = parse_identity(value)
    assert isinstance(result, (str, tuple))


@BOUNDED
@given(st.text(max_size=60), st.one_of(st.none(), st.text(max_size=80)))
def test_no_proxy(host, spec):
    assert isinstance(should_proxy(host, spec), bool)


@BOUNDED
@given(st.text(max_size=2000))
def test_targets_file(text):
    try:
        targets = parse_targets(text)
    except TargetsError:
        return
    assert targets


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                           max_leaves=20)


@BOUNDED
@given(st.dictionaries(st.sampled_from(["schema", "findings", "settings", "started_at", "duration_ms", "host", "tool"]),
                       json_values, max_size=7))
def test_saved_report_loading(data):
    if "schema" in data and data["schema"] is None:
        data["schema"] = "jnlpdiag.report/1"
    try:
        report = Report.from_dict(data)
    except ValueError as exc:
        assert str(exc)  # the `show` command prints this one line and exits 3
    else:
        assert isinstance(report.findings, list)


def test_event_loop_is_clean_after_fuzzing():
    asyncio.run(asyncio.sleep(0))
