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
