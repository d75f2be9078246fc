"""``jnlpdiag probes``: list every registered probe (built-in and plug-in) with id and layer."""

from __future__ import annotations

import argparse
import json
import sys

from jnlpdiag.registry import load_probes

NAME = "probes"
HELP = "list the probes: id, layer, what it needs, one-line description"
ORDER = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the list as JSON")


def run(args: argparse.Namespace) -> int:
    probes, errors = load_probes()
    rows = [
        {"id": p.id, "layer": p.layer.value, "requires": list(p.requires), "after": list(p.after),
         "description": p.description, "module": p.__module__}
        for p in probes
    ]
    if args.json:
        print(json.dumps({"probes": rows, "errors": [e.__dict__ for e in errors]}, indent=2))
    else:
        width = max((len(r["id"]) for r in rows), default=2)
        for r in rows:
            print(f"{r['id']:<{width}}  {r['layer']:<13}  {r['description']}")
        for e in errors:
            print(f"(not loaded) {e.entry_point}: {e.reason}", file=sys.stderr)
    return 0
