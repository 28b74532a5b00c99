"""A proposal's Markdown text as safe HTML: rendered by Python-Markdown, then cleaned by nh3."""

from __future__ import annotations

import markdown as python_markdown
import nh3

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
EXTENSIONS = ["extra", "sane_lists"]


def markdown_to_html(text: str) -> str:
    """Safe HTML for the text: no script, no style, no event handler, links get rel=noopener."""
    rendered = python_markdown.markdown(text or "", extensions=EXTENSIONS, output_format="html")
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
