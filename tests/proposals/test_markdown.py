"""Markdown is rendered by markdown-it-py (time linear in the text) and sanitised by nh3.

The adversarial texts below took Python-Markdown seconds to minutes; none of these tests times
anything: they check that the renderer is markdown-it-py and that its output is right.
"""

from __future__ import annotations

import html
import importlib
import random
import re

import pytest
from django.apps import apps as django_apps
from django.db import connection
from markdown_it import MarkdownIt

from bench import generate
from proposals import markdown, services
from proposals.markdown import markdown_to_html
from proposals.models import Proposal
from tests.factories import Group, proposal_draft

MAX_NESTING = 20  # markdown-it's CommonMark preset: deeper blocks are cut, never recursed into


def as_text(rendered: str) -> str:
    """The characters a reader sees: the HTML without its tags, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


def test_the_renderer_is_markdown_it_with_commonmark_tables_and_strikethrough() -> None:
    assert isinstance(markdown.PARSER, MarkdownIt)
    enabled = markdown.PARSER.get_active_rules()
    assert "table" in enabled["block"]
    assert "strikethrough" in enabled["inline"]
    assert markdown.PARSER.options["html"] is False
    assert markdown.PARSER.options["maxNesting"] == MAX_NESTING


def test_headings_emphasis_lists_code_and_rules_are_rendered() -> None:
    rendered = markdown_to_html(
        "# Title\n\n**strong** *em* ~~gone~~ `code`\n\n- one\n- two\n\n1. first\n\n"
        "```python\nprint(1)\n```\n\n---\n\nline  \nbreak"
    )
    assert rendered == (
        "<h1>Title</h1>\n"
        "<p><strong>strong</strong> <em>em</em> <s>gone</s> <code>code</code></p>\n"
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        "<ol>\n<li>first</li>\n</ol>\n"
        "<pre><code>print(1)\n</code></pre>\n"
        "<hr>\n"
        "<p>line<br>\nbreak</p>\n"
    )


def test_a_table_keeps_its_column_alignment() -> None:
    rendered = markdown_to_html("| a | b |\n|:--|--:|\n| 1 | 2 |")
    assert '<th align="left">a</th>' in rendered
    assert '<td align="right">2</td>' in rendered
    assert "style" not in rendered


def test_raw_html_is_shown_as_text_and_never_as_markup() -> None:
    rendered = markdown_to_html(
        '<script>alert(1)</script>\n\n<img src=x onerror="alert(1)"> <b onclick="x()">b</b>'
    )
    assert "<script" not in rendered
    assert "<img" not in rendered
    assert "<b " not in rendered
    assert as_text(rendered) == (
        '<script>alert(1)</script>\n<img src=x onerror="alert(1)"> <b onclick="x()">b</b>'
    )


def test_links_keep_safe_schemes_only_and_get_rel_noopener() -> None:
    rendered = markdown_to_html(
        '[ok](https://example.org "Title") [mail](mailto:a@example.org) '
        "[js](javascript:alert(1)) [data](data:text/html,x) <https://auto.example.org>"
    )
    assert (
        '<a href="https://example.org" title="Title" rel="noopener noreferrer nofollow">ok</a>'
        in rendered
    )
    assert 'href="mailto:a@example.org"' in rendered
    assert 'href="https://auto.example.org"' in rendered
    hrefs = re.findall(r'href="([^"]*)"', rendered)
    assert not any(href.startswith(("javascript:", "data:")) for href in hrefs)


def test_an_empty_text_is_empty_html() -> None:
    assert markdown_to_html("") == ""


def test_the_brackets_that_stopped_python_markdown_are_plain_text() -> None:
    text = "[" * 20000 + "(" * 20000
    assert markdown_to_html(text) == f"<p>{text}</p>\n"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("![" * 10000, id="image openers"),
        pytest.param("[a](" * 5000, id="link openers"),
        pytest.param("[" * 10000 + "]" * 10000, id="nested brackets"),
        pytest.param("*a " * 10000, id="unclosed asterisks"),
        pytest.param("_a" * 10000, id="intraword underscores"),
        pytest.param("**a " * 10000, id="unclosed strong"),
        pytest.param("*_a " * 10000, id="mixed delimiters"),
        pytest.param("~~a " * 10000, id="unclosed strikethrough"),
        pytest.param("".join("`" * n + "a" for n in range(1, 250)), id="growing backtick runs"),
        pytest.param("<a" * 10000, id="tag openers"),
        pytest.param("<!--" * 5000, id="comment openers"),
        pytest.param("&#" * 10000, id="entity openers"),
    ],
)
def test_adversarial_inline_text_is_shown_as_written(text: str) -> None:
    rendered = markdown_to_html(text)
    assert rendered.startswith("<p>")
    assert as_text(rendered) == text.strip()


def test_many_emphasis_pairs_are_each_rendered() -> None:
    rendered = markdown_to_html("*a* _b_ " * 5000)
    assert rendered.count("<em>a</em>") == 5000
    assert rendered.count("<em>b</em>") == 5000


def test_a_long_backtick_run_is_an_empty_code_block() -> None:
    assert markdown_to_html("`" * 50000) == "<pre><code></code></pre>\n"


def test_a_long_backtick_run_inside_a_paragraph_is_text() -> None:
    text = "a " + "`" * 50000
    assert markdown_to_html(text) == f"<p>{text}</p>\n"


def test_blockquotes_nested_deeper_than_the_limit_are_cut_at_the_limit() -> None:
    rendered = markdown_to_html("> " * 20000 + "deep")
    assert rendered.count("<blockquote>") == MAX_NESTING
    assert rendered.count("</blockquote>") == MAX_NESTING


def test_lists_nested_deeper_than_the_limit_are_cut_at_the_limit() -> None:
    on_one_line = markdown_to_html("- " * 20000 + "deep")
    indented = markdown_to_html("".join("  " * level + "- item\n" for level in range(300)))
    for rendered in (on_one_line, indented):
        assert rendered.count("<ul>") <= MAX_NESTING
        assert rendered.count("<ul>") == rendered.count("</ul>")
    assert indented.startswith("<ul>\n<li>item\n<ul>\n<li>item\n")


def test_tables_render_until_they_hold_the_budget_of_cells_then_show_as_text() -> None:
    columns, lines = 20, 50  # counted as 21 columns (its pipes) by 50 lines: 1 050 cells
    one_table = (
        "|a" * columns + "|\n" + "|-" * columns + "|\n" + ("|x" * columns + "|\n") * (lines - 2)
    )
    tables = markdown.TABLE_CELL_BUDGET // ((columns + 1) * lines)
    rendered = markdown_to_html("\n".join([one_table] * (tables + 3)))
    assert rendered.count("<td>x</td>") == columns * (lines - 2) * tables
    assert rendered.count("<table>") == tables
    assert rendered.count("<th>a</th>") == columns * tables


def test_a_wide_table_of_short_rows_is_shown_as_text_instead_of_padding_every_row() -> None:
    text = "|a" * 125 + "|\n" + "|-" * 125 + "|\n" + "x\n" * 250
    rendered = markdown_to_html("\n".join([text] * 20))
    assert "<table>" not in rendered
    assert len(rendered) < 2 * len(text) * 20


def test_a_reference_used_many_times_keeps_its_target_only_within_the_budget() -> None:
    target = "https://example.org/" + "u" * 10_000
    text = f"[r]: {target}\n\n" + "[r] " * 20_000
    rendered = markdown_to_html(text)
    links = rendered.count(f'href="{target}"')
    assert links == (len(text) + markdown.LINK_TARGET_BUDGET) // len(target)
    assert rendered.count("<a ") == links
    assert len(rendered) < len(text) + markdown.LINK_TARGET_BUDGET * 2
    assert (
        markdown_to_html("[a][r] [b][r]\n\n[r]: https://e.org").count('href="https://e.org"') == 2
    )


# Rendering holds no lock


@pytest.fixture
def render_depths(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many transactions (beyond the test's own) were open at each rendering by a service."""
    baseline = len(connection.atomic_blocks)
    depths: list[int] = []

    def recording(text: str) -> str:
        depths.append(len(connection.atomic_blocks) - baseline)
        return markdown_to_html(text)

    monkeypatch.setattr(services, "markdown_to_html", recording)
    return depths


