"""The schema is generated once per process for each language and format, the same for everyone."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from config.api_docs import SchemaView
from tests.factories import Group

pytestmark = pytest.mark.django_db


@pytest.fixture
def generations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the schema's generations (each one still runs in full)."""
    SchemaView.rendered.clear()
    calls: list[str] = []
    generate = SchemaGenerator.get_schema

    def counted(self: SchemaGenerator, *args: Any, **kwargs: Any) -> Any:
        calls.append("generated")
        return generate(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counted)
    return calls


def test_everyone_gets_the_same_schema_generated_once(group: Group, generations: list[str]) -> None:
    answers = []
    for person in (None, group.secretariat, group.drafter, group.observer, group.reviewer):
        client = APIClient()
        if person is not None:
            client.force_authenticate(person)
        response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert response.status_code == 200
        answers.append(response.content)
    assert len(set(answers)) == 1
    assert generations == ["generated"]


def test_each_language_and_format_has_its_own_rendering(generations: list[str]) -> None:
    client = APIClient()
    english = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    french = client.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json", HTTP_ACCEPT_LANGUAGE="fr"
    )
    yaml = client.get("/api/schema/")
    assert english.json()["info"] == french.json()["info"]
    assert english.content != french.content  # the operations' texts are translated
    assert yaml["Content-Type"] == "application/vnd.oai.openapi; charset=utf-8"
    assert yaml["Content-Disposition"] == 'inline; filename="Policy tracker API.yaml"'
    assert yaml.content.startswith(b"openapi: 3")
    assert "Accept-Language" in yaml["Vary"]
    assert len(generations) == 3
    client.get("/api/schema/", HTTP_ACCEPT_LANGUAGE="fr")
    assert len(generations) == 4
    client.get("/api/schema/", HTTP_ACCEPT_LANGUAGE="fr")
    assert len(generations) == 4


def test_a_change_of_settings_generates_it_again(generations: list[str]) -> None:
    APIClient().get("/api/schema/")
    with override_settings(SPECTACULAR_SETTINGS={"TITLE": "Another title"}):
        APIClient().get("/api/schema/")
    APIClient().get("/api/schema/")  # leaving the override is a change too
    assert len(generations) == 3
