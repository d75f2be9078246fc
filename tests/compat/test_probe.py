"""The compat probe inside ``jnlpdiag check``, against a real nginx serving a controller's headers and
agent.jar (core ``Functions.advertiseHeaders``, ``TcpSlaveAgentListener/index.jelly``, ``Slave.JnlpJar``:
``Content-Disposition: attachment; filename=agent.jar``), with jars compiled by the real javac and the
real local JVM. Each test shows a verdict that only the *observed* versions can produce.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.compat.jars import JDK17, JDK25
from tests.peers.agent_listener import AgentListener
from tests.peers.controller import identity_b64, jenkins_server
from tests.peers.nginx import Nginx
from tests.peers.util import clean_env, free_port, run_cli

JAVA17 = str(JDK17 / "bin" / "java")
IDENTITY = identity_b64()


def jar_location(path: Path | None, status: int = 200, rate: str = "") -> str:
    if path is None:
        return ('location = /jnlpJars/agent.jar { default_type "text/html"; '
                f'return {status} "<html><head><title>Sign in - Corp SSO</title></head></html>"; }}')
    limit = f"limit_rate {rate};" if rate else ""
    return (f'location = /jnlpJars/agent.jar {{ alias {path}; default_type application/java-archive; {limit} '
            'add_header Content-Disposition "attachment; filename=agent.jar"; }')


@pytest.fixture(scope="module")
def controllers(jars: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Several fake controllers on one nginx: name -> port."""
    import trustme

    tls_dir = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    leaf.private_key_and_cert_chain_pem.write_to_path(str(tls_dir / "both.pem"))
    leaf.private_key_pem.write_to_path(str(tls_dir / "key.pem"))
    ca.cert_pem.write_to_path(str(tls_dir / "ca.pem"))
    huge = tmp_path_factory.mktemp("huge") / "agent.jar"
    with open(huge, "wb") as fh:  # a sparse 17 MB "jar": more than the probe's 16 MB cap
        fh.truncate(17 * 1024 * 1024)
    listener = AgentListener()
    listener.__enter__()
    specs: dict[str, dict[str, Any]] = {
        # Jenkins 2.545 (core for Java 21) with its bundled agent.jar 3355 (Java 17 classes)
        "j2545": {"version": "2.545", "min_remoting": "3176.v207ec082a_8c0", "jar": jars["j17"]},
        # 2.479.3 whose listener asks for more than the release table says (an admin-raised minimum)
        "raised": {"version": "2.479.3", "min_remoting": "3300.vabcdef012345", "jar": jars["j17"]},
        # 2.479.3 with the jar behind an SSO page
        "sso": {"version": "2.479.3", "min_remoting": "3107.v665000b_51092", "jar": None, "status": 403},
        # ... and one where a proxy answers 200 with its login page
        "login200": {"version": "2.479.3", "min_remoting": "3107.v665000b_51092", "jar": None, "status": 200},
        # hostile or broken: a body larger than any agent.jar, and one dribbled at 64 KB/s
        "huge": {"version": "2.479.3", "min_remoting": "3107.v665000b_51092", "jar": huge},
        "slow": {"version": "2.479.3", "min_remoting": "3107.v665000b_51092", "jar": huge, "rate": "64k"},
        # HTTPS with a private CA
        "https": {"version": "2.545", "min_remoting": "3176.v207ec082a_8c0", "jar": jars["j17"],
                  "tls": (str(tls_dir / "both.pem"), str(tls_dir / "key.pem"))},
    }
    if "j25" in jars:
        # a controller whose agent.jar needs Java 25 (class file 69), more than any table predicts
        specs["j25jar"] = {"version": "2.578", "min_remoting": "3176.v207ec082a_8c0", "jar": jars["j25"]}
    ports = {name: free_port() for name in specs}
    blocks = "".join(
        jenkins_server(ports[name], listener.port, IDENTITY, version=s["version"], min_remoting=s["min_remoting"],
                       extra=jar_location(s["jar"], s.get("status", 200), s.get("rate", "")), tls=s.get("tls"))
        for name, s in specs.items())
    with Nginx(blocks, list(ports.values())):
        yield {**ports, "ca_file": str(tls_dir / "ca.pem")}
    listener.__exit__(None, None, None)


def check(port: int, *args: str, probes: tuple[str, ...] = ("discovery", "compat"), env: dict[str, str] | None = None):
    selection = [a for p in probes for a in ("--probe", p)]
    return run_cli("check", *selection, "--json", "--timeout", "5", "--from-process", "none",
                   "--url", f"http://127.0.0.1:{port}/", *args, env=env or clean_env(), timeout=120)


def facts_of(result: Any) -> dict[str, Any]:
    return result.finding("compat")["evidence"]["facts"]


