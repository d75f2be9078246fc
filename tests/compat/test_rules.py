"""The compatibility data and rules engine, table-driven from the sourced facts.

Expected values below were read from the upstream sources named next to them (jenkinsci/jenkins
pom.xml at release tags, war/src/main/java/executable/Main.java, jenkinsci/kubernetes-plugin
Dockerfile/pom.xml at release tags, docker-agents docker-bake.hcl), not from the data file.
"""

from __future__ import annotations

import copy
import json
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

import pytest

from jnlpdiag.compat import DataError, evaluate_raw, load_data
from jnlpdiag.compat.conditions import ConditionError, parse_condition
from jnlpdiag.compat.data import parse_data, template_fields
from jnlpdiag.findings import Status

RAW: dict[str, Any] = json.loads(files("jnlpdiag").joinpath("data", "compat-matrix.json").read_text(encoding="utf-8"))
DATA = load_data()
SOURCE_HOSTS = {"github.com", "www.jenkins.io"}


def fired(inputs: dict[str, Any]) -> dict[str, Any]:
    ev = evaluate_raw(inputs)
    return {"status": ev.status.value, "rules": [r.id for r in ev.fired if r.status is not Status.PASS],
            "ev": ev}


# --------------------------------------------------------------------------------------------------
# The data file itself


