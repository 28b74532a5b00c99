"""Tokens, anonymous requests, and the lock after repeated failed logins (django-axes)."""

from __future__ import annotations

import logging

import pytest
from axes.models import AccessAttempt
from rest_framework.test import APIClient

from tests.factories import Group, totp_code, totp_device_for
from tests.proposals.api.helpers import client_for

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token/"


def test_a_username_and_password_give_a_token_that_authenticates_requests(group: Group) -> None:
    response = APIClient().post(
        TOKEN_URL, {"username": "claire", "password": "demo"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/proposals/").status_code == 200


def test_each_login_gets_a_token_of_its_own(group: Group) -> None:
    tokens = {
        APIClient()
        .post(TOKEN_URL, {"username": "claire", "password": "demo"}, format="json")
        .json()["token"]
        for _ in range(2)
    }
    assert len(tokens) == 2


def test_a_wrong_password_is_a_401_that_says_so(group: Group) -> None:
    response = APIClient().post(
        TOKEN_URL, {"username": "claire", "password": "wrong"}, format="json"
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "detail": "The username or the password is wrong.",
        "reasons": ["The username or the password is wrong."],
        "code": "authentication_failed",
        "reason_codes": ["authentication_failed"],
    }


def test_a_token_request_without_a_password_names_the_missing_field(group: Group) -> None:
    response = APIClient().post(TOKEN_URL, {"username": "claire"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()


@pytest.mark.parametrize(
    "path", ["/api/", "/api/proposals/", "/api/organizations/", "/api/people/", "/api/occasions/"]
)
def test_anonymous_requests_to_data_are_refused_with_401(group: Group, path: str) -> None:
    response = APIClient().get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["reasons"]


def test_an_unknown_token_is_refused_with_401(group: Group) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/proposals/").status_code == 401


def test_the_session_of_a_signed_in_person_also_authenticates(group: Group) -> None:
    client = APIClient()
    client.force_login(group.drafter)
    assert client.get("/api/proposals/").status_code == 200


def test_five_failed_logins_in_a_row_lock_the_account_with_a_clear_429(
    group: Group, caplog: pytest.LogCaptureFixture
) -> None:
    client = APIClient()
    statuses = []
    with caplog.at_level(logging.WARNING, logger="axes"):
        for _ in range(5):
            statuses.append(
                client.post(
                    TOKEN_URL, {"username": "claire", "password": "wrong"}, format="json"
                ).status_code
            )
    assert statuses == [401, 401, 401, 401, 429]
    assert any("locking out" in record.getMessage().lower() for record in caplog.records)

    locked = client.post(TOKEN_URL, {"username": "claire", "password": "demo"}, format="json")
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/json"
    assert int(locked["Retry-After"]) > 0
    assert locked.json()["reasons"] == [
        "Too many failed logins for this account: it is locked for 15 minutes. Try again later."
    ]
    assert locked.json()["code"] == "locked_out"
    assert AccessAttempt.objects.get(username="claire").failures_since_start >= 5


def test_a_successful_login_resets_the_count_of_failures(group: Group) -> None:
    client = APIClient()
    for _ in range(4):
        client.post(TOKEN_URL, {"username": "claire", "password": "wrong"}, format="json")
    assert (
        client.post(
            TOKEN_URL, {"username": "claire", "password": "demo"}, format="json"
        ).status_code
        == 200
    )
    for _ in range(4):
        response = client.post(
            TOKEN_URL, {"username": "claire", "password": "wrong"}, format="json"
        )
    assert response.status_code == 401


def test_the_lock_of_one_account_does_not_lock_another(group: Group) -> None:
    client = APIClient()
    for _ in range(5):
        client.post(TOKEN_URL, {"username": "claire", "password": "wrong"}, format="json")
    code = totp_code(totp_device_for(group.secretariat))
    response = client.post(
        TOKEN_URL, {"username": "sam", "password": "demo", "otp": code}, format="json"
    )
    assert response.status_code == 200


def test_answers_are_in_the_requesters_language(group: Group) -> None:
    group.drafter.language = "fr"
    group.drafter.save()
    response = client_for(group.drafter).get("/api/proposals/999999/")
    assert response.status_code == 404
    assert response["Content-Language"] == "fr"
