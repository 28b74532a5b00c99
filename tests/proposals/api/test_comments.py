"""/api/proposals/{id}/comments/: list, post, reply, anchor, edit, delete, hide; every refusal in
the API's one error shape, in the requester's language, changing nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals.discussion import comment_create, comment_edit
from proposals.limits import DISCUSSION_COMMENT_MAX_LENGTH
from proposals.models import Comment, CommentEdit, Proposal, ProposalState
from proposals.services import proposal_update
from tests.factories import Group, proposal_draft
from tests.proposals.api.helpers import client_for, fresh, proposal_in
from workflow.models import AuditEvent, Delivery

pytestmark = pytest.mark.django_db

TEXT = "First paragraph.\n\nSecond paragraph.\n\nThird one."


def comments_url(proposal: Proposal, *rest: Any) -> str:
    tail = "".join(f"{part}/" for part in rest)
    return f"/api/proposals/{proposal.pk}/comments/{tail}"


def in_review(group: Group) -> Proposal:
    return proposal_in(group, ProposalState.IN_REVIEW, text=TEXT)


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert {"detail", "reasons", "code", "reason_codes"} <= set(body)
    assert code in body["reason_codes"], body
    return body


def test_a_comment_a_reply_and_an_anchored_comment_are_listed_in_order(group: Group) -> None:
    proposal = in_review(group)
    reviewer = client_for(group.reviewer)
    first = reviewer.post(comments_url(proposal), {"body": "Why *this*, @claire?"}, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["body_html"] == "<p>Why <em>this</em>, @claire?</p>\n"
    assert first.json()["mentions"] == ["claire"]
    reply = client_for(group.drafter).post(
        comments_url(proposal), {"body": "Because.", "parent": first.json()["id"]}, format="json"
    )
    assert reply.status_code == 201 and reply.json()["parent"] == first.json()["id"]
    anchored = reviewer.post(
        comments_url(proposal), {"body": "Clearer?", "revision": 1, "paragraph": 2}, format="json"
    )
    assert anchored.status_code == 201
    assert {k: anchored.json()[k] for k in ("revision", "paragraph", "quoted", "outdated")} == {
        "revision": 1,
        "paragraph": 2,
        "quoted": "Second paragraph.",
        "outdated": False,
    }
    listed = client_for(group.observer).get(comments_url(proposal))
    assert listed.status_code == 200
    assert [c["body"] for c in listed.json()["results"]] == [
        "Why *this*, @claire?",
        "Because.",
        "Clearer?",
    ]
    assert listed.json()["count"] == 3


def test_an_anchored_comment_says_it_is_outdated_once_the_text_changed(group: Group) -> None:
    proposal = proposal_draft(group, text=TEXT)
    client = client_for(group.co_drafter)
    client.post(
        comments_url(proposal), {"body": "Hm.", "revision": 1, "paragraph": 3}, format="json"
    )
    proposal_update(proposal=fresh(proposal), editor=group.drafter, text="All new.")
    [comment] = client.get(comments_url(proposal)).json()["results"]
    assert (comment["outdated"], comment["quoted"], comment["revision"]) == (True, "Third one.", 1)


def test_nobody_reads_or_writes_the_discussion_of_a_proposal_they_cannot_see(group: Group) -> None:
    draft = proposal_draft(group)
    comment = comment_create(proposal=draft, author=group.drafter, body="Ours.")
    moroccan = client_for(group.representative_ma)
    for response in (
        moroccan.get(comments_url(draft)),
        moroccan.post(comments_url(draft), {"body": "Hello."}, format="json"),
        moroccan.patch(comments_url(draft, comment.pk), {"body": "Mine."}, format="json"),
        moroccan.delete(comments_url(draft, comment.pk)),
    ):
        refused(response, 404, "not_found")
    assert refused(client_for(None).get(comments_url(draft)), 401, "not_authenticated")
    assert list(Comment.objects.values_list("body", flat=True)) == ["Ours."]


def test_a_reply_to_a_reply_is_refused_in_the_requesters_language(group: Group) -> None:
    proposal = in_review(group)
    first = comment_create(proposal=proposal, author=group.reviewer, body="Why?")
    reply = comment_create(proposal=proposal, author=group.drafter, body="So.", parent=first)
    response = client_for(group.reviewer).post(
        comments_url(proposal),
        {"body": "No.", "parent": reply.pk},
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    body = refused(response, 400, "reply_to_reply")
    assert body["parent"] == [
        "Las respuestas tienen un solo nivel: responda al primer comentario del hilo."
    ]
    assert Comment.objects.count() == 2


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"body": "@nobody_here hello"}, "body", "mention_unknown"),
        ({"body": "Here.", "revision": 1, "paragraph": 4}, "paragraph", "paragraph_unknown"),
        ({"body": "Here.", "revision": 7, "paragraph": 1}, "revision", "does_not_exist"),
        ({"body": "Here.", "paragraph": 1}, "revision", "anchor_incomplete"),
        ({"body": "Here.", "parent": 999_999}, "parent", "does_not_exist"),
        ({"body": ""}, "body", "blank"),
        ({"body": "x" * (DISCUSSION_COMMENT_MAX_LENGTH + 1)}, "body", "max_length"),
        ({"body": "Here.", "paragraph": "2"}, "paragraph", "invalid"),
    ],
)
def test_bad_input_gets_a_field_error_and_writes_nothing(
    group: Group, payload: dict[str, Any], field: str, code: str
) -> None:
    proposal = in_review(group)
    deliveries = Delivery.objects.count()
    response = client_for(group.reviewer).post(comments_url(proposal), payload, format="json")
    body = refused(response, 400, code)
    assert field in body and body[field]
    assert not Comment.objects.exists() and Delivery.objects.count() == deliveries


def test_its_author_edits_a_comment_and_the_history_is_kept(group: Group) -> None:
    proposal = in_review(group)
    comment = comment_create(proposal=proposal, author=group.reviewer, body="First text.")
    response = client_for(group.reviewer).patch(
        comments_url(proposal, comment.pk), {"body": "Second text."}, format="json"
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["body"], data["edited_at"] is not None) == ("Second text.", True)
    assert [edit["body"] for edit in data["edits"]] == ["First text."]


def test_editing_someone_elses_comment_is_refused(group: Group) -> None:
    proposal = in_review(group)
    comment = comment_create(proposal=proposal, author=group.reviewer, body="Mine.")
    response = client_for(group.drafter).patch(
        comments_url(proposal, comment.pk), {"body": ""}, format="json"
    )
    refused(response, 403, "not_comment_author")
    refused(
        client_for(group.drafter).delete(comments_url(proposal, comment.pk)),
        403,
        "not_comment_author",
    )
    assert Comment.objects.get().body == "Mine." and not CommentEdit.objects.exists()


def test_a_deleted_comment_stays_in_the_thread_without_its_text(group: Group) -> None:
    proposal = in_review(group)
    comment = comment_create(proposal=proposal, author=group.reviewer, body="Oops.")
    comment_edit(comment=comment, editor=group.reviewer, body="Oops again.")
    client = client_for(group.reviewer)
    assert client.delete(comments_url(proposal, comment.pk)).status_code == 204
    [listed] = client.get(comments_url(proposal)).json()["results"]
    assert (listed["status"], listed["body"], listed["body_html"], listed["edits"]) == (
        "deleted",
        None,
        None,
        [],
    )
    refused(
        client.patch(comments_url(proposal, comment.pk), {"body": "Back."}, format="json"),
        409,
        "comment_deleted",
    )
    refused(client.delete(comments_url(proposal, comment.pk)), 409, "comment_deleted")


def test_the_secretariat_hides_a_comment_with_a_reason(group: Group) -> None:
    proposal = in_review(group)
    comment = comment_create(proposal=proposal, author=group.reviewer, body="Rude.")
    url = comments_url(proposal, comment.pk, "hide")
    refused(
        client_for(group.drafter).post(url, {"reason": "No."}, format="json"),
        403,
        "not_secretariat",
    )
    secretariat = client_for(group.secretariat)
    refused(secretariat.post(url, {}, format="json"), 400, "required")
    refused(secretariat.post(url, {"reason": "  "}, format="json"), 400, "reason_missing")
    hidden = secretariat.post(url, {"reason": "Insulting."}, format="json")
    assert hidden.status_code == 200, hidden.json()
    assert (hidden.json()["status"], hidden.json()["body"], hidden.json()["hidden_reason"]) == (
        "hidden",
        None,
        "Insulting.",
    )
    refused(secretariat.post(url, {"reason": "Again."}, format="json"), 409, "comment_hidden")
    refused(
        client_for(group.reviewer).patch(
            comments_url(proposal, comment.pk), {"body": "Nice."}, format="json"
        ),
        409,
        "comment_hidden",
    )
    assert AuditEvent.objects.filter(action="comment.hidden").count() == 1
    assert (
        Delivery.objects.filter(
            event="comment.hidden", recipient=group.reviewer, channel=Delivery.Channel.EMAIL
        ).count()
        == 1
    )


def test_the_list_runs_a_constant_number_of_queries(group: Group) -> None:
    proposal = in_review(group)
    client = client_for(group.observer)

    def counted() -> int:
        client.get(comments_url(proposal))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(comments_url(proposal)).status_code == 200
        return len(captured)

    first = comment_create(proposal=proposal, author=group.reviewer, body="@claire?")
    one = counted()
    for number in range(10):
        reply = comment_create(
            proposal=proposal, author=group.drafter, body=f"@rita {number}", parent=first
        )
        comment_edit(comment=reply, editor=group.drafter, body=f"@ines {number}")
    assert counted() == one


def test_the_schema_documents_the_routes_with_their_limits_and_enums() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    assert set(paths["/api/proposals/{proposal_id}/comments/"]) >= {"get", "post"}
    assert set(paths["/api/proposals/{proposal_id}/comments/{id}/"]) >= {"patch", "delete"}
    assert "post" in paths["/api/proposals/{proposal_id}/comments/{id}/hide/"]
    components = schema["components"]["schemas"]
    assert components["CommentCreateRequest"]["properties"]["body"]["maxLength"] == (
        DISCUSSION_COMMENT_MAX_LENGTH
    )
    assert set(components["CommentStatusEnum"]["enum"]) == {"visible", "deleted", "hidden"}
