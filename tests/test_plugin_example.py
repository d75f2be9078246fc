"""The shipped third-party example probe installs through the entry-point group and runs."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

from tests.peers.util import clean_env

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "jnlpdiag-example-probe"


def test_example_plugin_installs_and_runs(tmp_path):
    env_dir = tmp_path / "venv"
    # System site-packages: the venv sees the jnlpdiag under test; only the plug-in is new.
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    py = str(env_dir / "bin" / "python")
    subprocess.run([sys.executable, "-m", "pip", "--python", py, "install", "-q", "--no-deps",
                    str(EXAMPLE)], check=True, env=clean_env(), capture_output=True)
    listing = subprocess.run([py, "-m", "jnlpdiag", "probes", "--json"], capture_output=True, text=True,
                             env=clean_env(), check=True)
    ids = {p["id"]: p for p in json.loads(listing.stdout)["probes"]}
    assert ids["example.hostname"]["layer"] == "host"
    assert "discovery" in ids  # built-ins come through the same group
    run = subprocess.run([py, "-m", "jnlpdiag", "check", "--probe", "example.hostname", "--json", "--from-process",
                          "none"], capture_output=True, text=True, env=clean_env())
    report = json.loads(run.stdout)
    finding = next(f for f in report["findings"] if f["id"] == "example.hostname")
    assert finding["probe"] == "example.hostname"
    assert finding["evidence"]["hostname"]
    assert run.returncode == {"pass": 0, "fail": 2}[finding["status"]]
    # Its own option: declared by the plug-in, listed by `probes`, offered by check, read by the probe.
    assert ids["example.hostname"]["options"] == [{
        "flag": "--example-hostname", "name": "example_hostname", "kind": "text", "default": None, "choices": [],
        "help": "the name to resolve instead of this host's own (the agent's, when jnlpdiag runs elsewhere)"}]
    helptext = subprocess.run([py, "-m", "jnlpdiag", "check", "--help"], capture_output=True, text=True,
                              env=clean_env(), check=True).stdout
    assert "options of probe example.hostname" in helptext and "--example-hostname NAME" in helptext
    run = subprocess.run([py, "-m", "jnlpdiag", "check", "--probe", "example.hostname", "--json", "--from-process",
                          "none", "--example-hostname", "localhost"], capture_output=True, text=True, env=clean_env())
    finding = next(f for f in json.loads(run.stdout)["findings"] if f["id"] == "example.hostname")
    assert finding["status"] == "pass" and finding["evidence"]["hostname"] == "localhost", finding
    assert json.loads(run.stdout)["settings"]["example_hostname"] == {"value": "localhost",
                                                                       "origin": "flag --example-hostname"}
