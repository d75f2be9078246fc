"""The deployment examples in docs/examples parse, and every jnlpdiag command in them is valid."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from jnlpdiag.cli import build_parser

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def jnlpdiag_commands(text: str) -> list[list[str]]:
    """Every `jnlpdiag ...` / `python3 -m jnlpdiag ...` invocation, up to a shell operator."""
    found = []
    for m in re.finditer(r"(?:python3 -m )?jnlpdiag ([^;&|>\n']+)", text):
        words = shlex.split(m.group(1))
        if words and not words[0].startswith("-") or words[:1] == ["--version"]:
            found.append(words)
    return found


def exec_commands(doc: object) -> list[list[str]]:
    """Commands in a Kubernetes object: exec probes (argv lists) and container command/args scripts."""
    out: list[list[str]] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key == "command" and isinstance(value, list) and value and value[0] == "jnlpdiag":
                out.append([str(v) for v in value[1:]])
            elif key == "command" and isinstance(value, list) and value[:2] == ["sh", "-c"] and len(value) > 2:
                out += jnlpdiag_commands(str(value[2]))
            elif key == "args" and isinstance(value, list):
                for script in value:
                    out += jnlpdiag_commands(str(script))
            else:
                out += exec_commands(value)
    elif isinstance(doc, list):
        for item in doc:
            out += exec_commands(item)
    return out


@pytest.mark.parametrize("path", sorted((EXAMPLES / "kubernetes").glob("*.yaml")), ids=lambda p: p.name)
def test_kubernetes_manifests_parse_and_their_commands_are_valid(path):
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    assert docs and all({"apiVersion", "kind", "metadata", "spec"} <= set(d) for d in docs)
    commands = [c for d in docs for c in exec_commands(d)]
    assert commands, f"{path.name} runs no jnlpdiag command"
    parser, _ = build_parser()
    for argv in commands:
        parser.parse_args(argv)  # exits (SystemExit) on an unknown flag or bad value


def test_jenkinsfile_commands_are_valid():
    text = (EXAMPLES / "jenkins" / "Jenkinsfile").read_text()
    commands = jnlpdiag_commands(text)
    assert any(c[0] == "check" and "junit" in c for c in commands)
    parser, _ = build_parser()
    for argv in commands:
        if argv[0] in ("check",):
            parser.parse_args(argv)


def test_every_probe_has_a_section_in_docs_probes():
    """docs/probes.md documents each registered probe (a new probe without docs fails here)."""
    from jnlpdiag.registry import load_probes

    text = (EXAMPLES.parent / "probes.md").read_text()
    probes, errors = load_probes()
    assert not errors
    missing = [p.id for p in probes if f"\n## {p.id}\n" not in text]
    assert not missing, f"docs/probes.md has no section for {missing}"
