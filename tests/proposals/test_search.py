"""Search over proposals: accent- and case-insensitive, over the title, summary, text, authors,
organisations and filing references; highlighted snippets; the same on pages and in the API.

Runs on SQLite (the folded fallback) and, with DATABASE_URL=postgres://..., on PostgreSQL
(full-text search with unaccent and each proposal's language)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from proposals import services
from proposals.audited import SYSTEM
from proposals.filtersets import proposals_sorted
from proposals.models import Proposal
from proposals.people import person_update
from proposals.reference import organization_update
from proposals.search import proposals_matching, snippet_parts
from proposals.security import security_event_record
from tests.factories import Group, OccasionFactory, proposal_draft
from tests.proposals.api.helpers import client_for
from tests.proposals.web.helpers import endorsed, run, signed_in
from workflow.models import Delivery

pytestmark = pytest.mark.django_db


def found(words: str) -> set[int]:
    return set(proposals_matching(Proposal.objects.all(), words).values_list("pk", flat=True))


def written(group: Group, **fields: object) -> Proposal:
    return services.proposal_create(author=group.drafter, **fields)  # type: ignore[arg-type]


def test_search_ignores_accents_and_case_both_ways(group: Group) -> None:
    french = written(group, title="Économie circulaire", language="fr")
    spanish = written(group, title="Educación rural", language="es")
    written(group, title="Fair trade", language="en")

    assert found("economie") == {french.pk}
    assert found("ÉCONOMIE") == {french.pk}
    assert found("educacion") == {spanish.pk}
    assert found("EDUCACIÓN") == {spanish.pk}


def test_search_finds_words_only_in_the_text_summary_authors_and_organisations(
    group: Group,
) -> None:
    proposal = written(
        group,
        title="Fair trade",
        summary="Cooperatives first.",
        text="The **microcrédit** programmes of the region.",
        language="en",
        co_authors=[group.co_drafter],
    )
    other = written(group, title="Something else", language="en")

    assert found("microcredit") == {proposal.pk}
    matched = proposals_matching(Proposal.objects.all(), "microcredit")
    snippet = str(getattr(matched.get(), "search_snippet"))  # noqa: B009 (an annotation)
    assert "microcrédit" in snippet
    assert "**" not in snippet, "snippets show the words, not the Markdown"
    assert found("cooperatives") == {proposal.pk}
    assert found("france") == {proposal.pk, other.pk}


def test_renamed_people_and_organisations_are_found_by_their_new_names(group: Group) -> None:
    proposal = written(group, title="Fair trade", co_authors=[group.co_drafter])
    person_update(actor=SYSTEM, person=group.co_drafter, changes={"last_name": "Lefèvre"})
    organization_update(actor=None, organization=group.france, changes={"name": "République"})

    assert found("lefevre") == {proposal.pk}
    assert found("republique") == {proposal.pk}
    assert found("france") == set()


def test_search_finds_the_filing_reference(group: Group) -> None:
    proposal = endorsed(group, title="Fair trade")
    run(proposal, "submit", group.secretariat, reference="A/RES/81-207")
    written(group, title="Something else")

    assert found("A/RES/81-207") == {proposal.pk}


def test_every_word_must_be_found(group: Group) -> None:
    both = written(group, title="Cooperative banks", text="Rural credit.")
    written(group, title="Cooperative schools")

    assert found("cooperative credit") == {both.pk}


def test_snippets_mark_the_words_found_and_escape_the_rest() -> None:
    parts = snippet_parts("Une <b>économie</b> circulaire", "economie")

    assert ("économie", True) in parts
    assert "".join(text for text, _ in parts) == "Une <b>économie</b> circulaire"


def test_the_list_page_finds_without_accents_and_highlights(group: Group) -> None:
    written(group, title="Économie circulaire", summary="Une économie qui recycle.", language="fr")
    written(group, title="Fair trade")
    html = (
        signed_in(group.drafter)
        .get(reverse("proposals:proposal_list"), {"search": "economie"})
        .content.decode()
    )

    assert "Économie circulaire" in html
    assert "Fair trade" not in html
    assert "<mark>" in html


def test_the_api_search_is_the_same(group: Group) -> None:
    proposal = written(group, title="Économie circulaire", language="fr")
    written(group, title="Fair trade")
    response = client_for(group.drafter).get("/api/proposals/", {"search": "ECONOMIE"})

    assert [row["id"] for row in response.json()["results"]] == [proposal.pk]


def test_a_proposal_made_by_the_factory_is_searchable(group: Group) -> None:
    proposal = proposal_draft(group, title="Économie bleue")

    assert found("economie") == {proposal.pk}


def test_the_header_has_a_search_box(group: Group) -> None:
    html = signed_in(group.drafter).get(reverse("proposals:home")).content.decode()

    assert 'role="search"' in html
    assert f'action="{reverse("proposals:proposal_list")}"' in html


# Sorting the list


def listed_titles(html: str) -> list[str]:
    return re.findall(r'<a href="/proposals/\d+/">([^<]+)</a>', html)


def test_every_column_of_the_list_sorts_both_ways_with_aria_sort(group: Group) -> None:
    later = OccasionFactory(name="Alpha summit")
    written(group, title="banana", occasion=later)
    written(group, title="Apple")
    written(group, title="cherry")
    client = signed_in(group.drafter)
    url = reverse("proposals:proposal_list")

    html = client.get(url, {"sort": "title"}).content.decode()
    assert listed_titles(html) == ["Apple", "banana", "cherry"]
    assert 'aria-sort="ascending"' in html
    assert 'href="?sort=-title"' in html
    html = client.get(url, {"sort": "-title"}).content.decode()
    assert listed_titles(html) == ["cherry", "banana", "Apple"]
    assert 'aria-sort="descending"' in html
    html = client.get(url, {"sort": "occasion"}).content.decode()
    assert listed_titles(html)[0] == "banana"
    for column in ("state", "lead_organization", "occasion", "deadline"):
        assert f'href="?sort={column}"' in html or f'href="?sort=-{column}"' in html
        assert client.get(url, {"sort": f"-{column}"}).status_code == 200


def test_ties_are_broken_by_id_in_the_sort_direction(group: Group) -> None:
    first, second, third = (written(group, title="Same") for _ in range(3))
    sorted_ids = list(
        proposals_sorted(Proposal.objects.all(), "title").values_list("pk", flat=True)
    )
    reversed_ids = list(
        proposals_sorted(Proposal.objects.all(), "-title").values_list("pk", flat=True)
    )

    assert sorted_ids == [first.pk, second.pk, third.pk]
    assert reversed_ids == [third.pk, second.pk, first.pk]


def test_the_sort_keeps_the_filters_and_the_filters_keep_the_sort(group: Group) -> None:
    written(group, title="Cooperative banks")
    html = (
        signed_in(group.drafter)
        .get(reverse("proposals:proposal_list"), {"search": "cooperative", "sort": "title"})
        .content.decode()
    )

    assert 'href="?search=cooperative&amp;sort=-title"' in html
    assert '<input type="hidden" name="sort" value="title">' in html


def test_an_unknown_sort_is_shown_as_an_error_like_the_other_filters(group: Group) -> None:
    response = signed_in(group.drafter).get(reverse("proposals:proposal_list"), {"sort": "pk"})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_the_api_walks_search_results_page_by_page_and_by_cursor(group: Group) -> None:
    expected = {written(group, title=f"Économie {number}").pk for number in range(5)}
    written(group, title="Fair trade")
    client = client_for(group.drafter)

    numbered = set()
    for page in (1, 2, 3):
        answer = client.get(
            "/api/proposals/", {"search": "economie", "page_size": "2", "page": str(page)}
        )
        numbered |= {row["id"] for row in answer.json()["results"]}
    walked: list[int] = []
    answer = client.get(
        "/api/proposals/", {"search": "economie", "page_size": "2", "pagination": "cursor"}
    )
    for _ in range(5):
        assert answer.status_code == 200, answer.content
        walked += [row["id"] for row in answer.json()["results"]]
        if not answer.json()["next"]:
            break
        answer = client.get(answer.json()["next"])

    assert numbered == expected
    assert sorted(walked) == sorted(expected)


# The other lists with columns: the delivery log and the security events


def test_every_column_of_the_delivery_log_sorts_with_aria_sort(group: Group) -> None:
    written(group, title="Fair trade")
    people = (group.reviewer, group.drafter, group.observer)
    for attempts, person in zip((3, 1, 2), people, strict=True):
        Delivery.objects.create(
            key=f"test-{person.pk}",
            kind=Delivery.Kind.NOTIFICATION,
            recipient=person,
            address=person.email,
            template="proposals/email/approved",
            attempts=attempts,
        )
    client = signed_in(group.secretariat)
    url = reverse("proposals:delivery_log")

    html = client.get(url, {"sort": "attempts"}).content.decode()
    assert 'aria-sort="ascending"' in html
    shown = re.findall(r'data-label="Attempts">(\d+)', html)
    assert shown == sorted(shown)
    html = client.get(url, {"sort": "-attempts"}).content.decode()
    shown = re.findall(r'data-label="Attempts">(\d+)', html)
    assert shown == sorted(shown, reverse=True)
    for column in ("created", "recipient", "message", "channel", "kind", "status", "sent", "error"):
        assert f'href="?sort={column}"' in html
        assert client.get(url, {"sort": column}).status_code == 200


def test_every_column_of_the_security_events_sorts(group: Group) -> None:
    for person in (group.drafter, group.reviewer):
        security_event_record(action="login.failed", subject=person, notify=False)
    client = signed_in(group.secretariat)
    url = reverse("proposals:security_events")

    html = client.get(url, {"sort": "-when"}).content.decode()
    assert 'aria-sort="descending"' in html
    for column in ("when", "event", "subject", "actor", "address"):
        assert f'href="?sort={column}"' in html or f'href="?sort=-{column}"' in html
        assert client.get(url, {"sort": f"-{column}"}).status_code == 200
