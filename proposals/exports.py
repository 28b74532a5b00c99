"""The proposal list as CSV, streamed: the pages' download and the API's ?format=csv share it."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from proposals.models import Proposal

CSV_COLUMNS = [
    "id",
    "title",
    "state",
    "lead_organization",
    "target_body",
    "occasion",
    "deadline",
    "language",
    "revision",
    "outcome",
    "authors",
    "themes",
    "created_at",
    "updated_at",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class EchoWriter:
    """A file-like object whose write returns the line, so csv.writer yields lines."""

    def write(self, value: str) -> str:
        return value


def proposal_csv_row(proposal: Proposal) -> list[str]:
    occasion = proposal.occasion
    deadline = (
        occasion.submission_deadline.astimezone(occasion.zone).isoformat() if occasion else ""
    )
    return [
        csv_cell(value)
        for value in (
            proposal.pk,
            proposal.title,
            proposal.state,
            proposal.lead_organization.name,
            proposal.target_body.name if proposal.target_body else "",
            occasion.name if occasion else "",
            deadline,
            proposal.language,
            proposal.revision,
            proposal.outcome,
            " ".join(sorted(author.username for author in proposal.authors.all())),
            " ".join(str(theme.number) for theme in proposal.themes.all()),
            proposal.created_at.isoformat(),
            proposal.updated_at.isoformat(),
        )
    ]


def csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    writer = csv.writer(EchoWriter())
    yield writer.writerow(CSV_COLUMNS)
    for row in rows:
        yield writer.writerow(row)


def proposals_csv_response(queryset: QuerySet[Proposal], filename: str) -> StreamingHttpResponse:
    """Stream every row, fetched in chunks with their related rows (a few queries a chunk)."""
    rows = (proposal_csv_row(p) for p in queryset.iterator(chunk_size=500))
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
