"""Hostile requests get a clear 400 or 404, never a 500 (issue 9, finding 6)."""

from __future__ import annotations

import json

import pytest
from django.http import Http404
from django.test import Client, RequestFactory

from proposals.calendars.views import person_feed
from proposals.models import Person
from tests.factories import Group, PersonFactory, group_setup

NESTED_JSON = "[" * 100_000 + "]" * 100_000


def superuser() -> Person:
    return PersonFactory.create(username="root", is_staff=True, is_superuser=True)


def hostile_client() -> Client:
    """A client that returns a 500 response rather than raising the view's exception."""
    return Client(raise_request_exception=False)


@pytest.mark.django_db
def test_deeply_nested_json_to_token_endpoint_is_a_400_in_the_api_shape() -> None:
    response = hostile_client().post(
        "/api/auth/token/", NESTED_JSON, content_type="application/json"
    )

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"detail", "reasons", "code", "reason_codes"}
    assert "nested" in body["detail"]


@pytest.mark.django_db
def test_json_nested_just_past_the_limit_is_refused_and_within_it_is_parsed() -> None:
    client = hostile_client()
    too_deep = {"username": json.loads("[" * 40 + "]" * 40), "password": "x"}
    shallow = {"username": "nobody", "password": "x", "extra": [[["fine"]]]}

    refused = client.post("/api/auth/token/", too_deep, content_type="application/json")
    parsed = client.post("/api/auth/token/", shallow, content_type="application/json")

    assert refused.status_code == 400
    assert "nested" in refused.json()["detail"]
    assert parsed.status_code == 401
    assert "nested" not in parsed.json()["detail"]
    assert "password" in parsed.json()["detail"]


@pytest.mark.django_db
def test_json_with_a_lone_surrogate_is_a_400_that_names_it() -> None:
    response = hostile_client().post(
        "/api/auth/token/",
        '{"username": "\\ud800", "password": "x"}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "unpaired" in response.json()["detail"]


def test_json_with_a_lone_surrogate_is_a_400_on_postgresql(postgres: None) -> None:
    response = hostile_client().post(
        "/api/auth/token/",
        '{"username": "\\udfff", "password": "x"}',
        content_type="application/json",
    )

    assert response.status_code == 400


@pytest.mark.django_db
def test_nul_byte_in_a_calendar_token_is_a_400() -> None:
    response = hostile_client().get("/calendar/%00.ics")

    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_nul_byte_in_a_calendar_token_is_a_400_on_postgresql(postgres: None) -> None:
    assert hostile_client().get("/calendar/%00.ics").status_code == 400
    assert hostile_client().get("/calendar/abc%00def.ics").status_code == 400


def test_the_calendar_feed_answers_404_to_a_nul_token_on_postgresql(postgres: None) -> None:
    request = RequestFactory().get("/calendar/x.ics")

    with pytest.raises(Http404):
        person_feed(request, token="abc\x00def")


@pytest.mark.django_db
def test_a_calendar_token_of_the_wrong_shape_is_a_404_without_a_query(
    django_assert_num_queries: object,
) -> None:
    with django_assert_num_queries(0):  # type: ignore[operator]
        response = hostile_client().get("/calendar/" + "x" * 500 + ".ics")

    assert response.status_code == 404


@pytest.mark.parametrize("month", ["0001-01", "9999-12", "0-1", "-5-3", "2026-13", "99999-01"])
def test_an_out_of_range_month_shows_the_nearest_sane_month(group: Group, month: str) -> None:
    client = hostile_client()
    client.force_login(group.drafter)

    response = client.get("/occasions/", {"month": month})

    assert response.status_code == 200


def test_a_month_below_the_range_is_clamped_to_its_first_month(group: Group) -> None:
    client = hostile_client()
    client.force_login(group.drafter)

    response = client.get("/occasions/", {"month": "0001-01"})

    assert response.context["month"].isoformat() == "1900-01-01"
    assert response.context["previous_month"] == "1900-01"


def test_a_month_above_the_range_is_clamped_to_its_last_month(group: Group) -> None:
    client = hostile_client()
    client.force_login(group.drafter)

    response = client.get("/occasions/", {"month": "9999-12"})

    assert response.context["month"].isoformat() == "2999-12-01"
    assert response.context["next_month"] == "2999-12"


@pytest.mark.parametrize(
    "path",
    [
        "/calendar/abc.ics?x=%00",
        "/proposals/?search=%00",
        "/admin/proposals/proposal/?q=%00",
        "/occasions/?month=%00",
        "/api/proposals/?search=a%00b",
    ],
)
def test_a_nul_byte_in_a_query_value_is_a_400(group: Group, path: str) -> None:
    client = hostile_client()
    client.force_login(superuser())

    response = client.get(path)

    assert response.status_code == 400


def test_a_nul_byte_in_a_query_value_is_a_400_on_postgresql(postgres: None) -> None:
    group_setup()
    client = hostile_client()
    client.force_login(superuser())

    assert client.get("/admin/proposals/proposal/", {"q": "a\x00b"}).status_code == 400
    assert client.get("/proposals/", {"search": "\x00"}).status_code == 400


def test_a_nul_byte_in_a_form_value_is_a_400(group: Group) -> None:
    client = hostile_client()
    client.force_login(group.drafter)

    response = client.post("/proposals/preview/", {"text": "a\x00b"})

    assert response.status_code == 400


@pytest.mark.django_db
def test_a_nul_byte_in_the_path_is_a_400() -> None:
    response = hostile_client().get("/proposals%00/")

    assert response.status_code == 400


@pytest.mark.django_db
def test_a_nul_byte_refusal_of_an_api_address_is_in_the_api_shape() -> None:
    response = hostile_client().get("/api/proposals/", {"search": "\x00"})

    assert response.status_code == 400
    assert set(response.json()) == {"detail", "reasons", "code", "reason_codes"}


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_api_docs_answer_an_unsupported_accept_header_without_a_500(
    group: Group, method: str
) -> None:
    client = hostile_client()
    client.force_login(group.secretariat)

    response = getattr(client, method)("/api/docs/", HTTP_ACCEPT="application/xml")

    assert response.status_code < 500


@pytest.mark.parametrize(
    "path",
    [
        "/proposals/?page=999999999999999999999",
        "/proposals/?page=-1&ordering=-nonexistent",
        "/proposals/?deadline_before=10000-01-01T00:00:00&deadline_after=0001-01-01",
        "/proposals/1/diff/?from=999999999999999999999&to=-1",
        "/api/proposals/?page=999999999999999999999",
        "/api/proposals/?page_size=999999999999999999999&ordering=password",
        "/api/occasions/?deadline_before=9999-12-31T23:59:59%2B14:00",
        "/api/bodies/?search=" + "a" * 5000,
        "/api/proposals/?page=0",
    ],
)
def test_out_of_range_numbers_and_dates_in_queries_are_not_a_500(group: Group, path: str) -> None:
    client = hostile_client()
    client.force_login(group.drafter)

    response = client.get(path)

    assert response.status_code in (200, 400, 404)
