"""The dossier as a PDF (ReportLab), from its facts alone, in the proposal's language.

A cover letter from the presidency to the body, then the title, the summary, the full text
(its Markdown as paragraphs, headings, lists, quotes, code and tables: never raw HTML), the
endorsing organisations with their representatives and dates, and the attachments. Every page
has a footer with the dossier number, "page x of y" and the fingerprint. The same facts give
the same bytes: the PDF's dates are the submission's, its identifier is derived from its content.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from babel.dates import format_date, format_interval
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from markdown_it.tree import SyntaxTreeNode
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import TimeStamp
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    KeepTogether,
    ListFlowable,
    ListItem,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
    XPreformatted,
)

from proposals.attachments import file_size_text
from proposals.localized import babel_locale, country_name, punctuation
from proposals.markdown import PARSER

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"
FONT_FILES = {
    FONT: "DejaVuSans.ttf",
    f"{FONT}-Bold": "DejaVuSans-Bold.ttf",
    f"{FONT}-Oblique": "DejaVuSans-Oblique.ttf",
    f"{FONT}-BoldOblique": "DejaVuSans-BoldOblique.ttf",
}
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 22 * mm
FOOTER_HEIGHT = 16 * mm
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN - 12  # the frame pads 6 points each side
INK = colors.HexColor("#1d2733")
MUTED = colors.HexColor("#5b6673")
RULE = colors.HexColor("#c9d1da")
SHADE = colors.HexColor("#eef1f4")
LINK_SCHEMES = ("http://", "https://", "mailto:")
PRODUCER = "Policy tracker (ReportLab)"


@lru_cache(maxsize=1)
def fonts_registered() -> str:
    """Register the embedded TTF family once per process; returns its name."""
    for name, filename in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
    pdfmetrics.registerFontFamily(
        FONT,
        normal=FONT,
        bold=f"{FONT}-Bold",
        italic=f"{FONT}-Oblique",
        boldItalic=f"{FONT}-BoldOblique",
    )
    return FONT


@lru_cache(maxsize=1)
def styles() -> dict[str, ParagraphStyle]:
    fonts_registered()
    base = ParagraphStyle(
        "body", fontName=FONT, fontSize=10, leading=14.5, textColor=INK, spaceAfter=6
    )
    made = {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=11, textColor=MUTED),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT, spaceAfter=0),
        "sender": ParagraphStyle(
            "sender", parent=base, fontName=f"{FONT}-Bold", fontSize=11, spaceAfter=2
        ),
        "title": ParagraphStyle(
            "title", parent=base, fontName=f"{FONT}-Bold", fontSize=19, leading=24, spaceAfter=10
        ),
        "h1": ParagraphStyle(
            "h1",
            parent=base,
            fontName=f"{FONT}-Bold",
            fontSize=14,
            leading=18,
            spaceBefore=12,
            spaceAfter=6,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=f"{FONT}-Bold",
            fontSize=12,
            leading=16,
            spaceBefore=10,
            spaceAfter=4,
        ),
        "h3": ParagraphStyle(
            "h3",
            parent=base,
            fontName=f"{FONT}-Bold",
            fontSize=10.5,
            leading=14,
            spaceBefore=8,
            spaceAfter=3,
        ),
        "quote": ParagraphStyle(
            "quote", parent=base, leftIndent=12, textColor=MUTED, fontName=f"{FONT}-Oblique"
        ),
        "code": ParagraphStyle(
            "code",
            parent=base,
            fontSize=8.5,
            leading=11,
            backColor=SHADE,
            borderPadding=4,
            leftIndent=4,
            rightIndent=4,
            spaceBefore=4,
            spaceAfter=8,
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=12, spaceAfter=0),
        "cell_head": ParagraphStyle(
            "cell_head", parent=base, fontName=f"{FONT}-Bold", fontSize=9, leading=12, spaceAfter=0
        ),
    }
    return made


# Markdown → flowables.


def _inline(node: SyntaxTreeNode) -> str:
    """ReportLab's paragraph markup for an inline node, every text escaped."""
    parts: list[str] = []
    for child in node.children:
        kind = child.type
        if kind == "text":
            parts.append(escape(child.content))
        elif kind == "softbreak":
            parts.append(" ")
        elif kind == "hardbreak":
            parts.append("<br/>")
        elif kind == "strong":
            parts.append(f"<b>{_inline(child)}</b>")
        elif kind == "em":
            parts.append(f"<i>{_inline(child)}</i>")
        elif kind == "s":
            parts.append(f"<strike>{_inline(child)}</strike>")
        elif kind == "code_inline":
            parts.append(f'<font backColor="#eef1f4">{escape(child.content)}</font>')
        elif kind == "link":
            href = str(child.attrs.get("href", ""))
            label = _inline(child)
            if href.startswith(LINK_SCHEMES):
                parts.append(
                    f'<link href="{escape(href, {chr(34): "&quot;"})}"><u>{label}</u></link>'
                )
            else:
                parts.append(label)
        elif kind == "image":
            alt = child.content or "".join(c.content for c in child.children)
            parts.append(f"[{escape(alt)}]" if alt else "")
        elif kind in ("html_inline",):
            parts.append(escape(child.content))
        else:
            parts.append(_inline(child) if child.children else escape(child.content))
    return "".join(parts)


