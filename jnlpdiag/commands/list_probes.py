"""``jnlpdiag probes``: list every registered probe (built-in and plug-in): id, layer, what it needs
(the probes it requires, and those it runs after to read their facts), its one-line description,
and the options it declares (offered as flags by check, report and tui)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from jnlpdiag.registry import load_probes

NAME = "probes"
HELP = "list the probes: id, layer, what it needs, one-line description"
ORDER = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text (default: a table, 80 columns) or json")
    parser.add_argument("--json", action="store_const", const="json", dest="format",
                        help="the same as --format json")


def needs(requires: list[str], after: list[str]) -> str:
    """``requires a, b; after c``: what must pass first, and whose facts it reads when they ran."""
    parts = [f"requires {', '.join(requires)}"] * bool(requires) + [f"after {', '.join(after)}"] * bool(after)
    return "; ".join(parts) or "nothing"


def render_text(rows: list[dict[str, Any]]) -> str:
    from jnlpdiag.output.columns import hang

    width = max((len(r["id"]) for r in rows), default=2)
    out = [f"{'ID':<{width}}  {'LAYER':<13}  NEEDS", "    DESCRIPTION"]
    for r in rows:
        out += hang(f"{r['id']:<{width}}  {r['layer']:<13}  ", r["needs"])
        out += hang("    ", r["description"])
        for o in r.get("options", ()):
            shown = o["flag"] + (" {" + ",".join(o["choices"]) + "}" if o["choices"] else "")
            default = f" (default {o['default']})" if o["default"] not in (None, [], ()) else ""
            out += hang("      ", f"{shown}: {o['help']}{default}")
    out += [""] + hang("", "NEEDS: \"requires X\": X must pass first, else the probe is skipped; "
                           "\"after X\": it runs after X and reads what X found.")
    return "\n".join(out) + "\n"


def run(args: argparse.Namespace) -> int:
    probes, errors = load_probes()
    rows: list[dict[str, Any]] = [
        {"id": p.id, "layer": p.layer.value, "needs": needs(list(p.requires), list(p.after)),
         "requires": list(p.requires), "after": list(p.after), "description": p.description, "module": p.__module__,
         "options": [o.describe() for o in p.options]}
        for p in probes
    ]
    if args.format == "json":
        print(json.dumps({"probes": rows, "errors": [e.__dict__ for e in errors]}, indent=2))
    else:
        sys.stdout.write(render_text(rows))
        for e in errors:
            print(f"(not loaded) {e.entry_point}: {e.reason}", file=sys.stderr)
    return 0
