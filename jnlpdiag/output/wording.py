"""Words every human renderer shares (text, Markdown, HTML, the TUI), so a person reads one phrase for
one idea wherever they look. Not a ``--format`` renderer (no ``FORMAT``)."""

from __future__ import annotations

from jnlpdiag.findings import Fix

# A root cause and what it explains: "<root> leads to: <consequence>, ..."; the other way round,
# "<consequence> follows from: <root>".
LEADS_TO = "Leads to"
FOLLOWS_FROM = "Follows from"


def leads_to(count: int) -> str:
    """The folded count beside a root cause: ``leads to 2 more``."""
    return f"leads to {count} more"


def fix_commands(fix: Fix) -> tuple[str, ...]:
    """What to type or paste: shown with ``$`` and copyable."""
    return tuple(fix.commands)


def fix_notes(fix: Fix) -> tuple[str, ...]:
    """Prose and config snippets of a fix: never shown as a command."""
    return tuple(fix.notes)


def first_command(fixes: list[Fix]) -> str | None:
    return next((c for fix in fixes for c in fix_commands(fix)), None)
