"""Markdown pieces shared by run reports and comparisons."""

from __future__ import annotations

from collections.abc import Sequence

MISSING = "—"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]],
                   align_right_from: int = 1) -> str:
    """A GitHub-flavoured table; columns from `align_right_from` on are right-aligned."""
    rules = ["---" if index < align_right_from else "---:" for index in range(len(header))]
    lines = [header, rules, *rows]
    return "\n".join("| " + " | ".join(str(cell) for cell in line) + " |" for line in lines)


def format_score(value: float | None, digits: int = 3, signed: bool = False) -> str:
    """A score for a table; a dash when absent."""
    if value is None:
        return MISSING
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def format_amount(value: float | None) -> str:
    """A count or a duration, with thousands separators and at most one decimal."""
    if value is None:
        return MISSING
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def format_budget(budget: dict) -> str:
    """A replay budget as 'mode (per_task / task)'."""
    per_task = budget.get("per_task")
    return budget["mode"] if per_task is None else f"{budget['mode']} ({per_task:,} / task)"