def _paragraph_markup(node: SyntaxTreeNode) -> str:
    inline = next((c for c in node.children if c.type == "inline"), None)
    return _inline(inline) if inline is not None else ""


def _blocks(nodes: Iterable[SyntaxTreeNode], style: ParagraphStyle | None = None) -> list[Flowable]:
    sheet = styles()
    body = style or sheet["body"]
    out: list[Flowable] = []
    for node in nodes:
        kind = node.type
        if kind == "paragraph":
            out.append(Paragraph(_paragraph_markup(node), body))
        elif kind == "heading":
            level = int(node.tag[1:]) if node.tag[1:].isdigit() else 3
            out.append(Paragraph(_paragraph_markup(node), sheet[f"h{min(level, 3)}"]))
        elif kind in ("bullet_list", "ordered_list"):
            items = [
                ListItem(_blocks(item.children, body) or [Paragraph("", body)])
                for item in node.children
            ]
            if kind == "bullet_list":
                out.append(ListFlowable(items, bulletType="bullet", start="•", leftIndent=14))
            else:
                start = node.attrs.get("start", 1)
                out.append(
                    ListFlowable(
                        items,
                        bulletType="1",
                        start=str(start),
                        bulletFormat="%s.",
                        leftIndent=18,
                        bulletFontName=FONT,
                        bulletFontSize=body.fontSize,
                    )
                )
        elif kind == "blockquote":
            out.extend(_blocks(node.children, sheet["quote"]))
        elif kind in ("fence", "code_block"):
            out.append(XPreformatted(escape(node.content.rstrip("\n")), sheet["code"]))
        elif kind == "hr":
            out.append(
                HRFlowable(width="100%", thickness=0.6, color=RULE, spaceBefore=6, spaceAfter=6)
            )
        elif kind == "table":
            out.append(_table(node))
        elif kind == "html_block":
            out.append(Paragraph(escape(node.content), body))
        elif node.children:
            out.extend(_blocks(node.children, body))
    return out


def _table(node: SyntaxTreeNode) -> Flowable:
    sheet = styles()
    rows: list[list[Paragraph]] = []
    for section in node.children:
        for row in section.children:
            cells = []
            for cell in row.children:
                style = sheet["cell_head"] if cell.type == "th" else sheet["cell"]
                inline = next((c for c in cell.children if c.type == "inline"), None)
                cells.append(Paragraph(_inline(inline) if inline else "", style))
            rows.append(cells)
    if not rows:
        return Spacer(0, 0)
    columns = max(len(row) for row in rows)
    for cells in rows:
        cells.extend(Paragraph("", sheet["cell"]) for _ in range(columns - len(cells)))
    table = Table(rows, colWidths=[TEXT_WIDTH / columns] * columns, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, RULE),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def markdown_flowables(text: str) -> list[Flowable]:
    """The text's Markdown (the project's one parser, raw HTML off) as flowables."""
    return _blocks(SyntaxTreeNode(PARSER.parse(text or "", {})).children)


