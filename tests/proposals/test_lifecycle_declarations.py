"""Each action is declared once (proposals.lifecycle), and every face reads that declaration:
the state machine, the engine, the pages, the API's schema, the admin and the workflow page."""

from __future__ import annotations

import pytest
from django import forms
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from drf_spectacular.generators import SchemaGenerator

from proposals.admin.registry import transition_argument_names
from proposals.lifecycle import (
    ENDORSE,
    TRANSITIONS,
    WITHDRAW_ENDORSEMENT,
    Action,
    states_phrase,
    transition_edges,
)
from proposals.models import Proposal, ProposalState
from proposals.web.forms import transition_form_class
from tests.factories import Group
from tests.proposals.web.helpers import signed_in
from workflow.policy import policy_for
from workflow.services import transition_names

pytestmark = pytest.mark.django_db


def test_every_transition_of_the_state_machine_has_one_declaration_and_no_more() -> None:
    assert sorted(TRANSITIONS) == sorted(transition_names(Proposal))
    assert all(name == action.name for name, action in TRANSITIONS.items())


def test_source_states_come_from_the_state_machine() -> None:
    for name, action in TRANSITIONS.items():
        assert action.sources == list(
            dict.fromkeys(source for source, edge, _target in transition_edges() if edge == name)
        )
    assert TRANSITIONS["withdraw"].sources == ["draft", "in_review", "endorsement"]


@pytest.mark.parametrize("action", [*TRANSITIONS.values(), ENDORSE, WITHDRAW_ENDORSEMENT])
def test_each_action_has_a_label_a_help_text_and_rules(action: Action) -> None:
    assert str(action.label) and str(action.help_text)
    assert action.who, f"{action.name} says nobody in particular may run it"


def test_the_engine_asks_the_declarations() -> None:
    policy = policy_for(Proposal)
    for name, action in TRANSITIONS.items():
        assert policy.label(name) == str(action.label)
        assert policy.update_fields(name)[1:] == list(action.changes)


@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_the_page_form_is_the_declared_input_with_the_comment_last(name: str) -> None:
    page_form = transition_form_class(name)()
    declared = TRANSITIONS[name].input.base_fields
    shown = [name for name, field in page_form.fields.items() if not field.widget.is_hidden]
    assert set(shown) == set(declared)
    assert shown[-1] == "comment"
    assert page_form.fields["comment"].required == declared["comment"].required
    assert isinstance(page_form.fields["comment"].widget, forms.Textarea)


@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_the_admin_asks_for_the_declared_input(name: str) -> None:
    declared = [field for field in TRANSITIONS[name].input.base_fields if field != "comment"]
    assert transition_argument_names(name) == declared


def test_the_api_schema_derives_from_the_declared_inputs() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    properties = schema["components"]["schemas"]["TransitionInputRequest"]["properties"]
    declared = {
        field: form_field
        for action in TRANSITIONS.values()
        for field, form_field in action.input.base_fields.items()
    }
    assert set(declared) <= set(properties)
    outcome = schema["components"]["schemas"]["OutcomeEnum"]["enum"]
    choices = TRANSITIONS["record_outcome"].input.base_fields["outcome"]
    assert outcome == [value for value, _label in choices.choices]  # type: ignore[attr-defined]
    for field, form_field in declared.items():
        limit = getattr(form_field, "max_length", None)
        if limit is not None and not isinstance(form_field, forms.ChoiceField):
            shown = properties[field].get("maxLength") or properties[field]["oneOf"][0]["maxLength"]
            assert shown == limit, field
    transition_run = schema["paths"]["/api/proposals/{proposal_id}/transitions/{name}/"]["post"]
    (name_parameter,) = [p for p in transition_run["parameters"] if p["name"] == "name"]
    assert sorted(name_parameter["schema"]["enum"]) == sorted(TRANSITIONS)


def test_the_workflow_page_lists_each_declaration_in_its_order(group: Group) -> None:
    html = signed_in(group.drafter).get(reverse("proposals:workflow")).content.decode()
    positions = [html.index(escape(str(action.help_text))) for action in TRANSITIONS.values()]
    assert positions == sorted(positions)


def test_a_state_refusal_names_the_source_states_in_the_readers_language() -> None:
    assert states_phrase(TRANSITIONS["withdraw"].sources) == (
        "in draft, in review or open for endorsement"
    )
    with translation.override("fr"):
        assert states_phrase([ProposalState.SUBMITTED]) == "soumise"
        assert states_phrase(TRANSITIONS["withdraw"].sources) == (
            "en brouillon, en relecture ou ouverte aux soutiens"
        )


def test_the_proposal_page_offers_the_declared_label(group: Group) -> None:
    from tests.proposals.web.helpers import in_review

    proposal = in_review(group)
    client: Client = signed_in(group.reviewer)
    html = client.get(reverse("proposals:proposal_detail", args=[proposal.pk])).content.decode()
    assert str(TRANSITIONS["approve"].label) in html
    assert str(TRANSITIONS["request_changes"].label) in html
