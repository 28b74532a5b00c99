"""Organisations, people, presidencies, bodies and occasions: read by the group, written by
the secretariat."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from proposals.models import DeadlineChange, Membership, Occasion, Organization, Role
from tests.factories import Group, proposal_draft
from tests.proposals.api.helpers import client_for

pytestmark = pytest.mark.django_db


def test_every_person_of_the_group_reads_the_organisations(group: Group) -> None:
    response = client_for(group.observer).get("/api/organizations/")
    assert response.status_code == 200
    names = [row["name"] for row in response.json()["results"]]
    assert names == ["France", "Luxembourg", "Mont-Blanc Meetings", "Morocco", "Québec"]
    assert set(response.json()["results"][0]) >= {
        "id", "name", "kind", "status", "joined_on", "parent",
    }  # fmt: skip


def test_someone_of_no_organisation_of_the_group_may_not_read_reference_data(group: Group) -> None:
    response = client_for(group.outsider).get("/api/organizations/")
    assert response.status_code == 403
    assert response.json()["reasons"] == ["Only people of the group's organisations can read this."]


def test_only_the_secretariat_writes_reference_data(group: Group) -> None:
    payload = {"name": "Ecuador", "kind": "state", "status": "member", "joined_on": "2014-09-17"}
    refused = client_for(group.drafter).post("/api/organizations/", payload, format="json")
    assert refused.status_code == 403
    assert refused.json()["reasons"] == [
        "Only the secretariat can change the group's reference data."
    ]
    created = client_for(group.secretariat).post("/api/organizations/", payload, format="json")
    assert created.status_code == 201
    assert created.json()["name"] == "Ecuador"


def test_a_member_that_left_must_be_a_former_member(group: Group) -> None:
    response = client_for(group.secretariat).patch(
        f"/api/organizations/{group.morocco.pk}/", {"left_on": "2016-01-01"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["left_on"] == ["Only a former member has a date it left on."]
    response = client_for(group.secretariat).patch(
        f"/api/organizations/{group.morocco.pk}/",
        {"left_on": "2016-01-01", "status": "former"},
        format="json",
    )
    assert response.status_code == 200


def test_an_organisation_cannot_be_part_of_itself(group: Group) -> None:
    child = Organization.objects.create(
        name="ILO", kind="international_institution", parent=group.morocco
    )
    response = client_for(group.secretariat).patch(
        f"/api/organizations/{group.morocco.pk}/", {"parent": child.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["parent"] == ["An organisation cannot be part of itself."]


def test_an_organisation_still_used_by_proposals_is_not_deleted(group: Group) -> None:
    proposal_draft(group)
    response = client_for(group.secretariat).delete(f"/api/organizations/{group.france.pk}/")
    assert response.status_code == 409
    assert response.json()["reasons"]
    assert Organization.objects.filter(pk=group.france.pk).exists()


def test_people_show_their_organisations_with_their_roles(group: Group) -> None:
    response = client_for(group.drafter).get(f"/api/people/{group.representative_ma.pk}/")
    assert response.status_code == 200
    person = response.json()
    assert person["username"] == "youssef"
    assert person["organizations"] == [
        {"id": group.morocco.pk, "name": "Morocco", "roles": ["drafter", "representative"]}
    ]
    assert {"language", "timezone", "name"} <= set(person)


def test_an_email_is_shown_only_to_the_secretariat_and_to_the_person_themself(group: Group) -> None:
    url = f"/api/people/{group.drafter.pk}/"
    assert "email" not in client_for(group.reviewer).get(url).json()
    assert client_for(group.drafter).get(url).json()["email"] == "claire@example.org"
    assert client_for(group.secretariat).get(url).json()["email"] == "claire@example.org"


def test_the_secretariat_adds_a_person_with_roles(group: Group) -> None:
    response = client_for(group.secretariat).post(
        "/api/people/",
        {
            "username": "andres",
            "first_name": "Andrés",
            "email": "andres@example.org",
            "language": "es",
            "timezone": "America/Guayaquil",
            "organizations": [{"id": group.luxembourg.pk, "roles": ["drafter", "representative"]}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert set(
        Membership.objects.filter(person__username="andres").values_list("role", flat=True)
    ) == {Role.DRAFTER, Role.REPRESENTATIVE}


def test_only_people_of_the_secretariat_organisation_can_be_secretariat(group: Group) -> None:
    response = client_for(group.secretariat).patch(
        f"/api/people/{group.drafter.pk}/",
        {"organizations": [{"id": group.france.pk, "roles": ["secretariat"]}]},
        format="json",
    )
    assert response.status_code == 400
    assert "organizations" in response.json()


def test_a_time_zone_must_be_a_real_one(group: Group) -> None:
    response = client_for(group.secretariat).patch(
        f"/api/people/{group.drafter.pk}/", {"timezone": "Mars/Olympus"}, format="json"
    )
    assert response.status_code == 400
    assert "timezone" in response.json()


def test_people_are_not_deleted_over_the_api(group: Group) -> None:
    response = client_for(group.secretariat).delete(f"/api/people/{group.drafter.pk}/")
    assert response.status_code == 405


def test_a_national_body_needs_its_country(group: Group) -> None:
    response = client_for(group.secretariat).post(
        "/api/bodies/", {"name": "Assemblée nationale", "level": "national"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["country"]


def test_presidency_terms_may_not_overlap(group: Group) -> None:
    today = timezone.localdate()
    response = client_for(group.secretariat).post(
        "/api/presidencies/",
        {
            "organization": group.morocco.pk,
            "starts_on": (today + dt.timedelta(days=10)).isoformat(),
            "ends_on": (today + dt.timedelta(days=200)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["reasons"] == ["This term overlaps another presidency term."]


def test_an_occasions_deadline_is_given_in_its_own_time_zone_with_the_offset(group: Group) -> None:
    occasion = group.occasion
    occasion.submission_deadline = dt.datetime(2030, 11, 11, 4, 59, tzinfo=dt.UTC)
    occasion.save()
    response = client_for(group.drafter).get(f"/api/occasions/{occasion.pk}/")
    assert response.json()["submission_deadline"] == "2030-11-10T23:59:00-05:00"
    assert set(response.json()) >= {
        "id", "name", "kind", "location", "timezone", "starts_on", "ends_on",
        "submission_deadline", "required_approvals", "endorsement_quorum",
        "accepts_late_submissions",
    }  # fmt: skip


def test_a_patch_of_the_deadline_is_a_recorded_move(group: Group) -> None:
    occasion = group.occasion
    old = occasion.submission_deadline
    response = client_for(group.secretariat).patch(
        f"/api/occasions/{occasion.pk}/",
        {
            "submission_deadline": "2030-11-10T23:59:00-03:00",
            "deadline_change_reason": "The summit moved.",
            "location": "Belém, Brazil",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["deadline_version"] == 2
    assert response.json()["location"] == "Belém, Brazil"
    change = DeadlineChange.objects.get(occasion=occasion)
    assert change.old_deadline == old
    assert change.new_deadline == dt.datetime(2030, 11, 11, 2, 59, tzinfo=dt.UTC)
    assert (change.changed_by, change.reason, change.version) == (
        group.secretariat,
        "The summit moved.",
        2,
    )
    occasion.refresh_from_db()
    assert occasion.location == "Belém, Brazil"


def test_a_deadline_without_its_offset_is_refused(group: Group) -> None:
    response = client_for(group.secretariat).patch(
        f"/api/occasions/{group.occasion.pk}/",
        {"submission_deadline": "2030-11-10T23:59:00"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["submission_deadline"] == [
        "Give the date and time with its offset from UTC, such as 2025-11-10T23:59:00-03:00."
    ]
    assert not DeadlineChange.objects.exists()


def test_an_occasion_is_created_with_its_deadline_unrecorded(group: Group) -> None:
    response = client_for(group.secretariat).post(
        "/api/occasions/",
        {
            "name": "COP 30",
            "kind": "summit",
            "location": "Belém, Brazil",
            "timezone": "America/Belem",
            "starts_on": "2030-11-10",
            "ends_on": "2030-11-21",
            "submission_deadline": "2030-11-01T23:59:00-03:00",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["submission_deadline"] == "2030-11-01T23:59:00-03:00"
    occasion = Occasion.objects.get(name="COP 30")
    assert occasion.deadline_version == 1
    assert not DeadlineChange.objects.filter(occasion=occasion).exists()


def test_an_occasion_cannot_end_before_it_starts(group: Group) -> None:
    response = client_for(group.secretariat).patch(
        f"/api/occasions/{group.occasion.pk}/", {"ends_on": "2000-01-01"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["ends_on"] == ["An occasion cannot end before it starts."]