# Words, in the dossier's language.


def _day(value: str) -> str:
    return format_date(date.fromisoformat(value), "long", locale=babel_locale())


def _organization_name(organization: dict[str, Any] | None) -> str:
    if not organization:
        return ""
    if organization.get("kind") == "state" and organization.get("country"):
        return country_name(organization["country"]) or organization["name"]
    return str(organization.get("name", ""))


def _occasion_dates(occasion: dict[str, Any]) -> str:
    start, end = date.fromisoformat(occasion["starts_on"]), date.fromisoformat(occasion["ends_on"])
    if start == end:
        return format_date(start, "long", locale=babel_locale())
    return str(format_interval(start, end, "yMMMMd", locale=babel_locale()))


def _label(text: str) -> str:
    """ "Dossier number:" with the language's spacing before the colon (French: U+202F)."""
    return text + punctuation(":")


# Pages.


class _FixedTimeStamp(TimeStamp):
    """The PDF's creation and modification dates: the submission's moment, not the clock's."""

    def __init__(self, moment: datetime) -> None:
        super().__init__(invariant=True)
        utc = moment.utctimetuple()
        self.t = moment.timestamp()
        self.lt = tuple(utc)
        self.YMDhms = tuple(utc)[:6]
        self.dhh = self.dmm = 0
        self.tzname = "UTC"


