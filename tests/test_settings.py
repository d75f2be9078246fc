"""Zero-config settings: env variables, a real running agent process, .jnlp files, precedence, secrets."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import textwrap
import time

import pytest

from tests.peers.util import clean_env, run_cli

SECRET = "7f3c9a1b2e4d6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8"


def settings_of(*args: str, env: dict[str, str] | None = None, process: str = "none"):
    r = run_cli("check", "--probe", "agent.options", "--json", "--from-process", process, *args, env=env or clean_env())
    assert r.code in (0, 1, 2), r.stderr
    return r, r.json()["settings"]


def assert_no_secret(*texts: str) -> None:
    b64 = base64.b64encode(SECRET.encode()).decode()
    for text in texts:
        assert SECRET not in text
        assert SECRET[:32] not in text
        assert b64[:40] not in text


@pytest.mark.parametrize(("var", "value", "setting", "expected"), [
    ("JENKINS_URL", "http://jenkins.example:8080", "url", "http://jenkins.example:8080/"),
    ("JENKINS_AGENT_NAME", "agent-7", "name", "agent-7"),
    ("JENKINS_NAME", "legacy-name", "name", "legacy-name"),
    ("JENKINS_TUNNEL", "tunnel.example:50000", "tunnel", "tunnel.example:50000"),
    ("JENKINS_WEB_SOCKET", "true", "websocket", True),
    ("JENKINS_DIRECT_CONNECTION", "ctl.example:50000", "direct", "ctl.example:50000"),
    ("JENKINS_INSTANCE_IDENTITY", "MIIBIjAN", "instance_identity", "MIIBIjAN"),
    ("JENKINS_PROTOCOLS", "JNLP4-connect", "protocols", ["JNLP4-connect"]),
    ("JENKINS_AGENT_WORKDIR", "/home/jenkins/agent", "workdir", "/home/jenkins/agent"),
    ("JAVA_OPTS", "-Xmx512m", "java_opts", "-Xmx512m"),
    ("http_proxy", "http://proxy:3128", "http_proxy", "http://proxy:3128"),
    ("HTTPS_PROXY", "http://proxy:3129", "https_proxy", "http://proxy:3129"),
    ("no_proxy", ".corp,10.0.0.0/8", "no_proxy", ".corp,10.0.0.0/8"),
])
def test_each_environment_variable(var, value, setting, expected):
    _, settings = settings_of(env=clean_env(**{var: value}))
    assert settings[setting] == {"value": expected, "origin": f"env {var}"}


def test_web_socket_needs_exactly_true():
    _, settings = settings_of(env=clean_env(JENKINS_WEB_SOCKET="True"))
    assert "websocket" not in settings


def test_secret_from_env_is_redacted_everywhere():
    r, settings = settings_of(env=clean_env(JENKINS_SECRET=SECRET))
    assert settings["secret"] == {"value": "<redacted>", "origin": "env JENKINS_SECRET"}
    assert_no_secret(r.stdout, r.stderr)


def test_secret_flag_warns_about_shell_history_and_is_redacted():
    r, settings = settings_of("--secret", SECRET)
    assert "shell history" in r.stderr
    assert settings["secret"]["origin"] == "flag --secret"
    assert_no_secret(r.stdout, r.stderr)


def test_secret_file(tmp_path):
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n")
    r, settings = settings_of("--secret-file", str(path))
    assert settings["secret"]["origin"] == "flag --secret-file"
    assert_no_secret(r.stdout, r.stderr)
    r2 = run_cli("check", "--secret-file", str(tmp_path / "missing"), "--from-process", "none", env=clean_env())
    assert r2.code == 3 and "no such file" in r2.stderr.lower() + r2.stderr


def test_text_output_never_shows_secret():
    r = run_cli("check", "--probe", "agent.options", "--from-process", "none", "--secret", SECRET,
                "--redact", "corp-password-42", "--url", "http://corp-password-42@x/", env=clean_env())
    assert_no_secret(r.stdout, r.stderr)
    assert "corp-password-42" not in r.stdout


JNLP = textwrap.dedent(f"""\
    <jnlp>
      <application-desc>
        <argument>{SECRET}</argument>
        <argument>jnlp-agent</argument>
        <argument>-webSocket</argument>
        <argument>-workDir</argument><argument>/srv/agent</argument>
        <argument>-internalDir</argument><argument>remoting</argument>
        <argument>-url</argument><argument>https://jenkins.example/</argument>
      </application-desc>
    </jnlp>
    """)


def test_jnlp_file(tmp_path):
    path = tmp_path / "jenkins-agent.jnlp"
    path.write_text(JNLP)
    r, settings = settings_of("--jnlp-file", str(path))
    assert settings["name"] == {"value": "jnlp-agent", "origin": "jnlp-file jenkins-agent.jnlp -name"}
    assert settings["url"]["value"] == "https://jenkins.example/"
    assert settings["websocket"]["value"] is True
    assert settings["workdir"]["value"] == "/srv/agent"
    assert settings["secret"]["value"] == "<redacted>"
    assert_no_secret(r.stdout, r.stderr)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bomb.jnlp", '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
                  "<jnlp><application-desc><argument>&lol2;</argument></application-desc></jnlp>", "hostile XML"),
    ("xxe.jnlp", '<?xml version="1.0"?><!DOCTYPE jnlp [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                 "<jnlp><application-desc><argument>&x;</argument></application-desc></jnlp>", "hostile XML"),
    ("broken.jnlp", "<jnlp><application-desc>", "not well-formed"),
    ("html.jnlp", "<html><body>Sign in</body></html>", "expected <jnlp>"),
])
def test_hostile_jnlp_files_are_refused_cleanly(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    r = run_cli("check", "--jnlp-file", str(path), "--from-process", "none", env=clean_env())
    assert r.code == 3
    assert message in r.stderr
    assert "Traceback" not in r.stderr and "root:" not in r.stderr


def test_huge_jnlp_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.jnlp"
    with open(path, "wb") as fh:
        fh.truncate(100 * 1024 * 1024)  # sparse: 100 MB on paper
    r = run_cli("check", "--jnlp-file", str(path), "--from-process", "none", env=clean_env())
    assert r.code == 3 and "far larger" in r.stderr


def test_precedence_flag_over_jnlp_over_env(tmp_path):
    path = tmp_path / "a.jnlp"
    path.write_text(JNLP)
    env = clean_env(JENKINS_URL="http://from-env/", JENKINS_AGENT_NAME="env-name", JENKINS_AGENT_WORKDIR="/env")
    _, settings = settings_of("--jnlp-file", str(path), "--name", "flag-name", env=env)
    assert settings["name"] == {"value": "flag-name", "origin": "flag --name"}
    assert settings["url"]["origin"].startswith("jnlp-file")
    assert settings["workdir"]["origin"].startswith("jnlp-file")


@pytest.fixture(scope="module")
def fake_agent_jar(tmp_path_factory):
    """A real jar whose main class just sleeps, so that `java -jar agent.jar ...` is a live process."""
    javac, jar = shutil.which("javac"), shutil.which("jar")
    if not javac or not jar:
        pytest.skip("needs a JDK (javac, jar): apt-get install openjdk-17-jdk-headless")
    d = tmp_path_factory.mktemp("agentjar")
    (d / "Sleep.java").write_text("public class Sleep { public static void main(String[] a) throws Exception "
                                  "{ Thread.sleep(60000); } }")
    subprocess.run([javac, "-d", str(d), str(d / "Sleep.java")], check=True)
    (d / "manifest.txt").write_text("Main-Class: Sleep\n")
    subprocess.run([jar, "cfm", str(d / "agent.jar"), str(d / "manifest.txt"), "-C", str(d), "Sleep.class"], check=True)
    return d / "agent.jar"


def test_settings_from_a_running_agent_process(fake_agent_jar):
    proc = subprocess.Popen(["java", "-Xmx64m", "-Dfoo=bar", "-jar", str(fake_agent_jar), "-url", "http://proc.example/",
                             "-secret", SECRET, "-name", "proc-agent", "-webSocket", "-workDir", "/tmp/w"],
                            env=clean_env())
    try:
        time.sleep(0.3)
        for spec in (str(proc.pid), "auto"):
            r, settings = settings_of(process=spec)
            assert settings["url"] == {"value": "http://proc.example/", "origin": f"process {proc.pid} -url"}
            assert settings["name"]["value"] == "proc-agent"
            assert settings["websocket"]["value"] is True
            assert settings["secret"] == {"value": "<redacted>", "origin": f"process {proc.pid} -secret"}
            assert settings["agent_pid"]["value"] == proc.pid
            assert "-Dfoo=bar" in settings["java_opts"]["value"]
            assert "<redacted>" in settings["agent_argv"]["value"]
            assert settings["agent_jar"]["value"] == str(fake_agent_jar)
            assert_no_secret(r.stdout, r.stderr)
    finally:
        proc.kill()
        proc.wait()


def test_from_process_with_a_pid_that_is_not_an_agent():
    r = run_cli("check", "--from-process", str(os.getpid()), env=clean_env())
    assert r.code == 3 and "no agent.jar process" in r.stderr


def test_websocket_with_tunnel_from_env_is_refused_like_args4j():
    env = clean_env(JENKINS_URL="http://x/", JENKINS_WEB_SOCKET="true", JENKINS_TUNNEL="t:50000")
    r = run_cli("check", "--probe", "agent.options", "--json", "--from-process", "none", env=env)
    f = r.finding("agent.options.webSocket")
    assert f["status"] == "fail" and "-tunnel" in f["title"]
    assert "env JENKINS_TUNNEL" in f["detail"]


def test_json_output_stays_valid_when_evidence_holds_quoted_passwords(tmp_path):
    """Redaction runs on the data, not on serialised JSON, so escapes are never cut."""
    env = clean_env(JAVA_OPTS='-Djavax.net.ssl.trustStorePassword="changeit" -Dhttps.proxyPassword=s3cr3t\\"x')
    r = run_cli("check", "--probe", "agent.options", "--json", "--from-process", "none", env=env)
    settings = r.json()["settings"]  # parses
    assert "changeit" not in r.stdout and "s3cr3t" not in r.stdout
    assert "<redacted>" in settings["java_opts"]["value"]


def test_files_that_are_not_regular_files_are_refused_not_read(tmp_path):
    """A FIFO or a device named as an input would block or never end: refused with what it is."""
    fifo = tmp_path / "agent.jnlp"
    os.mkfifo(fifo)
    r = run_cli("check", "--jnlp-file", str(fifo), "--from-process", "none", env=clean_env(), timeout=20)
    assert r.code == 3 and "FIFO" in r.stderr
    r = run_cli("analyze", "/dev/zero", env=clean_env(), timeout=20)
    assert r.code == 3 and "device" in r.stderr
    r = run_cli("analyze", str(fifo), env=clean_env(), timeout=20)
    assert r.code == 3 and "FIFO" in r.stderr