def test_a_new_proposal_is_rendered_before_its_transaction(
    group: Group, render_depths: list[int]
) -> None:
    proposal = services.proposal_create(author=group.drafter, title="New", text="*new*")
    assert render_depths == [0]
    assert proposal.text_html == "<p><em>new</em></p>\n"


def test_an_edited_text_is_rendered_before_the_row_lock_is_taken(
    group: Group, render_depths: list[int]
) -> None:
    proposal = proposal_draft(group)
    updated = services.proposal_update(proposal=proposal, editor=group.drafter, text="**edited**")
    assert render_depths == [0]
    assert updated.text_html == "<p><strong>edited</strong></p>\n"
    assert Proposal.objects.get(pk=proposal.pk).text_html == updated.text_html


def test_an_edit_that_keeps_the_text_does_not_render_it(
    group: Group, render_depths: list[int]
) -> None:
    proposal = proposal_draft(group, text="*kept*")
    updated = services.proposal_update(proposal=proposal, editor=group.drafter, title="Renamed")
    assert render_depths == []
    assert updated.text_html == "<p><em>kept</em></p>\n"


def test_the_migration_renders_the_stored_html_again_with_markdown_it(group: Group) -> None:
    migration = importlib.import_module("proposals.migrations.0008_rerender_text_html_markdown_it")
    proposal = proposal_draft(group, text="| a |\n|:-:|\n| 1 |\n\n~~old~~")
    Proposal.objects.filter(pk=proposal.pk).update(text_html="<p>as Python-Markdown made it</p>")
    migration.rerender_texts(django_apps, None)
    proposal.refresh_from_db()
    assert proposal.text_html == markdown_to_html(proposal.text)
    assert '<td align="center">1</td>' in proposal.text_html
    assert "<s>old</s>" in proposal.text_html


def test_the_benchmark_data_holds_the_html_the_renderer_makes() -> None:
    rng = random.Random(7)
    for number in range(20):
        text = generate.proposal_text(rng, number)
        assert generate.text_html(text) == markdown_to_html(text)
