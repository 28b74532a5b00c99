"""/api/people/me/notifications/: the kinds of optional email, read and changed by their person."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from proposals.models import Person
from proposals.notifications import notification_choices_of
from tests.factories import Group
from tests.proposals.api.helpers import client_for, proposal_in, run
from workflow.models import AuditEvent, Delivery, NotificationPreference

pytestmark = pytest.mark.django_db

URL = "/api/people/me/notifications/"
KINDS = [
    "proposal.approved",
    "proposal.submitted",
    "proposal.outcome_recorded",
    "proposal.withdrawn",
]


def wanted(person: Person) -> dict[str, bool]:
    return {choice.event: choice.enabled for choice in notification_choices_of(person)}


def test_get_lists_each_kind_with_its_label_channel_and_whether_it_is_on(group: Group) -> None:
    response = client_for(group.drafter).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert [item["event"] for item in body] == KINDS
    assert body[0] == {
        "event": "proposal.approved",
        "label": "A proposal of mine is approved",
        "description": "When reviewers approve a proposal you wrote and it opens for endorsement.",
        "channel": "email",
        "enabled": True,
    }
    assert all(item["enabled"] for item in body)


def test_anonymous_gets_a_401(group: Group) -> None:
    assert APIClient().get(URL).status_code == 401
    assert APIClient().patch(URL, {"proposal.approved": False}, format="json").status_code == 401
    assert not NotificationPreference.objects.exists()


@pytest.mark.parametrize("method", ["put", "patch"])
def test_an_object_of_kinds_changes_those_named_and_answers_the_choices(
    group: Group, method: str
) -> None:
    client = client_for(group.drafter)
    response = getattr(client, method)(
        URL, {"proposal.approved": False, "proposal.withdrawn": False}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert {item["event"]: item["enabled"] for item in response.json()} == {
        "proposal.approved": False,
        "proposal.submitted": True,
        "proposal.outcome_recorded": True,
        "proposal.withdrawn": False,
    }
    assert wanted(group.drafter)["proposal.approved"] is False
    events = AuditEvent.objects.filter(action="notification_preference.changed")
    assert {(e.actor, e.subject, e.ip_address) for e in events} == {
        (group.drafter, group.drafter, "127.0.0.1")
    }
    assert events.count() == 2
    # Kinds not named stay as they are, with PUT too.
    response = getattr(client, method)(URL, {"proposal.submitted": False}, format="json")
    assert [item["event"] for item in response.json() if item["enabled"]] == [
        "proposal.outcome_recorded"
    ]


def test_the_list_a_get_returns_can_be_sent_back_changed(group: Group) -> None:
    client = client_for(group.drafter)
    choices = client.get(URL).json()
    choices[1]["enabled"] = False
    response = client.put(URL, choices, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == choices
    assert wanted(group.drafter)["proposal.submitted"] is False
    assert AuditEvent.objects.filter(action="notification_preference.changed").count() == 1


def test_sending_the_choices_unchanged_writes_nothing(group: Group) -> None:
    client = client_for(group.drafter)
    client.patch(URL, {"proposal.approved": False}, format="json")
    before = AuditEvent.objects.count()
    bodies: list[Any] = [{"proposal.approved": False, "proposal.submitted": True}, {}, []]
    for body in bodies:
        assert client.patch(URL, body, format="json").status_code == 200
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    "event", ["proposal.review_requested", "reminder.submit", "security.login", "nonsense"]
)
def test_a_kind_that_cannot_be_turned_off_is_a_400_that_says_which(
    group: Group, event: str
) -> None:
    response = client_for(group.drafter).patch(
        URL, {"proposal.approved": False, event: False}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body[event] == body["reasons"]
    assert f"“{event}” is not a kind of notification you can turn off" in body["detail"]
    assert "proposal.withdrawn" in body["detail"]  # it names the kinds there are
    assert not NotificationPreference.objects.exists()
    assert not AuditEvent.objects.exists()


BAD_BODIES: list[tuple[Any, str]] = [
    ({"proposal.approved": "false"}, "proposal.approved"),
    ({"proposal.approved": 0}, "proposal.approved"),
    ({"proposal.approved": None}, "proposal.approved"),
    ([{"event": "proposal.approved"}], "[0]"),
    ([{"enabled": False}], "[0]"),
    (["proposal.approved"], "[0]"),
    ([{"event": 3, "enabled": False}], "[0]"),
    (
        [
            {"event": "proposal.approved", "enabled": False},
            {"event": "proposal.approved", "enabled": True},
        ],
        "[1]",
    ),
    ("proposal.approved", "non_field_errors"),
    (True, "non_field_errors"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES, ids=[repr(b) for b, _f in BAD_BODIES])
def test_a_body_of_the_wrong_shape_is_a_400_never_a_500(
    group: Group, body: Any, field: str
) -> None:
    response = client_for(group.drafter).put(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()[field]
    assert response.json()["reasons"]
    assert not NotificationPreference.objects.exists()


@pytest.mark.parametrize("raw", ['{"proposal.approved": fal', "null", "3"])
def test_malformed_json_or_a_bare_value_is_a_400(group: Group, raw: str) -> None:
    response = client_for(group.drafter).generic("PATCH", URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["reasons"]


def test_each_person_changes_only_their_own(group: Group) -> None:
    client_for(group.co_drafter).patch(URL, {"proposal.approved": False}, format="json")
    assert wanted(group.drafter) == dict.fromkeys(KINDS, True)
    assert wanted(group.co_drafter)["proposal.approved"] is False


def test_labels_come_in_the_requester_s_language(group: Group) -> None:
    Person.objects.filter(pk=group.drafter.pk).update(language="fr")
    response = client_for(group.drafter).get(URL)
    assert response.status_code == 200
    assert response["Content-Language"] == "fr"


def test_a_kind_turned_off_over_the_api_is_not_emailed(group: Group) -> None:
    client_for(group.drafter).patch(URL, {"proposal.submitted": False}, format="json")
    run(proposal_in(group, "endorsement"), "submit", group.secretariat, reference="A/81/3")
    assert (
        not Delivery.objects.filter(channel="email")
        .filter(recipient=group.drafter, event="proposal.submitted")
        .exists()
    )
    assert (
        Delivery.objects.filter(channel="email")
        .filter(recipient=group.drafter, event="proposal.approved")
        .exists()
    )
