"""Find probes through the ``jnlpdiag.probes`` entry-point group (built-ins and plug-ins alike)."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from importlib.metadata import EntryPoint

from jnlpdiag.probe_api import Probe
from jnlpdiag.pycompat import entry_points_in

GROUP = "jnlpdiag.probes"


@dataclass
class LoadError:
    entry_point: str
    reason: str


def probe_names() -> list[str]:
    """Names of the registered probe entry points (built-ins are named after their probe id), without
    importing any probe."""
    return sorted({ep.name for ep in entry_points_in(GROUP)})


def load_probes(only: list[str] | None = None) -> tuple[list[type[Probe]], list[LoadError]]:
    """Every registered probe class, sorted by id, plus the entry points that failed to load.

    ``only`` (``--probe`` globs): import just the entry points whose name matches, and what they
    require, instead of every probe module (most of a ``--probe X`` run's start-up time). Entry
    points are named after their probe id; when a glob or a requirement matches no entry-point
    name (a plug-in named otherwise), every probe is loaded as without ``only``.
    """
    all_eps = entry_points_in(GROUP)
    if only:
        picked = _pick(all_eps, only)
        if picked is not None:
            return _load(picked)
    return _load(all_eps)


def _pick(eps: list[EntryPoint], patterns: list[str]) -> list[EntryPoint] | None:
    by_name = {ep.name: ep for ep in eps}
    if not all(any(fnmatch.fnmatchcase(name, pat) for name in by_name) for pat in patterns):
        return None
    names = {name for name in by_name if any(fnmatch.fnmatchcase(name, pat) for pat in patterns)}
    todo = list(names)
    while todo:
        try:
            obj = by_name[todo.pop()].load()
        except Exception:
            continue  # reported by _load
        for dep in getattr(obj, "requires", ()):
            if dep not in by_name:
                return None
            if dep not in names:
                names.add(dep)
                todo.append(dep)
    return [by_name[n] for n in sorted(names)]


def _load(eps: list[EntryPoint]) -> tuple[list[type[Probe]], list[LoadError]]:
    probes: dict[str, type[Probe]] = {}
    errors: list[LoadError] = []
    for ep in eps:
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plug-in must not take the tool down
            errors.append(LoadError(ep.name, f"{type(exc).__name__}: {exc}"))
            continue
        if not (isinstance(obj, type) and issubclass(obj, Probe)):
            errors.append(LoadError(ep.name, "entry point is not a jnlpdiag.probe_api.Probe subclass"))
            continue
        if obj.id in probes and probes[obj.id] is not obj:
            errors.append(LoadError(ep.name, f"duplicate probe id {obj.id!r}"))
            continue
        probes[obj.id] = obj
    return [probes[k] for k in sorted(probes)], errors


def select(probes: list[type[Probe]], include: list[str], exclude: list[str]) -> list[type[Probe]]:
    """Apply ``--probe`` / ``--skip`` globs. Probes a selected probe requires are pulled in too.

    A required probe that was not asked for still runs, because its facts are needed; it is the
    user's ``--skip`` that can remove it (then its dependents are skipped with that reason).
    """
    by_id = {p.id: p for p in probes}

    def matches(pid: str, patterns: list[str]) -> bool:
        return any(fnmatch.fnmatchcase(pid, pat) for pat in patterns)

    chosen = {p.id for p in probes if (not include or matches(p.id, include))}
    stack = list(chosen)
    while stack:
        for dep in by_id[stack.pop()].requires:
            if dep in by_id and dep not in chosen and not matches(dep, exclude):
                chosen.add(dep)
                stack.append(dep)
    return [p for p in probes if p.id in chosen and not matches(p.id, exclude)]
