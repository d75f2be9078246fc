"""agent.image and the inbound-agent image's rules (data/inbound-agent-image.json).

The entrypoint scripts below are small stand-ins with the lines of the real ``jenkins-agent`` that
read each variable (jenkinsci/docker-inbound-agent ``jenkins-agent`` at 3.35-4, 4.0.1-1 and 4.13-1;
jenkinsci/docker-agent ``jenkins-agent`` at 3355.v388858a_47b_33-5), including the commented header
that lists variables an older script does not read. The real scripts at those tags were checked by
hand with the same reader and give the same verdicts.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jnlpdiag.inboundimage import _release_key, ignored_variables, read_image, rules, variables_read
from tests.conftest import is_root
from tests.peers.util import clean_env, run_cli

HEADER = """#!/usr/bin/env sh
# Optional environment variables :
# * JENKINS_TUNNEL : HOST:PORT for a tunnel
# * JENKINS_WEB_SOCKET: true if the connection should be made via WebSocket rather than TCP
# * JENKINS_JAVA_OPTS : Java Options to use for the remoting process
"""
BODY_3_35_4 = """
if [ ! -z "$JENKINS_TUNNEL" ]; then TUNNEL="-tunnel $JENKINS_TUNNEL"; fi
if [ ! -z "$JENKINS_AGENT_WORKDIR" ]; then WORKDIR="-workDir $JENKINS_AGENT_WORKDIR"; fi
if [ -n "$JENKINS_URL" ]; then URL="-url $JENKINS_URL"; fi
if [ -n "$JENKINS_NAME" ]; then JENKINS_AGENT_NAME="$JENKINS_NAME"; fi
if [ -n "$JENKINS_SECRET" ]; then OPT_JENKINS_SECRET="${JENKINS_SECRET}"; fi
if [ -n "$JENKINS_AGENT_NAME" ]; then OPT_JENKINS_AGENT_NAME="${JENKINS_AGENT_NAME}"; fi
exec $JAVA_BIN $JAVA_OPTS -cp /usr/share/jenkins/agent.jar hudson.remoting.jnlp.Main -headless $TUNNEL $URL $WORKDIR
"""
BODY_4_0_1_1 = BODY_3_35_4 + """
if [ "$JENKINS_WEB_SOCKET" = true ]; then WEB_SOCKET=-webSocket; fi
if [ -n "$JENKINS_PROTOCOLS" ]; then PROTOCOLS="-protocols $JENKINS_PROTOCOLS"; fi
if [ -n "$JENKINS_DIRECT_CONNECTION" ]; then DIRECT="-direct $JENKINS_DIRECT_CONNECTION"; fi
if [ -n "$JENKINS_INSTANCE_IDENTITY" ]; then INSTANCE_IDENTITY="-instanceIdentity $JENKINS_INSTANCE_IDENTITY"; fi
"""
BODY_4_13_1 = BODY_4_0_1_1 + """
if [ "$JENKINS_JAVA_BIN" ]; then JAVA_BIN="$JENKINS_JAVA_BIN"; fi
if [ "$JENKINS_JAVA_OPTS" ]; then JAVA_OPTIONS="$JENKINS_JAVA_OPTS"; fi
"""
BODY_3355 = BODY_4_13_1 + """
if [ "$JENKINS_AGENT_FILE" ]; then AGENT_FILE="$JENKINS_AGENT_FILE"; fi
eval "REMOTING_OPTS_A=($REMOTING_OPTS)"
"""


def image(tmp_path: Path, body: str, name: str = "jenkins-agent") -> Path:
    root = tmp_path / "image"
    (root / "usr/local/bin").mkdir(parents=True)
    (root / "usr/local/bin" / name).write_text(HEADER + body)
    return root


def test_rules_are_sourced_and_ordered():
    commit = re.compile(r"^https://github\.com/jenkinsci/[\w.-]+/(commit/[0-9a-f]{40}|blob/)")
    for section in ("variables", "kubernetes_plugin", "deprecated_images"):
        for row in rules()[section]:
            assert commit.match(row["source"]), row
    by_var = {r["variable"]: r["since"] for r in rules()["variables"]}
    # The issue's rows, verified against the image repositories' history.
    assert by_var["JENKINS_WEB_SOCKET"] == "4.0.1-1"
    assert by_var["JENKINS_DIRECT_CONNECTION"] == by_var["JENKINS_PROTOCOLS"] == by_var["JENKINS_INSTANCE_IDENTITY"] == "3.35-5"
    assert by_var["JENKINS_JAVA_BIN"] == "4.10-1" and by_var["JENKINS_JAVA_OPTS"] == "4.13-1"
    assert {r["variable"]: r["since"] for r in rules()["kubernetes_plugin"]}["JENKINS_WEB_SOCKET"] == "1.25.0"
    assert _release_key("4.13-1") < _release_key("3206.3208.v409508a_675ff-1") < _release_key("3261.v9c670a_4748a_9-2")


def test_comments_are_not_reads():
    assert variables_read(HEADER) == set()
    assert variables_read(HEADER + BODY_3_35_4) >= {"JENKINS_NAME", "JENKINS_TUNNEL"}
    assert "JENKINS_WEB_SOCKET" not in variables_read(HEADER + BODY_3_35_4)


@pytest.mark.parametrize(("body", "at_least", "older_than", "ignored"), [
    (BODY_3_35_4, "3.15-1", "3.35-5", ["JENKINS_DIRECT_CONNECTION", "JENKINS_WEB_SOCKET", "JENKINS_JAVA_OPTS"]),
    (BODY_4_0_1_1, "4.0.1-1", "4.10-1", ["JENKINS_JAVA_OPTS"]),
    (BODY_4_13_1, "4.13-1", "3206.3208.v409508a_675ff-1", []),
    (BODY_3355, "3261.v9c670a_4748a_9-2", None, []),
], ids=["3.35-4", "4.0.1-1", "4.13-1", "3355"])
def test_image_version_and_ignored_variables(tmp_path, body, at_least, older_than, ignored):
    facts = read_image(str(image(tmp_path, body)))
    assert facts is not None and (facts.at_least, facts.older_than) == (at_least, older_than)
    env = {"JENKINS_WEB_SOCKET": "true", "JENKINS_JAVA_OPTS": "-Xmx1g", "JENKINS_DIRECT_CONNECTION": "ctl:50000",
           "JENKINS_SECRET": "x" * 64}
    assert [i.variable for i in ignored_variables(env, facts)] == ignored


def test_web_socket_other_than_true_is_ignored(tmp_path):
    facts = read_image(str(image(tmp_path, BODY_4_13_1)))
    assert facts is not None
    [item] = ignored_variables({"JENKINS_WEB_SOCKET": "1"}, facts)
    assert "exact value true" in item.why


def test_no_entrypoint_no_image(tmp_path):
    assert read_image(str(tmp_path)) is None


def test_jenkins_name_wins_over_jenkins_agent_name():
    r = run_cli("check", "--probe", "agent.options", "--json", "--from-process", "none",
                env=clean_env(JENKINS_NAME="pod-name", JENKINS_AGENT_NAME="other"))
    assert r.json()["settings"]["name"] == {"value": "pod-name", "origin": "env JENKINS_NAME"}


@pytest.mark.privileged
def test_probe_inside_an_old_image_warns_about_web_socket(tmp_path):
    """jnlpdiag run inside a mount namespace where /usr/local/bin holds a 3.35-4 entrypoint (as in the
    jnlp container of such an image), with JENKINS_WEB_SOCKET=true: the WebSocket variable is ignored."""
    if not is_root() or not shutil.which("unshare"):
        pytest.skip("needs root and unshare(1) to bind an image's /usr/local/bin in a private mount namespace")
    root = image(tmp_path, BODY_3_35_4)
    script = textwrap.dedent(f"""
        mount --make-rprivate / && mount --bind {root}/usr/local/bin /usr/local/bin &&
        exec {sys.executable} -m jnlpdiag check --probe agent.image --json --from-process none
    """)
    env = clean_env(JENKINS_WEB_SOCKET="true", JENKINS_NAME="a", JENKINS_AGENT_NAME="b")
    done = subprocess.run(["unshare", "--mount", "sh", "-c", script], env=env, capture_output=True, text=True,
                          timeout=60)
    findings = {f["id"]: f for f in json.loads(done.stdout)["findings"]}
    ws = findings["agent.image.ignored.jenkins_web_socket"]
    assert ws["status"] == "warn" and "TCP agent port" in ws["detail"], ws
    assert findings["agent.image.entrypoint"]["title"].endswith("image 3.15-1 or newer, older than 3.35-5")
    assert findings["agent.image.name"]["status"] == "warn"
    assert not Path("/usr/local/bin/jenkins-agent").exists()  # the bind mount stayed in its namespace
