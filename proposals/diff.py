"""Differences between two revisions of a proposal, as unified diff lines per field."""

from __future__ import annotations

import difflib
from typing import Protocol

DIFF_FIELDS = ("title", "summary", "text")


class RevisionLike(Protocol):
    number: int
    title: str
    summary: str
    text: str


def text_diff(old: str, new: str, *, old_label: str, new_label: str, context: int = 3) -> list[str]:
    """The unified diff of two texts, line by line; empty when they are the same."""
    return list(
        difflib.unified_diff(
            old.splitlines(),
            new.splitlines(),
            fromfile=old_label,
            tofile=new_label,
            lineterm="",
            n=context,
        )
    )


def revisions_diff(old: RevisionLike, new: RevisionLike) -> dict[str, list[str]]:
    """For each of title, summary and text, the unified diff from `old` to `new`."""
    return {
        field: text_diff(
            getattr(old, field),
            getattr(new, field),
            old_label=f"{field} (revision {old.number})",
            new_label=f"{field} (revision {new.number})",
        )
        for field in DIFF_FIELDS
    }
