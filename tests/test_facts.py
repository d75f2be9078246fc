"""Typed facts between probes: the producer's Facts class is the contract, and docs/probes.md says
exactly what each probe publishes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from jnlpdiag.findings import Finding, Layer, Status
from jnlpdiag.options import RunOptions
from jnlpdiag.probe_api import Context, Facts, Probe, probe
from jnlpdiag.registry import load_probes
from jnlpdiag.runner import run_sync
from jnlpdiag.settings import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs" / "probes.md"


@dataclass
class ClockFacts(Facts):
    skew_s: float | None = None
    source: str | None = None


class ClockProbe(Probe[ClockFacts]):
    id = "test.clock"
    layer = Layer.HOST
    description = "publishes typed facts"

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        ctx.publish(skew_s=1.5)
        ctx.publish(source="test")
        yield ctx.finding(self.id, Status.PASS, "published")


class Reader(Probe):
    id = "test.reader"
    layer = Layer.HOST
    description = "reads typed facts"
    after = ("test.clock",)

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        facts = ctx.facts(ClockProbe)
        yield ctx.finding(self.id, Status.PASS, "read", evidence={
            "type": type(facts).__name__, "skew": facts.skew_s, "source": facts.source,
            "raw": ctx.facts("test.clock"), "url": ctx.jenkins_url()})


class Typo(Probe[ClockFacts]):
    id = "test.typo"
    layer = Layer.HOST
    description = "publishes a name its facts type does not have"

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        ctx.publish(skew=3)
        yield ctx.finding(self.id, Status.PASS, "unreachable")


def test_a_reader_gets_the_producers_typed_facts() -> None:
    report = run_sync([ClockProbe, Reader], Settings(url="http://jenkins.invalid/", run=RunOptions(timeout=2)))
    ev = next(f for f in report.findings if f.id == "test.reader").evidence
    assert ev == {"type": "ClockFacts", "skew": 1.5, "source": "test", "raw": {"skew_s": 1.5, "source": "test"},
                  "url": "http://jenkins.invalid/"}


def test_facts_of_a_probe_that_did_not_run_are_the_defaults() -> None:
    report = run_sync([Reader], Settings(run=RunOptions(timeout=2)))
    ev = next(f for f in report.findings if f.id == "test.reader").evidence
    assert (ev["type"], ev["skew"], ev["source"], ev["raw"], ev["url"]) == ("ClockFacts", None, None, {}, None)


def test_publishing_a_name_outside_the_facts_type_is_a_probe_bug() -> None:
    report = run_sync([Typo], Settings(run=RunOptions(timeout=2)))
    (finding,) = report.findings
    assert finding.status is Status.ERROR and "skew" in finding.detail and "ClockFacts" in finding.detail


def test_function_probes_declare_facts_too() -> None:
    @probe(id="test.fn", layer="host", description="d", facts=ClockFacts)
    async def fn(ctx: Context) -> AsyncIterator[Finding]:
        yield ctx.finding("test.fn", Status.PASS, "ok")

    assert fn.facts_type is ClockFacts
    with pytest.raises(TypeError, match="declares no Facts type"):
        Context.facts(None, Reader)  # type: ignore[arg-type]


def _published_in_docs() -> dict[str, set[str]]:
    """probe id -> the names its section's "Publishes ..." paragraph lists."""
    out: dict[str, set[str]] = {}
    for section in re.split(r"^## ", DOCS.read_text(), flags=re.M)[1:]:
        title, _, body = section.partition("\n")
        m = re.search(r"Publishes\b(.*?)(?:\n\n|$)", body, flags=re.S)
        if m:
            out[title.strip()] = set(re.findall(r"`([a-z_]+)`", m.group(1)))
    return out


def test_docs_list_exactly_the_fields_of_each_facts_type() -> None:
    probes, errors = load_probes()
    assert not errors
    documented = _published_in_docs()
    typed = {p.id: set(p.facts_type.names()) for p in probes if p.facts_type is not None}
    assert typed, "the built-in producers declare Facts types"
    assert {pid: documented.get(pid) for pid in typed} == typed
    assert set(documented) <= set(typed), "a probe without a Facts type is documented as publishing"


# -- ctx.jenkins_url(): a role the producer's Facts type declares, never a probe id the core knows --


@dataclass
class FoundUrlFacts(Facts):
    jenkins_url_field: ClassVar[str] = "found"

    found: str | None = None


class UrlFinder(Probe[FoundUrlFacts]):
    id = "test.urlfinder"
    layer = Layer.NETWORK
    description = "publishes the Jenkins URL under a role, with an id the core cannot know"

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        ctx.publish(found="https://found.invalid/jenkins/")
        yield ctx.finding(self.id, Status.PASS, "found")


@dataclass
class PlainUrlFacts(Facts):
    url: str | None = None


class NotDiscovery(Probe[PlainUrlFacts]):
    id = "discovery"  # the built-in's id, but its Facts declare no Jenkins URL role
    layer = Layer.NETWORK
    description = "publishes a url field without declaring it the Jenkins URL"

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        ctx.publish(url="https://impostor.invalid/")
        yield ctx.finding(self.id, Status.PASS, "published")


class UrlReader(Probe):
    id = "test.urlreader"
    layer = Layer.HOST
    description = "reads ctx.jenkins_url()"
    after = ("test.urlfinder", "discovery")

    async def run(self, ctx: Context) -> AsyncIterator[Finding]:
        yield ctx.finding(self.id, Status.PASS, "read", evidence={"url": ctx.jenkins_url()})


def _url_read(probes: list[type[Probe]], url: str | None = None) -> object:
    report = run_sync([*probes, UrlReader], Settings(url=url, run=RunOptions(timeout=2)))
    return next(f for f in report.findings if f.id == "test.urlreader").evidence["url"]


def test_jenkins_url_comes_from_the_facts_field_declared_for_it() -> None:
    assert _url_read([UrlFinder]) == "https://found.invalid/jenkins/"
    assert _url_read([UrlFinder], url="https://given.invalid/") == "https://given.invalid/"  # settings first


def test_jenkins_url_is_not_read_by_probe_id() -> None:
    assert _url_read([NotDiscovery]) is None
    assert _url_read([NotDiscovery, UrlFinder]) == "https://found.invalid/jenkins/"


def test_discovery_declares_the_jenkins_url_role() -> None:
    from jnlpdiag.probes.discovery import DiscoveryFacts

    assert DiscoveryFacts.jenkins_url_field == "url" and "url" in DiscoveryFacts.names()
    assert "jenkins_url_field" not in DiscoveryFacts.names()  # a role, not a published fact


def test_the_core_names_no_builtin_probe_id() -> None:
    # The core never knows a probe by name: no built-in probe id as a string literal in the probe API
    # or the runner (where ctx.jenkins_url() and the facts live).
    import ast

    import jnlpdiag.probe_api
    import jnlpdiag.runner

    ids = {p.id for p in load_probes()[0]}
    for module in (jnlpdiag.probe_api, jnlpdiag.runner):
        tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
        literals = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        assert not literals & ids, (module.__name__, sorted(literals & ids))
