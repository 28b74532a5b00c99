"""A text's Markdown as safe HTML: CommonMark with tables and strikethrough, rendered by
markdown-it-py (time linear in the input, raw HTML shown as text), then cleaned by nh3.

The one renderer of the project: proposals, and every later text (comments, emails, the dossier).
Two budgets keep the output in proportion to the text: markdown-it pads every row of a table to
its header's width, and repeats a reference's target at each use, so a short text could otherwise
render into millions of cells or megabytes of links.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.table import table as table_rule
from markdown_it.rules_core import StateCore

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"align"},
    "th": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"
ALIGNMENT_STYLE = "text-align:"
TABLE_CELL_BUDGET = 10_000  # cells in all the tables of a text; later tables are shown as text
LINK_TARGET_BUDGET = 50_000  # characters of link targets and titles beyond the text's own length
_TABLE_CELLS = "table_cells"
_TABLES_OFF = "tables_off"


def _bounded_table(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """A table, while the text's tables stay within TABLE_CELL_BUDGET cells (counted as columns
    times lines up to the next blank line); from the first table over it on, no more tables."""
    if state.env.get(_TABLES_OFF) or not table_rule(state, start_line, end_line, True):
        return False
    if silent:
        return True
    delimiter = start_line + 1
    columns = state.src[state.bMarks[delimiter] : state.eMarks[delimiter]].count("|") + 1
    remaining = TABLE_CELL_BUDGET - state.env.get(_TABLE_CELLS, 0)
    line = start_line
    while line < end_line and not state.isEmpty(line):
        line += 1
        if (line - start_line) * columns > remaining:
            state.env[_TABLES_OFF] = True
            return False
    state.env[_TABLE_CELLS] = TABLE_CELL_BUDGET - remaining + (line - start_line) * columns
    return table_rule(state, start_line, end_line, False)


def _bounded_link_targets(state: StateCore) -> None:
    """Links and images keep their targets while these total at most the text's length plus
    LINK_TARGET_BUDGET characters; beyond, a link is shown as its text and an image as nothing."""
    allowance = len(state.src) + LINK_TARGET_BUDGET
    for block in state.tokens:
        dropping = False
        for token in block.children or ():
            if token.type == "link_close" and dropping:
                token.type, token.tag, token.attrs, dropping = "text", "", {}, False
            if token.type not in ("link_open", "image"):
                continue
            names = ("href", "title") if token.type == "link_open" else ("src", "title")
            allowance -= sum(len(str(token.attrs.get(name, ""))) for name in names)
            if allowance < 0:
                token.attrs = {}
                if token.type == "link_open":
                    token.type, token.tag, dropping = "text", "", True


def _table_alignment_as_attribute(state: StateCore) -> None:
    """A table cell's alignment as align="…" (kept by nh3) instead of an inline style."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open"):
            style = token.attrs.get("style")
            if isinstance(style, str) and style.startswith(ALIGNMENT_STYLE):
                del token.attrs["style"]
                token.attrs["align"] = style.removeprefix(ALIGNMENT_STYLE)


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable(["table", "strikethrough"])
    parser.block.ruler.at("table", _bounded_table, {"alt": ["paragraph", "reference"]})
    parser.core.ruler.push("table_alignment_as_attribute", _table_alignment_as_attribute)
    parser.core.ruler.push("bounded_link_targets", _bounded_link_targets)
    return parser


PARSER = _parser()


def markdown_to_html(text: str) -> str:
    """Safe HTML for the text: no script, no style, no event handler, links get rel=noopener."""
    rendered = PARSER.render(text or "", {})
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
    )
