"""Conditional requests on a proposal: ETag, If-None-Match (304) and If-Match (412)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db.models import F
from rest_framework.test import APIClient

from proposals.api import views
from proposals.models import Endorsement, Proposal
from proposals.services import endorsement_create, occasion_move_deadline
from tests.factories import Group, proposal_draft
from tests.proposals.api.helpers import client_for, fresh, proposal_in, run

pytestmark = pytest.mark.django_db


def url_of(proposal: Proposal) -> str:
    return f"/api/proposals/{proposal.pk}/"


def etag_of(client: APIClient, proposal: Proposal) -> str:
    response = client.get(url_of(proposal))
    assert response.status_code == 200
    return response["ETag"]


def vary_of(response: Any) -> list[str]:
    return [name.strip().lower() for name in response["Vary"].split(",")]


def test_a_proposal_is_answered_with_an_etag_of_its_version_and_language(group: Group) -> None:
    proposal = proposal_draft(group)
    response = client_for(group.drafter).get(url_of(proposal))

    assert response.status_code == 200
    assert response["ETag"].startswith(f'"v{proposal.version}-en-')
    assert {"authorization", "accept-language"} <= set(vary_of(response))
    assert len(vary_of(response)) == len(set(vary_of(response)))


def test_the_etag_keeps_the_vary_entries_the_answer_already_had(group: Group) -> None:
    proposal = proposal_draft(group)
    client = APIClient()
    client.force_login(group.drafter)  # a session: its middleware varies on the cookie
    response = client.get(url_of(proposal))
    if response.status_code == 200:
        assert {"cookie", "authorization", "accept-language"} <= set(vary_of(response))


def test_if_none_match_with_the_current_etag_is_a_304_without_a_body(group: Group) -> None:
    proposal = proposal_draft(group)
    client = client_for(group.drafter)
    etag = etag_of(client, proposal)

    response = client.get(url_of(proposal), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert {"authorization", "accept-language"} <= set(vary_of(response))
    assert client.get(url_of(proposal), HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
    assert client.get(url_of(proposal), HTTP_IF_NONE_MATCH="*").status_code == 304
    assert client.head(url_of(proposal), HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_the_etag_differs_by_language_and_by_what_the_reader_may_do(group: Group) -> None:
    proposal = proposal_in(group, "in_review")
    english = etag_of(client_for(group.drafter), proposal)
    group.drafter.language = "fr"
    group.drafter.save(update_fields=["language"])
    french = etag_of(client_for(group.drafter), proposal)
    reviewer = etag_of(client_for(group.reviewer), proposal)

    assert french.startswith(f'"v{proposal.version}-fr-')
    assert len({english, french, reviewer}) == 3
    response = client_for(group.drafter).get(url_of(proposal), HTTP_IF_NONE_MATCH=english)
    assert response.status_code == 200


def test_every_write_that_changes_what_a_proposal_shows_changes_its_etag(group: Group) -> None:
    proposal = proposal_draft(group)
    client = client_for(group.secretariat)
    etags = [etag_of(client, proposal)]

    def changed() -> None:
        etags.append(etag_of(client, proposal))
        assert len(set(etags)) == len(etags), "the ETag did not change"
        response = client.get(url_of(proposal), HTTP_IF_NONE_MATCH=etags[-2])
        assert response.status_code == 200

    client_for(group.drafter).patch(url_of(proposal), {"title": "New"}, format="json")
    changed()
    run(proposal, "submit_for_review", group.drafter)
    changed()
    run(proposal, "approve", group.reviewer)  # a review
    changed()
    endorsement = endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    changed()
    from proposals.services import endorsement_withdraw

    endorsement_withdraw(endorsement=endorsement, person=group.representative_ma)
    changed()
    occasion_move_deadline(
        occasion=group.occasion,
        new_deadline=group.occasion.submission_deadline + dt.timedelta(days=3),
        actor=group.secretariat,
    )
    changed()


def test_a_deadline_move_changes_the_etag_of_every_proposal_of_the_occasion(
    group: Group,
) -> None:
    proposals = [proposal_draft(group) for _ in range(3)]
    elsewhere = proposal_draft(group, occasion=None)
    client = client_for(group.secretariat)
    before = {p.pk: etag_of(client, p) for p in [*proposals, elsewhere]}

    occasion_move_deadline(
        occasion=group.occasion,
        new_deadline=group.occasion.submission_deadline + dt.timedelta(hours=5),
        actor=group.secretariat,
    )

    for proposal in proposals:
        response = client.get(url_of(proposal), HTTP_IF_NONE_MATCH=before[proposal.pk])
        assert response.status_code == 200
        assert response["ETag"] != before[proposal.pk]
        assert response["ETag"].startswith(f'"v{fresh(proposal).version}-')
    unmoved = client.get(url_of(elsewhere), HTTP_IF_NONE_MATCH=before[elsewhere.pk])
    assert unmoved.status_code == 304


def test_a_patch_with_the_current_etag_in_if_match_is_saved_and_answers_the_new_etag(
    group: Group,
) -> None:
    proposal = proposal_draft(group)
    client = client_for(group.drafter)
    etag = etag_of(client, proposal)

    response = client.patch(url_of(proposal), {"title": "Kept"}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "Kept"
    assert response["ETag"] != etag
    assert response["ETag"].startswith(f'"v{fresh(proposal).version}-')
    assert response["ETag"] == etag_of(client, proposal)


def test_a_patch_with_a_stale_etag_in_if_match_is_a_412_and_writes_nothing(group: Group) -> None:
    proposal = proposal_draft(group)
    client = client_for(group.drafter)
    stale = etag_of(client, proposal)
    client_for(group.drafter).patch(url_of(proposal), {"summary": "Meanwhile"}, format="json")
    version = fresh(proposal).version

    response = client.patch(url_of(proposal), {"title": "Mine"}, format="json", HTTP_IF_MATCH=stale)

    assert response.status_code == 412
    body = response.json()
    assert body["code"] == "precondition_failed"
    assert body["reasons"] and body["detail"]
    assert fresh(proposal).title != "Mine"
    assert fresh(proposal).version == version


def test_if_match_is_checked_on_the_version_alone_and_star_always_matches(group: Group) -> None:
    proposal = proposal_draft(group)
    group.drafter.language = "fr"
    group.drafter.save(update_fields=["language"])
    french = etag_of(client_for(group.drafter), proposal)
    group.drafter.language = "en"
    group.drafter.save(update_fields=["language"])
    client = client_for(group.drafter)

    assert (
        client.patch(
            url_of(proposal), {"title": "A"}, format="json", HTTP_IF_MATCH=french
        ).status_code
        == 200
    )
    assert (
        client.patch(url_of(proposal), {"title": "B"}, format="json", HTTP_IF_MATCH="*").status_code
        == 200
    )
    listed = f'"v999-en-x", {etag_of(client, proposal)}'
    assert (
        client.patch(
            url_of(proposal), {"title": "C"}, format="json", HTTP_IF_MATCH=listed
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    "header", ["v3-en-abc", '"unterminated', 'W/"a" "b"', '"a",,', "", '"a"; "b"']
)
def test_a_malformed_if_match_is_a_400_that_names_the_header(group: Group, header: str) -> None:
    proposal = proposal_draft(group)
    response = client_for(group.drafter).patch(
        url_of(proposal), {"title": "T"}, format="json", HTTP_IF_MATCH=header
    )
    assert response.status_code == 400
    body = response.json()
    assert "If-Match" in body
    assert body["code"] == "validation_error"
    assert fresh(proposal).title != "T"


def test_a_malformed_if_none_match_is_a_400(group: Group) -> None:
    proposal = proposal_draft(group)
    response = client_for(group.drafter).get(url_of(proposal), HTTP_IF_NONE_MATCH="nope")
    assert response.status_code == 400
    assert "If-None-Match" in response.json()


def test_a_transition_takes_if_match_refusing_a_stale_etag_with_412(group: Group) -> None:
    proposal = proposal_draft(group)
    client = client_for(group.drafter)
    stale = etag_of(client, proposal)
    client.patch(url_of(proposal), {"title": "Edited"}, format="json")
    current = etag_of(client, proposal)
    transition = f"/api/proposals/{proposal.pk}/transitions/submit_for_review/"

    refused = client.post(transition, {}, format="json", HTTP_IF_MATCH=stale)
    assert refused.status_code == 412
    assert refused.json()["code"] == "precondition_failed"
    assert fresh(proposal).state == "draft"

    done = client.post(transition, {}, format="json", HTTP_IF_MATCH=current)
    assert done.status_code == 200, done.json()
    assert done.json()["state"] == "in_review"
    assert done["ETag"].startswith(f'"v{fresh(proposal).version}-')
    assert done["ETag"] == etag_of(client, proposal)


def test_the_version_field_of_a_transition_is_still_taken(group: Group) -> None:
    proposal = proposal_draft(group)
    client = client_for(group.drafter)
    old = proposal.version
    client.patch(url_of(proposal), {"title": "Edited"}, format="json")
    response = client.post(
        f"/api/proposals/{proposal.pk}/transitions/submit_for_review/",
        {"version": old},
        format="json",
    )
    assert response.status_code == 409


CONFIRMED = {"password": "demo"}


def test_endorsing_and_withdrawing_take_the_proposals_if_match(group: Group) -> None:
    proposal = proposal_in(group, "endorsement")
    representative = client_for(group.representative_ma)
    Endorsement.objects.filter(organization=group.morocco).delete()
    Proposal.objects.filter(pk=proposal.pk).update(version=F("version") + 1)
    stale = f'"v{proposal.version}-en-0"'
    etag = etag_of(representative, proposal)
    endorse = f"/api/proposals/{proposal.pk}/endorsements/"

    refused = representative.post(endorse, CONFIRMED, format="json", HTTP_IF_MATCH=stale)
    assert refused.status_code == 412, refused.json()
    assert not Endorsement.objects.filter(proposal=proposal, organization=group.morocco).exists()

    done = representative.post(endorse, CONFIRMED, format="json", HTTP_IF_MATCH=etag)
    assert done.status_code == 201, done.json()

    withdraw = f"{endorse}{done.json()['id']}/"
    assert representative.delete(withdraw, HTTP_IF_MATCH=etag).status_code == 412
    current = etag_of(representative, proposal)
    assert representative.delete(withdraw, HTTP_IF_MATCH=current).status_code == 204


def test_a_change_between_the_if_match_check_and_the_row_lock_is_a_412_too(
    group: Group, monkeypatch: pytest.MonkeyPatch
) -> None:
    proposal = proposal_draft(group)
    client = client_for(group.drafter)
    etag = etag_of(client, proposal)
    checked = views.if_match_version

    def checked_then_changed(request: Any, current_version: int) -> int | None:
        seen = checked(request, current_version)
        Proposal.objects.filter(pk=proposal.pk).update(version=F("version") + 1)
        return seen

    monkeypatch.setattr(views, "if_match_version", checked_then_changed)
    response = client.patch(url_of(proposal), {"title": "Late"}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 412
    assert fresh(proposal).title != "Late"


def test_the_etag_and_the_304_add_no_query(group: Group, django_assert_num_queries) -> None:
    proposal = proposal_in(group, "in_review")
    client = client_for(group.secretariat)
    etag = etag_of(client, proposal)
    with django_assert_num_queries(QUERIES_OF_A_PROPOSAL):
        assert client.get(url_of(proposal)).status_code == 200
    with django_assert_num_queries(QUERIES_OF_A_PROPOSAL):
        assert client.get(url_of(proposal), HTTP_IF_NONE_MATCH=etag).status_code == 304


QUERIES_OF_A_PROPOSAL = 2  # as before ETags: the token with the roles (one query), the proposal
# with what the rules read (one query: selectors.proposals_with_rule_facts; 9 before), its
# milestones for the forecast on its row (the step durations are learned once an hour)


def test_the_schema_declares_the_conditional_headers_and_answers(group: Group) -> None:
    schema = client_for(group.drafter).get("/api/schema/?format=json").json()
    detail = schema["paths"]["/api/proposals/{id}/"]
    read, edit = detail["get"], detail["patch"]
    transition = schema["paths"]["/api/proposals/{proposal_id}/transitions/{name}/"]["post"]
    endorse = schema["paths"]["/api/proposals/{proposal_id}/endorsements/"]["post"]

    def headers(operation: dict[str, Any]) -> set[str]:
        return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}

    assert "If-None-Match" in headers(read)
    assert {"304", "400"} <= set(read["responses"])  # 400: an If-None-Match that is no ETag
    assert "ETag" in read["responses"]["200"]["headers"]
    for operation in (edit, transition, endorse):
        assert "If-Match" in headers(operation)
        assert "412" in operation["responses"]
    assert "ETag" in edit["responses"]["200"]["headers"]
    assert "ETag" in transition["responses"]["200"]["headers"]


@pytest.mark.parametrize(
    ("header", "well_formed"),
    [
        ('"v3-en-0123456789abcdef"', True),
        ('W/"a", "b" ,"c"', True),
        ("*", True),
        ('""', True),
        ("v3-en-abc", False),
        ('"a" "b"', False),
        ('"a",', False),
        ("", False),
    ],
)
def test_the_schema_pattern_of_if_match_takes_what_the_server_takes(
    header: str, well_formed: bool
) -> None:
    from rest_framework.exceptions import ValidationError

    from proposals.api.conditional import ENTITY_TAGS_PATTERN, entity_tags

    assert bool(re.fullmatch(ENTITY_TAGS_PATTERN.strip("^$"), header)) == well_formed
    try:
        entity_tags(header, name="If-Match")
    except ValidationError:
        assert not well_formed
    else:
        assert well_formed


def test_a_change_of_the_occasions_time_zone_changes_the_etag_of_its_proposals(
    group: Group,
) -> None:
    """The deadline is shown in the occasion's zone: a new zone is a new answer, whose ETag
    (a digest of the answer) is new although the proposal's version is not."""
    proposal = proposal_draft(group)
    client = client_for(group.drafter)
    before = etag_of(client, proposal)
    type(group.occasion).objects.filter(pk=group.occasion.pk).update(timezone="Asia/Tokyo")

    response = client.get(url_of(proposal), HTTP_IF_NONE_MATCH=before)

    assert response.status_code == 200
    assert response.json()["deadline"].endswith("+09:00")


def test_the_etag_names_the_language_asked_in_accept_language(group: Group) -> None:
    proposal = proposal_draft(group)
    client = client_for(group.drafter)
    english = etag_of(client, proposal)

    spanish = client.get(url_of(proposal), HTTP_ACCEPT_LANGUAGE="es")

    assert spanish["Content-Language"] == "es"
    assert spanish["ETag"].startswith(f'"v{proposal.version}-es-')
    assert client.get(url_of(proposal), HTTP_IF_NONE_MATCH=english).status_code == 304
    revalidated = client.get(
        url_of(proposal), HTTP_ACCEPT_LANGUAGE="es", HTTP_IF_NONE_MATCH=english
    )
    assert revalidated.status_code == 200
