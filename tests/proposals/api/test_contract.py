"""The API's contract as a generated client reads it: every answer conforms to the schema
(nullability, requiredness, types), request bodies hold only what a client may write, dates are
ISO 8601, the rules of input are in the schema, and every refusal has one shape with codes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient
from werkzeug.test import Client, TestResponse

from config.wsgi import application
from proposals.api.errors import ERROR_CODES, REASON_CODES
from proposals.models import OutcomeResult, Person
from tests.factories import Group, api_token_key
from tests.proposals.api.helpers import client_for, proposal_in

pytestmark = pytest.mark.django_db

REPOSITORY = Path(__file__).resolve().parents[3]
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


def openapi() -> dict[str, Any]:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def wsgi(group: Group) -> Iterator[Client]:
    """A WSGI client of the application (its answers validate against the schema), on the
    test's own database connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield Client(application)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def token_headers(person: Person, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Token {api_token_key(person)}", **headers}


def referred(field: dict[str, Any]) -> str:
    """The name of the component a property refers to (drf-spectacular wraps a reference that
    has a description of its own in allOf)."""
    reference = field["$ref"] if "$ref" in field else field["allOf"][0]["$ref"]
    return str(reference).rsplit("/", 1)[1]


def conforms(response: TestResponse, path: str, method: str) -> None:
    """The answer is one the schema declares for that operation, in its shape."""
    schema[path][method].validate_response(response)


# 1. Nullability and requiredness


