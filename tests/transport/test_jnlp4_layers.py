"""The JNLP4 layers byte for byte against the values the remoting sources produce (research §2)."""

from __future__ import annotations

import base64
import shutil
import subprocess
import textwrap

import pytest

from jnlpdiag.jnlp4 import ack, framing, headers, identity, preamble
from jnlpdiag.wsagent import capability


def test_wrap_utf8_matches_writeutf():
    assert framing.wrap_utf8("Protocol:JNLP4-connect").hex() == "0016" + b"Protocol:JNLP4-connect".hex()
    assert preamble.preamble("Ping").hex() == "000d50726f746f636f6c3a50696e67"
    assert ack.ACK.hex() == "000341434b"
    assert headers.BYE.hex() == "0003425945"
    assert framing.wrap_utf8("OK").hex() == "00024f4b"
    assert framing.unwrap_utf8(b"\x00\x02OK\x00") == ("OK", b"\x00")
    assert framing.unwrap_utf8(b"\x00\x05OK") is None
    with pytest.raises(framing.FrameError):
        framing.wrap_utf8("x" * 65536)


def test_ack_checks_each_byte_as_it_arrives():
    assert ack.check(b"") is ack.AckState.INCOMPLETE
    assert ack.check(b"\x00\x03A") is ack.AckState.INCOMPLETE
    assert ack.check(b"\x00\x03ACK") is ack.AckState.OK
    assert ack.check(b"HTTP/") is ack.AckState.INCORRECT
    assert ack.incorrect_message(b"HTTP/1.1") == \
        "Incorrect acknowledgement received, expected 0x000341434b got 0x485454502f"


@pytest.mark.parametrize("data,kind", [
    (b"HTTP/1.1 400 Bad Request\r\n", "http"), (b"\x15\x03\x03\x00\x02", "tls"), (b"SSH-2.0-OpenSSH", "ssh"),
    (b"Unknown protocol:\n", "listener_refusal"), (b"Unrecognized protocol: x", "listener_refusal"),
    (b"", "closed"), (b"\x01\x02\x03\x04\x05", "unknown"),
])
def test_describe_peer(data, kind):
    assert ack.describe_peer(data)[0] == kind


def test_headers_round_trip_and_escapes_like_connection_headers():
    text = headers.to_string({"Node-Name": 'a"b\\c\n\x01', "Secret-Key": None})
    assert text == '{"Node-Name":"a\\"b\\\\c\\n\\u0001","Secret-Key":null}'
    assert headers.from_string(text) == {"Node-Name": 'a"b\\c\n\x01', "Secret-Key": None}
    assert headers.from_string(' { "a" : "b" , "c":"d" } ') == {"a": "b", "c": "d"}
    assert headers.from_string("{}") == {}


@pytest.mark.parametrize("bad,message", [
    ("[", "Expecting '{'"), ('{"a" "b"}', "Expecting ':'"), ('{"a":1}', "Expecting '\"' or 'null'"),
    ('{"a":"b"} x', "Non-whitespace after '}'"), ('{"a":"\\q"}', "Unknown character escape"),
    ('{"a":"\\u12"}', "Malformed unicode escape"),
])
def test_headers_parse_errors(bad, message):
    with pytest.raises(headers.ParseError, match=message):
        headers.from_string(bad)


def test_verdicts():
    assert headers.Verdict.parse("OK").accepted
    v = headers.Verdict.parse("ERROR: Authorization failure")
    assert (v.accepted, v.kind, v.reason) == (False, "ERROR", "Authorization failure")
    assert headers.Verdict.parse("FATAL: gone").kind == "FATAL"


def test_identity_fingerprint_and_decode():
    from tests.transport.jnlp4_controller import Identity

    ident = Identity.generate(b"k")
    der = identity.decode(ident.b64)
    assert der == ident.spki_der
    assert identity.fingerprint(der) == ident.fingerprint
    cert_der = __import__("ssl").PEM_cert_to_DER_cert(ident.cert_pem.decode())
    assert identity.matches(identity.spki_of_certificate(cert_der), der)
    assert "OU=jenkins.io,O=instances,C=US" in identity.subject_of_certificate(cert_der)
    for bad in ("%%%", base64.b64encode(b"not a key").decode()):
        with pytest.raises(identity.IdentityError):
            identity.decode(bad)


def test_capability_header_is_what_java_serialization_writes(tmp_path):
    """Serialize hudson.remoting.Capability(mask) with the real JDK and compare the bytes."""
    javac = shutil.which("javac") or "/usr/lib/jvm/java-17-openjdk-amd64/bin/javac"
    java = shutil.which("java") or "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
    if not shutil.which(javac):
        pytest.skip("no JDK (javac) on this machine")
    pkg = tmp_path / "hudson" / "remoting"
    pkg.mkdir(parents=True)
    # Same shape as remoting's class: Serializable, serialVersionUID 1L, one field `long mask`.
    (pkg / "Capability.java").write_text(textwrap.dedent("""
        package hudson.remoting;
        public final class Capability implements java.io.Serializable {
            private static final long serialVersionUID = 1L;
            private final long mask;
            public Capability(long mask) { this.mask = mask; }
            public long mask() { return mask; }
        }"""))
    (tmp_path / "Main.java").write_text(textwrap.dedent("""
        public class Main { public static void main(String[] a) throws Exception {
          var bo = new java.io.ByteArrayOutputStream();
          try (var oos = new java.io.ObjectOutputStream(bo)) { oos.writeObject(new hudson.remoting.Capability(510L)); }
          System.out.println(java.util.Base64.getEncoder().encodeToString(bo.toByteArray()));
          var raw = java.util.Base64.getDecoder().decode(a[0]);
          var in = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(raw));
          System.out.println(((hudson.remoting.Capability) in.readObject()).mask());
        }}"""))
    subprocess.run([javac, "-d", str(tmp_path / "out"), str(pkg / "Capability.java"), str(tmp_path / "Main.java")],
                   check=True, timeout=120)
    out = subprocess.run([java, "-cp", str(tmp_path / "out"), "Main", capability.to_ascii()], capture_output=True,
                         text=True, check=True, timeout=60).stdout.split()
    assert out[0] == capability.to_ascii()
    assert out[1] == str(capability.DEFAULT_MASK) == "510"