def test_java17_agent_against_2545_uses_the_observed_versions(controllers: dict[str, int], jars: dict[str, Path]) -> None:
    r = check(controllers["j2545"], "--java", JAVA17, "--agent-jar", str(jars["j17"]))
    assert r.code == 2, r.stdout + r.stderr
    f = r.finding("compat.agent-java-below-core")
    assert f["status"] == "fail" and f["layer"] == "compatibility"
    assert f["title"] == "Agent Java 17 cannot load Jenkins 2.545 core classes (compiled for Java 21)"
    assert f["fixes"] and f["evidence"]["sources"]
    assert f["evidence"]["facts"]["agent_java"]["origin"].startswith(JAVA17)
    facts = facts_of(r)
    assert facts["jenkins"] == {"value": "2.545", "origin": "X-Jenkins header"}
    assert facts["min_remoting"] == {"value": "3176.v207ec082a_8c0", "origin": "X-Remoting-Minimum-Version header"}
    url = f"http://127.0.0.1:{controllers['j2545']}/jnlpJars/agent.jar"
    assert facts["bundled_remoting"] == {"value": "3355.v388858a_47b_33", "origin": f"manifest of {url}"}
    assert facts["bundled_remoting_java"] == {"value": "17", "origin": f"class file version in {url}"}
    assert facts["remoting"]["origin"] == f"manifest of {jars['j17']}"
    assert facts["remoting_java"] == {"value": "17", "origin": f"class file version in {jars['j17']}"}
    ev = r.finding("compat")["evidence"]
    assert ev["controller_agent_jar"]["class_major"] == 61 and ev["agent_side"] == "this host"
    assert [c["id"] for c in r.json()["root_causes"]] == ["compat.agent-java-below-core"]


def test_a_raised_minimum_on_the_listener_beats_the_release_table(controllers: dict[str, int], jars: dict[str, Path]) -> None:
    # The table says 2.479.3 accepts 3107+; this listener says 3300+, so the 3261 jar is refused.
    r = check(controllers["raised"], "--java", JAVA17, "--agent-jar", str(jars["j11"]))
    assert r.code == 2, r.stdout + r.stderr
    f = r.finding("compat.remoting-below-minimum-rejected")
    assert "3261.v9c670a_4748a_9" in f["title"] and "3300.vabcdef012345" in f["title"]
    assert f["evidence"]["facts"]["min_remoting"]["origin"] == "X-Remoting-Minimum-Version header"
    assert any("curl -fsSLO http://127.0.0.1:" in s for fix in f["fixes"] for s in fix["steps"])


def test_the_observed_class_version_beats_the_remoting_table(controllers: dict[str, int]) -> None:
    if "j25jar" not in controllers:
        pytest.skip("no JDK 25 javac to build a Java 25 agent.jar")
    # No local agent.jar: the agent would download the controller's, whose classes need Java 25.
    r = check(controllers["j25jar"], "--java", JAVA17)
    assert r.code == 2, r.stdout + r.stderr
    f = r.finding("compat.bundled-agent-jar-needs-newer-java")
    assert f["title"] == ("The controller's agent.jar (remoting 9999.vfeedfacecafe) needs Java 25; "
                          "Java 17 cannot start it")


def test_agent_jar_behind_sso_is_reported_and_tables_fill_in(controllers: dict[str, int]) -> None:
    r = check(controllers["sso"], "--java", JAVA17)
    assert r.code == 1, r.stdout + r.stderr
    f = r.finding("compat.agent_jar")
    assert f["status"] == "warn" and "HTTP 403" in f["title"] and f["fixes"]
    facts = facts_of(r)
    assert facts["bundled_remoting"]["origin"] == "table jenkins_releases[2.479.3].bundled_remoting"
    assert r.finding("compat")["status"] == "pass"
    r = check(controllers["login200"], "--java", JAVA17)
    f = r.finding("compat.agent_jar")
    assert f["status"] == "warn" and "an HTML/XML page, not a jar" in f["title"]


def test_oversized_and_dribbled_jars_are_bounded(controllers: dict[str, int]) -> None:
    r = check(controllers["huge"], "--java", JAVA17)
    f = r.finding("compat.agent_jar")
    assert f["status"] == "warn" and "larger than 16 MB" in f["title"]
    assert r.finding("compat")["status"] == "pass"
    # 17 MB at 64 KB/s would take minutes: the step timeout ends it and the verdict still comes.
    r = run_cli("check", "--probe", "discovery", "--probe", "compat", "--json", "--timeout", "2", "--from-process", "none",
                "--url", f"http://127.0.0.1:{controllers['slow']}/", "--java", JAVA17, env=clean_env(), timeout=60)
    assert r.elapsed < 2 * 1.1 + 3.0  # the run's deadline plus interpreter start-up on a busy machine
    f = r.finding("compat.agent_jar")
    assert f["status"] == "warn" and ("within" in f["title"] or "deadline" in f["title"])
    assert r.finding("compat")["evidence"]["facts"]["bundled_remoting"]["origin"].startswith("table jenkins_releases")