def _canvas_maker(
    facts: dict[str, Any], *, draft: bool, footer: Callable[[Canvas, int, int], None]
) -> type[Canvas]:
    moment = datetime.fromisoformat(facts["at"])

    class DossierCanvas(Canvas):
        """Draws every page once the page count is known (for "page x of y")."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["invariant"] = 1
            super().__init__(*args, **kwargs)
            self._doc._timeStamp = _FixedTimeStamp(moment)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                footer(self, number, total)
                if draft:
                    _draft_marks(self)
                super().showPage()
            super().save()

    return DossierCanvas


def _draft_marks(canvas: Canvas) -> None:
    """DRAFT across the page and a banner above it: a preview, never the submitted dossier."""
    canvas.saveState()
    canvas.setFillColor(colors.Color(0.78, 0.1, 0.1, alpha=0.12))
    canvas.setFont(f"{FONT}-Bold", 96)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    canvas.rotate(45)
    canvas.drawCentredString(0, -30, _("DRAFT"))
    canvas.restoreState()
    canvas.saveState()
    canvas.setFillColor(colors.HexColor("#b3261e"))
    canvas.rect(0, PAGE_HEIGHT - 9 * mm, PAGE_WIDTH, 9 * mm, stroke=0, fill=1)
    canvas.setFillColor(colors.white)
    canvas.setFont(f"{FONT}-Bold", 9)
    canvas.drawCentredString(
        PAGE_WIDTH / 2,
        PAGE_HEIGHT - 6 * mm,
        _("DRAFT: a preview, not the submitted dossier"),
    )
    canvas.restoreState()


def _footer(facts: dict[str, Any]) -> Callable[[Canvas, int, int], None]:
    number_line = _label(_("Dossier")) + " " + facts["number"]
    print_line = _label(_("SHA-256 fingerprint of the submitted text")) + " " + facts["fingerprint"]

    def draw(canvas: Canvas, page: int, pages: int) -> None:
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        y = MARGIN - 4 * mm
        canvas.line(MARGIN, y + 4 * mm, PAGE_WIDTH - MARGIN, y + 4 * mm)
        canvas.setFillColor(MUTED)
        canvas.setFont(FONT, 8)
        canvas.drawString(MARGIN, y, number_line)
        canvas.drawRightString(
            PAGE_WIDTH - MARGIN,
            y,
            _("Page %(page)s of %(pages)s") % {"page": page, "pages": pages},
        )
        canvas.setFont(FONT, 6.5)
        canvas.drawString(MARGIN, y - 3.6 * mm, print_line)
        canvas.restoreState()

    return draw


def _cover_letter(facts: dict[str, Any]) -> list[Flowable]:
    sheet = styles()
    presidency = facts.get("presidency") or {}
    state = _organization_name(presidency.get("organization"))
    body = (facts.get("body") or {}).get("name", "")
    occasion = facts.get("occasion")
    group = _("International Leading Group on the Social and Solidarity Economy")
    out: list[Flowable] = [Paragraph(escape(group), sheet["sender"])]
    if state:
        out.append(Paragraph(escape(_("Presidency: %(state)s") % {"state": state}), sheet["small"]))
    secretariat = _organization_name(facts.get("secretariat"))
    if secretariat:
        out.append(
            Paragraph(
                escape(_("Permanent secretariat: %(name)s") % {"name": secretariat}),
                sheet["small"],
            )
        )
    out += [Spacer(0, 14 * mm), Paragraph(f"<b>{escape(body)}</b>", sheet["body"])]
    number_label = _label(_("Dossier number"))
    reference_label = _label(_("Your reference"))
    subject_label = _label(_("Subject"))
    place = (occasion or {}).get("location", "")
    day = _day(facts["day"])
    out += [
        Spacer(0, 8 * mm),
        Paragraph(
            escape(_("%(place)s, %(date)s") % {"place": place, "date": day} if place else day),
            sheet["right"],
        ),
        Spacer(0, 8 * mm),
        Paragraph(f"<b>{escape(number_label)}</b> {escape(facts['number'])}", sheet["body"]),
    ]
    if facts.get("reference"):
        out.append(
            Paragraph(
                f"<b>{escape(reference_label)}</b> {escape(facts['reference'])}",
                sheet["body"],
            )
        )
    subject = _("Proposal “%(title)s”") % {"title": facts["title"]}
    out.append(Paragraph(f"<b>{escape(subject_label)}</b> {escape(subject)}", sheet["body"]))
    out.append(Spacer(0, 6 * mm))
    endorsers = len(facts.get("endorsements", []))
    if occasion:
        occasion_words = _("%(occasion)s (%(place)s, %(dates)s)") % {
            "occasion": occasion["name"],
            "place": occasion.get("location") or "—",
            "dates": _occasion_dates(occasion),
        }
        opening = _(
            "On behalf of the International Leading Group on the Social and Solidarity Economy, "
            "the presidency has the honour to submit to %(body)s the enclosed proposal, "
            "“%(title)s”, in view of %(occasion)s."
        ) % {"body": body, "title": facts["title"], "occasion": occasion_words}
    else:
        opening = _(
            "On behalf of the International Leading Group on the Social and Solidarity Economy, "
            "the presidency has the honour to submit to %(body)s the enclosed proposal, "
            "“%(title)s”."
        ) % {"body": body, "title": facts["title"]}
    out.append(Paragraph(escape(opening), sheet["body"]))
    out.append(
        Paragraph(
            escape(
                ngettext(
                    "It is endorsed by %(count)s member organisation of the group, named in "
                    "this dossier with its representative and the date of its endorsement.",
                    "It is endorsed by %(count)s member organisations of the group, named in "
                    "this dossier with their representatives and the dates of their endorsement.",
                    endorsers,
                )
                % {"count": endorsers}
            ),
            sheet["body"],
        )
    )
    out.append(
        Paragraph(
            escape(
                _(
                    "Its text is the revision %(revision)s adopted by the group; its fingerprint, "
                    "printed at the foot of every page, lets anyone check that it is unchanged."
                )
                % {"revision": facts["revision"]}
            ),
            sheet["body"],
        )
    )
    out.append(
        Paragraph(
            escape(_("Please accept the assurance of our highest consideration.")), sheet["body"]
        )
    )
    out.append(Spacer(0, 12 * mm))
    signatory = presidency.get("signatory") or facts.get("submitted_by", "")
    if signatory:
        out.append(Paragraph(f"<b>{escape(signatory)}</b>", sheet["body"]))
    if state:
        out.append(
            Paragraph(
                escape(_("For the presidency of the group: %(state)s") % {"state": state}),
                sheet["small"],
            )
        )
    elif secretariat:
        out.append(
            Paragraph(
                escape(_("For the permanent secretariat: %(name)s") % {"name": secretariat}),
                sheet["small"],
            )
        )
    return out


def _section(title: str) -> Paragraph:
    return Paragraph(escape(title), styles()["h1"])


def _endorsements(facts: dict[str, Any]) -> list[Flowable]:
    sheet = styles()
    out: list[Flowable] = [_section(_("Endorsements"))]
    rows = facts.get("endorsements", [])
    if not rows:
        return [*out, Paragraph(escape(_("No endorsement.")), sheet["body"])]
    data = [
        [
            Paragraph(escape(_("Organisation")), sheet["cell_head"]),
            Paragraph(escape(_("Representative")), sheet["cell_head"]),
            Paragraph(escape(_("Endorsed on")), sheet["cell_head"]),
        ]
    ]
    for row in rows:
        data.append(
            [
                Paragraph(escape(_organization_name(row.get("organization"))), sheet["cell"]),
                Paragraph(escape(row.get("representative", "")), sheet["cell"]),
                Paragraph(escape(_day(row["day"])), sheet["cell"]),
            ]
        )
    table = Table(data, colWidths=[TEXT_WIDTH * 0.45, TEXT_WIDTH * 0.30, TEXT_WIDTH * 0.25])
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, RULE),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return [*out, table]


def _attachments(facts: dict[str, Any]) -> list[Flowable]:
    sheet = styles()
    out: list[Flowable] = [_section(_("Attachments"))]
    rows = facts.get("attachments", [])
    if not rows:
        return [*out, Paragraph(escape(_("No attachment.")), sheet["body"])]
    items = [
        ListItem(
            Paragraph(
                f"<b>{escape(row['title'])}</b> — {escape(row['filename'])}, "
                f"{escape(file_size_text(int(row['size'])))}",
                sheet["body"],
            )
        )
        for row in rows
    ]
    return [*out, ListFlowable(items, bulletType="bullet", start="•", leftIndent=14)]


def dossier_story(facts: dict[str, Any]) -> list[Flowable]:
    """The dossier's flowables, the cover letter first; call with the dossier's language active."""
    sheet = styles()
    story = _cover_letter(facts)
    story.append(PageBreak())
    story.append(Paragraph(escape(facts["title"]), sheet["title"]))
    meta = [
        _("Lead organisation: %(name)s")
        % {"name": _organization_name(facts.get("lead_organization"))},
        _("Revision %(number)s") % {"number": facts["revision"]},
    ]
    if facts.get("authors"):
        meta.append(_("Authors: %(names)s") % {"names": ", ".join(facts["authors"])})
    story.append(Paragraph(escape(" · ".join(meta)), sheet["small"]))
    if facts.get("summary"):
        story.append(_section(_("Summary")))
        story.extend(
            Paragraph(escape(part).replace("\n", "<br/>"), sheet["body"])
            for part in facts["summary"].split("\n\n")
        )
    story.append(_section(_("Text")))
    story.extend(markdown_flowables(facts.get("text", "")))
    story.append(KeepTogether(_endorsements(facts)))
    story.extend(_attachments(facts))
    return story


def dossier_pdf(facts: dict[str, Any], *, draft: bool = False) -> bytes:
    """The dossier's PDF from its facts, in the facts' language; `draft` marks every page."""
    fonts_registered()
    with translation.override(facts.get("language") or "en"):
        buffer = io.BytesIO()
        document = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN + FOOTER_HEIGHT - 4 * mm,
            title=facts["title"],
            author=_("International Leading Group on the Social and Solidarity Economy"),
            subject=_("Dossier %(number)s") % {"number": facts["number"]},
            creator=PRODUCER,
            producer=PRODUCER,
            keywords=facts["fingerprint"],
            lang=facts.get("language") or "en",
        )
        document.build(
            dossier_story(facts),
            canvasmaker=_canvas_maker(facts, draft=draft, footer=_footer(facts)),
        )
        return buffer.getvalue()
