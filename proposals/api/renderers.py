"""CSV output of the proposal list (?format=csv): every visible row that matches the filters."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer

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


class CSVRenderer(BaseRenderer):
    """Chosen by ?format=csv or Accept: text/csv; the list itself is streamed by the view."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        rows = data if isinstance(data, list) else [data]
        lines = _Echo()
        writer = csv.writer(lines)
        out: list[str] = []
        columns = list(rows[0]) if rows and isinstance(rows[0], dict) else []
        out.append(writer.writerow(columns))
        for row in rows:
            if isinstance(row, dict):
                out.append(writer.writerow([csv_cell(row.get(c)) for c in columns]))
        return "".join(out).encode(self.charset)


class _Echo:
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
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for row in rows:
        yield writer.writerow(row)


def proposals_csv_response(queryset: QuerySet[Proposal], filename: str) -> StreamingHttpResponse:
    """Stream every row, fetched in chunks with their related rows (a few queries a chunk)."""
    rows = (proposal_csv_row(p) for p in queryset.iterator(chunk_size=500))
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
