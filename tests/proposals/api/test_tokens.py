"""API tokens: stored hashed, named, expiring, revocable; revoked all at once when the password
changes or is reset; DRF's former clear-text tokens carried over."""

from __future__ import annotations

import datetime as dt
import importlib
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.tokens import default_token_generator
from django.db import connection
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from proposals.accounts import (
    SCRIPT_TOKEN_MAX_DAYS,
    api_token_authenticate,
    api_token_create,
    person_tokens_revoke,
    token_digest,
)
from proposals.models import ApiToken
from tests.factories import Group, api_token_key, client_signed_in
from tests.proposals.api.helpers import client_for
from workflow.models import AuditEvent

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token/"
TOKENS_URL = "/api/auth/tokens/"


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def login_token(username: str = "claire") -> dict[str, Any]:
    response = APIClient().post(
        TOKEN_URL, {"username": username, "password": "demo"}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def every_stored_value() -> str:
    """Every value of every row of the tokens table, as one text."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")  # noqa: S608
        return " ".join(str(value) for row in cursor.fetchall() for value in row)


def test_the_secret_of_a_token_is_nowhere_in_the_database_only_its_digest(group: Group) -> None:
    key = login_token()["token"]
    stored = every_stored_value()
    assert key not in stored
    assert token_digest(key) in stored
    assert token_client(key).get("/api/proposals/").status_code == 200


def test_a_login_token_expires_after_the_configured_hours(
    group: Group, settings: Any, time_machine: Any
) -> None:
    settings.API_LOGIN_TOKEN_HOURS = 2
    body = login_token()
    token = ApiToken.objects.get(digest=token_digest(body["token"]))
    assert token.kind == ApiToken.Kind.LOGIN
    assert token.expires_at - token.created_at == dt.timedelta(hours=2)
    assert body["expires_at"]
    time_machine.move_to(timezone.now() + dt.timedelta(hours=2, minutes=1))
    response = token_client(body["token"]).get("/api/proposals/")
    assert response.status_code == 401
    assert response.json()["reasons"][0].startswith("This token expired on ")


def test_delete_on_the_token_endpoint_revokes_the_token_it_is_called_with(group: Group) -> None:
    key = login_token()["token"]
    other = login_token()["token"]
    client = token_client(key)
    assert client.delete(TOKEN_URL).status_code == 204
    response = client.get("/api/proposals/")
    assert response.status_code == 401
    assert response.json()["reasons"][0].startswith("This token was revoked on ")
    assert token_client(other).get("/api/proposals/").status_code == 200
    assert AuditEvent.objects.filter(action="token.revoked", subject=group.drafter).exists()


def test_delete_on_the_token_endpoint_without_a_token_is_a_401(group: Group) -> None:
    assert APIClient().delete(TOKEN_URL).status_code == 401


def test_an_unknown_token_says_it_is_not_known(group: Group) -> None:
    response = token_client("made-up").get("/api/proposals/")
    assert response.status_code == 401
    assert "not known" in response.json()["reasons"][0]


def test_a_person_makes_a_named_script_token_and_sees_its_secret_once(group: Group) -> None:
    client = client_for(group.drafter)
    expires_at = timezone.now() + dt.timedelta(days=200)
    response = client.post(
        TOKENS_URL, {"name": "Nightly export", "expires_at": expires_at.isoformat()}, format="json"
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["kind"] == "script" and created["name"] == "Nightly export"
    assert created["token"].startswith(created["prefix"])
    assert token_client(created["token"]).get("/api/proposals/").status_code == 200
    listed = client.get(TOKENS_URL).json()["results"]
    assert "Nightly export" in [row["name"] for row in listed]
    assert all("token" not in row for row in listed)
    event = AuditEvent.objects.get(action="token.created", subject=group.drafter)
    assert event.after["name"] == "Nightly export"


@pytest.mark.parametrize(
    ("days", "message"), [(-1, "in the future"), (SCRIPT_TOKEN_MAX_DAYS + 2, "a year at most")]
)
def test_a_script_token_expires_in_the_future_and_within_a_year(
    group: Group, days: int, message: str
) -> None:
    expires_at = timezone.now() + dt.timedelta(days=days)
    response = client_for(group.drafter).post(
        TOKENS_URL, {"name": "Script", "expires_at": expires_at.isoformat()}, format="json"
    )
    assert response.status_code == 400
    assert message in response.json()["expires_at"][0]


def test_a_person_lists_and_revokes_only_their_own_tokens(group: Group) -> None:
    own = api_token_key(group.drafter, name="Mine")
    theirs = api_token_key(group.reviewer, name="Rita's")
    theirs_id = ApiToken.objects.get(digest=token_digest(theirs)).pk
    client = token_client(own)
    names = [row["name"] for row in client.get(TOKENS_URL).json()["results"]]
    assert names == ["Mine"]
    assert client.delete(f"{TOKENS_URL}{theirs_id}/").status_code == 404
    assert token_client(theirs).get("/api/proposals/").status_code == 200
    own_id = ApiToken.objects.get(digest=token_digest(own)).pk
    assert client.delete(f"{TOKENS_URL}{own_id}/").status_code == 204
    assert client.get("/api/proposals/").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(group: Group, time_machine: Any) -> None:
    token, key = api_token_create(person=group.drafter, kind=ApiToken.Kind.LOGIN, name="Login")
    first = api_token_authenticate(key).last_used_at
    assert first is not None
    time_machine.move_to(timezone.now() + dt.timedelta(seconds=30))
    api_token_authenticate(key)
    token.refresh_from_db()
    assert token.last_used_at == first
    time_machine.move_to(timezone.now() + dt.timedelta(seconds=61))
    api_token_authenticate(key)
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_at > first


def test_a_deactivated_persons_token_is_refused(group: Group) -> None:
    key = api_token_key(group.drafter)
    group.drafter.is_active = False
    group.drafter.save()
    response = token_client(key).get("/api/proposals/")
    assert response.status_code == 401
    assert response.json()["reasons"] == ["This account is deactivated."]


def test_revoking_all_of_a_persons_tokens_leaves_others_working(group: Group) -> None:
    keys = [api_token_key(group.drafter), api_token_key(group.drafter)]
    other = api_token_key(group.reviewer)
    assert person_tokens_revoke(person=group.drafter, reason="person.deactivated") == 2
    for key in keys:
        assert token_client(key).get("/api/proposals/").status_code == 401
    assert token_client(other).get("/api/proposals/").status_code == 200
    event = AuditEvent.objects.get(action="token.revoked", subject=group.drafter)
    assert event.after == {"reason": "person.deactivated", "count": 2}


def test_changing_the_password_revokes_every_token(group: Group) -> None:
    key = api_token_key(group.drafter)
    client = client_signed_in(Client(), group.drafter)
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": "demo",
            "new_password1": "a much longer passphrase",
            "new_password2": "a much longer passphrase",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert token_client(key).get("/api/proposals/").status_code == 401


def test_resetting_the_password_revokes_every_token(group: Group) -> None:
    key = api_token_key(group.drafter)
    uid = urlsafe_base64_encode(force_bytes(group.drafter.pk))
    link = f"/accounts/reset/{uid}/{default_token_generator.make_token(group.drafter)}/"
    client = Client()
    form_page = client.get(link)
    assert form_page.status_code == 302
    response = client.post(
        form_page["Location"],
        {"new_password1": "a much longer passphrase", "new_password2": "a much longer passphrase"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert token_client(key).get("/api/proposals/").status_code == 401


def test_the_tokens_page_creates_a_token_shown_once_and_revokes_it(group: Group) -> None:
    client = client_signed_in(Client(), group.drafter)
    expires_on = timezone.localdate() + dt.timedelta(days=30)
    response = client.post(
        "/settings/tokens/", {"name": "Spreadsheet", "expires_on": expires_on.isoformat()}
    )
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret and secret in response.content.decode()
    assert token_client(secret).get("/api/proposals/").status_code == 200
    listing = client.get("/settings/tokens/").content.decode()
    assert "Spreadsheet" in listing and secret not in listing
    token = ApiToken.objects.get(digest=token_digest(secret))
    assert client.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 302
    assert token_client(secret).get("/api/proposals/").status_code == 401


def test_the_tokens_page_refuses_an_expiry_beyond_a_year(group: Group) -> None:
    client = client_signed_in(Client(), group.drafter)
    too_far = timezone.localdate() + dt.timedelta(days=SCRIPT_TOKEN_MAX_DAYS + 1)
    response = client.post("/settings/tokens/", {"name": "Too long", "expires_on": too_far})
    assert response.status_code == 400
    assert "a year at most" in response.content.decode()
    assert not ApiToken.objects.filter(name="Too long").exists()


def test_the_tokens_page_does_not_revoke_someone_elses_token(group: Group) -> None:
    theirs = api_token_key(group.reviewer)
    token = ApiToken.objects.get(digest=token_digest(theirs))
    client = client_signed_in(Client(), group.drafter)
    assert client.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 404
    assert token_client(theirs).get("/api/proposals/").status_code == 200


def test_drf_tokens_become_hashed_script_tokens_that_still_work(group: Group) -> None:
    migration = importlib.import_module("proposals.migrations.0007_api_tokens_from_drf")
    clear_key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamp NOT NULL, user_id integer NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
            [clear_key, timezone.now(), group.drafter.pk],
        )
    migration.drf_tokens_migrate(apps, SimpleNamespace(connection=connection))
    token = ApiToken.objects.get(person=group.drafter)
    assert (token.kind, token.name) == (ApiToken.Kind.SCRIPT, "Migrated token")
    assert token.expires_at > timezone.now() + dt.timedelta(days=364)
    assert clear_key not in every_stored_value()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)
    assert token_client(clear_key).get("/api/proposals/").status_code == 200
