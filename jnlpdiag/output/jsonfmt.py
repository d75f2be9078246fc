"""``--format json``: one ``jnlpdiag.report/1`` document (docs/report.schema.json)."""

from __future__ import annotations

import json

from jnlpdiag.report import Report

FORMAT = "json"


def render(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
