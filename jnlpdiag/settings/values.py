"""Settings of one run, and where each value came from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from jnlpdiag.options import RunOptions

REDACTED = "<redacted>"


class Secret:
    """A value that must never be printed: ``str()``/``repr()`` give ``<redacted>``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return REDACTED

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass
class Settings:
    """The agent's configuration, each value with its origin; ``run`` holds how to run (time budget,
    --debug, --auth-check and the values of probe-declared options), which is not the agent's."""

    url: str | None = None
    name: str | None = None
    secret: Secret | None = None
    tunnel: str | None = None
    websocket: bool = False
    direct: str | None = None
    instance_identity: str | None = None
    protocols: list[str] = field(default_factory=list)
    workdir: str | None = None
    agent_jar: str | None = None
    java: str | None = None
    java_opts: str | None = None
    jnlp_url: str | None = None
    ca_file: str | None = None
    agent_certs: list[str] = field(default_factory=list)  # agent.jar -cert values
    no_certificate_check: bool = False
    client_cert: str | None = None
    client_key: str | None = None
    http_proxy: str | None = None
    https_proxy: str | None = None
    no_proxy: str | None = None
    proxy_host: str | None = None  # env proxy_host, read by remoting's WebSocket transport only
    run: RunOptions = field(default_factory=RunOptions)
    agent_pid: int | None = None
    agent_argv: list[str] = field(default_factory=list)  # agent command line; redact before output
    # agent.jar arguments as the agent would receive them (env/.jnlp/process), for conflict checks
    agent_options: list[str] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)

    def origin(self, name: str) -> str:
        return self.origins.get(name, "default")

    def secret_values(self) -> list[str]:
        """Every secret value known to this run, for the redactor: the agent secret and the key
        and trust store passwords of the agent's JVM options."""
        from jnlpdiag.jvm import jvm_option_words, system_properties  # jnlpdiag.jvm imports this module
        from jnlpdiag.tls.keystore import secret_values as store_passwords

        out = [self.secret.reveal()] if self.secret else []
        return out + store_passwords(system_properties(jvm_option_words(self)))

    def public_dict(self, probes: Iterable[Any] = ()) -> dict[str, Any]:
        """The settings for output: every set value with its origin; secrets as ``<redacted>``; and
        the options of ``probes`` (probe classes), defaults included: they say how each probe ran."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "run":
                out.update(self.run.public_dict(probes))
                continue
            if f.name in ("origins", "agent_options"):
                continue
            value = getattr(self, f.name)
            if value in (None, [], False) and f.name not in self.origins:
                continue
            if isinstance(value, Secret):
                value = REDACTED
            out[f.name] = {"value": value, "origin": self.origin(f.name)}
        return out