def _is_source(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return parts.scheme == "https" and parts.hostname in SOURCE_HOSTS and len(parts.path) > 1


def test_every_rule_has_a_source_url_and_parses() -> None:
    assert RAW["schema"] == "jnlpdiag.compat/1" and RAW["version"]
    ids = [r["id"] for r in RAW["rules"]]
    assert len(ids) == len(set(ids)) and len(ids) >= 25
    for rule in RAW["rules"]:
        assert rule["sources"] and all(_is_source(u) for u in rule["sources"]), rule["id"]
        assert rule["status"] in ("pass", "warn", "fail"), rule["id"]
        if rule["status"] != "pass":
            assert rule["fixes"] and all(f["title"] for f in rule["fixes"]), rule["id"]
        parse_condition(rule["when"], {n: f["type"] for n, f in RAW["facts"].items()})
        loaded = DATA.rule(rule["id"])
        assert loaded.sources == tuple(rule["sources"])
        for text in (rule["title"], rule.get("detail", ""), rule.get("symptom") or "", rule.get("pass") or ""):
            assert all(name in RAW["facts"] for name in template_fields(text)), rule["id"]


def test_every_table_row_and_lookup_entry_has_a_source() -> None:
    for name, table in RAW["tables"].items():
        if table["kind"] == "rows":
            for row in table["rows"]:
                assert row["sources"] and all(_is_source(u) for u in row["sources"]), (name, row)
        else:
            assert table["entries"], name
            lookup = DATA.lookups[name]
            for written, _ in lookup.entries.values():
                for column in lookup.columns:
                    url = lookup.source_for(lookup.key_type.parse(written), written, column)
                    assert _is_source(url) and written in url, (name, written, url)
    for kf in RAW["known_failures"]:
        assert kf["sources"] and all(_is_source(u) for u in kf["sources"]), kf["id"]


def test_lookup_tables_cover_the_stated_snapshot() -> None:
    releases = DATA.lookups["jenkins_releases"]
    assert releases.ordered_keys()[-1] == RAW["coverage"]["jenkins"]
    plugins = DATA.lookups["kubernetes_plugin_releases"]
    assert plugins.ordered_keys()[-1] == RAW["coverage"]["kubernetes_plugin"]
    assert len(releases.entries) > 700 and len(plugins.entries) > 300


# --------------------------------------------------------------------------------------------------
# Known failing (and known good) combinations reported upstream: the rows of known_failures


@pytest.mark.parametrize("kf", DATA.known_failures, ids=[k.id for k in DATA.known_failures])
def test_known_combinations(kf: Any) -> None:
    result = fired(kf.inputs)
    assert result["status"] == kf.status.value, result["rules"]
    for rule in kf.rules:
        assert rule in result["rules"]
    if kf.status is Status.PASS:
        assert result["rules"] == []


def test_brief_combinations() -> None:
    # kubernetes-plugin with a Java 17 image against a Java 21 core (kubernetes-plugin#2791)
    r = fired({"jenkins": "2.545", "kubernetes_plugin": "4398.vb_b_33d9e7fe23"})
    assert r["status"] == "fail" and "k8s-default-image-java-below-core" in r["rules"]
    by_id = {x.id: x for x in r["ev"].fired}
    assert by_id["agent-java-below-core"].caused_by == "k8s-default-image-java-below-core"
    fix_text = " ".join(f.title + " ".join(f.commands + f.notes) for f in by_id["k8s-default-image-java-below-core"].fixes)
    assert "4423.vb_59f230b_ce53" in fix_text and "jenkins/inbound-agent:3355.v388858a_47b_33-3-jdk21" in fix_text
    # remoting below the controller minimum
    r = fired({"jenkins": "2.555.1", "remoting": "3107.v665000b_51092", "agent_java": "21"})
    assert r["rules"] == ["remoting-below-minimum-rejected"]
    assert "3176.v207ec082a_8c0" in r["ev"].fired[0].title
    # a Java 11 agent against a 2.479.x controller
    for point in ("2.479.1", "2.479.2", "2.479.3"):
        r = fired({"jenkins": point, "agent_java": "11.0.25", "remoting": "3261.v9c670a_4748a_9"})
        assert r["rules"] == ["agent-java-below-core"], point


# --------------------------------------------------------------------------------------------------
# Derived facts against upstream, one row per fact


CORE_JAVA = [  # Jenkins -> Java release core is compiled for (parent pom maven.compiler.release at the tag)
    ("2.53", 7), ("2.60.1", 8), ("2.346.3", 8), ("2.356", 8), ("2.357", 11), ("2.361.1", 11), ("2.462.3", 11),
    ("2.463", 17), ("2.479.1", 17), ("2.541.3", 17), ("2.544", 17), ("2.545", 21), ("2.555.1", 21), ("2.578", 21),
]


@pytest.mark.parametrize("jenkins,java", CORE_JAVA)
def test_core_bytecode(jenkins: str, java: int) -> None:
    assert evaluate_raw({"jenkins": jenkins}).facts.get("core_java") == java


LAUNCHER = [  # war/src/main/java/executable/Main.java (or executable-war) at the tag
    ("2.164", [8, 11]), ("2.343", [8, 11]), ("2.346.1", [8, 11, 17]), ("2.361.1", [11, 17]), ("2.418", [11, 17]),
    ("2.419", [11, 17, 21]), ("2.462.3", [11, 17, 21]), ("2.463", [17, 21]), ("2.533", [17, 21]),
    ("2.534", [17, 21, 25]), ("2.541.1", [17, 21, 25]), ("2.545", [21, 25]), ("2.568.2", [21, 25]),
]


@pytest.mark.parametrize("jenkins,supported", LAUNCHER)
def test_controller_java(jenkins: str, supported: list[int]) -> None:
    assert evaluate_raw({"jenkins": jenkins}).facts.get("controller_java_supported") == supported
    for java in (8, 11, 17, 21, 25):
        r = fired({"jenkins": jenkins, "controller_java": str(java)})
        assert ("controller-java-unsupported" in r["rules"]) == (java not in supported), (jenkins, java)


REMOTING = [  # pom.xml remoting.version / remoting.minimum.supported.version at the tag
    ("2.222.3", "4.2", "3.14"), ("2.222.4", "4.2.1", "3.14"), ("2.332.4", "4.13", "3.14"), ("2.346.3", "4.13.3", "3.14"),
    ("2.361.1", "3044.vb_940a_a_e4f72e", "4.2.1"), ("2.375.1", "3071.v7e9b_0dc08466", "4.2.1"),
    ("2.375.2", "3077.vd69cf116da_6f", "4.2.1"), ("2.387.1", "3107.v665000b_51092", "4.7"),
    ("2.426.1", "3160.vd76b_9ddd10cc", "4.13"), ("2.452.4", "3206.3208.v409508a_675ff", "4.13"),
    ("2.462.1", "3248.3250.v3277a_8e88c9b_", "4.13"), ("2.479.1", "3261.v9c670a_4748a_9", "3107.v665000b_51092"),
    ("2.541.1", "3352.v17a_fb_4b_2773f", "3107.v665000b_51092"), ("2.555.1", "3355.v388858a_47b_33", "3176.v207ec082a_8c0"),
    ("2.568.2", "3355.3357.v931d3c992987", "3176.v207ec082a_8c0"), ("2.502", "3299.v0d0d06908537", "3107.v665000b_51092"),
]


@pytest.mark.parametrize("jenkins,bundled,minimum", REMOTING)
def test_bundled_and_minimum_remoting(jenkins: str, bundled: str, minimum: str) -> None:
    facts = evaluate_raw({"jenkins": jenkins}).facts
    assert (facts.display("bundled_remoting"), facts.display("min_remoting")) == (bundled, minimum)


def test_minimum_for_a_release_newer_than_the_data_comes_from_rows() -> None:
    facts = evaluate_raw({"jenkins": "2.600"}).facts
    assert facts.display("min_remoting") == "3176.v207ec082a_8c0" and facts.get("bundled_remoting") is None


def test_rejected_versus_warned() -> None:
    assert fired({"jenkins": "2.342", "remoting": "3.10", "agent_java": "8"})["rules"] == ["remoting-below-minimum-warned"]
    assert fired({"jenkins": "2.343", "remoting": "3.10", "agent_java": "8"})["rules"] == ["remoting-below-minimum-rejected"]
    # allowUnsupportedRemotingVersions on 2.469+ hides the header: allowed with a warning
    r = fired({"jenkins": "2.479.3", "remoting": "4.13", "agent_java": "17", "min_remoting_advertised": "false"})
    assert r["rules"] == ["remoting-below-minimum-allowed"]
    # ... but not before 2.469, where the header was always sent and the agent refused by itself
    r = fired({"jenkins": "2.462.3", "remoting": "4.7", "agent_java": "17", "min_remoting_advertised": "false"})
    assert r["rules"] == ["remoting-below-minimum-rejected"]


def test_an_observed_minimum_beats_the_table() -> None:
    r = fired({"jenkins": "2.479.3", "remoting": "3261.v9c670a_4748a_9", "agent_java": "17",
               "min_remoting": "3300.vabcdef012345"})
    assert r["rules"] == ["remoting-below-minimum-rejected"]
    assert r["ev"].facts.origins["min_remoting"] == "given"


REMOTING_JAVA = [  # remoting pom (parent pom release) at the tag
    ("2.62.3", 6), ("3.10", 7), ("3.11", 8), ("4.14", 8), ("3028.va_a_436db_35078", 8), ("3044.vb_940a_a_e4f72e", 11),
    ("3206.3208.v409508a_675ff", 11), ("3256.3258.v858f3c9a_f69d", 11), ("3291.vb_131b_dc231fa_", 11),
    ("3299.v0d0d06908537", 17), ("3355.v388858a_47b_33", 17), ("3355.3357.v931d3c992987", 17), ("3383.vc8881d4b_0e76", None),
]


@pytest.mark.parametrize("remoting,java", REMOTING_JAVA)
def test_agent_jar_bytecode(remoting: str, java: int | None) -> None:
    assert evaluate_raw({"remoting": remoting}).facts.get("remoting_java") == java


K8S = [  # (plugin, jenkins, default image, image JDK): Dockerfile / PodTemplateBuilder at the plugin tag
    ("4423.vb_59f230b_ce53", "2.555.1", "jenkins/inbound-agent:3355.v388858a_47b_33-3-jdk21", 21),
    ("4416.v2ea_b_5372da_a_e", "2.545", "jenkins/inbound-agent:3355.v388858a_47b_33-2-jdk21", 21),
    ("4398.vb_b_33d9e7fe23", "2.545", "jenkins/inbound-agent:3345.v03dee9b_f88fc-1", 17),
    ("4110.v2d7ceb_d59c53", "2.479.3", "jenkins/inbound-agent:3181.v78543a_987053-1", 17),
    ("4054.v2da_8e2794884", "2.479.3", "jenkins/inbound-agent:3148.v532a_7e715ee3-1", 11),
    ("3872.v760b_4a_6c126b_", "2.401.3", "jenkins/inbound-agent:3107.v665000b_51092-2", 11),
    ("3852.v41ea_166a_ed1b_", "2.401.3", "jenkins/inbound-agent:3077.vd69cf116da_6f-3-jdk11", 11),
    ("3743.v1fa_4c724c3b_7", "2.361.4", "jenkins/inbound-agent:4.11-1-jdk11", 11),
    ("3670.3672.v0ec52a_286336", "2.361.4", "jenkins/inbound-agent:4.11-1-jdk11", 11),
    ("1.30.2", "2.361.4", "jenkins/inbound-agent:4.3-4-jdk11", 11),
    ("1.30.1", "2.263.1", "jenkins/inbound-agent:4.3-4", 8),
    ("1.25.0", "2.217", "jenkins/jnlp-slave:4.0.1-1", 8),
    ("1.21.1", "2.190.1", "jenkins/jnlp-slave:3.35-5-alpine", 8),
]


@pytest.mark.parametrize("plugin,jenkins,image,java", K8S)
def test_kubernetes_plugin_default_image(plugin: str, jenkins: str, image: str, java: int) -> None:
    facts = evaluate_raw({"jenkins": jenkins, "kubernetes_plugin": plugin}).facts
    assert (facts.display("agent_image"), facts.get("image_java")) == (image, java)
    assert facts.get("agent_image_from_plugin") is True


def test_plugin_suffix_follows_the_controller_jvm() -> None:
    # 1.31.x appends -jdk8 on a Java 8 controller (PodTemplateBuilder static init), -jdk11 on 11+.
    on8 = evaluate_raw({"jenkins": "2.346.3", "kubernetes_plugin": "3743.v1fa_4c724c3b_7", "controller_java": "8"})
    assert on8.facts.display("agent_image") == "jenkins/inbound-agent:4.11-1-jdk8"
    on11 = evaluate_raw({"jenkins": "2.346.3", "kubernetes_plugin": "3743.v1fa_4c724c3b_7", "controller_java": "11"})
    assert on11.facts.display("agent_image") == "jenkins/inbound-agent:4.11-1-jdk11"
    unknown = evaluate_raw({"jenkins": "2.346.3", "kubernetes_plugin": "3743.v1fa_4c724c3b_7"})
    assert unknown.facts.get("agent_image") is None  # cannot tell which one the controller picked


def test_explicit_image_wins_over_the_plugin_default() -> None:
    r = fired({"jenkins": "2.545", "kubernetes_plugin": "4398.vb_b_33d9e7fe23",
               "agent_image": "jenkins/inbound-agent:3345.v03dee9b_f88fc-1-jdk21"})
    assert r["status"] == "pass"
    assert r["ev"].facts.get("agent_image_from_plugin") is False


def test_plugin_too_new_for_the_core_and_the_recommended_release() -> None:
    r = fired({"jenkins": "2.479.3", "kubernetes_plugin": "4423.vb_59f230b_ce53"})
    assert "k8s-plugin-needs-newer-core" in r["rules"]
    assert r["ev"].facts.display("k8s_plugin_recommended") == "4358.vcfd9c5a_0a_f51"  # last with jenkins.version <= 2.479.3


IMAGES = [  # (tag, image JDK): -jdkN, or the repository default when the tag was built (docker-bake.hcl history)
    ("jenkins/inbound-agent:4.3-4", 8), ("jenkins/inbound-agent:4.10-1", 11),
    ("jenkins/inbound-agent:3107.v665000b_51092-15", 11),
    ("jenkins/inbound-agent:3160.vd76b_9ddd10cc-1", 11), ("jenkins/inbound-agent:3160.vd76b_9ddd10cc-2", 17),
    ("jenkins/inbound-agent:3283.v92c105e0f819-8", 17), ("jenkins/inbound-agent:3355.v388858a_47b_33-3", 17),
    ("jenkins/inbound-agent:3355.v388858a_47b_33-8", None), ("jenkins/inbound-agent:3355.v388858a_47b_33-13", 21),
    ("jenkins/inbound-agent:3355.v388858a_47b_33-3-jdk21", 21), ("jenkins/jnlp-slave:alpine", 8),
    ("registry.example.com:5000/jenkins/inbound-agent:3283.v92c105e0f819-4-jdk17", 17), ("my/own-agent:1.0", None),
]


@pytest.mark.parametrize("image,java", IMAGES)
def test_image_jdk(image: str, java: int | None) -> None:
    assert evaluate_raw({"agent_image": image}).facts.get("image_java") == java


def test_image_warnings() -> None:
    assert fired({"jenkins": "2.545", "agent_image": "latest-jdk21"})["rules"] == ["image-floating-tag"]
    r = fired({"jenkins": "2.545", "agent_image": "jenkins/inbound-agent:3355.v388858a_47b_33-8"})
    assert r["rules"] == ["image-java-unknown"]
    r = fired({"jenkins": "2.545", "agent_image": "jenkins/inbound-agent:3355.v388858a_47b_33-5"})
    assert r["rules"] == ["agent-java-below-core"]  # still the Java 17 default
    r = fired({"jenkins": "2.346.3", "agent_image": "jenkins/inbound-agent:jdk8"})
    assert "image-jdk8-floating" in r["rules"]
    assert fired({"jenkins": "2.545", "agent_image": "my/own-agent:1.0"})["status"] == "pass"


WEBSOCKET = [  # (jenkins, remoting, java, tls, expected rules)
    ("2.204.6", "4.3", "8", "false", ["websocket-needs-newer-jenkins"]),
    ("2.204.6", "4.3", "11", "false", ["websocket-needs-newer-jenkins", "websocket-java11-reconnect"]),
    ("2.222.1", "3.40", "8", "false", ["websocket-needs-newer-remoting"]),
    ("2.229", "4.2", "8", "false", ["websocket-large-payload"]),
    ("2.222.4", "4.0.1", "8", "false", ["websocket-large-payload"]),
    ("2.222.3", "4.2", "8", "false", []),
    ("2.303.3", "4.10", "11", "true", ["websocket-java11-wss", "websocket-java11-reconnect"]),
    ("2.303.3", "4.10", "11", "false", ["websocket-java11-reconnect"]),
    ("2.332.1", "4.13", "11", "true", ["websocket-java11-reconnect"]),
    ("2.346.1", "4.13", "11", "true", []),
    ("2.375.1", "3071.v7e9b_0dc08466", "17", "true", ["websocket-jetty10-idle-timeout"]),
    ("2.401.1", "3107.v665000b_51092", "17", "true", []),
]


@pytest.mark.parametrize("jenkins,remoting,java,tls,expected", WEBSOCKET)
def test_websocket(jenkins: str, remoting: str, java: str, tls: str, expected: list[str]) -> None:
    r = fired({"jenkins": jenkins, "remoting": remoting, "agent_java": java, "transport": "websocket", "tls": tls})
    assert sorted(x for x in r["rules"] if x.startswith("websocket")) == sorted(expected)


def test_protocols_and_launch_methods() -> None:
    assert "jnlp-protocols-removed" in fired({"jenkins": "2.214", "remoting": "3.40", "agent_java": "8",
                                              "agent_protocols": "JNLP2-connect"})["rules"]
    assert "jnlp-protocols-removed" not in fired({"jenkins": "2.213", "remoting": "2.62", "agent_java": "8"})["rules"]
    assert "jnlp-protocols-removed" not in fired({"jenkins": "2.222.1", "remoting": "2.62", "agent_java": "8",
                                                  "transport": "websocket"})["rules"]
    assert "java-web-start-removed" not in fired({"jenkins": "2.346.3", "java_web_start": "true"})["rules"]
    r = fired({"jenkins": "2.440.1", "remoting": "3206.vb_15dcf73f6a_9", "agent_java": "17", "jnlp_url_used": "true"})
    assert r["rules"] == ["jnlp-url-deprecated"] and r["status"] == "warn"
    r = fired({"jenkins": "2.361.1", "transport": "tcp", "instance_identity_advertised": "false"})
    assert r["rules"] == ["tcp-needs-instance-identity"]


def test_unknown_facts_are_not_evaluated_rather_than_passed() -> None:
    ev = evaluate_raw({"jenkins": "2.479.3"})
    unknown = {r.id: r.missing for r in ev.unknown}
    assert unknown["agent-java-below-core"] == ["agent_java"]
    assert "agent-java-below-core" not in [r.id for r in ev.passed]
    assert ev.status is Status.PASS


# --------------------------------------------------------------------------------------------------
# The format: adding a rule is adding a row; a broken row is refused with its name


def _with_rule(rule: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(RAW)
    doc["rules"].append(rule)
    return doc


NEW_RULE = {
    "id": "example-new-rule", "status": "warn",
    "when": {"jenkins": ">=2.479 <2.480", "agent_java": "==21"},
    "title": "Example: Java {agent_java} on Jenkins {jenkins}",
    "detail": "A rule added as data only.",
    "fixes": [{"title": "Do something", "steps": ["echo {jenkins}"], "docs": []}],
    "sources": ["https://github.com/jenkinsci/jenkins/blob/jenkins-2.479.3/pom.xml"],
}


def test_a_new_rule_row_needs_no_code() -> None:
    data = parse_data(_with_rule(NEW_RULE))
    ev = evaluate_raw({"jenkins": "2.479.3", "agent_java": "21"}, data=data)
    assert [r.id for r in ev.fired] == ["example-new-rule"] and ev.status is Status.WARN
    assert ev.fired[0].title == "Example: Java 21 on Jenkins 2.479.3"
    assert ev.fired[0].fixes[0].steps == ("echo 2.479.3",)
    assert evaluate_raw({"jenkins": "2.492.3", "agent_java": "21"}, data=data).status is Status.PASS


BROKEN = [
    ({**NEW_RULE, "sources": []}, "sources"),
    ({**NEW_RULE, "sources": ["see the changelog"]}, "not an http"),
    ({**NEW_RULE, "fixes": []}, "needs at least one fix"),
    ({**NEW_RULE, "when": {"jenkin": ">=2.479"}}, "unknown fact 'jenkin'"),
    ({**NEW_RULE, "when": {"jenkins": "~2.479"}}, "is not a test"),
    ({**NEW_RULE, "when": {"jenkins": ">=two"}}, "not a version"),
    ({**NEW_RULE, "when": {"agent_java": "<{jenkins}"}}, "cannot order"),
    ({**NEW_RULE, "when": {"transport": ">tcp"}}, "needs a version or number"),
    ({**NEW_RULE, "when": []}, "never holds"),
    ({**NEW_RULE, "title": "Java {agent_jav}"}, "not a declared fact"),
    ({**NEW_RULE, "title": "Java {agent_java!r}"}, "bad placeholder"),
    ({**NEW_RULE, "status": "error"}, "status must be"),
    ({**NEW_RULE, "id": "agent-java-below-core"}, "unique id"),
    ({**NEW_RULE, "explains": ["no-such-rule"]}, "explains unknown rule"),
]


@pytest.mark.parametrize("rule,message", BROKEN, ids=[m for _, m in BROKEN])
def test_broken_rows_are_refused_with_their_name(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(DataError, match=message) as info:
        parse_data(_with_rule(rule))
    assert "rules[" in str(info.value)


def test_broken_table_rows_are_refused() -> None:
    doc = copy.deepcopy(RAW)
    doc["tables"]["core_java_level"]["rows"][0]["value"] = "twenty-one"
    with pytest.raises(DataError, match="core_java_level.rows.0."):
        parse_data(doc)
    doc = copy.deepcopy(RAW)
    doc["tables"]["jenkins_releases"]["entries"]["2.479.1"] = ["not-a-version"]
    with pytest.raises(DataError, match="expected 2 values"):
        parse_data(doc)
    doc = copy.deepcopy(RAW)
    del doc["tables"]["remoting_bytecode"]["rows"][0]["sources"]
    with pytest.raises(DataError, match="remoting_bytecode.rows.0.: needs a non-empty 'sources'"):
        parse_data(doc)


def test_conditions_are_three_valued() -> None:
    types = {n: f["type"] for n, f in RAW["facts"].items()}
    cond = parse_condition([{"jenkins": ">=2.463", "agent_java": "<17"}, {"remoting": "<3.0"}], types)
    values: dict[str, Any] = {}
    get = values.get
    t = DATA.types
    assert cond.evaluate(get, t) is None
    values["remoting"] = DATA.facts["remoting"].type.parse("4.13")
    assert cond.evaluate(get, t) is None  # second clause false, first unknown
    values["jenkins"] = DATA.facts["jenkins"].type.parse("2.462.3")
    assert cond.evaluate(get, t) is False  # first clause now false without knowing agent_java
    values["jenkins"] = DATA.facts["jenkins"].type.parse("2.479.1")
    values["agent_java"] = 11
    assert cond.evaluate(get, t) is True
    with pytest.raises(ConditionError):
        parse_condition({"agent_protocols": "==JNLP4-connect"}, types)
    assert parse_condition({"agent_java": "in:17,21"}, types).evaluate(lambda n: 21, t) is True
