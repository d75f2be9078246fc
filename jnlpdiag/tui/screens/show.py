"""``jnlpdiag show``: a saved report on the results screen, read-only (nothing re-runs)."""

from __future__ import annotations

from jnlpdiag.redact import Redactor
from jnlpdiag.run_report import Report
from jnlpdiag.tui.screens.results import ResultsScreen
from jnlpdiag.tui.state import clean_text


class ShowScreen(ResultsScreen):
    def __init__(self, report: Report, source: str = "", *, redactor: Redactor | None = None) -> None:
        host = report.host.get("name") if isinstance(report.host, dict) else None
        redactor = redactor or Redactor()
        note = clean_text(f"report {source} from {host or 'unknown host'} {report.started_at}", redactor, 300)
        super().__init__(redactor, badge="READ-ONLY", note=note)
        self.model.load_report(report)
