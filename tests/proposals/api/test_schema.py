"""Self-description: an OpenAPI 3 schema that documents every refusal, docs served locally,
and a schemathesis run that checks the API against its own schema."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, Phase, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.factories import Group, api_token_key
from tests.proposals.api.helpers import proposal_in

pytestmark = pytest.mark.django_db

WRITE_METHODS = {"post", "patch", "put", "delete"}


def openapi() -> dict[str, Any]:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_public_and_valid_openapi_3() -> None:
    schema = openapi()
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)


def test_the_schema_documents_every_refusal_of_every_operation() -> None:
    undocumented = []
    for path, operations in openapi()["paths"].items():
        if not path.startswith("/api/") or path.startswith("/api/auth/"):
            continue
        for method, operation in operations.items():
            if method not in WRITE_METHODS | {"get"}:
                continue
            expected = {"401", "403", "404"}
            if method in WRITE_METHODS and "calendar-link" not in path:
                expected |= {"400", "409"}
            if "calendar-link" in path:
                expected = {"401"}
            missing = expected - set(operation["responses"])
            if missing:
                undocumented.append((method.upper(), path, sorted(missing)))
    assert undocumented == []


def test_a_refusal_is_documented_as_one_error_shape_with_its_codes() -> None:
    schema = openapi()
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"detail", "reasons", "code", "reason_codes"}
    run = schema["paths"]["/api/proposals/{proposal_id}/transitions/{name}/"]["post"]
    assert run["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert "Refusal" not in schema["components"]["schemas"]


def test_the_docs_page_loads_everything_from_this_site_never_from_a_cdn() -> None:
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert references, html
    external = [url for url in references if urlsplit(url).netloc or url.startswith("//")]
    assert external == []
    assert not re.search(r"https?://(?!testserver)", html.split("<script>", 1)[0])
    for url in references:
        path = urlsplit(url).path
        if path.startswith("/static/"):
            assert finders.find(path.removeprefix("/static/")), path


# Loaded once, in-process (WSGI): building the schema reads no database row.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture
def connections_kept_open() -> Iterator[None]:
    """Keep the test's database connection across WSGI requests, as Django's test client does
    (Django closes connections in a transaction when a request finishes)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def secretariat_token(group: Group, connections_kept_open: None) -> str:
    """A token of the secretariat, who may call every endpoint, with proposals to act on."""
    proposal_in(group, "endorsement")
    proposal_in(group, "draft")
    return api_token_key(group.secretariat)


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_schema_says_and_never_with_a_5xx(
    case: Any, secretariat_token: str
) -> None:
    case.call_and_validate(headers={"Authorization": f"Token {secretariat_token}"}, checks=CHECKS)


def test_the_schema_is_generated_without_a_warning(tmp_path: Any) -> None:
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert target.read_text().startswith("openapi: 3")


def test_the_browsable_api_renders_for_a_signed_in_person(group: Group) -> None:
    proposal_in(group, "in_review")
    client = APIClient()
    client.force_login(group.drafter)
    for url in ("/api/", "/api/proposals/", "/api/organizations/"):
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html")
