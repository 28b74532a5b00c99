"""Pieces of the report's Markdown that every section writes the same way."""

from __future__ import annotations

import re
from typing import Any


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def error_line(section: dict[str, Any]) -> list[str]:
    if "error" in section:
        return [f"**This phase failed:** `{section['error']}`", ""]
    return []


def plan_details(summary: str, sql: str, plan: str) -> list[str]:
    """A statement and its query plan, folded under `summary` (HTML, already escaped)."""
    return [
        f"<details><summary>{summary}</summary>",
        "",
        "```sql",
        sql,
        "```",
        "",
        "```",
        plan,
        "```",
        "</details>",
        "",
    ]


def shorten(statement: str, limit: int = 400) -> str:
    """A statement on one line, its long IN lists cut, at most `limit` characters."""
    statement = re.sub(r"\s+", " ", statement)
    statement = re.sub(r"IN \(((?:\d+, ){6})[\d, ]+\)", r"IN (\1...)", statement)
    statement = re.sub(r"IN \(((?:'[^']*', ){3})('[^']*'(?:, )?)+\)", r"IN (\1...)", statement)
    return statement if len(statement) <= limit else statement[:limit] + " ..."
