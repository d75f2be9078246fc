"""Read agent.jar's command-line options the way remoting's args4j parser sees them.

Source: jenkinsci/remoting ``src/main/java/hudson/remoting/Launcher.java`` (the ``@Option`` list,
commit fa5f12a8447d0f75e6d17d6b451a60c5e33ec09a) and ``docs/inbound-agent.md`` (the ``@file``
convention and the deprecated positional ``<secret> <name>`` form).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Options that take a value, with their aliases mapped to one canonical name (Launcher.java).
_VALUE_OPTIONS = {
    "-url": "-url",
    "-name": "-name",
    "-secret": "-secret",
    "-tunnel": "-tunnel",
    "-direct": "-direct",
    "-directConnection": "-direct",
    "-instanceIdentity": "-instanceIdentity",
    "-protocols": "-protocols",
    "-workDir": "-workDir",
    "-internalDir": "-internalDir",
    "-jnlpUrl": "-jnlpUrl",
    "-cert": "-cert",
    "-credentials": "-credentials",
    "-jnlpCredentials": "-credentials",
    "-proxyCredentials": "-proxyCredentials",
    "-agentLog": "-agentLog",
    "-loggingConfig": "-loggingConfig",
    "-jar-cache": "-jar-cache",
    "-noReconnectAfter": "-noReconnectAfter",
    "-webSocketHeader": "-webSocketHeader",
}
_FLAG_OPTIONS = {
    "-webSocket": "-webSocket",
    "-noCertificateCheck": "-noCertificateCheck",
    "-disableHttpsCertValidation": "-noCertificateCheck",
    "-noReconnect": "-noReconnect",
    "-noreconnect": "-noReconnect",
    "-noKeepAlive": "-noKeepAlive",
    "-failIfWorkDirIsMissing": "-failIfWorkDirIsMissing",
    "-headless": "-headless",
}
# Values that are credentials: never kept in the redacted argv.
_SECRET_OPTIONS = {"-secret", "-credentials", "-proxyCredentials"}
_MAX_AT_FILE = 64 * 1024


@dataclass
class AgentArgs:
    """Options of one agent.jar invocation. ``values`` maps a canonical option to its values."""

    values: dict[str, list[str]] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    positional: list[str] = field(default_factory=list)
    redacted_argv: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)

    def first(self, option: str) -> str | None:
        vals = self.values.get(option)
        return vals[0] if vals else None

    @property
    def secret(self) -> str | None:
        # The positional form is `<secret> <name>` (deprecated but still accepted).
        return self.first("-secret") or (self.positional[0] if len(self.positional) >= 2 else None)

    @property
    def name(self) -> str | None:
        return self.first("-name") or (self.positional[1] if len(self.positional) >= 2 else None)

    def options_present(self) -> list[str]:
        return sorted(set(self.values) | self.flags)


def _expand_at_file(value: str) -> str:
    """args4j replaces ``@path`` by the file's contents (remoting docs/inbound-agent.md)."""
    if not value.startswith("@"):
        return value
    try:
        with open(Path(value[1:]), "rb") as fh:
            return fh.read(_MAX_AT_FILE).decode("utf-8", "replace").strip()
    except OSError:
        return value


def parse_agent_args(argv: list[str]) -> AgentArgs:
    """Parse the arguments that follow ``-jar agent.jar`` (or the main class)."""
    out = AgentArgs()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _VALUE_OPTIONS and i + 1 < len(argv):
            canon = _VALUE_OPTIONS[arg]
            raw = argv[i + 1]
            value = _expand_at_file(raw)
            out.values.setdefault(canon, []).append(value)
            out.redacted_argv.append(arg)
            if canon in _SECRET_OPTIONS:
                out.secrets.append(value)
                out.redacted_argv.append("<redacted>")
            else:
                out.redacted_argv.append(raw)
            i += 2
            continue
        if arg in _FLAG_OPTIONS:
            out.flags.add(_FLAG_OPTIONS[arg])
            out.redacted_argv.append(arg)
        elif arg.startswith("-"):
            out.redacted_argv.append(arg)  # an option we do not model; kept as is
        else:
            out.positional.append(arg)
            # The first positional is the secret in the deprecated `<secret> <name>` form.
            out.redacted_argv.append("<redacted>" if len(out.positional) == 1 else arg)
        i += 1
    if len(out.positional) >= 2:
        out.secrets.append(out.positional[0])
    # Whatever follows a literal -secret/-credentials/-proxyCredentials is redacted even when the
    # parse above read it otherwise (e.g. "-agentLog -secret X": args4j-style, -secret became the
    # log path). redacted_argv has one entry per argv token, so positions line up.
    for i, token in enumerate(argv[:-1]):
        if token in _SECRET_OPTIONS and out.redacted_argv[i + 1] != "<redacted>":
            out.redacted_argv[i + 1] = "<redacted>"
            out.secrets.append(_expand_at_file(argv[i + 1]))
    return out
