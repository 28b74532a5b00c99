"""Bad input gets a 4xx that says why, never a 500: malformed JSON, wrong types, unknown ids,
huge values, and injection strings or junk in every filter and in `ordering`."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from proposals.api.urls import router
from proposals.models import Person, Proposal
from tests.factories import Group, proposal_draft
from tests.proposals.api.helpers import client_for, proposal_in

pytestmark = pytest.mark.django_db

JUNK = [
    "' OR 1=1 --",
    "1; DROP TABLE proposals_proposal;",
    '"><script>alert(1)</script>',
    "\x00",
    "9" * 40,
    "-1",
    "1.5",
    "1e309",
    "NaN",
    "null",
    "[]",
    "{}",
    "%",
    "../../etc/passwd",
    "😀" * 300,
    "0000-00-00T00:00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
]
# By username: a well-formed one that nobody has finds nothing.
USERNAME_FILTERS = {"subject", "person"}


def names_nobody(name: str, value: str) -> bool:
    """A username of the right form (`-1`, `NaN`, forty digits) that no person has."""
    if name not in USERNAME_FILTERS:
        return False
    try:
        Person._meta.get_field("username").run_validators(value)
    except ValidationError:
        return False
    return True


TEXT_FILTERS = {"search", "country"}  # free text: junk finds nothing, or is too long (400)
LISTS = [(f"/api/{prefix}/", viewset) for prefix, viewset, _basename in router.registry]
FILTERS = [
    (url, name)
    for url, viewset in LISTS
    for name in sorted(viewset.filterset_class.base_filters)  # type: ignore[attr-defined]
]


def test_every_list_has_filters_and_an_ordering() -> None:
    assert {url for url, _name in FILTERS} == {url for url, _viewset in LISTS}
    assert all((url, "ordering") in FILTERS for url, _viewset in LISTS)


@pytest.mark.parametrize(("url", "name"), FILTERS, ids=[f"{u}?{n}" for u, n in FILTERS])
def test_junk_in_a_filter_is_a_400_or_is_just_not_found_never_a_500(
    group: Group, url: str, name: str
) -> None:
    proposal_in(group, "in_review")
    client = client_for(group.secretariat)
    for value in JUNK:
        response = client.get(url, {name: value})
        assert response.status_code in (200, 400), (name, value, response.status_code)
        if response.status_code == 400:
            assert response.json()["reasons"], (name, value)
        if name not in TEXT_FILTERS and not names_nobody(name, value):
            assert response.status_code == 400, (name, value)


@pytest.mark.parametrize("url", [url for url, _viewset in LISTS])
def test_an_unknown_ordering_is_a_400_that_lists_nothing_it_does_not_know(
    group: Group, url: str
) -> None:
    response = client_for(group.secretariat).get(url, {"ordering": "password"})
    assert response.status_code == 400
    assert response.json()["ordering"] == [
        "Select a valid choice. password is not one of the available choices."
    ]


@pytest.mark.parametrize("page", ["0", "-1", "x", "9" * 40])
def test_a_page_that_does_not_exist_is_a_404(group: Group, page: str) -> None:
    response = client_for(group.secretariat).get("/api/proposals/", {"page": page})
    assert response.status_code == 404
    assert response.json()["reasons"]


WRITES = [
    ("post", "/api/proposals/"),
    ("patch", "/api/proposals/{id}/"),
    ("post", "/api/proposals/{id}/transitions/submit_for_review/"),
    ("post", "/api/proposals/{id}/endorsements/"),
    ("post", "/api/organizations/"),
    ("patch", "/api/people/{person}/"),
    ("post", "/api/occasions/"),
    ("post", "/api/auth/token/"),
]


@pytest.mark.parametrize(("method", "url"), WRITES)
@pytest.mark.parametrize("body", ['{"title": ', "[1, 2]", '"text"', "12", "null", "\x00"])
def test_malformed_or_non_object_json_is_a_400(
    group: Group, method: str, url: str, body: str
) -> None:
    proposal = proposal_draft(group)
    url = url.format(id=proposal.pk, person=group.drafter.pk)
    response = getattr(client_for(group.secretariat), method)(
        url, body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["detail"]


def test_a_body_that_is_not_json_is_a_415(group: Group) -> None:
    response = client_for(group.drafter).post(
        "/api/proposals/", "title=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["reasons"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "x" * 100_000),
        ("title", {"a": 1}),
        ("title", ["x"]),
        ("title", ""),
        ("title", None),
        ("summary", "x" * 5001),
        ("text", 12.5),
        ("language", "klingon"),
        ("themes", "8"),
        ("themes", [0]),
        ("themes", [18]),
        ("themes", ["x"]),
        ("authors", [10**30]),
        ("authors", "claire"),
        ("target_body", 999_999),
        ("target_body", 10**30),
        ("target_body", "UN"),
        ("occasion", -1),
        ("occasion", True),
        ("lead_organization", 10**30),
        ("expected_revision", "abc"),
        ("expected_revision", 10**30),
    ],
)
def test_a_wrong_value_is_a_400_on_its_field(group: Group, field: str, value: object) -> None:
    payload = {"title": "A title", field: value}
    response = client_for(group.drafter).post("/api/proposals/", payload, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert response.json()["reasons"]


def test_a_100000_character_title_is_refused_on_edit_too(group: Group) -> None:
    proposal = proposal_draft(group)
    response = client_for(group.drafter).patch(
        f"/api/proposals/{proposal.pk}/", {"title": "x" * 100_000}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["title"] == ["Ensure this field has no more than 300 characters."]
    assert Proposal.objects.get(pk=proposal.pk).revision == 1


@pytest.mark.parametrize(
    "url",
    [
        "/api/proposals/99999999999999999999999/",
        "/api/proposals/false/",
        "/api/proposals/1.5/transitions/",
        "/api/proposals/0/transitions/",
        "/api/proposals/99999999999999999999999/history/",
        "/api/organizations/99999999999999999999999/",
        "/api/proposals/1/revisions/99999999999999999999999/",
    ],
)
def test_an_unknown_id_is_a_404(group: Group, url: str) -> None:
    proposal_draft(group)
    response = client_for(group.secretariat).get(url)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("comment", {"x": 1}),
        ("comment", "x" * 10_001),
        ("outcome", ["adopted"]),
        ("decided_on", 20250101),
        ("decided_on", "yesterday"),
        ("decided_on", "0001-01-01"),
        ("link", "javascript:alert(1)"),
        ("link", "x" * 501),
    ],
)
def test_a_wrong_transition_argument_is_a_400(group: Group, field: str, value: object) -> None:
    proposal = proposal_in(group, "submitted")
    payload = {"outcome": "adopted", field: value}
    response = client_for(group.secretariat).post(
        f"/api/proposals/{proposal.pk}/transitions/record_outcome/", payload, format="json"
    )
    assert response.status_code in (200, 400), response.json()
    if field != "decided_on" or value != "0001-01-01":
        assert response.status_code == 400, response.json()
        assert field in response.json()


@pytest.mark.parametrize(
    "deadline",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "2030-02-30T10:00:00Z", 5, None],
)
def test_an_impossible_deadline_is_a_400(group: Group, deadline: object) -> None:
    response = client_for(group.secretariat).patch(
        f"/api/occasions/{group.occasion.pk}/", {"submission_deadline": deadline}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["submission_deadline"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("required_approvals", 0),
        ("required_approvals", 10**12),
        ("endorsement_quorum", -3),
        ("timezone", "Europe/Atlantis"),
        ("kind", "party"),
        ("starts_on", "0000-01-01"),
        ("name", "x" * 201),
    ],
)
def test_a_wrong_occasion_field_is_a_400(group: Group, field: str, value: object) -> None:
    response = client_for(group.secretariat).patch(
        f"/api/occasions/{group.occasion.pk}/", {field: value}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
