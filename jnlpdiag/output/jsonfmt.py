"""``--format json``: one ``jnlpdiag.report/1`` document (docs/report.schema.json)."""

from __future__ import annotations

import json

from jnlpdiag.escape import json_text
from jnlpdiag.run_report import Report

FORMAT = "json"
EXACT = True  # data: values stay exact, JSON escapes them (see jnlpdiag.escape)


def render(report: Report) -> str:
    return json_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str)) + "\n"
