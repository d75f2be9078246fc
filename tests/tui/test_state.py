"""The TUI's model without a screen: redaction at the door, ordering, partial re-runs, form checks."""

from __future__ import annotations

import pytest

from jnlpdiag.findings import Finding, Fix, Layer, Status
from jnlpdiag.probe_api import Probe
from jnlpdiag.redact import Redactor
from jnlpdiag.run_report import Report
from jnlpdiag.runner import FindingEmitted, ProbeFinished, ProbeQueued, ProbeStarted, RunFinished
from jnlpdiag.settings import Settings
from jnlpdiag.tui import edits
from jnlpdiag.tui.state import DONE, RUNNING, RunView, dependency_order, probe_status

SECRET = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


def probe_cls(pid: str, layer: Layer, requires: tuple[str, ...] = (), after: tuple[str, ...] = ()) -> type[Probe]:
    return type(pid, (Probe,), {"id": pid, "layer": layer, "description": pid, "requires": requires, "after": after})


def finding(fid: str, probe: str, status: Status = Status.PASS, layer: Layer = Layer.PROTOCOL, **kw) -> Finding:
    fixes = kw.pop("fixes", [Fix("fix it", steps=("do it",))] if status.needs_fix else [])
    return Finding(fid, probe, layer, status, kw.pop("title", fid), fixes=fixes, **kw)


def report_of(findings: list[Finding]) -> Report:
    return Report(findings=findings, settings={}, started_at="", duration_ms=1.0)


def test_a_leaking_probe_cannot_put_the_secret_or_escapes_on_screen_but_the_export_keeps_its_text():
    model = RunView(Redactor([SECRET]))
    leaky = finding("leak", "p", Status.FAIL, title=f"secret {SECRET} \x1b[2J",
                    detail=f"Secret-Key: {SECRET}\x1b]52;c;eHg=\x07", evidence={"hdr": {"Secret-Key": SECRET}},
                    fixes=[Fix("retype", steps=(f"echo {SECRET} > secret-file",))])
    model.apply(ProbeQueued("p", "protocol", "p"))
    model.apply(FindingEmitted(leaky))
    shown = model.findings[0]
    blob = repr(shown.to_dict())
    assert SECRET not in blob and "\x1b" not in blob and "\x07" not in blob
    assert "<redacted>" in shown.title and "\\x1b" in shown.title
    model.apply(RunFinished(report_of([leaky])))
    exported = model.report.findings[0]
    assert exported is not shown and exported.detail == leaky.detail  # redaction happens in the writer


def test_probe_order_follows_layers_then_dependencies():
    probes = [probe_cls("z.first", Layer.PROTOCOL), probe_cls("a.after", Layer.PROTOCOL, requires=("z.first",)),
              probe_cls("net", Layer.NETWORK), probe_cls("host", Layer.HOST, after=("net",))]
    order = dependency_order(probes)
    assert sorted(order, key=order.get) == ["host", "net", "z.first", "a.after"]


def test_skip_only_probe_is_skip_not_pass():
    assert probe_status([finding("a", "p", Status.SKIP)]) is Status.SKIP
    assert probe_status([finding("a", "p", Status.SKIP), finding("b", "p", Status.WARN)]) is Status.WARN
    assert probe_status([finding("a", "p", Status.SKIP), finding("b", "p")]) is Status.PASS


def test_live_states_and_root_causes_in_probe_order_whatever_the_arrival_order():
    model = RunView()
    model.plan([probe_cls("tls", Layer.PROTOCOL), probe_cls("ws", Layer.PROTOCOL, after=("tls",)),
                probe_cls("disc", Layer.NETWORK)])
    assert [pv.phase for pv in model.ordered()] == ["queued"] * 3
    model.begin()
    model.apply(ProbeStarted("ws"))
    assert model.probes["ws"].phase == RUNNING and model.running
    model.apply(FindingEmitted(finding("ws", "ws", Status.FAIL)))  # arrives first
    model.apply(FindingEmitted(finding("tls", "tls", Status.FAIL)))
    model.apply(ProbeFinished("ws", Status.FAIL, 5.0))
    assert [f.id for f in model.root_causes()] == ["tls", "ws"]
    assert model.progress() == (1, 3)
    assert model.probes["ws"].phase == DONE and model.probes["ws"].word == "FAIL"


