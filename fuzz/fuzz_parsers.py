"""atheris harnesses for every parser that reads outside input.

    python fuzz/fuzz_parsers.py TARGET [libFuzzer options, e.g. -runs=100000 -max_len=65536] [CORPUS_DIR...]
    python fuzz/fuzz_parsers.py --list
    python fuzz/fuzz_parsers.py --seeds TARGET DIR   # write the target's seed inputs into DIR

Seeds are valid inputs (real captures, reports, headers ...) for parsers whose magic numbers or
prefixes random bytes never reach. Give libFuzzer an output directory first and the seeds second, so
new inputs go to the first: ``--seeds pcap /tmp/seeds && fuzz_parsers.py pcap /tmp/out /tmp/seeds``.

A harness fails only on an exception its parser does not document (each target lists the ones it
may raise as a clean, user-facing error). CI runs every target for a bounded number of inputs
(tests/test_fuzz_harness.py); longer runs are for humans.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _jnlp(data: bytes) -> None:
    from jnlpdiag.settings.jnlpfile import JnlpFileError, parse_jnlp_bytes

    try:
        parse_jnlp_bytes(data)
    except JnlpFileError:
        pass


def _http_head(data: bytes) -> None:
    from jnlpdiag.httpclient import HttpError, parse_head

    try:
        parse_head(data)
    except HttpError:
        pass


def _agent_args(data: bytes) -> None:
    from jnlpdiag.settings.agentargs import parse_agent_args

    parse_agent_args(data.decode("utf-8", "replace").split("\0"))


def _targets(data: bytes) -> None:
    from jnlpdiag.targets import TargetsError, parse_targets

    try:
        parse_targets(data.decode("utf-8", "replace"))
    except TargetsError:
        pass


def _report(data: bytes) -> None:
    from jnlpdiag.run_report import Report

    try:
        doc: Any = json.loads(data.decode("utf-8", "replace"))
    except ValueError:
        return
    try:
        Report.from_dict(doc)
    except ValueError:
        pass


def _listener_answer(data: bytes) -> None:
    from jnlpdiag.probes.tcp import describe_answer, parse_hello

    parse_hello(data)
    describe_answer(data)


def _identity(data: bytes) -> None:
    from jnlpdiag.probes.discovery import parse_identity

    parse_identity(data.decode("latin-1"))


def _optional(module: str, attr: str, ok: tuple[str, ...] = (),
              convert: Callable[[bytes], Any] | None = None) -> Callable[[bytes], None]:
    """A target in a module of a later feature; ``ok`` names exception classes that are clean errors.

    ``convert`` turns the fuzzer's bytes into the parser's one argument (text, lines, ...).
    """

    def run(data: bytes) -> None:
        fn = getattr(importlib.import_module(module), attr)
        try:
            fn(convert(data) if convert else data)
        except Exception as exc:
            if type(exc).__name__ not in ok:
                raise

    return run


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")  # what argv and os.fsdecode produce from bad UTF-8


# -- adapters for parsers whose input is not a single bytes value (imports inside: see _optional) --


def _versions(text: str) -> None:
    from jnlpdiag import versions as v

    number = v.VersionNumber(text)
    assert number.compare(number) == 0
    for parse in (v.parse_jenkins, v.parse_remoting, v.parse_kubernetes_plugin, v.parse_image, v.parse_agent_tag,
                  v.parse_java_version):
        try:
            parse(text)
        except v.VersionError:
            pass


def _java_security(text: str) -> None:
    """java.security / -Djava.security.properties content: properties, then every value as constraints."""
    from jnlpdiag.tls import javasecurity as js

    props = dict(js.parse_properties(text))
    for value in list(props.values())[:50]:
        constraints = js.parse_constraints(value, props)
        js.key_disabled(constraints, "RSA", 1024)
        js.name_disabled(constraints, "TLS_RSA_WITH_AES_128_CBC_SHA", js.suite_components("TLS_RSA_WITH_AES_128_CBC_SHA"))
        js.certpath_disabled(constraints, "SHA1withRSA", jdk_ca=True)
    first = text.split("\n", 1)[0][:200]
    js.suite_components(first)
    js.signature_components(first)


def _mountinfo(text: str) -> None:
    from jnlpdiag.hostinfo import mountinfo

    mounts = mountinfo.parse(text)
    for line in text.splitlines()[:20]:
        try:
            mountinfo.parse_line(line)
        except mountinfo.MountinfoError:
            pass
    mountinfo.mount_for("/tmp/x", mounts)


def _log_lines(data: bytes) -> list[tuple[str, int, str]]:
    # as `jnlpdiag logs` reads a file: binary lines, decoded with replacement
    return [("agent.log", n, raw.decode("utf-8", "replace")) for n, raw in enumerate(data.splitlines(True), 1)]


def _log_signatures(data: bytes) -> None:
    from jnlpdiag.logs import analyze_lines

    analyze_lines(_log_lines(data), ["agent.log"]).to_dict()


def _log_reader(data: bytes) -> None:
    """`jnlpdiag logs FILE`: the reader (gzip, binary refusal, blocks of whole lines) and the block
    scanner with its needle prefilter, on arbitrary bytes fed as standard input."""
    import io

    from jnlpdiag.logs import Scanner
    from jnlpdiag.logs.reader import LogInputError, Truncated, blocks

    scanner = Scanner(["<stdin>"])
    number = 1
    try:
        for block in blocks("-", io.BytesIO(data)):
            number += scanner.block("<stdin>", block, number)
    except (LogInputError, Truncated):
        pass
    result = scanner.finish()
    if result.lines != number - 1:
        raise AssertionError(f"counted {result.lines} lines, read {number - 1}")
    result.to_dict()


def _saved_report_file(data: bytes) -> None:
    """``jnlpdiag show FILE``: load, validate, sanitize and render a report file from a stranger."""
    import os
    import tempfile

    from jnlpdiag.output import renderers
    from jnlpdiag.redact import Redactor
    from jnlpdiag.tui.loading import ReportFileError, load_report
    from jnlpdiag.tui.state import sanitized_report

    fd, path = tempfile.mkstemp(suffix=".json", prefix="jnlpdiag-fuzz-")
    try:
        os.write(fd, data)
        os.close(fd)
        try:
            report, _ = load_report(path)
        except ReportFileError:
            return
        renderers()["text"](sanitized_report(report, Redactor([])))
    finally:
        os.unlink(path)


def _jnlp4_headers(text: str) -> None:
    from jnlpdiag.jnlp4.headers import ParseError, Verdict, from_string, to_string

    Verdict.parse(text)
    try:
        headers = from_string(text)
    except ParseError:
        return
    assert from_string(to_string(headers)) == headers  # what we read, we write back the same


def _jnlp4_stream(data: bytes) -> None:
    """Bytes from the agent port: ACK check, refusal texts, the 2-byte-length UTF frames."""
    from jnlpdiag.jnlp4 import ack, framing, preamble

    ack.check(data)
    ack.incorrect_message(data)
    ack.describe_peer(data)
    preamble.listener_refusal(data)
    try:
        framing.unwrap_utf8(data)
    except framing.FrameError:
        pass


def _jnlp4_identity(data: bytes) -> None:
    from jnlpdiag.jnlp4 import identity

    try:
        identity.decode(data.decode("latin-1"))
    except identity.IdentityError:
        pass
    try:
        identity.spki_of_certificate(data)
        identity.subject_of_certificate(data)
    except ValueError:
        pass


def _jar_metadata(data: bytes) -> None:
    """agent.jar downloaded from the controller (or a login page in its place), and its manifest."""
    from jnlpdiag.compat.jar import parse_manifest, agent_jar_info
    from jnlpdiag.hostinfo import jar

    agent_jar_info(data)
    parse_manifest(data)
    jar.parse_properties(data.decode("utf-8", "replace"))
    try:
        jar.class_version(data)
    except jar.JarError:
        pass


def _keystore(data: bytes) -> None:
    """javax.net.ssl.trustStore / keyStore files: JKS, JCEKS, PKCS12 (errors are data, not raised)."""
    import os
    import tempfile

    from jnlpdiag.tls.truststore import read_keystore

    fd, path = tempfile.mkstemp(suffix=".jks", prefix="jnlpdiag-fuzz-")
    try:
        os.write(fd, data)
        os.close(fd)
        read_keystore(path, "changeit")
    finally:
        os.unlink(path)


def _captured_streams(data: bytes) -> None:
    """One direction of a captured TCP stream: TLS records, HTTP messages, WebSocket frames."""
    from jnlpdiag.analyze import httpws, tls

    tls.parse(data)
    httpws.messages(data, requests=True)
    httpws.messages(data, requests=False)
    httpws.upgrade_offset(data)
    httpws.ws_frames(data)


def _pcap_stream(data: bytes) -> None:
    """The streaming capture reader with tiny per-connection limits, so every cap path is taken."""
    import io

    from jnlpdiag.analyze import PcapError, analyze_stream
    from jnlpdiag.analyze.streams import Limits

    try:
        analysis = analyze_stream(io.BytesIO(data), limits=Limits(per_direction=64, events=4, total=256,
                                                                  connections=3))
    except PcapError:
        return
    json.dumps(analysis.to_dict(), default=str)


def _agent_cmdline(data: bytes) -> None:
    from jnlpdiag.settings.process import split_agent_cmdline

    split_agent_cmdline(data.decode("utf-8", "surrogateescape").split("\0"))


TARGETS: dict[str, Callable[[bytes], None]] = {
    "jnlp": _jnlp,
    "http_head": _http_head,
    "agent_args": _agent_args,
    "targets": _targets,
    "report": _report,
    "listener_answer": _listener_answer,
    "identity": _identity,
    # The later features' parsers of outside input (imported lazily, as every target does).
    "versions": lambda data: _versions(_text(data)),
    "java_security": lambda data: _java_security(data.decode("latin-1")),  # Properties files are ISO 8859-1
    "mountinfo": lambda data: _mountinfo(_text(data)),
    "proc_cgroup": _optional("jnlpdiag.hostinfo.cgroup", "parse_proc_cgroup", convert=_text),
    "log_signatures": _log_signatures,
    "log_reader": _log_reader,
    "pcap": _optional("jnlpdiag.analyze", "analyze_bytes", ok=("PcapError",)),
    "pcap_stream": _pcap_stream,
    "captured_streams": _captured_streams,
    "saved_report_file": _saved_report_file,
    "elf": _optional("jnlpdiag.hostinfo.elf", "analyze", ok=("ElfError",)),
    "jar_metadata": _jar_metadata,
    "keystore": _keystore,
    # The transport layer's parsers of what the agent port sends back.
    "jnlp4_headers": lambda data: _jnlp4_headers(_text(data)),
    "jnlp4_stream": _jnlp4_stream,
    "jnlp4_identity": _jnlp4_identity,
    "agent_cmdline": _agent_cmdline,
}


_ROOT = Path(__file__).resolve().parent.parent


def _files(pattern: str, limit: int = 4096) -> list[bytes]:
    return [p.read_bytes()[:limit] for p in sorted(_ROOT.glob(pattern))]


def _report_seed() -> bytes:
    finding = {"id": "discovery", "probe": "discovery", "layer": "network", "status": "fail", "title": "Cannot reach",
               "detail": "d", "evidence": {"error_class": "timeout"},
               "fixes": [{"title": "t", "steps": ["curl -sI URL"], "docs": []}], "caused_by": None, "duration_ms": 1.0}
    return json.dumps({"schema": "jnlpdiag.report/1", "tool": {"name": "jnlpdiag"}, "host": {}, "settings": {},
                       "findings": [finding], "probes": [], "started_at": "2025-01-01T00:00:00+00:00",
                       "duration_ms": 1.0}).encode()


def seeds(target: str) -> list[bytes]:
    """Valid inputs to start ``target`` from (empty when random bytes do as well)."""
    jnlp = (b"<jnlp><application-desc><argument>0123abcd</argument><argument>agent-1</argument>"
            b"<argument>-workDir</argument><argument>/home/jenkins</argument></application-desc></jnlp>")
    table: dict[str, Callable[[], list[bytes]]] = {
        "jnlp": lambda: [jnlp],
        "http_head": lambda: [b"HTTP/1.1 200 OK\r\nX-Jenkins: 2.479.3\r\nX-Jenkins-JNLP-Port: 50000\r\n"
                              b"Content-Length: 2\r\n\r\n"],
        "agent_args": lambda: [b"-url\0http://j/\0-secret\0abc\0-name\0a\0-webSocket\0-tunnel\0h:1"],
        "targets": lambda: [b"http://j1/ agent-1\n{\"url\": \"http://j2/\", \"name\": \"b\"}\n# c\n"],
        "report": _report_seed_list,
        "saved_report_file": _report_seed_list,
        "listener_answer": lambda: [b"HTTP/1.0 200 OK\r\n\r\nJenkins-Agent-Protocols: JNLP4-connect, Ping\r\n"
                                    b"Jenkins-Version: 2.479.3\r\nClient: 10.0.0.1\r\nServer: 10.0.0.2\r\n"],
        "versions": lambda: [b"2.479.3", b"3107.v665000b_51092", b"3206.3208.v409508a_675ff", b"4.13.3",
                             b"jenkins/inbound-agent:3283.v92c105e0f819-1-jdk21", b'openjdk version "17.0.9" 2023-10-17'],
        "java_security": lambda: _files("tests/**/java.security") or [
            b"jdk.tls.disabledAlgorithms=SSLv3, TLSv1, TLSv1.1, RC4, DES, MD5withRSA, \\\n    DH keySize < 1024, "
            b"EC keySize < 224, 3DES_EDE_CBC, anon, NULL, include jdk.disabled.namedCurves\n"
            b"jdk.certpath.disabledAlgorithms=MD2, MD5, SHA1 jdkCA & usage TLSServer, RSA keySize < 1024\n"],
        "mountinfo": lambda: [b"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n"
                              b"52 36 0:45 / /tmp\\040dir rw,nosuid,nodev,noexec - tmpfs tmpfs rw\n"],
        "proc_cgroup": lambda: [b"0::/kubepods/burstable/pod1/abc\n", b"4:memory:/docker/abc\n2:cpu,cpuacct:/x\n"],
        "log_signatures": lambda: _files("tests/reports/logs/*.log"),
        "log_reader": _log_reader_seeds,
        "pcap": lambda: _files("captures/*.pcap"),
        "pcap_stream": lambda: _files("captures/*.pcap"),
        "captured_streams": lambda: [b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00",
                                     b"GET /wsagents/ HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"],
        "elf": lambda: [p.read_bytes()[:4096] for p in (Path("/usr/lib/x86_64-linux-gnu/libdl.so.2"),) if p.exists()],
        "keystore": lambda: [b"\xfe\xed\xfe\xed\x00\x00\x00\x02\x00\x00\x00\x00" + b"\x00" * 20],
        "jnlp4_headers": lambda: [b'{"Node-Name":"agent-1","Secret-Key":null,"JnlpAgentProtocol.cookie":"ab\\u0041"}',
                                  b"ERROR: Unknown client name: x"],
        "jnlp4_stream": lambda: [b"\x00\x03ACK", b"\x00\x02OK", b"Unknown protocol:\n"],
        "jar_metadata": _jar_seed,
        "identity": _identity_seeds,
        "jnlp4_identity": _identity_seeds,
        "agent_cmdline": lambda: [b"java\0-jar\0agent.jar\0-url\0http://j/\0-secret\0@/s\0-name\0a"],
    }
    return table.get(target, lambda: [])()


def _log_reader_seeds() -> list[bytes]:
    import gzip

    logs = _files("tests/reports/logs/*.log")
    return [*logs, *(gzip.compress(log) for log in logs[:3]), b"\0" * 64 + (logs[0] if logs else b"x\n")]


def _report_seed_list() -> list[bytes]:
    return [_report_seed()]


def _jar_seed() -> list[bytes]:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nMain-Class: hudson.remoting.jnlp.Main\r\n"
                                           "Version: 3107.v665000b_51092\r\n\r\n")
        z.writestr("hudson/remoting/Launcher.class", b"\xca\xfe\xba\xbe\x00\x00\x00\x34")
    return [buf.getvalue()]


def _identity_seeds() -> list[bytes]:
    """An instance identity (base64 SPKI of an RSA key) and a self-signed certificate (DER) like the
    instance-identity plugin's (made once for these seeds, so every run starts the same)."""
    import base64

    spki = (b"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC1lOf0gCnVxdkyz+XhsocOKkpXzgS6iTuErazCkRMOLugV6UT4O/WQdZo/Qo1rTZIRD"
            b"fnBT1rpOHGr4LwkKOU/YzivDu1lGCVEvQx+Xh9RAAI25V9nvQe2rFBTltLqHyJ5D6mq17HtqzIA+RMDi4t89VfRjMm/TsmwxsuB5Xm6VwIDAQAB")
    cert = (b"MIIBxDCCAS2gAwIBAgIBATANBgkqhkiG9w0BAQsFADAoMREwDwYDVQQDDAgwMTIzYWJjZDETMBEGA1UECwwKamVua2lucy5pbzAeFw0y"
            b"NTAxMDEwMDAwMDBaFw0yNjAxMDIwMDAwMDBaMCgxETAPBgNVBAMMCDAxMjNhYmNkMRMwEQYDVQQLDApqZW5raW5zLmlvMIGfMA0GCSqG"
            b"SIb3DQEBAQUAA4GNADCBiQKBgQC1lOf0gCnVxdkyz+XhsocOKkpXzgS6iTuErazCkRMOLugV6UT4O/WQdZo/Qo1rTZIRDfnBT1rpOHGr"
            b"4LwkKOU/YzivDu1lGCVEvQx+Xh9RAAI25V9nvQe2rFBTltLqHyJ5D6mq17HtqzIA+RMDi4t89VfRjMm/TsmwxsuB5Xm6VwIDAQABMA0G"
            b"CSqGSIb3DQEBCwUAA4GBAKFweklcQ8yDDNkW4hv5c3NMs8mfsByV89dl6rI60qUwkAWy5218RCVvehfeMhbjFQiIrRDhc/NSHZmJ6Fj3"
            b"CrM02lA9XPhQkA0MiZyXHa+cn8VWE4u0Km0zMoguqKlogE9QHcD8sfFqS80KOFuObw/YMmoWYhxx526ZWsAnL7Gc")
    return [spki, base64.b64decode(cert)]


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] == "--list":
        print("\n".join(sorted(TARGETS)))
        return 0
    if argv[1] == "--seeds":
        out = Path(argv[3])
        out.mkdir(parents=True, exist_ok=True)
        for i, seed in enumerate(seeds(argv[2])):
            (out / f"seed-{i}").write_bytes(seed)
        return 0
    import atheris

    target = TARGETS[argv[1]]
    with atheris.instrument_imports():
        target(b"")  # import the parser's modules under instrumentation
    atheris.Setup([argv[0], *argv[2:]], target)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
