"""check --targets: many controllers at once, each with its own report; bad files refused cleanly."""

from __future__ import annotations

import json

from tests.peers.agent_listener import AgentListener
from tests.peers.controller import identity_b64, jenkins_server, plain_site
from tests.peers.nginx import Nginx
from tests.peers.util import clean_env, free_port, run_cli


def test_targets_file_checks_each_target(tmp_path):
    with AgentListener() as listener:
        ok, plain = free_port(), free_port()
        with Nginx(jenkins_server(ok, listener.port, identity_b64()) + plain_site(plain), [ok, plain]):
            path = tmp_path / "targets.txt"
            path.write_text(f"# controllers\nhttp://127.0.0.1:{ok}/ agent-1\n"
                            f'{{"url": "http://127.0.0.1:{plain}/", "name": "agent-2"}}\n'
                            f"http://127.0.0.1:{free_port()}/\n")
            r = run_cli("check", "--targets", str(path), "--probe", "discovery", "--probe", "tcp", "--json",
                        "--from-process", "none", "--timeout", "3", env=clean_env())
    doc = json.loads(r.stdout)
    assert doc["schema"] == "jnlpdiag.targets/1"
    statuses = [t["status"] for t in doc["targets"]]
    assert statuses == ["pass", "fail", "fail"]
    assert doc["targets"][0]["report"]["settings"]["name"] == {"value": "agent-1", "origin": "targets file"}
    assert r.code == 2 == doc["exit_code"]


def test_bad_targets_files(tmp_path):
    for content, message in (("not a url\n", "expected 'URL"), ('{"url": 1, "evil": 2}\n', "unknown field"),
                             ("# only comments\n", "no targets"), ("{broken\n", "not valid JSON")):
        path = tmp_path / "t.txt"
        path.write_text(content)
        r = run_cli("check", "--targets", str(path), "--from-process", "none", env=clean_env())
        assert r.code == 3 and message in r.stderr, (content, r.stderr)
        assert "Traceback" not in r.stderr


def test_targets_refuse_unmatched_probes_and_other_formats(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("http://127.0.0.1:1/\n")
    r = run_cli("check", "--targets", str(path), "--probe", "no.such", "--from-process", "none", env=clean_env())
    assert r.code == 3 and "--probe no.such matches no probe" in r.stderr
    r = run_cli("check", "--targets", str(path), "--format", "junit", "--from-process", "none", env=clean_env())
    assert r.code == 3 and "text or json" in r.stderr
