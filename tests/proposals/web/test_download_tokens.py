"""The downloads scripts use (the proposal list's CSV and XLSX) take an API token as the API
does, and answer in the language and zone of the token's person."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from proposals.accounts import api_token_create, api_token_revoke
from proposals.models import ApiToken, Person
from tests.factories import Group, proposal_draft

pytestmark = pytest.mark.django_db


def csv_body(response: Any) -> str:
    return b"".join(response.streaming_content).decode()


def script_token(person: Person) -> str:
    _, key = api_token_create(
        person=person,
        kind=ApiToken.Kind.SCRIPT,
        name="Export script",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    return key


def test_a_script_exports_the_proposal_list_as_csv_with_its_token(group: Group) -> None:
    proposal_draft(group, title="Visible to its drafter")
    key = script_token(group.drafter)
    response = Client().get(
        reverse("proposals:proposal_list_csv"), HTTP_AUTHORIZATION=f"Token {key}"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "Authorization" in response["Vary"]
    body = csv_body(response)
    titles = [row[1] for row in list(csv.reader(io.StringIO(body)))[1:]]
    assert titles == ["Visible to its drafter"]


def test_the_token_sees_only_what_its_person_sees(group: Group) -> None:
    proposal_draft(group, title="A draft of the drafter")
    response = Client().get(
        reverse("proposals:proposal_list_csv"),
        HTTP_AUTHORIZATION=f"Token {script_token(group.outsider)}",
    )
    assert response.status_code == 200
    body = csv_body(response)
    assert "A draft of the drafter" not in body


def test_a_bad_or_revoked_token_is_a_401_that_says_why(group: Group) -> None:
    url = reverse("proposals:proposal_list_csv")
    unknown = Client().get(url, HTTP_AUTHORIZATION="Token not-a-token")
    assert unknown.status_code == 401
    assert unknown["WWW-Authenticate"] == "Token"
    assert "This token is not known" in unknown.content.decode()
    key = script_token(group.drafter)
    [token] = ApiToken.objects.filter(person=group.drafter, name="Export script")
    api_token_revoke(token=token, actor=group.drafter)
    revoked = Client().get(url, HTTP_AUTHORIZATION=f"Token {key}")
    assert revoked.status_code == 401
    assert "revoked" in revoked.content.decode()


def test_the_refusal_speaks_the_callers_language(group: Group) -> None:
    response = Client().get(
        reverse("proposals:proposal_list_csv"),
        HTTP_AUTHORIZATION="Token not-a-token",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 401
    assert "This token is not known" not in response.content.decode()


def test_without_a_token_a_visitor_is_still_sent_to_the_login_page(group: Group) -> None:
    response = Client().get(reverse("proposals:proposal_list_csv"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_secretariat_exports_with_a_token_without_a_second_factor_prompt(
    group: Group,
) -> None:
    proposal_draft(group, title="Seen by the secretariat")
    response = Client().get(
        reverse("proposals:proposal_list_csv"),
        HTTP_AUTHORIZATION=f"Token {script_token(group.secretariat)}",
    )
    assert response.status_code == 200
    assert "Seen by the secretariat" in csv_body(response)


def test_a_token_export_speaks_the_language_and_zone_of_its_person(group: Group) -> None:
    person = group.drafter
    person.language, person.timezone = "fr", "Europe/Paris"
    person.save(update_fields=["language", "timezone"])
    proposal_draft(group, title="Économie circulaire")
    key = script_token(person)
    response = Client().get(
        reverse("proposals:proposal_list_csv"),
        HTTP_AUTHORIZATION=f"Token {key}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    header = csv_body(response).lstrip("\ufeff").splitlines()[0]
    assert header.startswith("Numéro;Titre;État")
    workbook = Client().get(
        reverse("proposals:proposal_list_xlsx"), HTTP_AUTHORIZATION=f"Token {key}"
    )
    assert workbook.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    header_cells = [cell.value for cell in sheet[1]]
    assert "Date de création (heure de Paris)" in header_cells
    assert (
        Client()
        .get(reverse("proposals:proposal_list_xlsx"), HTTP_AUTHORIZATION="Token not-a-token")
        .status_code
        == 401
    )
