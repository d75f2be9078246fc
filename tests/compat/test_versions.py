"""Version parsing and comparison edge cases (jnlpdiag.versions).

VersionNumber cases restate the assertions of jenkinsci/lib-version-number
``src/test/java/hudson/util/VersionNumberTest.java`` (HEAD 844adf69): the behaviour the Java class
is tested to have, which the port must reproduce.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jnlpdiag.versions import (
    VersionError,
    VersionNumber,
    class_major_for_java,
    java_for_class_major,
    parse_agent_tag,
    parse_image,
    parse_java_version,
    parse_jenkins,
    parse_kubernetes_plugin,
    parse_remoting,
)

V = VersionNumber

NEWER = [  # (a, b): a is newer than b
    ("2.0.*", "2.0"), ("2.1-SNAPSHOT", "2.0.*"), ("2.1", "2.1-SNAPSHOT"), ("2.0.*", "2.0.1"),
    ("2.0.1", "2.0.1-SNAPSHOT"), ("2.0.1-SNAPSHOT", "2.0.0.99"), ("2.0.0.99", "2.0.0"), ("2.0.0", "2.0.ea"),
    ("2.0", "2.0.ea"), ("2.0", "2.0-alpha-1"), ("2.0-alpha-1", "2.0-alpha-1-rc9999.abc123def456"),
    ("2.0.ea2", "2.0.ea1"), ("2.0.ea1", "2.0.ea"),
    ("1.12", "1.12-SNAPSHOT (private-08/24/2008 12:13-hudson)"), ("1.12-SNAPSHOT (private-08/24/2008 12:13-hudson)", "1.11"),
    ("1.11.*", "1.11.9"),
    ("2.0.3-20170207.105042-1", "2.0.2"), ("2.0.3", "2.0.3-20170207.105042-1"),
    ("2.0.3-20170207.105043-2", "2.0.3-20170207.105042-1"), ("2.0.3-20170207.105042-2", "2.0.3-20170207.105042-1"),
    ("2.0.3-20170207.105042-13", "2.0.3-20170207.105042-2"),
    ("1.9", "1.8"), ("2", "1.8"),
    # The Jenkins-specific orderings this tool depends on:
    ("3107.v665000b_51092", "4.13"), ("4.13", "3.40"), ("4.14", "4.13.3"), ("3.40", "3.4"),
    ("3206.3208.v409508a_675ff", "3206.vb_15dcf73f6a_9"), ("3207", "3206.3208.v409508a_675ff"),
    ("3355.3357.v931d3c992987", "3355.v388858a_47b_33"),
    ("2.479.1", "2.463"), ("2.463", "2.462.3"), ("2.462.3", "2.462"), ("2.545", "2.541.3"),
    ("4423.vb_59f230b_ce53", "1.31.3"), ("3670.3672.v0ec52a_286336", "3670.v6ca_059233222"),
]


@pytest.mark.parametrize("a,b", NEWER)
def test_newer(a: str, b: str) -> None:
    assert V(a).is_newer_than(V(b))
    if "*" not in a + b:  # Java's wildcard compare is not antisymmetric (Integer vs '*' is 0, '*' vs Integer is 1)
        assert V(b).is_older_than(V(a)) and V(b) < V(a)


@pytest.mark.parametrize("a,b", [("2.0.0", "2.0"), ("2.0.ea", "2.0.ea0"), ("1.0-ga", "1"), ("1.0-final", "1.0.0"),
                                 ("1.12-SNAPSHOT (private-08/24/2008 12:13-hudson)", "1.12-SNAPSHOT"),
                                 ("2.0.3-20170207.105042-1", "2.0.3-SNAPSHOT"), ("1.8", "1.8")])
def test_equal(a: str, b: str) -> None:
    assert V(a) == V(b)
    assert hash(V(a)) == hash(V(b))


def test_java_quirks_are_kept() -> None:
    # Snapshots are not magic any more; a literal and a timestamped snapshot neither newer nor older.
    assert V("1.12-SNAPSHOT") != V("1.11.*")
    assert not V("2.0.3-20170207.105042-1").is_newer_than(V("2.0.3-SNAPSHOT"))
    assert not V("2.0.3-20170207.105042-1").is_older_than(V("2.0.3-SNAPSHOT"))
    # Upstream's test keeps "1.12-SNAPSHOT > 1.12-rc9999…" as a TODO: Java says older, so do we.
    assert V("1.12-SNAPSHOT").is_older_than(V("1.12-rc9999.abc123def456"))
    # An integer item equals a wildcard (IntegerItem.compareTo(WILDCARD) == 0), while '*' beats an integer.
    assert V("2.1").compare(V("2.*")) == 0 and V("2.*").compare(V("2.1")) > 0
    # '*' drops the digits before it, as the Java parser does.
    assert V("1*").canonical == "(*)"
    assert V("1.0.0.GA.2-3").canonical == "(1,0,0,,2,(3))"  # only trailing nulls go
    assert V("3107.v665000b_51092").canonical == "(3107,v,665000,b_,51092)"
    assert V("").canonical == "()"


@pytest.mark.parametrize("versions", [
    ["3.12.0.0", "3.12.0-44.v1234deadbeef", "3.12.0-55.v1234deadbeef", "3.12.1-66.v1234deadbeef"],
    ["99.v1234deadbeef", "99.5.vabcd1234abcd", "99.10.vabcd1234abcd", "100.vdead9876beef"],
    ["1.1", "391.ve4a_38c1b_cf4b_"],
    ["1.1", "200.vabcd1234abcd", "391-ve4a_38c1b_cf4b_"],
])
def test_sorted_order(versions: list[str]) -> None:
    assert [str(v) for v in sorted(V(x) for x in reversed(versions))] == versions


@pytest.mark.parametrize("version,idx,digit", [
    ("2.32.3.1-SNAPSHOT", 1, 32), ("2.32.3.1-SNAPSHOT", 2, 3), ("2.32.3.1-SNAPSHOT", 3, 1), ("2.32.3.1-SNAPSHOT", 4, -1),
    ("2.7.22.0.2", 4, 2), ("2.7.22.0.3-SNAPSHOT", 4, 3), ("2.0.3-20170207.105042-1", 4, -1), ("2.0.3", 5, -1),
    ("2.0.3", 0, 2), ("2.0.3", -1, -1), ("1.0.0.GA.2-3", 3, -1), ("", -1, -1), ("", 0, -1),
    ("9999999999.1", 0, 1410065407),  # BigInteger.intValue() keeps the low 32 bits
])
def test_digit_at(version: str, idx: int, digit: int) -> None:
    assert V(version).digit_at(idx) == digit


@pytest.mark.parametrize("text", ["1.0\u00a02", "1.\U0001d7ce", "١٢.3", "1.0\x85x", "x" * 500, "-", ".", "..--**", "1 2",
                                  "1.\udcff", "\ud800.1"])
def test_odd_input_never_raises_and_orders_consistently(text: str) -> None:
    v = V(text)
    assert v.compare(v) == 0
    assert (v < V("1.0")) != (v > V("1.0")) or v.compare(V("1.0")) == 0


def test_unicode_digits_follow_java_character_classes() -> None:
    # Arabic-Indic digits are Character.isDigit and BigInteger parses them: "١٢" is 12.
    assert V("١٢.3") == V("12.3")
    # U+00A0 is not Character.isWhitespace; a mathematical digit outside the BMP is two surrogates, not a digit.
    assert V("1.\U0001d7ce").canonical != V("1.0").canonical


# --------------------------------------------------------------------------------------------------

def test_jenkins_weekly_and_lts() -> None:
    lts = parse_jenkins("2.479.3")
    assert (lts.kind, lts.line) == ("lts", "2.479")
    weekly = parse_jenkins(" 2.545 ")
    assert (weekly.kind, weekly.raw) == ("weekly", "2.545")
    snap = parse_jenkins("2.480-SNAPSHOT (private-12/01/2024 10:00-jenkins)")
    assert snap.kind == "snapshot" and snap.number < parse_jenkins("2.480").number
    assert parse_jenkins("2.462.3").number < parse_jenkins("2.463").number < parse_jenkins("2.479.1").number


@pytest.mark.parametrize("bad", ["", "   ", "latest", "v2.479", "2", "2.479.3.4.5", "jenkins", "2.479\n3", "x" * 300])
def test_jenkins_rejects(bad: str) -> None:
    with pytest.raises(VersionError):
        parse_jenkins(bad)


@pytest.mark.parametrize("text,scheme,build,base", [
    ("3.40", "legacy", None, 3), ("4.13.3", "legacy", None, 4), ("2.62.3", "legacy", None, 2), ("4.0-beta-1", "legacy", None, 4),
    ("3107.v665000b_51092", "cd", 3107, 3107), ("3020.vcc32c3b_cc767", "cd", 3020, 3020),
    ("3206.3208.v409508a_675ff", "cd-backport", 3208, 3206), ("3248.3250.v3277a_8e88c9b_", "cd-backport", 3250, 3248),
    ("remoting-4.11", "legacy", None, 4),
])
def test_remoting_schemes(text: str, scheme: str, build: int | None, base: int) -> None:
    r = parse_remoting(text)
    assert (r.scheme, r.build, r.base) == (scheme, build, base)


@pytest.mark.parametrize("bad", ["", "3107", "3107.vXYZ", "5.0", "latest", "3.40.1.2.3", "v3107.v665000b_51092", "4.13-ga"])
def test_remoting_rejects(bad: str) -> None:
    with pytest.raises(VersionError):
        parse_remoting(bad)


def test_remoting_legacy_3x_is_not_a_cd_build() -> None:
    assert parse_remoting("3.40").number < parse_remoting("4.0").number < parse_remoting("3020.vcc32c3b_cc767").number


@pytest.mark.parametrize("text,scheme", [("1.31.3", "legacy"), ("0.12", "legacy"), ("1.27.1.1", "legacy"),
                                         ("4423.vb_59f230b_ce53", "cd"), ("3670.3672.v0ec52a_286336", "cd-backport"),
                                         ("kubernetes:4423.vb_59f230b_ce53", "cd"), ("kubernetes-1.31.3", "legacy")])
def test_kubernetes_plugin(text: str, scheme: str) -> None:
    assert parse_kubernetes_plugin(text).scheme == scheme


def test_kubernetes_plugin_semver_that_never_existed() -> None:
    with pytest.raises(VersionError, match="no 2.x-4.x"):
        parse_kubernetes_plugin("3.11.0")
    for bad in ("", "latest", "4423", "2.0"):
        with pytest.raises(VersionError):
            parse_kubernetes_plugin(bad)


@pytest.mark.parametrize("tag,remoting,build,jdk,distro,floating,preview", [
    ("3355.v388858a_47b_33-3-jdk21", "3355.v388858a_47b_33", 3, 21, None, False, False),
    ("3206.vb_15dcf73f6a_9-2-alpine-jdk21", "3206.vb_15dcf73f6a_9", 2, 21, "alpine", False, False),
    ("3283.v92c105e0f819-8", "3283.v92c105e0f819", 8, None, None, False, False),
    ("3206.3208.v409508a_675ff-1-jdk17", "3206.3208.v409508a_675ff", 1, 17, None, False, False),
    ("4.3-4", "4.3", 4, None, None, False, False),
    ("4.3-4-jdk11", "4.3", 4, 11, None, False, False),
    ("4.3-4-alpine", "4.3", 4, None, "alpine", False, False),
    ("3.35-5-alpine", "3.35", 5, None, "alpine", False, False),
    ("4.0.1-1", "4.0.1", 1, None, None, False, False),
    ("3028.va_a_436db_35078-2-jdk8", "3028.va_a_436db_35078", 2, 8, None, False, False),
    ("3341.v0766d82b_dec0-3-jdk25-preview", "3341.v0766d82b_dec0", 3, 25, None, False, True),
    ("3355.v388858a_47b_33-3-jdk21-windowsservercore-ltsc2022", "3355.v388858a_47b_33", 3, 21,
     "windowsservercore-ltsc2022", False, False),
    ("3355.v388858a_47b_33-3-nanoserver-ltsc2019", "3355.v388858a_47b_33", 3, None, "nanoserver-ltsc2019", False, False),
    ("3355.v388858a_47b_33-3-rhel-ubi9-jdk21", "3355.v388858a_47b_33", 3, 21, "rhel-ubi9", False, False),
    ("latest", None, None, None, None, True, False),
    ("jdk21", None, None, 21, None, True, False),
    ("latest-jdk21", None, None, 21, None, True, False),
    ("alpine-jdk21", None, None, 21, "alpine", True, False),
    ("bookworm-jdk17", None, None, 17, "bookworm", True, False),
    ("trixie-jdk21", None, None, 21, "trixie", True, False),
    ("alpine3.23-jdk21", None, None, 21, "alpine", True, False),
    ("jdk8", None, None, 8, None, True, False),
])
def test_agent_tags(tag: str, remoting: str | None, build: int | None, jdk: int | None, distro: str | None,
                    floating: bool, preview: bool) -> None:
    t = parse_agent_tag(tag)
    assert (str(t.remoting) if t.remoting else None, t.build, t.jdk, t.distro, t.floating, t.preview) == \
        (remoting, build, jdk, distro, floating, preview)


@pytest.mark.parametrize("ref,registry,repo,tag,digest", [
    ("jenkins/inbound-agent:3355.v388858a_47b_33-3-jdk21", None, "jenkins/inbound-agent", "3355.v388858a_47b_33-3-jdk21", None),
    ("docker.io/jenkins/inbound-agent", "docker.io", "jenkins/inbound-agent", "latest", None),
    ("172.24.76.66:8088/ci-tools/jenkins-inbound-agent:3355.v388858a_47b_33-3-jdk21", "172.24.76.66:8088",
     "ci-tools/jenkins-inbound-agent", "3355.v388858a_47b_33-3-jdk21", None),
    ("localhost:5000/inbound-agent:latest-jdk21", "localhost:5000", "inbound-agent", "latest-jdk21", None),
    ("jenkins/inbound-agent:3355.v388858a_47b_33-14-jdk21@sha256:c3d5dd3c9ca922032daccf8c6226cb877a13b45a4e2e3953c443b4aa9af55e81",
     None, "jenkins/inbound-agent", "3355.v388858a_47b_33-14-jdk21",
     "sha256:c3d5dd3c9ca922032daccf8c6226cb877a13b45a4e2e3953c443b4aa9af55e81"),
    ("3355.v388858a_47b_33-3-jdk21", None, "jenkins/inbound-agent", "3355.v388858a_47b_33-3-jdk21", None),
])
def test_image_references(ref: str, registry: str | None, repo: str, tag: str, digest: str | None) -> None:
    r = parse_image(ref)
    assert (r.registry, r.repository, r.tag, r.digest) == (registry, repo, tag, digest)


@pytest.mark.parametrize("bad", ["", "Jenkins/Inbound-Agent:1", "a b", "repo:tag:more/x", "jenkins/inbound-agent@sha256:xyz",
                                 "jenkins/inbound-agent:-bad", "/x:1"])
def test_image_rejects(bad: str) -> None:
    with pytest.raises(VersionError):
        parse_image(bad)


JAVA_OUTPUTS = [
    # (java -version output or bare version, feature, update, vendor)
    ('java version "1.8.0_291"\nJava(TM) SE Runtime Environment (build 1.8.0_291-b10)\n'
     'Java HotSpot(TM) 64-Bit Server VM (build 25.291-b10, mixed mode)', 8, 291, "Oracle"),
    ('openjdk version "1.8.0_292"\nOpenJDK Runtime Environment (build 1.8.0_292-8u292-b10-0ubuntu1~20.04-b10)\n'
     'OpenJDK 64-Bit Server VM (build 25.292-b10, mixed mode)', 8, 292, "Ubuntu"),
    ('openjdk version "11.0.11" 2021-04-20\nOpenJDK Runtime Environment AdoptOpenJDK-11.0.11+9 (build 11.0.11+9)\n'
     'OpenJDK 64-Bit Server VM AdoptOpenJDK-11.0.11+9 (build 11.0.11+9, mixed mode)', 11, 11, "AdoptOpenJDK"),
    ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment Temurin-17.0.15+6 (build 17.0.15+6)\n'
     'OpenJDK 64-Bit Server VM Temurin-17.0.15+6 (build 17.0.15+6, mixed mode, sharing)', 17, 15, "Eclipse Temurin"),
    ('openjdk version "21" 2023-09-19\nOpenJDK Runtime Environment (build 21+35-2513)\n'
     'OpenJDK 64-Bit Server VM (build 21+35-2513, mixed mode, sharing)', 21, 0, "OpenJDK"),
    ('openjdk version "25" 2025-09-16 LTS\nOpenJDK Runtime Environment Temurin-25+36 (build 25+36-LTS)',
     25, 0, "Eclipse Temurin"),
    ('openjdk version "17.0.9" 2023-10-17 LTS\nOpenJDK Runtime Environment Zulu17.46+19-CA (build 17.0.9+8-LTS)',
     17, 9, "Azul Zulu"),
    ('openjdk version "17.0.9" 2023-10-17 LTS\nOpenJDK Runtime Environment Corretto-17.0.9.8.1 (build 17.0.9+8-LTS)',
     17, 9, "Amazon Corretto"),
    ('openjdk version "17.0.9" 2023-10-17 LTS\nOpenJDK Runtime Environment Microsoft-8552006 (build 17.0.9+8-LTS)',
     17, 9, "Microsoft Build of OpenJDK"),
    ('openjdk version "11.0.11" 2021-04-20\nIBM Semeru Runtime Open Edition 11.0.11.0 (build 11.0.11+9)\n'
     'Eclipse OpenJ9 VM 11.0.11.0 (build openj9-0.26.0, JRE 11 Linux amd64-64-Bit)', 11, 11, "IBM Semeru"),
    ('java version "1.8.0_291"\nJava(TM) SE Runtime Environment (build 8.0.6.30 - pxa6480sr6fp30-20210419_01(SR6 FP30))\n'
     'IBM J9 VM (build 2.9, JRE 1.8.0 Linux amd64-64-Bit Compressed References)', 8, 291, "IBM J9"),
    ('java version "21.0.1" 2023-10-17\n'
     'Java(TM) SE Runtime Environment Oracle GraalVM 21.0.1+12.1 (build 21.0.1+12-jvmci-23.1-b19)', 21, 1, "GraalVM"),
    ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)', 17, 15, "Debian"),
    ('Picked up JAVA_TOOL_OPTIONS: -Dx=Microsoft\nopenjdk version "21.0.5" 2024-10-15\n'
     'OpenJDK Runtime Environment (build 21.0.5+11)', 21, 5, "OpenJDK"),
    ('openjdk version "26-ea" 2026-03-17\nOpenJDK Runtime Environment (build 26-ea+20-2036)', 26, 0, "OpenJDK"),
    ('java version "1.7.0_80"', 7, 80, None),
    ("1.8.0_292", 8, 292, None), ("11.0.11", 11, 11, None), ("17.0.15+6", 17, 15, None), ("21", 21, 0, None),
    ("25", 25, 0, None), ("8", 8, 0, None), ("1.8", 8, 0, None), ("jdk-17.0.2+8", 17, 2, None),
    ("11.0.21.20", 11, 21, None), ("1.8.0_202-ea-b03", 8, 202, None),
]


@pytest.mark.parametrize("text,feature,update,vendor", JAVA_OUTPUTS)
def test_java_version_of_every_vendor(text: str, feature: int, update: int, vendor: str | None) -> None:
    j = parse_java_version(text)
    assert (j.feature, j.update, j.vendor) == (feature, update, vendor)
    assert j.class_major == feature + 44


def test_java_details() -> None:
    assert parse_java_version("1.8.0_202-ea-b03").pre == "ea"
    assert parse_java_version("1.8.0_202-ea-b03").build == 3
    assert parse_java_version("17.0.15+6").build == 6
    assert parse_java_version('openjdk version "17.0.15"\nOpenJDK Runtime Environment (build 17.0.15+6-LTS)').build == 6
    assert parse_java_version("26-ea").pre == "ea"
    assert parse_java_version("1.8.0_292").legacy and not parse_java_version("11").legacy
    assert java_for_class_major(65) == 21 and class_major_for_java(25) == 69


@pytest.mark.parametrize("bad", ["", "java", "1", "1.9.0", "0.5", "100", "version", 'java version ""',
                                 "Error: could not find java"])
def test_java_rejects(bad: str) -> None:
    with pytest.raises(VersionError):
        parse_java_version(bad)


PARSERS = (parse_jenkins, parse_remoting, parse_kubernetes_plugin, parse_image, parse_agent_tag, parse_java_version)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(categories=None, blacklist_categories=()), max_size=60)
       | st.sampled_from(["2.479.\udcff", "\udcff", "3107.v\ud800"]))
def test_any_text_parses_or_gives_a_version_error(text: str) -> None:
    """Including lone surrogates, which argv decoding (surrogateescape) produces from invalid UTF-8."""
    v = V(text)
    assert v.compare(v) == 0 and v == V(text)
    for parse in PARSERS:
        try:
            parse(text)
        except VersionError:
            pass
