"""One PDF of every dossier submitted to an occasion, for the secretariat: a table of contents
(number, title, body, first page) then each stored dossier's pages as they are stored (pypdf
copies them; their bytes are not re-rendered), with a bookmark per dossier.

pypdf and reportlab are imported when a bundle is made, not with this module: the pages and the
API that offer the bundle import it in every web process, and few of those ever make one."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _

from proposals.models import Occasion, ProposalState, Submission

if TYPE_CHECKING:
    from pypdf import PdfReader


def bundle_submissions(occasion: Occasion) -> list[Submission]:
    """The submissions of the occasion's proposals that have a dossier's facts, by number."""
    return list(
        Submission.objects.filter(
            proposal__occasion=occasion,
            proposal__state__in=[ProposalState.SUBMITTED, ProposalState.CLOSED],
        )
        .exclude(number="")
        .select_related("proposal", "body")
        .order_by("number", "pk")
    )


def _contents(occasion: Occasion, rows: list[tuple[Submission, int | None]]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from proposals.dossiers.render import MARGIN, RULE, SHADE, TEXT_WIDTH, styles

    sheet = styles()
    head = [
        Paragraph(escape(_("Dossier")), sheet["cell_head"]),
        Paragraph(escape(_("Title")), sheet["cell_head"]),
        Paragraph(escape(_("Body")), sheet["cell_head"]),
        Paragraph(escape(_("Page")), sheet["cell_head"]),
    ]
    data = [head]
    for submission, page in rows:
        data.append(
            [
                Paragraph(escape(submission.number), sheet["cell"]),
                Paragraph(escape(submission.facts.get("title", "")), sheet["cell"]),
                Paragraph(escape(submission.body.name), sheet["cell"]),
                Paragraph(
                    escape(str(page) if page is not None else _("being prepared")), sheet["cell"]
                ),
            ]
        )
    table = Table(
        data,
        colWidths=[TEXT_WIDTH * 0.22, TEXT_WIDTH * 0.43, TEXT_WIDTH * 0.23, TEXT_WIDTH * 0.12],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, RULE),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story = [
        Paragraph(
            escape(_("Dossiers submitted for %(occasion)s") % {"occasion": occasion.name}),
            sheet["title"],
        ),
        Paragraph(escape(_("Contents")), sheet["h1"]),
        Spacer(0, 4),
        table,
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=_("Dossiers submitted for %(occasion)s") % {"occasion": occasion.name},
    ).build(story)
    return buffer.getvalue()


def occasion_bundle_pdf(occasion: Occasion) -> bytes:
    """The bundle, in the active language: the contents, then every stored dossier."""
    from pypdf import PdfReader, PdfWriter

    submissions = bundle_submissions(occasion)
    readers: dict[int, PdfReader] = {}
    for submission in submissions:
        if submission.dossier:
            with submission.dossier.open("rb") as stored:
                readers[submission.pk] = PdfReader(io.BytesIO(stored.read()))
    contents_pages = 1
    while True:  # the contents' own length shifts every page number after it
        page = contents_pages + 1
        rows: list[tuple[Submission, int | None]] = []
        for submission in submissions:
            reader = readers.get(submission.pk)
            rows.append((submission, page if reader else None))
            if reader:
                page += len(reader.pages)
        contents = _contents(occasion, rows)
        length = len(PdfReader(io.BytesIO(contents)).pages)
        if length == contents_pages:
            break
        contents_pages = length
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(contents)))
    for submission, first in rows:
        reader = readers.get(submission.pk)
        if reader is None or first is None:
            continue
        writer.append(
            reader, outline_item=f"{submission.number} — {submission.facts.get('title', '')}"
        )
    writer.add_metadata(
        {"/Title": _("Dossiers submitted for %(occasion)s") % {"occasion": occasion.name}}
    )
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def bundle_filename(occasion: Occasion) -> str:
    return f"dossiers-occasion-{occasion.pk}.pdf"
