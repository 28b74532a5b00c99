"""The proposal list as files: for machines, the API's CSV (ids, codes, ISO times), streamed;
for people, the pages' CSV and XLSX (labels, names and local times in the reader's language).

openpyxl is imported when a workbook is made: the API and the audit trail import this module for
its CSV in every web process, and a workbook is a rare download."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import formats, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from proposals.localized import zone_name
from proposals.models import Person, Proposal

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


# For people: the pages' CSV and XLSX, in the reader's language and time zone.


@dataclass(frozen=True)
class Column:
    """A column of the exports for people: its label and its typed value for one proposal
    (a time is given in the reader's zone, without its zone and microseconds)."""

    label: Callable[[], str]
    value: Callable[[Proposal, tzinfo], Any]
    zoned: bool = False


def _local(value: datetime | None, zone: tzinfo) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(zone).replace(tzinfo=None, microsecond=0)


def _person_name(person: Person) -> str:
    return person.get_full_name() or person.get_username()


PEOPLE_COLUMNS = [
    Column(lambda: capfirst(_("number")), lambda p, zone: p.pk),
    Column(lambda: _("Title"), lambda p, zone: p.title),
    Column(lambda: _("State"), lambda p, zone: p.get_state_display()),
    Column(lambda: _("Lead organisation"), lambda p, zone: str(p.lead_organization)),
    Column(lambda: _("Target body"), lambda p, zone: str(p.target_body or "")),
    Column(lambda: _("Occasion"), lambda p, zone: str(p.occasion or "")),
    Column(
        lambda: _("Deadline"),
        lambda p, zone: _local(p.occasion.submission_deadline, zone) if p.occasion else None,
        zoned=True,
    ),
    Column(lambda: _("Language"), lambda p, zone: p.get_language_display()),
    Column(lambda: _("Revision"), lambda p, zone: p.revision),
    Column(lambda: _("Outcome"), lambda p, zone: p.get_outcome_display()),
    Column(
        lambda: _("Authors"),
        lambda p, zone: ", ".join(sorted(_person_name(person) for person in p.authors.all())),
    ),
    Column(lambda: _("Themes"), lambda p, zone: "; ".join(str(t) for t in p.themes.all())),
    Column(lambda: capfirst(_("created at")), lambda p, zone: _local(p.created_at, zone), True),
    Column(lambda: capfirst(_("updated at")), lambda p, zone: _local(p.updated_at, zone), True),
]
LOCAL_TIME_FORMAT = "%Y-%m-%d %H:%M"  # read as a date and time by spreadsheets in any language
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_TIME_FORMAT = "yyyy-mm-dd hh:mm"
CHUNK_SIZE = 500


def people_header(zone: tzinfo) -> list[str]:
    """The column labels in the active language; times name the reader's zone."""
    where = zone_name(zone)
    return [
        f"{column.label()} ({where})" if column.zoned else column.label()
        for column in PEOPLE_COLUMNS
    ]


def people_values(proposal: Proposal, zone: tzinfo) -> list[Any]:
    return [column.value(proposal, zone) for column in PEOPLE_COLUMNS]


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime(LOCAL_TIME_FORMAT)
    return csv_cell(value)


def csv_delimiter() -> str:
    """A semicolon where the active language writes decimals with a comma (French and
    Spanish spreadsheets split on it), a comma elsewhere."""
    return ";" if formats.get_format("DECIMAL_SEPARATOR") == "," else ","


def people_csv_response(
    header: list[str], rows: Callable[[], Iterable[list[Any]]], *, filename: str
) -> StreamingHttpResponse:
    """Rows as CSV for a person: UTF-8 with a byte-order mark (so that spreadsheets read the
    accents), the active language's delimiter, times as LOCAL_TIME_FORMAT, never a formula.
    `rows` is called while the response streams, in the language active now."""
    language = translation.get_language()
    writer = csv.writer(EchoWriter(), delimiter=csv_delimiter())

    def lines() -> Iterator[str]:
        with translation.override(language):
            yield "\ufeff" + writer.writerow([csv_cell(label) for label in header])
            for values in rows():
                yield writer.writerow([_text(value) for value in values])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def proposals_people_csv_response(
    queryset: QuerySet[Proposal], *, zone: tzinfo, filename: str
) -> StreamingHttpResponse:
    """The proposals as CSV for a person: labels and values in the active language, times in
    the zone."""
    return people_csv_response(
        people_header(zone),
        lambda: (
            people_values(proposal, zone) for proposal in queryset.iterator(chunk_size=CHUNK_SIZE)
        ),
        filename=filename,
    )


def proposals_xlsx_response(
    queryset: QuerySet[Proposal], *, zone: tzinfo, filename: str
) -> HttpResponse:
    """The proposals as an Excel workbook for a person: numbers as numbers, times as dates in
    the zone, text as text (never a formula)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(_("Proposals"))[:31])
    sheet.freeze_panes = "A2"
    sheet.append(_xlsx_row(sheet, people_header(zone)))
    for proposal in queryset.iterator(chunk_size=CHUNK_SIZE):
        sheet.append(_xlsx_row(sheet, people_values(proposal, zone)))
    content = io.BytesIO()
    workbook.save(content)
    response = HttpResponse(content.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _xlsx_row(sheet: Any, values: list[Any]) -> list[Any]:
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, datetime):
            cell.number_format = XLSX_TIME_FORMAT
        elif isinstance(value, str):
            cell.data_type = "s"  # "=..." stays text
        cells.append(cell)
    return cells
