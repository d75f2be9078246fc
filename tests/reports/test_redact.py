"""The redactor's rules, one by one, and the anonymizer's consistency."""

from __future__ import annotations

import base64

import pytest

from jnlpdiag.redact import Anonymizer, Redactor

S = "0123456789abcdef" * 4


@pytest.mark.parametrize("text, secret", [
    ("java -Dhttps.proxyPassword=hunter22 -jar agent.jar", "hunter22"),
    ("java -Dhttp.proxyPassword='two words' -jar agent.jar", "two words"),
    ("-Djavax.net.ssl.keyStorePassword=changeit1 -Djavax.net.ssl.trustStorePassword=changeit2", "changeit1"),
    ("-Djavax.net.ssl.keyStorePassword=changeit1 -Djavax.net.ssl.trustStorePassword=changeit2", "changeit2"),
    ("http_proxy=http://bob:pr0xy@proxy.corp:3128", "pr0xy"),
    ("HTTPS_PROXY=bob:pr0xy2@proxy.corp:3128", "pr0xy2"),
    ("java -jar agent.jar -url http://j/ -secret " + S + " -name a", S),
    ("java -jar agent.jar -proxyCredentials bob:s3cret -url http://j/", "bob:s3cret"),
    ("java -jar agent.jar -jnlpUrl http://j/x.jnlp -jnlpCredentials alice:t0ken", "alice:t0ken"),
    ("jnlpdiag check --secret=" + S, S),
    ("jnlpdiag report --redact corp-internal-name", "corp-internal-name"),
    ("JENKINS_SECRET=" + S, S),
    ("    JENKINS_SECRET:  " + S, S),
    ("GET /wsagents/ HTTP/1.1\r\nSecret-Key: " + S + "\r\n", S),
    ("Proxy-Authorization: Basic " + base64.b64encode(b"bob:pw").decode(), base64.b64encode(b"bob:pw").decode()),
    ('{"Node-Name":"a","Secret-Key":"' + S + '"}', S),
    ('["java", "-jar", "agent.jar", "-secret", "' + S + '"]', S),
    ("<argument>" + S + "</argument><argument>agent</argument>", S),
    ("keytool -importcert -storepass st0repw -file ca.pem", "st0repw"),
])
def test_shape_rules(text, secret):
    r = Redactor()
    out = r(text)
    assert secret not in out and "<redacted>" in out


def test_learnt_values_are_redacted_everywhere_and_encoded():
    r = Redactor()
    r("java -Dhttps.proxyPassword=hunter22-longer -jar agent.jar")
    assert r("later the value hunter22-longer alone") == "later the value <redacted> alone"
    b64 = base64.b64encode(b"bob:hunter22-longer").decode()
    assert "<redacted>" in r(b64)


def test_known_secret_in_base64_at_any_alignment():
    r = Redactor([S])
    for prefix in (b"", b"x", b"xy", b"user:"):
        enc = base64.b64encode(prefix + S.encode()).decode()
        assert S[:20] not in base64.b64decode(r(enc).replace("<redacted>", "A") + "==").decode("latin-1")


def test_ordinary_text_is_left_alone():
    r = Redactor([S])
    for text in ("the agent secret is wrong", "Secret: not given", "prefer --secret-file", "token count 3",
                 "| secret | `<redacted>` | flag --secret |", "git@github.com:org/repo", "12:30:45"):
        assert r(text) == text


def test_mask_bytes_keeps_the_length():
    r = Redactor([S])
    data = b"GET / HTTP/1.1\r\nSecret-Key: " + S.encode() + b"\r\n\r\n"
    masked = r.mask_bytes(data)
    assert len(masked) == len(data) and S.encode() not in masked and b"*" * 64 in masked


def test_anonymizer_is_consistent_and_idempotent():
    a = Anonymizer()
    a.add_url("https://jenkins.corp.example.org/")
    text = "jenkins.corp.example.org:50000 10.2.3.4 and JENKINS.corp.example.org. and 10.2.3.4 and 2001:db8::5"
    once = a(text)
    assert once == "host_1:50000 ip_1 and host_1. and ip_1 and ip_2"
    assert a(once) == once  # stand-ins are not hosts
    assert a("127.0.0.1 ::1 localhost 0.0.0.0 at 12:30:45 aa:bb:cc:dd:ee:ff") == \
        "127.0.0.1 ::1 localhost 0.0.0.0 at 12:30:45 aa:bb:cc:dd:ee:ff"
    assert a("see http://other.example.net/x") == "see http://host_2/x"
