"""Every free text a person sends has a maximum length (proposals.limits), refused with a field
error by the API serializers, the page forms, the preview and the transition service alike."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from proposals.limits import (
    COMMENT_MAX_LENGTH,
    LINK_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    REFERENCE_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)
from proposals.models import Proposal
from proposals.web.forms import ProposalForm, transition_form_class
from proposals.web.views import proposals as views
from tests.factories import Group, proposal_draft
from tests.proposals.api.helpers import client_for, fresh, proposal_in
from tests.proposals.web.helpers import signed_in
from workflow.errors import RefusalKind, Refused
from workflow.services import transition_run

PROPOSAL_LIMITS = [
    ("title", TITLE_MAX_LENGTH),
    ("summary", SUMMARY_MAX_LENGTH),
    ("text", TEXT_MAX_LENGTH),
]


def test_a_proposal_text_may_be_100_000_characters_long() -> None:
    assert TEXT_MAX_LENGTH == 100_000


@pytest.mark.parametrize(("field", "limit"), PROPOSAL_LIMITS)
def test_the_api_refuses_a_proposal_field_one_character_too_long(
    group: Group, field: str, limit: int
) -> None:
    body = {"title": "T", field: "a" * (limit + 1)}
    response = client_for(group.drafter).post("/api/proposals/", body, format="json")
    assert response.status_code == 400
    assert response.json()[field] == [f"Ensure this field has no more than {limit} characters."]
    assert not Proposal.objects.exists()


def test_the_api_accepts_a_text_of_exactly_the_maximum_length(group: Group) -> None:
    body = {"title": "T", "text": "a" * TEXT_MAX_LENGTH}
    response = client_for(group.drafter).post("/api/proposals/", body, format="json")
    assert response.status_code == 201
    assert Proposal.objects.get().text_html == f"<p>{'a' * TEXT_MAX_LENGTH}</p>\n"


def test_the_api_refuses_an_edit_with_a_text_too_long(group: Group) -> None:
    proposal = proposal_draft(group, text="kept")
    response = client_for(group.drafter).patch(
        f"/api/proposals/{proposal.pk}/", {"text": "a" * (TEXT_MAX_LENGTH + 1)}, format="json"
    )
    assert response.status_code == 400
    assert Proposal.objects.get(pk=proposal.pk).text == "kept"


@pytest.mark.parametrize(("field", "limit"), PROPOSAL_LIMITS)
def test_the_proposal_form_refuses_a_field_one_character_too_long_in_french(
    group: Group, field: str, limit: int
) -> None:
    data = {"title": "T", "language": "fr", field: "a" * (limit + 1)}
    with translation.override("fr"):
        form = ProposalForm(data, person=group.drafter)
        assert not form.is_valid()
        assert form.errors[field] == [
            f"Assurez-vous que cette valeur comporte au plus {limit} caractères "
            f"(actuellement {limit + 1})."
        ]


def test_the_new_proposal_page_answers_400_with_the_error_for_a_text_too_long(
    group: Group,
) -> None:
    response = signed_in(group.drafter).post(
        reverse("proposals:proposal_create"),
        {
            "title": "T",
            "lead_organization": group.france.pk,
            "language": "en",
            "text": "a" * (TEXT_MAX_LENGTH + 1),
        },
    )
    assert response.status_code == 400
    assert f"at most {TEXT_MAX_LENGTH} characters" in response.content.decode()
    assert not Proposal.objects.exists()


def test_the_preview_refuses_a_text_too_long_without_rendering_it(
    group: Group, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(text: str) -> str:
        raise AssertionError("a text over the limit was rendered")

    monkeypatch.setattr(views, "markdown_to_html", never)
    response = signed_in(group.drafter).post(
        reverse("proposals:markdown_preview"), {"text": "[" * (TEXT_MAX_LENGTH + 1)}
    )
    assert response.status_code == 400
    assert f"at most {TEXT_MAX_LENGTH} characters" in response.content.decode()


def test_the_preview_renders_a_text_of_exactly_the_maximum_length(group: Group) -> None:
    response = signed_in(group.drafter).post(
        reverse("proposals:markdown_preview"), {"text": "a" * TEXT_MAX_LENGTH}
    )
    assert response.status_code == 200
    assert f"<p>{'a' * TEXT_MAX_LENGTH}</p>" in response.content.decode()


def too_long(field: str, limit: int) -> str:
    """A value of the field one character over its limit (a link stays a URL)."""
    prefix = "https://example.org/" if field == "link" else ""
    return prefix + "a" * (limit + 1 - len(prefix))


TRANSITION_LIMITS: list[tuple[str, str, dict[str, Any], str, int]] = [
    ("request_changes", "in_review", {}, "comment", COMMENT_MAX_LENGTH),
    ("approve", "in_review", {}, "comment", COMMENT_MAX_LENGTH),
    ("submit", "endorsement", {}, "reference", REFERENCE_MAX_LENGTH),
    ("record_outcome", "submitted", {"outcome": "adopted"}, "note", NOTE_MAX_LENGTH),
    ("record_outcome", "submitted", {"outcome": "adopted"}, "link", LINK_MAX_LENGTH),
]


@pytest.mark.parametrize(("name", "state", "base", "field", "limit"), TRANSITION_LIMITS)
def test_the_api_refuses_a_transition_input_one_character_too_long(
    group: Group, name: str, state: str, base: dict[str, Any], field: str, limit: int
) -> None:
    proposal = proposal_in(group, state)
    actor = group.reviewer if state == "in_review" else group.secretariat
    body = {**base, field: too_long(field, limit)}
    response = client_for(actor).post(
        f"/api/proposals/{proposal.pk}/transitions/{name}/", body, format="json"
    )
    assert response.status_code == 400
    assert response.json()[field] == [f"Ensure this field has no more than {limit} characters."]
    assert fresh(proposal).state == state


@pytest.mark.parametrize(("name", "state", "base", "field", "limit"), TRANSITION_LIMITS)
def test_the_transition_page_form_refuses_an_input_one_character_too_long(
    name: str, state: str, base: dict[str, Any], field: str, limit: int
) -> None:
    form = transition_form_class(name)({**base, field: too_long(field, limit)})
    assert not form.is_valid()
    assert form.errors[field] == [
        f"Ensure this value has at most {limit} characters (it has {limit + 1})."
    ]


def test_the_transition_service_refuses_a_comment_too_long_even_without_a_form(
    group: Group,
) -> None:
    proposal = proposal_in(group, "in_review")
    with pytest.raises(Refused) as refused:
        transition_run(
            obj=fresh(proposal),
            name="approve",
            actor=group.reviewer,
            comment="a" * (COMMENT_MAX_LENGTH + 1),
        )
    assert refused.value.kind == RefusalKind.INVALID
    assert "comment" in refused.value.errors
    assert fresh(proposal).state == "in_review"
