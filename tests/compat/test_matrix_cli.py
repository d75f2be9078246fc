"""``jnlpdiag matrix`` as a user runs it: verdicts, exit codes, JSON, the table, bad input."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from tests.peers.util import run_cli


def matrix(*args: str):
    return run_cli("matrix", *args, timeout=60)


def test_the_issue_example_fails_with_fixes() -> None:
    r = matrix("--jenkins", "2.479.3", "--remoting", "3107.v665000b_51092", "--java", "11",
               "--kubernetes-plugin", "4054.v2da_8e2794884", "--json")
    assert r.code == 2, r.stderr
    doc = r.json()
    assert doc["schema"] == "jnlpdiag.matrix/1" and doc["status"] == "fail" and doc["exit_code"] == 2
    rules = {x["id"]: x for x in doc["rules"]}
    assert {"agent-java-below-core", "k8s-default-image-java-below-core"} <= set(rules)
    core = rules["agent-java-below-core"]
    assert core["status"] == "fail" and core["fixes"] and core["sources"]
    assert core["caused_by"] == "k8s-default-image-java-below-core"
    assert core["facts"] == {"agent_java": "11", "core_java": "17"}
    assert "UnsupportedClassVersionError" in core["symptom"]
    assert doc["facts"]["core_java"]["origin"].startswith("table core_java_level")
    assert doc["facts"]["core_java"]["sources"]
    assert doc["facts"]["jenkins"] == {"value": "2.479.3", "origin": "--jenkins"}


def test_text_output_names_the_fix_and_sources() -> None:
    r = matrix("--jenkins", "2.545", "--kubernetes-plugin", "4398.vb_b_33d9e7fe23")
    assert r.code == 2
    assert "✗ FAIL  kubernetes-plugin 4398.vb_b_33d9e7fe23's default agent image" in r.stdout
    assert "fix: Upgrade the kubernetes plugin: 4423.vb_59f230b_ce53" in r.stdout
    assert "source: https://github.com/jenkinsci/kubernetes-plugin/issues/2791" in r.stdout
    assert r.stdout.rstrip().endswith("Verdict: FAIL (exit 2)")


def test_text_output_says_the_verdict_first_then_the_facts_it_rests_on() -> None:
    r = matrix("--jenkins", "2.479.3", "--java", "11")
    lines = r.stdout.splitlines()
    assert lines[0].startswith("jnlpdiag matrix: FAIL (exit 2;")
    assert r.stdout.index("✗ FAIL  Agent Java 11") < r.stdout.index("Facts it rests on:")
    # 80 columns: only a single word longer than a line (a source URL) may stick out, whole
    assert all(len(line) <= 80 or len(line.split()[-1]) > 50 for line in lines), [x for x in lines if len(x) > 80]


def test_exit_codes_follow_check() -> None:
    assert matrix("--jenkins", "2.479.3", "--remoting", "3261.v9c670a_4748a_9", "--java", "17.0.15+6").code == 0
    assert matrix("--jenkins", "2.375.1", "--remoting", "3071.v7e9b_0dc08466", "--java", "17", "--websocket").code == 1
    assert matrix("--jenkins", "2.555.1", "--remoting", "3107.v665000b_51092", "--java", "21").code == 2


def test_java_version_output_is_accepted() -> None:
    r = matrix("--jenkins", "2.479.3", "--json", "--java",
               'openjdk version "11.0.25" 2024-10-15\nOpenJDK Runtime Environment Temurin-11.0.25+9 (build 11.0.25+9)')
    assert r.code == 2
    doc = r.json()
    assert doc["facts"]["agent_java_version"]["value"] == "11.0.25"
    assert [x["id"] for x in doc["rules"]] == ["agent-java-below-core"]


def test_set_any_input_fact() -> None:
    r = matrix("--jenkins", "2.361.1", "--set", "java_web_start=true", "--json")
    assert r.code == 2 and [x["id"] for x in r.json()["rules"]] == ["java-web-start-removed"]


def test_without_versions_prints_the_table() -> None:
    r = matrix()
    assert r.code == 0
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Supported combinations for recent Jenkins LTS lines")
    assert any(line.startswith("2.555.x   2.555.3  21, 25") for line in lines)
    row = next(line for line in lines if line.startswith("2.479.x"))
    assert "17, 21" in row and "3261.v9c670a_4748a_9" in row and "3107.v665000b_51092" in row
    assert "4110.v2d7ceb_d59c53 .. 4358.vcfd9c5a_0a_f51" in row
    assert sum(1 for line in lines if line[:2] == "2." and ".x " in line[:10]) == 8


def test_table_json_and_all_lines() -> None:
    r = matrix("--json", "--all")
    assert r.code == 0
    doc = r.json()
    lines = {row["line"]: row for row in doc["lines"]}
    assert "2.7.x" in lines and "2.568.x" in lines
    assert lines["2.361.x"]["cells"]["Agent Java >="] == "11"
    assert lines["2.545.x" if "2.545.x" in lines else "2.555.x"]["cells"]["Controller Java"] == "21, 25"
    k8s = lines["2.555.x"]["cells"]["kubernetes-plugin (default image works)"]
    assert k8s["first"] == "4416.v2ea_b_5372da_a_e" and k8s["newest_known"] is True


def test_bad_input_is_a_usage_error_without_traceback() -> None:
    for args, text in [
        (("--jenkins", "latest"), "--jenkins: 'latest' is not a Jenkins version"),
        (("--remoting", "5.0"), "--remoting: '5.0' is not a remoting"),
        (("--kubernetes-plugin", "3.11.0"), "no 2.x-4.x semantic versions"),
        (("--java", "banana"), "--java: 'banana' is not a Java version"),
        (("--agent-image", "Bad Image"), "--agent-image:"),
        (("--set", "nonsense"), "expected FACT=VALUE"),
        (("--set", "core_java=17"), "is not an input fact"),
        (("--set", "transport=udp"), "not one of tcp, websocket"),
        (("--jenkins", "2.479.3", "--data", "/nonexistent.json"), "invalid compatibility data"),
    ]:
        r = matrix(*args)
        assert r.code == 3, (args, r.stdout, r.stderr)
        assert text in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr


def test_adding_a_rule_row_needs_no_code(tmp_path: Path) -> None:
    doc = json.loads(files("jnlpdiag").joinpath("data", "compat-matrix.json").read_text(encoding="utf-8"))
    doc["rules"].append({
        "id": "site-policy-java25", "status": "fail",
        "when": {"agent_java": "<25", "jenkins": ">=2.541"},
        "title": "Our site runs agents on Java 25; this one runs Java {agent_java}",
        "fixes": [{"title": "Use the Java 25 image", "steps": ["image: jenkins/inbound-agent:latest-jdk25"]}],
        "sources": ["https://github.com/jenkinsci/jenkins/commit/7e6c5740ec3902023f7acebb48deaa9bae5df9f1"],
    })
    path = tmp_path / "site.json"
    path.write_text(json.dumps(doc))
    r = matrix("--data", str(path), "--jenkins", "2.541.3", "--java", "21", "--json")
    assert r.code == 2, r.stderr
    assert [x["id"] for x in r.json()["rules"]] == ["site-policy-java25"]
    del doc["rules"][-1]["sources"]
    path.write_text(json.dumps(doc))
    r = matrix("--data", str(path), "--jenkins", "2.541.3")
    assert r.code == 3 and "site-policy-java25" in r.stderr and "sources" in r.stderr


def test_readme_example_does_not_pass_what_it_fails() -> None:
    """issue 13 §3: Java 11 with Jenkins 2.479.3 fails; "Agent Java 11 is supported" is not a pass."""
    r = matrix("--jenkins", "2.479.3", "--remoting", "3107.v665000b_51092", "--java", "11", "--json")
    assert r.code == 2
    passed = {x["id"]: x["title"] for x in r.json()["passed"]}
    assert passed["agent-java-outside-policy"] == "agent-java-outside-policy: does not apply"
    assert not any("Agent Java 11 is supported" in t for t in passed.values())
    ok = matrix("--jenkins", "2.479.3", "--java", "17", "--json")
    assert {x["id"]: x["title"] for x in ok.json()["passed"]}["agent-java-outside-policy"] == (
        "Agent Java 17 is supported by Jenkins 2.479.3 (17, 21)")


def test_a_version_past_the_data_says_where_the_data_ends() -> None:
    r = matrix("--jenkins", "2.999.1", "--java", "21", "--json")
    assert r.code == 1, r.stdout
    fired = {x["id"]: x for x in r.json()["rules"]}
    assert fired["data-ends-jenkins"]["status"] == "warn"
    assert "newer than this compatibility data (it ends at Jenkins 2.578)" in fired["data-ends-jenkins"]["title"]
    inside = matrix("--jenkins", "2.578", "--java", "21", "--json")
    assert "data-ends-jenkins" not in {x["id"] for x in inside.json()["rules"]}
    # the rule's threshold is the data's own coverage: refreshing the data must move both
    doc = json.loads(files("jnlpdiag").joinpath("data", "compat-matrix.json").read_text("utf-8"))
    rule = next(x for x in doc["rules"] if x["id"] == "data-ends-jenkins")
    assert rule["when"] == {"jenkins": ">" + doc["coverage"]["jenkins"]}
