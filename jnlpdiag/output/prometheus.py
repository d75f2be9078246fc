"""``--format prometheus``: text exposition for node_exporter's textfile collector.

Write it atomically into the collector's directory, e.g. from cron::

    jnlpdiag check --format prometheus > /var/lib/node_exporter/jnlpdiag.prom.$$ \\
      && mv /var/lib/node_exporter/jnlpdiag.prom.$$ /var/lib/node_exporter/jnlpdiag.prom

Names and labels follow the Prometheus naming conventions (https://prometheus.io/docs/practices/naming/):
a ``jnlpdiag_`` prefix, base units (seconds), ``_timestamp_seconds`` for a Unix time. Each
finding's status is a state set (OpenMetrics "StateSet"): one series per possible status, 1 for the
finding's status and 0 for the others, so ``jnlpdiag_finding_status{status="fail"} == 1`` alerts
and the series do not vanish when a finding changes status. Text format:
https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format.
"""

from __future__ import annotations

import datetime as dt

from jnlpdiag.findings import Status
from jnlpdiag.run_report import Report

FORMAT = "prometheus"


def _label(value: object) -> str:
    # The exposition format escapes exactly backslash, double quote and line feed in label values.
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: object) -> str:
    return "{" + ",".join(f'{k}="{_label(v)}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    return repr(float(value)) if value != int(value) else str(int(value))


def _started(report: Report) -> float | None:
    try:
        when = dt.datetime.fromisoformat(report.started_at)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.timestamp()


def render(report: Report) -> str:
    out: list[str] = []

    def metric(name: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} gauge")
        out.extend(f"{name}{labels} {_number(value)}" for labels, value in samples)

    url = (report.settings.get("url") or {}).get("value") or ""
    metric("jnlpdiag_info", "jnlpdiag version and the Jenkins URL checked (always 1).",
           [(_labels(version=report.tool.get("version", ""), url=url), 1)])
    metric("jnlpdiag_finding_status",
           "Status of each finding of the last run: 1 for its status, 0 for the other statuses.",
           [(_labels(finding=f.id, probe=f.probe, layer=f.layer.value, status=s.value), 1 if f.status is s else 0)
            for f in report.findings for s in Status])
    metric("jnlpdiag_findings", "Number of findings of the last run, by status.",
           [(_labels(status=s.value), sum(1 for f in report.findings if f.status is s)) for s in Status])
    metric("jnlpdiag_exit_code",
           "Exit code of the last run: 0 pass or skip, 1 warning, 2 failure, 3 probe error.",
           [("", report.exit_code)])
    metric("jnlpdiag_run_duration_seconds", "Wall-clock duration of the last run.",
           [("", round(report.duration_ms / 1000.0, 3))])
    started = _started(report)
    if started is not None:
        metric("jnlpdiag_last_run_timestamp_seconds", "Unix time at which the last run started.",
               [("", round(started, 3))])
    return "\n".join(out) + "\n"