def test_https_controller_jar_with_and_without_the_ca(controllers: dict[str, Any]) -> None:
    port = controllers["https"]
    url = f"https://127.0.0.1:{port}/"

    def run(*extra: str) -> Any:
        return run_cli("check", "--probe", "discovery", "--probe", "compat", "--json", "--timeout", "5",
                       "--from-process", "none", "--url", url, "--java", JAVA17, *extra, env=clean_env(), timeout=60)

    r = run("--ca-file", controllers["ca_file"])
    ev = r.finding("compat")["evidence"]
    assert ev["facts"]["bundled_remoting"]["origin"] == f"manifest of {url}jnlpJars/agent.jar"
    assert ev["facts"]["tls"]["value"] == "true"
    assert r.finding("compat.agent-java-below-core")["status"] == "fail"
    # Without the CA this host does not trust it; the version is still read (the JVM's trust is tls.java's call).
    r = run()
    ev = r.finding("compat")["evidence"]
    assert ev["facts"]["bundled_remoting"]["value"] == "3355.v388858a_47b_33"
    assert "read without verification" in ev["controller_agent_jar"]["notes"][0]
    assert not any(f["id"] == "compat.agent_jar" for f in r.json()["findings"])


def test_kubernetes_plugin_image_is_judged_instead_of_this_host(controllers: dict[str, int]) -> None:
    env = clean_env()
    env.pop("KUBERNETES_SERVICE_HOST", None)
    r = check(controllers["j2545"], "--kubernetes-plugin", "4398.vb_b_33d9e7fe23", "--java", JAVA17, env=env)
    assert r.code == 2, r.stdout + r.stderr
    f = r.finding("compat.k8s-default-image-java-below-core")
    assert "jenkins/inbound-agent:3345.v03dee9b_f88fc-1 runs Java 17" in f["title"]
    assert r.finding("compat.agent-java-below-core")["caused_by"] == "compat.k8s-default-image-java-below-core"
    facts = facts_of(r) if any(x["id"] == "compat" for x in r.json()["findings"]) else {}
    assert r.finding("compat")["evidence"]["agent_side"] == "the described image"
    assert facts["agent_java"]["origin"].startswith("table agent_java_from_image")
    # Inside the pod, the local JVM is the image's JVM and is observed directly.
    env["KUBERNETES_SERVICE_HOST"] = "10.0.0.1"
    r = check(controllers["j2545"], "--kubernetes-plugin", "4423.vb_59f230b_ce53", "--java", JAVA17, env=env)
    assert facts_of(r)["agent_java"]["origin"].startswith(JAVA17)
    assert r.finding("compat.agent-java-below-core")["status"] == "fail"


def test_unreachable_controller_skips_with_its_cause() -> None:
    r = check(free_port())
    compat = r.finding("compat")
    assert compat["status"] == "skip" and compat["caused_by"] and compat["caused_by"].startswith("discovery")


def test_full_check_uses_observed_versions(controllers: dict[str, int], jars: dict[str, Path]) -> None:
    """Every registered probe, as `jnlpdiag check` runs them; compat reads host.java's and discovery's facts."""
    port = controllers["j2545"]
    r = run_cli("check", "--json", "--timeout", "3", "--from-process", "none", "--url", f"http://127.0.0.1:{port}/",
                "--java", JAVA17, "--agent-jar", str(jars["j17"]), env=clean_env(), timeout=180)
    assert r.code in (1, 2, 3), r.stdout + r.stderr
    f = r.finding("compat.agent-java-below-core")
    assert f["status"] == "fail"
    facts = facts_of(r)
    assert facts["jenkins"]["origin"] == "X-Jenkins header"
    assert facts["bundled_remoting"]["value"] == "3355.v388858a_47b_33"
    if any(p["id"] == "host.java" and p["status"] != "skip" for p in r.json()["probes"]):
        assert facts["agent_java"]["origin"] == "host.java probe"
        assert facts["remoting"]["origin"].startswith("host.java probe")
    assert f["id"] in [c["id"] for c in r.json()["root_causes"]]


def test_secret_never_reaches_the_output(controllers: dict[str, int], jars: dict[str, Path], tmp_path: Path) -> None:
    secret = "d2f7a1c0ffee4242deadbeef0123456789abcdef0123456789abcdef01234567"
    (tmp_path / "secret").write_text(secret)
    r = check(controllers["j2545"], "--java", JAVA17, "--agent-jar", str(jars["j17"]), "--name", "agent-1",
              "--secret-file", str(tmp_path / "secret"))
    assert secret not in r.stdout and secret not in r.stderr
    assert r.finding("compat.agent-java-below-core")["status"] == "fail"


def test_java25_agent_is_fine_with_2545(controllers: dict[str, int], jars: dict[str, Path]) -> None:
    java25 = JDK25 / "bin" / "java"
    if not java25.exists():
        pytest.skip("no JDK 25")
    r = check(controllers["j2545"], "--java", str(java25), "--agent-jar", str(jars["j17"]))
    assert r.code == 0, r.stdout + r.stderr
    f = r.finding("compat")
    assert f["status"] == "pass" and f["title"].startswith("No known incompatibility: Jenkins 2.545")
    assert f["evidence"]["facts"]["agent_java"]["value"] == "25"
