"""Commands in the TUI wrap between words under a hanging indent, never inside a word or at column 0."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from jnlpdiag.findings import Finding, Fix, Layer, Status
from jnlpdiag.tui.widgets.root_causes import root_option

COMMAND = ('export JAVA_OPTS="$JAVA_OPTS -Djava.io.tmpdir=/home/jenkins/tmp '
           '-Djdk.tls.client.protocols=TLSv1.3,TLSv1.2 -Dhudson.remoting.Launcher.pingIntervalSec=300"')


def lines_at(renderable, width: int) -> list[str]:
    console = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    console.print(renderable)
    return console.file.getvalue().rstrip("\n").split("\n")


@pytest.mark.parametrize("width", [76, 60])  # the root panel at 80 columns and narrower
def test_root_cause_title_and_command_wrap_under_a_hanging_indent(width):
    f = Finding("tls.java", "tls.java", Layer.PROTOCOL, Status.FAIL,
                "The agent's JVM allows only TLS 1.2; the controller accepts only TLS 1.3 and nothing else",
                fixes=[Fix("Let the JVM offer TLS 1.3", commands=(COMMAND,))])
    lines = lines_at(root_option(f, "▸ ", 2, False), width)
    assert all(len(line.rstrip()) <= width for line in lines)
    fix_at = next(i for i, line in enumerate(lines) if "fix: $" in line)
    indent = lines[0].index("[protocol]")
    for line in lines[1:fix_at] + lines[fix_at + 1:]:
        assert line[:indent].strip() == "", line  # wrapped text stays under the text, not at column 0
    shown = [w for line in lines[fix_at:] for w in line.split()]
    for word in COMMAND.split():
        assert word in shown, (word, lines)  # every word of the command whole on one line