def test_a_proposal_without_an_occasion_answers_a_null_deadline_the_schema_allows(
    group: Group, wsgi: Client
) -> None:
    headers = token_headers(group.drafter)
    created = wsgi.post("/api/proposals/", json={"title": "No occasion yet"}, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["deadline"] is None
    conforms(created, "/api/proposals/", "POST")
    listed = wsgi.get("/api/proposals/", headers=headers)
    conforms(listed, "/api/proposals/", "GET")
    one = wsgi.get(f"/api/proposals/{body['id']}/", headers=headers)
    conforms(one, "/api/proposals/{id}/", "GET")


@pytest.mark.parametrize("state", ["draft", "submitted", "outcome"])
def test_proposals_in_every_state_and_their_history_conform_to_the_schema(
    group: Group, wsgi: Client, state: str
) -> None:
    proposal = proposal_in(group, state)
    headers = token_headers(group.secretariat)
    conforms(
        wsgi.get(f"/api/proposals/{proposal.pk}/", headers=headers), "/api/proposals/{id}/", "GET"
    )
    history = wsgi.get(f"/api/proposals/{proposal.pk}/history/", headers=headers)
    conforms(history, "/api/proposals/{proposal_id}/history/", "GET")
    for path in ("endorsements", "reviews", "revisions", "transitions"):
        answer = wsgi.get(f"/api/proposals/{proposal.pk}/{path}/", headers=headers)
        conforms(answer, f"/api/proposals/{{proposal_id}}/{path}/", "GET")


# 2. Request components hold only writable fields


def test_request_bodies_hold_only_the_fields_a_client_writes() -> None:
    document = openapi()
    components = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            for media in operation["requestBody"]["content"].values():
                reference = media["schema"].get("$ref", "")
                if not reference:
                    continue
                component = components[reference.rsplit("/", 1)[1]]
                read_only = [
                    name
                    for name, field in component.get("properties", {}).items()
                    if field.get("readOnly")
                ]
                assert read_only == [], (method, path, read_only)
    proposal_request = components["ProposalRequest"]["properties"]
    assert not {"id", "state", "created_at", "updated_at", "transitions"} & set(proposal_request)


def test_no_component_is_left_unused() -> None:
    document = openapi()
    text = str(document["paths"]) + str(document["components"]["schemas"])
    unused = [
        name
        for name in document["components"]["schemas"]
        if f"#/components/schemas/{name}'" not in text
    ]
    assert unused == []


# 4. ISO 8601 only


def test_a_date_in_a_local_format_is_refused_with_the_format_expected(group: Group) -> None:
    proposal = proposal_in(group, "submitted")
    response = client_for(group.secretariat).post(
        f"/api/proposals/{proposal.pk}/transitions/record_outcome/",
        {"outcome": "adopted", "decided_on": "01/12/2026"},
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert "YYYY-MM-DD" in response.json()["decided_on"][0]
    assert response.json()["code"] == "validation_error"
    assert response.json()["reason_codes"] == ["invalid"]


def test_an_occasion_date_in_a_local_format_is_refused(group: Group) -> None:
    response = client_for(group.secretariat).patch(
        f"/api/occasions/{group.occasion.pk}/", {"starts_on": "12/01/2026"}, format="json"
    )
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.json()["starts_on"][0]


def test_an_iso_date_records_the_outcome_on_that_day(group: Group) -> None:
    proposal = proposal_in(group, "submitted")
    day = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    response = client_for(group.secretariat).post(
        f"/api/proposals/{proposal.pk}/transitions/record_outcome/",
        {"outcome": "adopted_in_part", "decided_on": day},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["outcome"]["decided_on"] == day
    assert response.json()["outcome"]["result"] == "adopted_in_part"


# 5. Real types


def test_the_transition_input_and_the_outcome_have_their_real_types() -> None:
    components = openapi()["components"]["schemas"]
    outcomes = [value for value, _label in OutcomeResult.choices]
    transition_input = components["TransitionInputRequest"]["properties"]
    assert transition_input["decided_on"]["format"] == "date"
    outcome_enum = referred(transition_input["outcome"])
    assert components[outcome_enum]["enum"] == outcomes
    result = referred(components["Outcome"]["properties"]["result"])
    assert components[result]["enum"] == outcomes


def test_a_history_entry_has_a_shape_per_kind() -> None:
    components = openapi()["components"]["schemas"]
    entry = components["HistoryEntry"]
    assert entry["discriminator"]["propertyName"] == "kind"
    mapping = entry["discriminator"]["mapping"]
    assert {"create", "submit", "record_outcome", "endorse", "approve"} <= set(mapping)
    outcome = components[mapping["record_outcome"].rsplit("/", 1)[1]]
    data = components[referred(outcome["properties"]["data"])]
    assert data["properties"]["decided_on"]["format"] == "date"


def test_no_enum_offers_a_blank_value() -> None:
    components = openapi()["components"]["schemas"]
    assert "BlankEnum" not in components
    blank = [name for name, c in components.items() if "" in c.get("enum", [])]
    assert blank == []


# 6. The rules of input, in the schema


def test_titles_and_names_state_that_they_are_not_blank_and_hold_no_nul() -> None:
    components = openapi()["components"]["schemas"]
    for component, field in [
        ("ProposalRequest", "title"),
        ("OrganizationRequest", "name"),
        ("BodyRequest", "name"),
        ("OccasionRequest", "name"),
    ]:
        rule = components[component]["properties"][field]
        assert rule["minLength"] == 1, (component, field)
        assert re.fullmatch(rule["pattern"], "A title")
        assert not re.fullmatch(rule["pattern"], "   ")
        assert not re.fullmatch(rule["pattern"], "A\x00title")


def test_dates_state_their_range_and_time_zones_their_names() -> None:
    components = openapi()["components"]["schemas"]
    occasion = components["OccasionRequest"]["properties"]
    for value, accepted in [
        ("1900-01-01", True),
        ("2200-12-31", True),
        ("1899-12-31", False),
        ("2201-01-01", False),
        ("0999-01-01", False),
    ]:
        assert bool(re.match(occasion["starts_on"]["pattern"], value)) is accepted, value
    deadline = occasion["submission_deadline"]["pattern"]
    assert re.match(deadline, "2026-11-10T23:59:00-03:00")
    assert not re.match(deadline, "2300-11-10T23:59:00-03:00")
    zone = components[referred(occasion["timezone"])]
    assert "Europe/Paris" in zone["enum"]
    assert "Mars/Olympus" not in zone["enum"]


def test_a_blank_title_is_refused(group: Group) -> None:
    response = client_for(group.drafter).post("/api/proposals/", {"title": "  "}, format="json")
    assert response.status_code == 400
    assert response.json()["reason_codes"] == ["blank"]


@pytest.mark.parametrize("value", ["null", "false", "0", "-1", "ten"])
def test_a_page_size_that_is_no_positive_number_is_refused(group: Group, value: str) -> None:
    response = client_for(group.drafter).get(f"/api/proposals/?page_size={value}")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    "query",
    ["occasion=999999", "target_body=999999", "lead_organization=999999", "theme=999999"],
)
def test_a_filter_by_an_id_that_names_nothing_finds_nothing(group: Group, query: str) -> None:
    proposal_in(group, "draft")
    response = client_for(group.drafter).get(f"/api/proposals/?{query}")
    assert response.status_code == 200, response.json()
    assert response.json()["results"] == []


def test_a_filter_by_a_username_that_names_nobody_finds_nothing(group: Group) -> None:
    response = client_for(group.secretariat).get("/api/security-events/?subject=nobody-here")
    assert response.status_code == 200, response.json()
    assert response.json()["results"] == []


def test_a_filter_by_an_id_of_the_wrong_form_is_still_a_400(group: Group) -> None:
    response = client_for(group.drafter).get("/api/proposals/?occasion=abc")
    assert response.status_code == 400
    assert response.json()["reason_codes"] == ["invalid_choice"]


def test_id_filters_and_revision_bounds_state_that_they_count_from_1() -> None:
    paths = openapi()["paths"]
    for path, name in [
        ("/api/proposals/", "occasion"),
        ("/api/proposals/", "target_body"),
        ("/api/proposals/{proposal_id}/revisions/diff/", "from"),
        ("/api/proposals/{proposal_id}/revisions/diff/", "to"),
    ]:
        parameters = paths[path]["get"]["parameters"]
        rule = next(p for p in parameters if p["name"] == name)["schema"]
        assert rule["minimum"] == 1, (path, name)


def test_the_page_size_is_an_integer_from_1_in_the_schema() -> None:
    operation = openapi()["paths"]["/api/proposals/"]["get"]
    page_size = next(p for p in operation["parameters"] if p["name"] == "page_size")
    assert page_size["schema"]["type"] == "integer"
    assert page_size["schema"]["minimum"] == 1


# 7. The CSV export is declared


def test_the_csv_export_is_a_declared_answer_of_the_list(group: Group) -> None:
    operation = openapi()["paths"]["/api/proposals/"]["get"]
    declared = operation["responses"]["200"]["content"]
    assert declared["text/csv"]["schema"] == {"type": "string"}
    proposal_in(group, "draft")
    answer = client_for(group.drafter).get("/api/proposals/?format=csv")
    assert answer.status_code == 200
    assert answer["Content-Type"].split(";")[0] in declared
    assert b"".join(answer.streaming_content).startswith(b"id,")  # type: ignore[attr-defined]


# 8. Errors


def test_every_reason_code_of_the_domain_is_documented() -> None:
    sources = [*REPOSITORY.glob("proposals/**/*.py"), *REPOSITORY.glob("workflow/**/*.py")]
    codes = set()
    for source in sources:
        codes |= set(re.findall(r'Reason\(\s*"([a-z_]+)"', source.read_text()))
    assert codes, "no Reason(...) found: the scan is broken"
    assert codes - set(REASON_CODES) == set()
    components = openapi()["components"]["schemas"]
    assert components["ErrorCodeEnum"]["enum"] == list(ERROR_CODES)
    assert components["ReasonCodeEnum"]["enum"] == list(REASON_CODES)


def test_a_refusal_of_a_condition_names_each_reason_with_its_code(group: Group) -> None:
    proposal = proposal_in(group, "in_review")
    response = client_for(group.reviewer).post(
        f"/api/proposals/{proposal.pk}/transitions/submit/", {}, format="json"
    )
    body = response.json()
    assert response.status_code == 403
    assert body["code"] == "permission_denied"
    assert len(body["reason_codes"]) == len(body["reasons"])
    response = client_for(group.secretariat).post(
        f"/api/proposals/{proposal.pk}/transitions/submit/", {}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "transition_refused"
    assert response.json()["reason_codes"] == ["state"]


def test_an_explicit_accept_language_wins_over_the_saved_language(group: Group) -> None:
    Person.objects.filter(pk=group.drafter.pk).update(language="fr")
    proposal = proposal_in(group, "in_review")
    url = f"/api/proposals/{proposal.pk}/transitions/approve/"
    saved = client_for(group.drafter).post(url, {}, format="json")
    assert saved["Content-Language"] == "fr"
    asked = client_for(group.drafter).post(url, {}, format="json", HTTP_ACCEPT_LANGUAGE="es")
    assert asked["Content-Language"] == "es"
    assert asked.json()["reason_codes"] == saved.json()["reason_codes"]
    assert asked.json()["reasons"] != saved.json()["reasons"]


def test_the_refusal_of_an_unacceptable_media_type_is_translated(group: Group) -> None:
    response = client_for(group.drafter).get(
        "/api/proposals/", HTTP_ACCEPT="application/xml", HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert response.status_code == 406
    body = response.json()
    assert body["code"] == "not_acceptable"
    assert body["detail"] != "Could not satisfy the request Accept header."


@override_settings(DEBUG=True)
@pytest.mark.parametrize("path", ["/api/nowhere/", "/api/proposals/1/nothing/", "/api/nowhere"])
def test_an_unknown_api_path_answers_json_even_in_debug_mode(group: Group, path: str) -> None:
    response = client_for(group.drafter).get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_a_known_path_without_its_slash_is_still_redirected(group: Group) -> None:
    response = client_for(group.drafter).get("/api/proposals")
    assert response.status_code == 301
    assert response["Location"].endswith("/api/proposals/")
