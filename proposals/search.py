"""Search over proposals, one place for pages and API: accent- and case-insensitive, over the
title, summary, text, authors' names, organisations and filing references.

Each proposal keeps its searchable words in `search_document`, rewritten by the services that
change them (`search_document_refresh`). On PostgreSQL a trigger (migration 0013) turns it into
`search_vector` with the text search configuration of the proposal's language, wrapped in
`unaccent`; a GIN index serves the match and `ts_headline` the snippets. On SQLite every word
must appear in the document once both are folded (lower case, no accents).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from html import unescape
from typing import Any

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVectorField,
)
from django.db import connection
from django.db.models import Case, F, FloatField, Func, QuerySet, TextField, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils.html import strip_tags

from proposals.models import Language, Proposal

# The text search configurations made by the migration: the language's stemmer after unaccent.
SEARCH_CONFIGS = {
    Language.FRENCH: "proposals_french",
    Language.SPANISH: "proposals_spanish",
    Language.ENGLISH: "proposals_english",
}
# Marks around the words found in a snippet: control characters no text holds, so the snippet
# can be escaped as a whole and the marks turned into <mark> afterwards.
MARK_START = "\x02"
MARK_STOP = "\x03"
SNIPPET_WORDS = 30
SNIPPET_CHARACTERS = 200


def fold(text: str) -> str:
    """The text in lower case without accents: "Économie" and "ECONOMIE" fold alike."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def plain_text(html: str) -> str:
    """The words of rendered HTML, without its tags and entities: what a snippet shows."""
    return unescape(strip_tags(html))


def search_document(proposal: Proposal) -> str:
    """The words a proposal is found by, one part a line (related rows prefetched)."""
    authors = [f"{person.get_full_name()} {person.username}" for person in proposal.authors.all()]
    organizations = [proposal.lead_organization.name, proposal.lead_organization.short_name]
    submission = getattr(proposal, "submission", None)
    parts = [  # the title after the text, so that a snippet does not repeat it first
        proposal.summary,
        plain_text(proposal.text_html) if proposal.text_html else proposal.text,
        proposal.title,
        *authors,
        *organizations,
        submission.reference if submission is not None else "",
    ]
    return "\n".join(part.strip() for part in parts if part and part.strip())


def search_document_refresh(*, proposal_ids: Iterable[int]) -> None:
    """Rewrite the search documents of these proposals from their rows (three queries at
    most); the callers hold the transaction."""
    proposals = (
        Proposal.objects.filter(pk__in=list(proposal_ids))
        .select_related("lead_organization", "submission")
        .prefetch_related("authors")
        .only(
            "pk",
            "title",
            "summary",
            "text",
            "text_html",
            "search_document",
            "lead_organization__name",
            "lead_organization__short_name",
            "submission__reference",
        )
    )
    changed = []
    for proposal in proposals:
        document = search_document(proposal)
        if document != proposal.search_document:
            proposal.search_document = document
            changed.append(proposal)
    Proposal.objects.bulk_update(changed, ["search_document"])


def _words(text: str) -> list[str]:
    return text.split()


def _full_text_query(text: str) -> SearchQuery:
    """Every word, as each language's configuration stems it: one query the GIN index serves."""
    configs = iter(SEARCH_CONFIGS.values())
    query = SearchQuery(text, config=next(configs), search_type="websearch")
    for config in configs:
        query |= SearchQuery(text, config=config, search_type="websearch")
    return query


def _proposal_config() -> Case:
    return Case(
        *(
            When(language=language, then=Value(config))
            for language, config in SEARCH_CONFIGS.items()
        ),
        default=Value(SEARCH_CONFIGS[Language.ENGLISH]),
    )


def sqlite_functions_register(sender: object, connection: Any, **kwargs: object) -> None:
    """Give each SQLite connection proposals_fold(text), the fallback search's fold()."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "proposals_fold", 1, lambda text: fold(text or ""), deterministic=True
        )


class Fold(Func):
    """fold() in SQL on SQLite, where the function is registered on each connection."""

    function = "proposals_fold"
    output_field = TextField()


def proposals_matching(queryset: QuerySet[Proposal], text: str) -> QuerySet[Proposal]:
    """The proposals in which every word of `text` is found, annotated with `search_rank`
    (higher ranks first when ordered by it) and `search_snippet` (marked with MARK_START and
    MARK_STOP)."""
    if not _words(text):
        return queryset
    if connection.vendor == "postgresql":
        query = _full_text_query(text)
        vector = RawSQL(
            '"proposals_proposal"."search_vector"', [], output_field=SearchVectorField()
        )
        return (
            queryset.alias(search_vector=vector)
            .filter(search_vector=query)
            .annotate(
                # ts_rank is a real (float4): as a double it survives a round trip through
                # Python and back exactly, so that pages keyed on it neither skip nor repeat.
                search_rank=Cast(SearchRank(F("search_vector"), query), FloatField()),
                search_snippet=SearchHeadline(
                    "search_document",
                    query,
                    config=_proposal_config(),
                    start_sel=MARK_START,
                    stop_sel=MARK_STOP,
                    max_words=SNIPPET_WORDS,
                    min_words=SNIPPET_WORDS // 2,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                ),
            )
        )
    folded = queryset.annotate(search_folded=Fold(F("search_document")))
    for word in _words(fold(text)):
        folded = folded.filter(search_folded__contains=word)
    return folded.annotate(search_rank=Value(0.0), search_snippet=F("search_document"))


def snippet_parts(snippet: str, words: str = "") -> list[tuple[str, bool]]:
    """A snippet as (text, found) pieces: from PostgreSQL's marks, or, given the words searched,
    by finding their folded forms in the folded text (SQLite) around the first one found."""
    if MARK_START in snippet:
        parts: list[tuple[str, bool]] = []
        for index, piece in enumerate(re.split(f"[{MARK_START}{MARK_STOP}]", snippet)):
            if piece:
                parts.append((piece, index % 2 == 1))
        return parts
    folded_words = [word for word in _words(fold(words)) if word]
    folded = fold(snippet)
    if len(folded) != len(snippet) or not folded_words:
        return [(_shortened(snippet, 0), False)]
    spans = sorted(
        (match.start(), match.end())
        for word in folded_words
        for match in re.finditer(re.escape(word), folded)
    )
    start = max(0, spans[0][0] - SNIPPET_CHARACTERS // 3) if spans else 0
    stop = start + SNIPPET_CHARACTERS
    parts = []
    position = start
    for span_start, span_stop in spans:
        if span_start < position or span_start >= stop:
            continue
        parts.append((snippet[position:span_start], False))
        parts.append((snippet[span_start:span_stop], True))
        position = span_stop
    parts.append((snippet[position:stop], False))
    if start > 0:
        parts.insert(0, ("… ", False))
    if stop < len(snippet):
        parts.append((" …", False))
    return [(text.replace("\n", " "), found) for text, found in parts if text]


def _shortened(text: str, start: int) -> str:
    piece = text[start : start + SNIPPET_CHARACTERS].replace("\n", " ")
    return piece + (" …" if start + SNIPPET_CHARACTERS < len(text) else "")
