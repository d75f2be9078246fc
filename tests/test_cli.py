"""The command line: probes listing, exit codes, usage errors, schema-valid JSON, the headless import set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.peers.agent_listener import AgentListener
from tests.peers.controller import identity_b64, jenkins_server
from tests.peers.nginx import Nginx
from tests.peers.util import clean_env, free_port, run_cli

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "docs" / "report.schema.json").read_text())


@pytest.fixture(scope="module")
def controller():
    with AgentListener() as listener:
        port = free_port()
        with Nginx(jenkins_server(port, listener.port, identity_b64()), [port]):
            yield f"http://127.0.0.1:{port}/"


def test_version():
    r = run_cli("--version")
    assert r.code == 0 and r.stdout.startswith("jnlpdiag ")


def test_probes_lists_builtins_with_layers():
    r = run_cli("probes", "--json")
    rows = {p["id"]: p for p in json.loads(r.stdout)["probes"]}
    assert rows["discovery"]["layer"] == "network"
    assert rows["tcp"]["layer"] == "network"
    assert rows["agent.options"]["layer"] == "protocol"
    assert all(p["description"] for p in rows.values())
    text = run_cli("probes").stdout
    assert "discovery" in text and "network" in text


def test_probes_show_what_each_needs_in_text_and_json():
    doc = json.loads(run_cli("probes", "--format", "json").stdout)
    rows = {p["id"]: p for p in doc["probes"]}
    assert rows["jnlp4.handshake"]["requires"] and rows["jnlp4.handshake"]["needs"].startswith("requires ")
    assert rows["agent.options"]["needs"] == "nothing"
    assert json.loads(run_cli("probes", "--json").stdout) == doc  # the older flag, same document
    text = run_cli("probes").stdout
    assert text.splitlines()[0].split() == ["ID", "LAYER", "NEEDS"]
    line = next(x for x in text.splitlines() if x.startswith("jnlp4.handshake "))
    assert rows["jnlp4.handshake"]["needs"].split(";")[0].split(",")[0] in line
    assert all(len(x) <= 80 for x in text.splitlines())


def test_exit_code_table_only_in_the_top_level_help():
    top = run_cli("--help").stdout
    assert "exit codes (Nagios style):" in top and "3  a probe errored" in top
    for command in ("check", "probes", "matrix", "report"):
        sub = run_cli(command, "--help").stdout
        assert "Nagios" not in sub and "3  a probe errored" not in sub, command
        assert "docs/exit-codes.md" in sub


def test_usage_errors_exit_3():
    assert run_cli("check", "--no-such-flag").code == 3
    assert run_cli("check", "--timeout", "-1").code == 3
    r = run_cli("check", "--probe", "no.such.probe", "--from-process", "none")
    assert r.code == 3 and "--probe no.such.probe matches no probe" in r.stderr


def test_full_check_against_nginx_controller_is_schema_valid(controller):
    r = run_cli("check", "--url", controller, "--json", "--timeout", "5", "--from-process", "none",
                "--java-check", "predict")
    report = r.json()
    jsonschema.validate(report, SCHEMA)
    assert report["schema"] == "jnlpdiag.report/1"
    assert report["exit_code"] == r.code
    ids = {f["id"] for f in report["findings"]}
    assert {"discovery", "tcp.agent_port", "tcp.listener"} <= ids
    assert report["settings"]["url"] == {"value": controller, "origin": "flag --url"}
    assert "Traceback" not in r.stderr


def test_check_text_summary_puts_root_cause_first():
    r = run_cli("check", "--url", f"http://127.0.0.1:{free_port()}/", "--probe", "discovery", "--probe", "tcp",
                "--from-process", "none", "--timeout", "2")
    assert r.code == 2
    lines = r.stdout.splitlines()
    assert lines[2].startswith("Root cause")
    assert "fix:" in r.stdout and "$ " in r.stdout
    assert r.stdout.index("Root cause") < r.stdout.index("All findings")


def test_bare_command_without_tty_prints_the_text_summary():
    r = run_cli("--probe", "agent.options", "--from-process", "none")
    assert r.code == 0 and "All findings" in r.stdout


def test_headless_path_never_imports_textual_or_scapy():
    code = ("import sys, io, contextlib\n"
            "from jnlpdiag.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['check', '--json', '--probe', 'agent.options', '--from-process', 'none'])\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'scapy', 'rich'))\n"
            "print(heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_every_code_folder_is_a_package():
    """A folder of modules without __init__.py is left out of a (non-editable) wheel by find_packages."""
    root = Path(__file__).resolve().parent.parent / "jnlpdiag"
    for d in root.rglob("*"):
        if d.is_dir() and "__pycache__" not in d.parts and any(d.glob("*.py")):
            assert (d / "__init__.py").exists(), f"{d} has modules but no __init__.py"


def test_command_module_names_match_their_subcommand():
    """main() imports only the module named for the subcommand, so NAME must match the module name."""
    from jnlpdiag.cli import command_module_name, command_modules

    names = {mod.NAME for mod in command_modules()}
    assert "probes" in names and "check" in names
    for mod in command_modules():
        assert mod.__name__.rsplit(".", 1)[1] == command_module_name(mod.NAME)


@pytest.mark.parametrize("args", [("probes", "--json"), ("matrix",),
                                  ("logs", "tests/reports/logs/already-connected-controller.log")])
def test_a_reader_that_goes_away_gets_no_traceback(args):
    # stdout is a pipe whose reading end is already closed: every write fails with EPIPE.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "jnlpdiag", *args], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, env=clean_env(), timeout=60, cwd=Path(__file__).parent.parent)
    finally:
        os.close(write_end)
    assert proc.returncode == 141, proc.stderr
    assert proc.stderr == ""
