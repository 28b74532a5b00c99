"""Proposals over the API: create, read, edit in draft, filters, CSV export, visibility."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.http import StreamingHttpResponse

from proposals.models import Proposal, Revision, Theme
from tests.factories import BodyFactory, Group, OccasionFactory, proposal_draft
from tests.proposals.api.helpers import client_for, proposal_in

pytestmark = pytest.mark.django_db

FIELDS = {
    "id", "title", "summary", "text", "text_html", "state", "lead_organization", "authors",
    "target_body", "occasion", "themes", "language", "revision", "outcome", "deadline",
    "created_at", "updated_at", "transitions",
}  # fmt: skip


def test_a_drafter_creates_a_proposal_for_their_own_organisation_by_default(group: Group) -> None:
    response = client_for(group.drafter).post(
        "/api/proposals/",
        {
            "title": "A law on cooperatives",
            "text": "# Article 1",
            "target_body": group.body.pk,
            "occasion": group.occasion.pk,
            "themes": [8, 10],
            "authors": [group.co_drafter.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert set(data) >= FIELDS
    assert data["state"] == "draft"
    assert data["lead_organization"] == group.france.pk
    assert set(data["authors"]) == {group.drafter.pk, group.co_drafter.pk}
    assert data["themes"] == [8, 10]
    assert data["revision"] == 1
    assert "submit_for_review" in data["transitions"]
    assert Revision.objects.filter(proposal_id=data["id"]).count() == 1


def test_someone_who_drafts_for_no_organisation_may_not_create(group: Group) -> None:
    response = client_for(group.reviewer).post("/api/proposals/", {"title": "T"}, format="json")
    assert response.status_code == 403
    assert response.json()["reasons"] == [
        "Only drafters of a member or observer organisation can write proposals."
    ]


def test_a_drafter_may_not_create_for_another_organisation(group: Group) -> None:
    response = client_for(group.drafter).post(
        "/api/proposals/", {"title": "T", "lead_organization": group.morocco.pk}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["reasons"] == [
        "You can write proposals only for an organisation you draft for."
    ]


def test_a_proposal_needs_a_title(group: Group) -> None:
    response = client_for(group.drafter).post("/api/proposals/", {"text": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["title"]


def test_each_saved_edit_of_the_text_is_a_new_revision(group: Group) -> None:
    proposal = proposal_draft(group)
    client = client_for(group.drafter)
    response = client.patch(
        f"/api/proposals/{proposal.pk}/",
        {"text": "New text", "expected_revision": 1},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["revision"] == 2
    response = client.patch(f"/api/proposals/{proposal.pk}/", {"title": "New title"}, format="json")
    assert response.json()["revision"] == 3
    assert list(proposal.revisions.values_list("number", flat=True)) == [1, 2, 3]


def test_an_edit_made_on_an_older_revision_is_a_conflict(group: Group) -> None:
    proposal = proposal_draft(group)
    client = client_for(group.drafter)
    client.patch(f"/api/proposals/{proposal.pk}/", {"text": "Mine"}, format="json")
    response = client.patch(
        f"/api/proposals/{proposal.pk}/", {"text": "Theirs", "expected_revision": 1}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["reasons"] == [
        "Someone saved revision 2 while you were editing revision 1. Compare the two versions, "
        "then keep yours, merge them or take theirs."
    ]


def test_only_an_author_edits(group: Group) -> None:
    proposal = proposal_draft(group)
    response = client_for(group.co_drafter).patch(
        f"/api/proposals/{proposal.pk}/", {"text": "x"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["reasons"] == ["Only the authors of this proposal can edit it."]


def test_only_a_draft_is_edited(group: Group) -> None:
    proposal = proposal_in(group, "in_review")
    response = client_for(group.drafter).patch(
        f"/api/proposals/{proposal.pk}/", {"text": "x"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["reasons"] == ["Only a draft can be edited; this proposal is in review."]


def test_the_lead_organisation_does_not_change(group: Group) -> None:
    proposal = proposal_draft(group)
    response = client_for(group.drafter).patch(
        f"/api/proposals/{proposal.pk}/", {"lead_organization": group.morocco.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["lead_organization"]


def test_co_authors_and_themes_are_edited(group: Group) -> None:
    proposal = proposal_draft(group)
    response = client_for(group.drafter).patch(
        f"/api/proposals/{proposal.pk}/",
        {"authors": [group.co_drafter.pk], "themes": [1]},
        format="json",
    )
    assert response.status_code == 200
    assert set(response.json()["authors"]) == {group.drafter.pk, group.co_drafter.pk}
    assert response.json()["themes"] == [1]
    assert response.json()["revision"] == 1


def test_the_text_is_rendered_as_sanitised_html(group: Group) -> None:
    proposal = proposal_draft(
        group,
        text=(
            "# Title\n\n<script>alert(1)</script>\n\n"
            '<img src="x" onerror="alert(1)"> [click](javascript:alert(1)) '
            "[ok](https://example.org)"
        ),
    )
    html = client_for(group.drafter).get(f"/api/proposals/{proposal.pk}/").json()["text_html"]
    assert "<h1>Title</h1>" in html
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, "raw HTML is shown as text"
    assert 'href="javascript:' not in html
    assert 'href="https://example.org"' in html


def test_an_invisible_proposal_is_not_found_never_forbidden(group: Group) -> None:
    draft = proposal_draft(group)
    for person in (group.reviewer, group.representative_ma, group.observer, group.outsider):
        client = client_for(person)
        assert client.get(f"/api/proposals/{draft.pk}/").status_code == 404
        assert (
            client.patch(f"/api/proposals/{draft.pk}/", {"text": "x"}, format="json").status_code
            == 404
        )
        assert client.get(f"/api/proposals/{draft.pk}/history/").status_code == 404
        ids = [row["id"] for row in client.get("/api/proposals/").json()["results"]]
        assert draft.pk not in ids


def test_a_draft_is_seen_by_its_lead_organisation_the_secretariat_and_the_presidency(
    group: Group,
) -> None:
    draft = proposal_draft(group)
    for person in (group.drafter, group.co_drafter, group.secretariat, group.representative_fr):
        assert client_for(person).get(f"/api/proposals/{draft.pk}/").status_code == 200


def ids_of(response: object) -> list[int]:
    return [row["id"] for row in response.json()["results"]]  # type: ignore[attr-defined]


def test_proposals_are_filtered(group: Group) -> None:
    other_body: Any = BodyFactory(name="ILO conference")
    later: Any = OccasionFactory(name="Habitat III")
    draft = proposal_draft(group, title="Cooperative banks", summary="Credit unions")
    review = proposal_in(group, "in_review", target_body=other_body, occasion=later)
    review.themes.set([Theme.objects.get(number=8)])
    morocco = proposal_draft(
        group, lead_organization=group.morocco, created_by=group.representative_ma
    )
    client = client_for(group.secretariat)

    assert ids_of(client.get("/api/proposals/?state=in_review")) == [review.pk]
    assert set(ids_of(client.get("/api/proposals/?state=draft&state=in_review"))) == {
        draft.pk, review.pk, morocco.pk,
    }  # fmt: skip
    assert ids_of(client.get(f"/api/proposals/?occasion={later.pk}")) == [review.pk]
    assert ids_of(client.get(f"/api/proposals/?target_body={other_body.pk}")) == [review.pk]
    assert ids_of(client.get(f"/api/proposals/?lead_organization={group.morocco.pk}")) == [
        morocco.pk
    ]
    assert ids_of(client.get("/api/proposals/?theme=8")) == [review.pk]
    assert ids_of(client.get("/api/proposals/?search=credit")) == [draft.pk]
    assert ids_of(client.get("/api/proposals/?search=COOPERATIVE banks")) == [draft.pk]
    deadline = later.submission_deadline.isoformat()
    assert review.pk in ids_of(client.get("/api/proposals/", {"deadline_after": deadline}))
    assert review.pk not in ids_of(
        client.get(
            "/api/proposals/", {"deadline_before": group.occasion.submission_deadline.isoformat()}
        )
    )
    titles = [
        row["title"] for row in client.get("/api/proposals/?ordering=-title").json()["results"]
    ]
    assert titles == sorted(titles, reverse=True)


def test_lists_are_paginated_with_a_page_size_of_at_most_100(group: Group) -> None:
    for _ in range(3):
        proposal_draft(group)
    client = client_for(group.drafter)
    page = client.get("/api/proposals/?page_size=2").json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == 3
    assert len(page["results"]) == 2
    assert "page=2" in page["next"]
    assert len(client.get("/api/proposals/?page_size=2&page=2").json()["results"]) == 1
    assert client.get("/api/proposals/?page=9").status_code == 404
    assert len(client.get("/api/proposals/?page_size=1000").json()["results"]) == 3


def test_the_csv_export_streams_every_visible_row_matching_the_filters(group: Group) -> None:
    for _ in range(30):
        proposal_draft(group, title="=HYPERLINK(1)")
    proposal_in(group, "in_review")
    proposal_draft(group, lead_organization=group.morocco, created_by=group.representative_ma)
    response = client_for(group.drafter).get("/api/proposals/?format=csv&state=draft&page_size=5")
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 30
    assert {row["state"] for row in rows} == {"draft"}
    assert rows[0]["title"] == "'=HYPERLINK(1)"
    assert rows[0]["authors"] == "claire"


def test_a_bad_filter_on_the_csv_export_answers_in_json(group: Group) -> None:
    response = client_for(group.drafter).get("/api/proposals/?format=csv&state=nonsense")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["state"]


def test_a_closed_proposal_shows_its_submission_and_outcome(group: Group) -> None:
    proposal = proposal_in(group, "closed")
    data = client_for(group.drafter).get(f"/api/proposals/{proposal.pk}/").json()
    assert data["outcome"]["result"] == "adopted"
    assert data["submission"]["reference"] == "A/81/1"
    assert data["transitions"] == []


def test_a_proposal_is_not_deleted_nor_replaced(group: Group) -> None:
    proposal = proposal_draft(group)
    client = client_for(group.drafter)
    assert client.delete(f"/api/proposals/{proposal.pk}/").status_code == 405
    assert (
        client.put(f"/api/proposals/{proposal.pk}/", {"title": "x"}, format="json").status_code
        == 405
    )
    assert Proposal.objects.filter(pk=proposal.pk).exists()
