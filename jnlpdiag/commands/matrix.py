"""``jnlpdiag matrix``: the compatibility verdict for given versions, without any network.

With versions: which rules of the compatibility data fire, with fixes and sources; exit 0 pass,
1 warn, 2 fail, 3 usage error (as ``check``). Without: the supported combinations of recent LTS lines.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

NAME = "matrix"
HELP = "compatibility verdict for given Jenkins / remoting / Java / kubernetes-plugin / image versions (no network)"
ORDER = 30

# flag dest -> fact
_FLAGS = {
    "jenkins": "jenkins", "remoting": "remoting", "java": "agent_java", "kubernetes_plugin": "kubernetes_plugin",
    "agent_image": "agent_image", "controller_java": "controller_java",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    v = parser.add_argument_group("versions (any subset; none prints the supported-combinations table)")
    v.add_argument("--jenkins", metavar="V", help="Jenkins version, weekly 2.N or LTS 2.N.M (X-Jenkins)")
    v.add_argument("--remoting", metavar="V", help="agent.jar (remoting) version: 4.13.3 or 3107.v665000b_51092")
    v.add_argument("--java", metavar="V", help="agent Java: 11, 17.0.15+6, 1.8.0_292, or `java -version` output")
    v.add_argument("--kubernetes-plugin", metavar="V", help="kubernetes-plugin version: 1.31.3 or 4423.vb_59f230b_ce53")
    v.add_argument("--agent-image", metavar="TAG",
                   help="agent image or inbound-agent tag, e.g. 3355.v388858a_47b_33-3-jdk21")
    v.add_argument("--controller-java", metavar="V", help="Java the controller runs on")
    v.add_argument("--websocket", action="store_true", help="the agent connects with -webSocket (default: TCP)")
    v.add_argument("--set", action="append", default=[], metavar="FACT=VALUE",
                   help="any other input fact of the data file, e.g. tls=true, java_web_start=true (repeatable)")
    out = parser.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="print one JSON document (schema jnlpdiag.matrix/1)")
    out.add_argument("--all", action="store_true", help="table: every LTS line, not only recent ones")
    out.add_argument("--data", metavar="FILE", help="use this compatibility data file instead of the packaged one")


def _usage(message: str) -> int:
    from jnlpdiag.run_report import EXIT_ERROR

    print(f"jnlpdiag matrix: {message}", file=sys.stderr)
    return EXIT_ERROR


def run(args: argparse.Namespace) -> int:
    from jnlpdiag.compat import DataError, InputError, evaluate, load_data, observe
    from jnlpdiag.run_report import EXIT_ERROR
    from jnlpdiag.versions import VersionError, parse_java_version

    try:
        data = load_data(args.data)
    except DataError as exc:
        return _usage(f"invalid compatibility data: {exc}")
    inputs: dict[str, Any] = {}
    for dest, fact in _FLAGS.items():
        raw = getattr(args, dest)
        if raw is None:
            continue
        flag = f"--{dest.replace('_', '-')}"
        try:
            inputs[fact] = observe(data, fact, raw, flag)
            if fact == "agent_java":
                inputs["agent_java_version"] = observe(data, "agent_java_version", parse_java_version(raw).raw, flag)
        except (InputError, VersionError) as exc:
            return _usage(f"{flag}: {str(exc).removeprefix(fact + ': ')}")
    try:
        for item in args.set:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                return _usage(f"--set {item!r}: expected FACT=VALUE")
            inputs[name.strip()] = observe(data, name.strip(), value.strip(), "--set")
    except InputError as exc:
        return _usage(str(exc))

    if args.websocket:
        inputs["transport"] = observe(data, "transport", "websocket", "--websocket")
    if not [k for k in inputs if k != "transport"]:
        return _table(args, data, inputs)
    try:
        ev = evaluate(data, inputs)
    except InputError as exc:
        return _usage(str(exc))
    code = {"pass": 0, "warn": 1, "fail": 2}.get(ev.status.value, EXIT_ERROR)
    if args.json:
        doc = ev.to_dict()
        doc["exit_code"] = code
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(render_text(ev, code))
    return code


def _table(args: argparse.Namespace, data: Any, inputs: dict[str, Any]) -> int:
    from jnlpdiag.compat.table import render_table, supported_combinations

    rows = supported_combinations(data, lines=0 if args.all else None, inputs=inputs)
    if args.json:
        print(json.dumps({"schema": "jnlpdiag.matrix-table/1", "data_version": data.version,
                          "coverage": {k: v for k, v in data.coverage.items() if k != "read_from"},
                          "lines": rows}, indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(render_table(rows, data))
    return 0


def render_text(ev: Any, code: int) -> str:
    """The verdict first, then the rules that fired (with fixes), then the facts they rest on; 80 columns."""
    from jnlpdiag.findings import Status
    from jnlpdiag.output.columns import hang

    out: list[str] = []
    out += hang("", f"jnlpdiag matrix: {ev.status.value.upper()} (exit {code}; compatibility data {ev.data.version})")
    problems = [r for r in ev.fired if r.status is not Status.PASS]
    # Causes before the findings they explain.
    problems.sort(key=lambda r: (r.caused_by is not None, -r.status.severity))
    for r in problems:
        out.append("")
        out += hang(f"{r.status.symbol} {r.status.value.upper()}  ", f"{r.title}  [{r.id}]")
        if r.caused_by:
            out += hang("    follows from: ", r.caused_by)
        if r.detail:
            out += hang("    ", r.detail)
        if r.symptom:
            out += hang("    symptom: ", r.symptom)
        for fix in r.fixes:
            out += hang("    fix: ", fix.title)
            for step in fix.commands:
                out += hang("        $ ", step)
            for note in fix.notes:  # prose: never behind a "$"
                out += hang("        ", note)
            for doc in fix.docs:
                out += hang("        see ", doc)
        for src in r.sources:
            out += hang("    source: ", src)
    notes = [r for r in ev.fired if r.status is Status.PASS]
    if notes:
        out.append("")
        out.append("Notes:")
        for r in notes:
            out += hang("  - ", r.title)
    out.append("")
    out.append("Facts it rests on:")
    width = max((len(n) for n in ev.facts.values), default=4)
    for name in ev.facts.values:
        out += hang(f"  {name:<{width}}  ", f"{ev.facts.display(name)}   [{ev.facts.origins[name]}]")
    explained = [r for r in ev.passed if not r.title.endswith(": does not apply")]
    if ev.passed:
        out.append("")
        out.append("Passed:")
        for r in explained:
            out += hang(f"  {Status.PASS.symbol} ", r.title)
        others = [r.id for r in ev.passed if r not in explained]
        if others:
            out += hang(f"  {Status.PASS.symbol} does not apply: ", ", ".join(others))
    if ev.unknown:
        out.append("")
        out.append("Not evaluated (give more versions to check these):")
        for r in ev.unknown:
            out += hang("  - ", f"{r.id}: needs {', '.join(r.missing)}")
    out.append("")
    out.append(f"Verdict: {ev.status.value.upper()} (exit {code})")
    return "\n".join(out) + "\n"
