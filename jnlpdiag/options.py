"""Options a probe declares for itself, as an sslyze plug-in declares its CLI connector.

A probe lists :class:`Option` objects in its ``options``; every command that runs checks offers
them as flags (``--java-check``), ``jnlpdiag probes`` lists them, and the probe reads the value with
``ctx.option("java_check")``: the default when the flag was not given. The core knows no option by
name; values travel in :class:`RunOptions`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

KINDS = ("text", "choice", "seconds", "paths")


@dataclass(frozen=True)
class Option:
    """One flag of one probe. ``name`` is what the probe reads; the flag is ``--`` + name with dashes.

    ``kind``: ``text`` (one value), ``choice`` (one of ``choices``), ``seconds`` (a duration, more
    than 0 and at most an hour), ``paths`` (repeatable; a list). ``extends_deadline``: the run's
    deadline grows by this duration (the probe waits that long on purpose, e.g. ``--hold``).
    """

    name: str
    help: str
    kind: str = "text"
    default: Any = None
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    extends_deadline: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"option {self.name}: kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not self.name.isidentifier() or self.name != self.name.lower():
            raise ValueError(f"option name {self.name!r}: use lower_case_words (the flag is --lower-case-words)")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"option {self.name}: a choice needs choices")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def describe(self) -> dict[str, Any]:
        return {"flag": self.flag, "name": self.name, "kind": self.kind, "default": self.default,
                "choices": list(self.choices), "help": self.help}


@dataclass
class RunOptions:
    """How to run, as opposed to what the agent is (:class:`~jnlpdiag.settings.Settings`): time
    budget, tracebacks, consent to send the secret, and the values of probe-declared options."""

    timeout: float = 10.0
    deadline: float | None = None
    debug: bool = False
    auth_check: bool = False
    probe_options: dict[str, Any] = field(default_factory=dict)  # Option.name -> value given
    origins: dict[str, str] = field(default_factory=dict)

    def origin(self, name: str) -> str:
        return self.origins.get(name, "default")

    def value(self, option: Option) -> Any:
        return self.probe_options.get(option.name, option.default)

    def public_dict(self, probes: Iterable[Any] = ()) -> dict[str, Any]:
        """Set values with their origins, as :meth:`Settings.public_dict` writes them; the options of
        ``probes`` (probe classes) with their defaults too."""
        out: dict[str, Any] = {"timeout": {"value": self.timeout, "origin": self.origin("timeout")}}
        for name in ("deadline", "auth_check"):
            value = getattr(self, name)
            if value not in (None, False) or name in self.origins:
                out[name] = {"value": value, "origin": self.origin(name)}
        values = {o.name: self.value(o) for _probe, o in declared(probes)}
        values.update(self.probe_options)
        for name, value in values.items():
            if value not in (None, [], (), False):
                out[name] = {"value": list(value) if isinstance(value, tuple) else value, "origin": self.origin(name)}
        return out


def declared(probes: Iterable[Any]) -> list[tuple[str, Option]]:
    """(probe id, option) for every option of these probe classes, in their order."""
    return [(p.id, o) for p in probes for o in getattr(p, "options", ())]
