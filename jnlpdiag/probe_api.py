"""The plug-in API: what a probe is and what it gets to work with.

A probe is a class (or an async generator function wrapped by :func:`probe`) with an ``id``, a
``layer``, a one-line ``description``, the probes it ``requires`` (it is skipped when one of them
did not succeed) or merely runs ``after`` (it waits and reads their facts, but runs regardless),
and an async ``run(ctx)`` that yields :class:`~jnlpdiag.findings.Finding` objects.

What a probe shares with later ones is its :class:`Facts` dataclass, named in its base class
(``class DiscoveryProbe(Probe[DiscoveryFacts])``): it publishes fields of it with
``ctx.publish(name=value)`` and others read the typed instance with ``ctx.facts(DiscoveryProbe)``.
A probe may declare its own command-line :class:`Option` objects (``options``) and read their
values with ``ctx.option(name)``.

Probes are found through the entry-point group ``jnlpdiag.probes``; built-in probes are registered
there exactly as a third-party probe is (see ``docs/examples/``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, get_args, get_origin, overload

from jnlpdiag.findings import Finding, Fix, Layer, Status
from jnlpdiag.options import Option

__all__ = ["Context", "DeadlineExceeded", "Facts", "Option", "Probe", "RunState", "probe"]

if TYPE_CHECKING:
    from jnlpdiag.agent import AgentView
    from jnlpdiag.settings import Settings


_MAX_TITLE = 300


class DeadlineExceeded(TimeoutError):
    """The run's deadline has passed; no further network step may start."""


class Facts:
    """Base of a probe's facts: subclass it as a ``@dataclass`` whose fields (all with defaults) are
    what the probe publishes. Readers get an instance: the defaults where nothing was published.

    A Facts type may also declare a role the core reads without knowing the probe:
    ``jenkins_url_field`` names the field holding the Jenkins URL the agent reached (read by
    :meth:`Context.jenkins_url`)."""

    jenkins_url_field: ClassVar[str | None] = None

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]


F = TypeVar("F", bound=Facts)


@dataclass
class RunState:
    """What all probes of one run share: settings, the agent, time budget, published facts, findings."""

    settings: Settings
    timeout: float
    deadline: float  # time.monotonic() value
    agent: AgentView
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)  # probe id -> what it published
    facts_types: dict[str, type[Facts]] = field(default_factory=dict)  # probe id -> its Facts type
    findings: list[Finding] = field(default_factory=list)


