"""The whole life of a proposal driven over the API by people with tokens, with the refusals
met along the way."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from proposals import models
from proposals.accounts import two_factor_required
from proposals.models import Endorsement, ProposalState
from tests.factories import Group, totp_code, totp_device_for

pytestmark = pytest.mark.django_db


class Person:
    """Someone who obtained a token with their username and password, and uses it."""

    def __init__(self, username: str) -> None:
        self.client = APIClient()
        credentials = {"username": username, "password": "demo"}
        person = models.Person.objects.get(username=username)
        if two_factor_required(person):
            credentials["otp"] = totp_code(totp_device_for(person))
        response = self.client.post("/api/auth/token/", credentials, format="json")
        assert response.status_code == 200, response.content
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")

    def get(self, url: str, expect: int = 200) -> Any:
        response = self.client.get(url)
        assert response.status_code == expect, response.content
        return response.json()

    def send(
        self, method: str, url: str, body: dict[str, Any] | None = None, expect: int = 200
    ) -> Any:
        response = getattr(self.client, method)(url, body or {}, format="json")
        assert response.status_code == expect, response.content
        return response.json() if response.content else None

    def act(self, proposal: int, name: str, expect: int = 200, **body: Any) -> Any:
        return self.send("post", f"/api/proposals/{proposal}/transitions/{name}/", body, expect)


def test_a_proposal_lives_from_draft_to_outcome_over_the_api(group: Group) -> None:
    claire, rita, lena, youssef, sam = (
        Person(n) for n in ("claire", "rita", "lena", "youssef", "sam")
    )
    gabriel = Person("gabriel")

    # Claire drafts a proposal for France and edits it: each edit is a revision.
    created = claire.send(
        "post",
        "/api/proposals/",
        {
            "title": "Public procurement open to SSE enterprises",
            "summary": "Reserve a share of public contracts.",
            "text": "# Article 1\n\nA share of contracts is reserved.",
            "target_body": group.body.pk,
            "occasion": group.occasion.pk,
            "themes": [8, 12],
        },
        expect=201,
    )
    pid = created["id"]
    assert (created["state"], created["revision"], created["lead_organization"]) == (
        "draft", 1, group.france.pk,
    )  # fmt: skip
    edited = claire.send(
        "patch",
        f"/api/proposals/{pid}/",
        {"text": "# Article 1\n\nTen per cent of contracts are reserved.", "expected_revision": 1},
    )
    assert edited["revision"] == 2

    # Nobody else sees the draft; Rita cannot review it before it is submitted.
    rita.get(f"/api/proposals/{pid}/", expect=404)

    # Claire submits it for review; Rita sends it back with a comment.
    assert claire.act(pid, "submit_for_review")["state"] == "in_review"
    assert "approve" in rita.get(f"/api/proposals/{pid}/")["transitions"]
    claire.act(pid, "approve", expect=403)
    refused = rita.act(pid, "request_changes", expect=400)
    assert refused["comment"] == ["Say what should change: a comment is required."]
    assert rita.act(pid, "request_changes", comment="Say which contracts.")["state"] == "draft"

    # Resubmitting unchanged is refused; an edit makes revision 3, which goes back to review.
    refused = claire.act(pid, "submit_for_review", expect=409)
    assert refused["reasons"] == [
        "Changes were requested on revision 2: change its title, summary or text (saving makes "
        "revision 3), then submit it again."
    ]
    claire.send(
        "patch",
        f"/api/proposals/{pid}/",
        {"text": "# Article 1\n\nTen per cent of public works contracts are reserved."},
    )
    assert claire.act(pid, "submit_for_review")["state"] == "in_review"

    # Rita approves revision 3: the proposal opens for endorsement.
    approved = rita.act(pid, "approve", comment="Clear now.")
    assert (approved["state"], approved["revision"]) == ("endorsement", 3)

    # Sam cannot submit it yet: the quorum is missing.
    refused = sam.act(pid, "submit", expect=409)
    assert refused["reasons"] == ["0 endorsements of 2 needed."]

    # Three endorsements, a withdrawal and a re-endorsement; an observer and a repeat are refused.
    endorsements = f"/api/proposals/{pid}/endorsements/"
    youssef.send("post", endorsements, expect=201)
    lena_first = lena.send("post", endorsements, expect=201)
    assert youssef.send("post", endorsements, expect=409)["reasons"] == [
        "Your organisation has already endorsed this proposal."
    ]
    assert gabriel.send("post", endorsements, expect=403)["reasons"] == [
        "Observers cannot endorse."
    ]
    lena.send("delete", f"{endorsements}{lena_first['id']}/", expect=204)
    lena.send("post", endorsements, expect=201)
    marianne = Person("marianne")  # France's representative
    marianne.send("post", endorsements, expect=201)
    listed = claire.get(endorsements)
    assert listed["count"] == 4
    assert sorted(e["endorsed_by"] for e in listed["results"] if e["active"]) == [
        "lena", "marianne", "youssef",
    ]  # fmt: skip
    assert Endorsement.objects.filter(proposal_id=pid, withdrawn_at__isnull=True).count() == 3

    # Only the secretariat submits; Sam does, with the body's reference.
    claire.act(pid, "submit", expect=403)
    submitted = sam.act(pid, "submit", reference="A/81/L.12")
    assert submitted["state"] == ProposalState.SUBMITTED
    assert submitted["submission"]["reference"] == "A/81/L.12"
    lena.send("delete", f"{endorsements}{lena_first['id'] + 1}/", expect=409)

    # Sam records the outcome: the proposal is closed.
    decided_on = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    closed = sam.act(
        pid, "record_outcome", outcome="adopted", decided_on=decided_on, note="Adopted."
    )
    assert closed["state"] == "closed"
    assert closed["outcome"]["result"] == "adopted"
    assert closed["transitions"] == []
    sam.act(pid, "withdraw", expect=409)

    # The story can be read back: history, reviews, revisions and their diff.
    history = claire.get(f"/api/proposals/{pid}/history/?page_size=100")["results"]
    assert [(h["transition"], h["actor"]) for h in history] == [
        ("create", "claire"),
        ("submit_for_review", "claire"),
        ("request_changes", "rita"),
        ("submit_for_review", "claire"),
        ("approve", "rita"),
        ("endorse", "youssef"),
        ("endorse", "lena"),
        ("withdraw_endorsement", "lena"),
        ("endorse", "lena"),
        ("endorse", "marianne"),
        ("submit", "sam"),
        ("record_outcome", "sam"),
    ]
    assert history[2]["comment"] == "Say which contracts."
    reviews = claire.get(f"/api/proposals/{pid}/reviews/")["results"]
    assert [(r["reviewer"], r["decision"], r["revision"]) for r in reviews] == [
        ("rita", "request_changes", 2),
        ("rita", "approve", 3),
    ]
    diff = claire.get(f"/api/proposals/{pid}/revisions/diff/?from=1&to=3")
    assert "+Ten per cent of public works contracts are reserved." in diff["fields"]["text"]
    assert claire.get(f"/api/proposals/{pid}/revisions/")["count"] == 3