def test_partial_rerun_replaces_only_its_probes():
    model = RunView()
    model.plan([probe_cls("a", Layer.HOST), probe_cls("b", Layer.HOST)])
    model.begin()
    first = [finding("a", "a"), finding("b", "b", Status.FAIL)]
    for f in first:
        model.apply(FindingEmitted(f))
    model.apply(RunFinished(report_of(first)))
    model.begin({"b"})
    assert [f.id for f in model.findings] == ["a"] and model.probes["b"].phase == "queued"
    model.apply(FindingEmitted(finding("b", "b")))
    model.apply(RunFinished(report_of([finding("b", "b")])))
    assert {f.id: f.status for f in model.report.findings} == {"a": Status.PASS, "b": Status.PASS}
    assert model.runs == 2 and not model.root_causes()


@pytest.mark.parametrize("tunnel", ["jenkins:50000", "jenkins:", ":50000", "[::1]:50000"])
def test_tunnel_forms_agent_jar_accepts(tunnel):
    assert edits.validate({"tunnel": tunnel})["tunnel"] == tunnel


@pytest.mark.parametrize("values, message", [
    ({"tunnel": "jenkins"}, "expected HOST:PORT"),
    ({"tunnel": "jenkins:70000"}, "port must be 1-65535"),
    ({"url": "jenkins.example.com"}, "expected http(s)://"),
    ({"url": "https://j:99999/"}, "port is not a number"),
    ({"ca_file": "/nonexistent/ca.pem"}, "no such file"),
    ({"java": "/nonexistent/bin/java"}, "not an executable"),
    ({"name": "a\x1bb"}, "control characters"),
])
def test_form_refuses_what_agent_jar_would_refuse(values, message):
    with pytest.raises(edits.EditError, match=message.replace("(", r"\(").replace(")", r"\)")):
        edits.validate(values)


def test_java_must_be_executable(tmp_path):
    plain = tmp_path / "java"
    plain.write_text("not a program")
    plain.chmod(0o644)
    with pytest.raises(edits.EditError, match="not an executable"):
        edits.validate({"java": str(plain)})
    plain.chmod(0o755)
    assert edits.validate({"java": str(plain)})["java"] == str(plain)


def test_applied_edits_say_where_they_came_from():
    s = Settings(url="https://a/", name="n")
    s.origins = {"url": "env JENKINS_URL", "name": "flag --name"}
    new = edits.apply(s, edits.validate({"url": "https://b", "name": "n", "websocket": True}))
    assert (new.url, new.websocket) == ("https://b/", True)
    assert new.origin("url") == new.origin("websocket") == "edited in the TUI"
    assert new.origin("name") == "flag --name" and s.url == "https://a/"


def test_a_crash_report_has_no_locals_and_no_secret(capsys):
    import asyncio

    from jnlpdiag.settings import Secret
    from jnlpdiag.tui.app import JnlpdiagApp
    from jnlpdiag.tui.screens.live import LiveScreen

    class Broken(JnlpdiagApp):
        BINDINGS = [("b", "boom", "")]

        def action_boom(self) -> None:
            settings = self.settings  # a local a rich traceback would print  # noqa: F841
            raise RuntimeError(f"boom with {SECRET}")

    app = Broken(LiveScreen([], Settings(url="https://a/", secret=Secret(SECRET)), autostart=False))

    async def scenario() -> None:
        async with app.run_test() as pilot:
            await pilot.press("b")
            await pilot.pause(0.1)

    with pytest.raises(RuntimeError):
        asyncio.run(scenario())
    text = capsys.readouterr().err
    assert "the UI failed" in text and "boom with <redacted>" in text
    assert SECRET not in text and "settings = " not in text.split("Traceback")[0]