class Context:
    """What a probe receives: the run's settings and time budget, and earlier probes' facts.

    One Context per probe, so that :meth:`finding` and :meth:`publish` know who is speaking.
    """

    # Reserve a sliver of the run's deadline so a step's own timeout fires first and the probe can
    # report precisely what timed out, instead of being cut by the runner; at least _RESERVE_MIN
    # (a tenth of a very short timeout), which also leaves probes that wait for this one the time to report why they stop.
    _RESERVE_FRACTION = 0.03
    _RESERVE_MIN = 0.15

    def __init__(self, state: RunState, probe_id: str, layer: Layer, rests_on: tuple[str, ...] = (),
                 facts_type: type[Facts] | None = None, options: tuple[Option, ...] = ()) -> None:
        self._state = state
        self.probe_id = probe_id
        self.layer = layer
        self.rests_on = rests_on
        self._facts_type = facts_type
        self._options = {o.name: o for o in options}
        self._started = time.monotonic()

    @property
    def settings(self) -> Settings:
        return self._state.settings

    @property
    def agent(self) -> AgentView:
        """The agent every probe judges: its environment, JVM, options and routes (one per run)."""
        return self._state.agent

    @property
    def timeout(self) -> float:
        """The per-step timeout the user asked for (``--timeout``)."""
        return self._state.timeout

    def option(self, name: str) -> Any:
        """The value of one of this probe's own options (``Probe.options``): as given, else its default."""
        try:
            declared = self._options[name]
        except KeyError:
            raise KeyError(f"{self.probe_id} declares no option {name!r}") from None
        return self.settings.run.value(declared)

    def remaining(self) -> float:
        """Seconds left before the run's deadline."""
        return self._state.deadline - time.monotonic()

    def reserve(self) -> float:
        """Seconds every step leaves before the run's deadline (see ``_RESERVE_*``)."""
        t = self._state.timeout
        return min(0.5, max(min(self._RESERVE_MIN, t * 0.1), t * self._RESERVE_FRACTION))

    def step_timeout(self, cap: float | None = None) -> float:
        """The timeout for the next network step: ``--timeout``, never past the run's deadline.

        Raises :class:`DeadlineExceeded` when no time is left at all.
        """
        left = self.remaining() - self.reserve()
        if left <= 0.01:
            raise DeadlineExceeded(f"run deadline reached before {self.probe_id} could start a step")
        limit = min(self._state.timeout, left)
        return min(limit, cap) if cap is not None else limit

    @overload
    def facts(self, source: type[Probe[F]]) -> F: ...

    @overload
    def facts(self, source: str) -> dict[str, Any]: ...

    def facts(self, source: type[Probe[Any]] | str) -> Any:
        """What another probe published: ``ctx.facts(DiscoveryProbe)`` gives its typed facts (defaults
        where it published nothing or did not run); ``ctx.facts("id")`` the raw dict, for a probe
        without a :class:`Facts` type."""
        if isinstance(source, str):
            return dict(self._state.facts.get(source, {}))
        kind = source.facts_type
        if kind is None:
            raise TypeError(f"probe {source.id} declares no Facts type; read ctx.facts({source.id!r})")
        return kind(**self._state.facts.get(source.id, {}))

    def jenkins_url(self) -> str | None:
        """The Jenkins URL the agent uses: the settings', else the one a probe published in the field
        its Facts type declares as ``jenkins_url_field`` (discovery's: the URL after redirects;
        ``-direct`` agents have none)."""
        if self.settings.url:
            return self.settings.url
        for probe_id, kind in self._state.facts_types.items():
            if kind.jenkins_url_field:
                url = self._state.facts.get(probe_id, {}).get(kind.jenkins_url_field)
                if url:
                    return str(url)
        return None

    def publish(self, **facts: Any) -> None:
        """Share facts with later probes: fields of this probe's :class:`Facts` type."""
        if self._facts_type is not None:
            unknown = sorted(set(facts) - set(self._facts_type.names()))
            if unknown:
                raise TypeError(f"{self.probe_id} publishes {', '.join(unknown)}, "
                                f"not fields of {self._facts_type.__name__}")
        self._state.facts.setdefault(self.probe_id, {}).update(facts)

    def findings_of(self, probe_id: str) -> list[Finding]:
        return [f for f in self._state.findings if f.probe == probe_id]

    def failure_of(self, probe_id: str) -> str | None:
        """Id of the root cause behind ``probe_id``'s first fail/error finding, or None if it had none.

        For a probe that runs ``after`` another and must skip when that one failed.
        """
        from jnlpdiag.findings import resolve_root

        for f in self.findings_of(probe_id):
            if f.status in (Status.FAIL, Status.ERROR):
                return resolve_root(f.id, self._state.findings)
        return None

    def finding(
        self,
        id: str,
        status: Status | str,
        title: str,
        detail: str = "",
        evidence: dict[str, Any] | None = None,
        fixes: Iterable[Fix] = (),
        caused_by: str | None = None,
        rests_on: Iterable[str] | None = None,
        breaks: Iterable[str] = (),
        informational: bool = False,
    ) -> Finding:
        """Make a finding of this probe; ``duration_ms`` counts from the probe's start.

        ``rests_on`` defaults to the probe's own ``rests_on``; ``breaks`` names the premises a
        failure disproves; the runner folds later failures resting on them under it (findings.fold).
        """
        # Titles often quote outside text (a server's status line, a JVM's message): keep them one
        # line and bounded, whatever that text holds.
        title = " ".join(title.split())
        if len(title) > _MAX_TITLE:
            title = title[: _MAX_TITLE - 1] + "…"
        return Finding(
            id=id,
            probe=self.probe_id,
            layer=self.layer,
            status=Status(status),
            title=title,
            detail=detail,
            evidence=evidence or {},
            fixes=list(fixes),
            caused_by=caused_by,
            duration_ms=(time.monotonic() - self._started) * 1000.0,
            rests_on=tuple(self.rests_on if rests_on is None else rests_on),
            breaks=tuple(breaks),
            informational=informational,
        )


class Probe(Generic[F]):
    """Base class of a probe. Subclasses set the class attributes and implement ``run``.

    ``Probe[MyFacts]`` names the :class:`Facts` type the probe publishes (``facts_type``).
    """

    id: ClassVar[str]
    layer: ClassVar[Layer]
    description: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()
    after: ClassVar[tuple[str, ...]] = ()
    # Premises every finding of this probe rests on unless it says otherwise (model.PREMISES).
    rests_on: ClassVar[tuple[str, ...]] = ()
    facts_type: ClassVar[type[Facts] | None] = None
    options: ClassVar[tuple[Option, ...]] = ()  # its own command-line flags (ctx.option(name))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in cls.__dict__.get("__orig_bases__", ()):
            args = get_args(base)
            if get_origin(base) is Probe and args and isinstance(args[0], type) and issubclass(args[0], Facts):
                cls.facts_type = args[0]

    def run(self, ctx: Context) -> AsyncIterator[Finding]:
        raise NotImplementedError


ProbeFunction = Callable[[Context], AsyncIterator[Finding]]


def probe(
    *,
    id: str,
    layer: Layer | str,
    description: str,
    requires: Iterable[str] = (),
    after: Iterable[str] = (),
    rests_on: Iterable[str] = (),
    facts: type[Facts] | None = None,
    options: Iterable[Option] = (),
) -> Callable[[ProbeFunction], type[Probe]]:
    """Turn an async generator function ``f(ctx)`` into a probe class (for small plug-ins)."""

    def wrap(fn: ProbeFunction) -> type[Probe]:
        attrs = {
            "id": id,
            "layer": Layer(layer),
            "description": description,
            "requires": tuple(requires),
            "after": tuple(after),
            "rests_on": tuple(rests_on),
            "facts_type": facts,
            "options": tuple(options),
            "run": lambda self, ctx: fn(ctx),
            "__doc__": fn.__doc__,
            "__module__": fn.__module__,
        }
        return type(fn.__name__, (Probe,), attrs)

    return wrap
