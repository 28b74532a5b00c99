"""The rules decided for a page of proposals at once agree with the rules decided one proposal
at a time, and with the SQL preselections; they read no row of their own."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from proposals.lifecycle import transition_options_for, transitions_allowed
from proposals.rules import may_view
from proposals.selectors import (
    people_who_may_view,
    people_who_may_view_each,
    proposals_awaiting_review_by,
    proposals_ready_to_submit,
    proposals_visible_to,
    proposals_with_rule_data,
    roles_of,
)
from proposals.services import endorsement_create
from tests.factories import Group, proposal_draft
from tests.proposals.web.helpers import endorsed, fresh, in_endorsement, in_review, run

pytestmark = pytest.mark.django_db


def one_of_each_state(group: Group) -> None:
    proposal_draft(group)
    in_review(group)
    endorsement_create(proposal=fresh(in_endorsement(group)), person=group.representative_ma)
    endorsed(group)
    run(endorsed(group), "submit", group.secretariat)
    run(
        run(endorsed(group), "submit", group.secretariat),
        "record_outcome",
        group.secretariat,
        outcome="adopted",
    )
    run(proposal_draft(group), "withdraw", group.drafter)


def people(group: Group) -> list[Any]:
    return [
        group.drafter,
        group.co_drafter,
        group.reviewer,
        group.second_reviewer,
        group.representative_ma,
        group.representative_lu,
        group.observer,
        group.secretariat,
    ]


def one_at_a_time(proposal: Any, person: Any) -> list[str]:
    return [option.name for option in transition_options_for(proposal, person) if option.allowed]


def test_the_page_form_gives_each_person_what_each_proposal_gives_alone(group: Group) -> None:
    one_of_each_state(group)
    now = timezone.now()
    for person in people(group):
        page = list(proposals_with_rule_data(proposals_visible_to(person)))
        assert page, person
        at_once = transitions_allowed(page, person, now)
        assert at_once == {p.pk: one_at_a_time(p, person) for p in page}, person.username


def test_what_the_page_form_allows_matches_the_sql_preselections(group: Group) -> None:
    one_of_each_state(group)
    page = list(proposals_with_rule_data())
    reviewer = transitions_allowed(page, group.reviewer)
    assert {pk for pk, names in reviewer.items() if "approve" in names} == set(
        proposals_awaiting_review_by(group.reviewer).values_list("pk", flat=True)
    )
    secretariat = transitions_allowed(page, group.secretariat)
    assert {pk for pk, names in secretariat.items() if "submit" in names} == set(
        proposals_ready_to_submit().values_list("pk", flat=True)
    )


def test_the_page_form_offers_nothing_on_a_proposal_the_person_cannot_see(group: Group) -> None:
    one_of_each_state(group)
    page = list(proposals_with_rule_data())
    for person in people(group):
        visible = set(proposals_visible_to(person).values_list("pk", flat=True))
        offered = {pk for pk, names in transitions_allowed(page, person).items() if names}
        assert offered <= visible, person.username


def test_the_page_form_reads_nothing_once_the_page_and_the_roles_are_read(group: Group) -> None:
    one_of_each_state(group)
    page = list(proposals_with_rule_data())
    roles_of(group.secretariat)
    with CaptureQueriesContext(connection) as few:
        transitions_allowed(page[:2], group.secretariat)
    for _ in range(3):
        one_of_each_state(group)
    page = list(proposals_with_rule_data())
    with CaptureQueriesContext(connection) as many:
        transitions_allowed(page, group.secretariat)
    assert len(few) == len(many) == 0


def test_who_may_view_a_proposal_agrees_with_may_view_for_every_person(group: Group) -> None:
    one_of_each_state(group)
    everyone = [*people(group), group.representative_fr, group.outsider]
    for proposal in proposals_with_rule_data():
        expected = {person.pk for person in everyone if may_view(proposal, person)}
        assert people_who_may_view(proposal, [p.pk for p in everyone]) == expected, proposal.state


def test_nobody_inactive_may_view_a_proposal_for_a_notice(group: Group) -> None:
    proposal = in_review(group)
    group.reviewer.is_active = False
    group.reviewer.save(update_fields=["is_active"])
    assert group.reviewer.pk not in people_who_may_view(proposal, [group.reviewer.pk])
    assert group.drafter.pk in people_who_may_view(proposal, [group.drafter.pk])


def test_who_may_view_each_of_many_proposals_agrees_with_may_view(group: Group) -> None:
    one_of_each_state(group)
    everyone = [*people(group), group.representative_fr, group.outsider]
    proposals = list(proposals_with_rule_data())
    at_once = people_who_may_view_each(proposals, [p.pk for p in everyone])
    for proposal in proposals:
        expected = {person.pk for person in everyone if may_view(proposal, person)}
        assert at_once[proposal.pk] == expected, proposal.state
