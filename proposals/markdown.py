"""A text's Markdown as safe HTML: CommonMark with tables and strikethrough, rendered by
markdown-it-py (time linear in the input, raw HTML shown as text), then cleaned by nh3.

The one renderer of the project: proposals, and every later text (comments, emails, the dossier).
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
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
    parser.core.ruler.push("table_alignment_as_attribute", _table_alignment_as_attribute)
    return parser


PARSER = _parser()


def markdown_to_html(text: str) -> str:
    """Safe HTML for the text: no script, no style, no event handler, links get rel=noopener."""
    rendered = PARSER.render(text or "")
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
    )
