"""The audit trail as people read it: one trail of transitions and audit events, filtered; the
secretariat reads all of it, every other person only what they did or what concerns them."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
import pkgutil
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

import proposals
from proposals.audit_trail import (
    ACTION_LABELS,
    AUDIT,
    TRANSITION,
    TrailFilter,
    TrailFilterForm,
    action_label,
    audit_trail,
    trail_entries,
)
from proposals.audited import AUDITED
from proposals.lifecycle import TRANSITIONS
from proposals.models import Person, Proposal
from tests.factories import Group, client_signed_in
from tests.proposals.api.helpers import proposal_in
from workflow.audit import audit_record
from workflow.models import AuditEvent

pytestmark = pytest.mark.django_db


@dataclass
class Trail:
    proposal: Proposal
    roles_changed: AuditEvent
    token_created: AuditEvent
    organization_changed: AuditEvent
    proposal_edited: AuditEvent
    long_ago: AuditEvent


@pytest.fixture
def trail(group: Group) -> Trail:
    """A proposal France's drafter submitted and a reviewer approved, and audit events of
    several people, one of them ten days ago."""
    proposal = proposal_in(group, "endorsement")
    return Trail(
        proposal=proposal,
        roles_changed=audit_record(
            action="person.roles_changed",
            actor=group.secretariat,
            subject=group.observer,
            obj=group.observer,
            before={"roles": []},
            after={"roles": ["drafter"]},
        ),
        token_created=audit_record(
            action="token.created", actor=group.reviewer, subject=group.reviewer
        ),
        organization_changed=audit_record(
            action="organization.changed",
            actor=group.secretariat,
            obj=group.morocco,
            before={"name": "Maroc"},
            after={"name": "Morocco"},
        ),
        proposal_edited=audit_record(
            action="proposal.edited",
            actor=group.drafter,
            obj=proposal,
            before={"title": "Old"},
            after={"title": proposal.title},
        ),
        long_ago=audit_record(
            action="custom.unknown_action",
            actor=group.representative_lu,
            subject=group.representative_lu,
            now=timezone.now() - dt.timedelta(days=10),
        ),
    )


def keys(rows: Any) -> list[tuple[str, int]]:
    return [(row["t_kind"], row["t_id"]) for row in rows]


def test_the_secretariat_reads_transitions_and_audit_events_in_one_trail_newest_first(
    group: Group, trail: Trail
) -> None:
    entries = trail_entries(audit_trail(group.secretariat))
    kinds = {entry.kind for entry in entries}
    assert kinds == {TRANSITION, AUDIT}
    moments = [entry.at for entry in entries]
    assert moments == sorted(moments, reverse=True)
    actions = [entry.action for entry in entries]
    assert {"submit_for_review", "approve", "endorse", "person.roles_changed"} <= set(actions)
    assert actions[-1] == "custom.unknown_action"  # ten days ago: the oldest
    approve = next(entry for entry in entries if entry.action == "approve")
    assert approve.actor == group.reviewer and approve.proposal_id == trail.proposal.pk
    assert approve.object_label == trail.proposal.title
    assert approve.changes.startswith("In review → Open for endorsement")


def test_a_person_reads_only_what_they_did_or_what_concerns_them(
    group: Group, trail: Trail
) -> None:
    everything = trail_entries(audit_trail(group.secretariat))
    for person in Person.objects.exclude(pk=group.secretariat.pk):
        mine = trail_entries(audit_trail(person))
        for entry in mine:
            assert person in (entry.actor, entry.subject), (person, entry)
        expected = [e for e in everything if person in (e.actor, e.subject)]
        assert [(e.kind, e.id) for e in mine] == [(e.kind, e.id) for e in expected]
    observer = trail_entries(audit_trail(group.observer))
    assert [entry.action for entry in observer] == ["person.roles_changed"]
    drafter = {entry.action for entry in trail_entries(audit_trail(group.drafter))}
    assert drafter == {"submit_for_review", "proposal.edited"}  # the factory logs no creation
    assert trail_entries(audit_trail(group.outsider)) == []
    # My activity narrows the secretariat's reading to its own part too.
    assert {entry.action for entry in trail_entries(audit_trail(group.secretariat, mine=True))} == {
        "person.roles_changed",
        "organization.changed",
    }


def test_the_trail_is_filtered_by_person_organisation_proposal_action_and_days(
    group: Group, trail: Trail
) -> None:
    def actions(where: TrailFilter) -> set[str]:
        return {entry.action for entry in trail_entries(audit_trail(group.secretariat, where))}

    assert actions(TrailFilter(person=group.observer.username)) == {"person.roles_changed"}
    assert actions(TrailFilter(person="no-such-person")) == set()
    # France: what its members did, and what was done to the proposals it leads.
    assert actions(TrailFilter(organization_id=group.france.pk)) == {
        "submit_for_review",
        "approve",
        "endorse",
        "proposal.edited",
    }
    # Morocco: the change of the organisation itself, and its representative's endorsement.
    assert actions(TrailFilter(organization_id=group.morocco.pk)) >= {
        "organization.changed",
        "endorse",
    }
    assert "person.roles_changed" not in actions(TrailFilter(organization_id=group.morocco.pk))
    assert actions(TrailFilter(proposal_id=trail.proposal.pk)) == {
        "submit_for_review",
        "approve",
        "endorse",
        "proposal.edited",
    }
    assert actions(TrailFilter(proposal_id=trail.proposal.pk + 1000)) == set()
    assert actions(TrailFilter(action="approve")) == {"approve"}
    assert actions(TrailFilter(action="token.created")) == {"token.created"}
    yesterday = timezone.now() - dt.timedelta(days=1)
    assert "custom.unknown_action" not in actions(TrailFilter(since=yesterday))
    assert actions(TrailFilter(until=yesterday)) == {"custom.unknown_action"}


def test_the_filters_days_are_the_readers_days_and_bad_input_is_explained() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    form = TrailFilterForm({"since": "2026-03-01", "until": "2026-03-01"})
    assert form.is_valid()
    where = form.trail_filter(paris)
    assert where.since == dt.datetime(2026, 3, 1, tzinfo=paris)
    assert where.until == dt.datetime(2026, 3, 2, tzinfo=paris)

    with translation.override("fr"):
        form = TrailFilterForm(
            {"since": "2026-03-02", "until": "2026-03-01", "action": "DROP TABLE", "person": "a b"}
        )
        assert not form.is_valid()
        assert set(form.errors) == {"until", "action", "person"}
        assert "premier jour" in form.errors["until"][0]


def test_actions_are_named_in_the_readers_language_and_unknown_codes_as_they_are() -> None:
    with translation.override("fr"):
        assert action_label("approve") == "Un relecteur a approuvé la proposition"
        assert action_label("token.created") == "Un jeton d'API a été créé"
    with translation.override("es"):
        assert action_label("approve") == "Un revisor aprobó la propuesta"
    assert action_label("something.new") == "something.new"


def test_every_audited_action_and_every_transition_has_a_name() -> None:
    for module in pkgutil.iter_modules(proposals.__path__):  # every service marks its writes
        if not module.ispkg:
            importlib.import_module(f"proposals.{module.name}")
    codes = {code for write in AUDITED.values() for code in write.actions} | set(TRANSITIONS)
    assert codes, "the services registered their actions"
    assert sorted(codes - set(ACTION_LABELS)) == []


# The pages


def test_the_secretariat_reads_the_whole_trail_on_a_page_and_others_are_refused(
    client: Client, group: Group, trail: Trail
) -> None:
    page = client_signed_in(client, group.secretariat).get(reverse("proposals:audit_trail"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "A reviewer approved the proposal" in html and "The roles were changed" in html
    assert trail.proposal.title in html
    other = client_signed_in(Client(), group.drafter).get(reverse("proposals:audit_trail"))
    assert other.status_code == 403
    csv_other = client_signed_in(Client(), group.drafter).get(reverse("proposals:audit_trail_csv"))
    assert csv_other.status_code == 403


def test_my_activity_shows_a_person_their_own_entries_in_their_language(
    group: Group, trail: Trail
) -> None:
    group.observer.language = "fr"
    group.observer.save(update_fields=["language"])
    client = client_signed_in(Client(), group.observer)
    page = client.get(reverse("proposals:my_activity"))
    assert page.status_code == 200
    table = page.content.decode().partition("<tbody>")[2].partition("</tbody>")[0]
    assert table.count("<tr>") == 1
    assert "Les rôles ont été modifiés" in table
    assert trail.proposal.title not in table
    settings_page = client.get(reverse("proposals:settings"))
    assert reverse("proposals:my_activity") in settings_page.content.decode()


def test_bad_filters_on_the_page_are_a_400_that_says_what_to_fix(
    group: Group, trail: Trail
) -> None:
    client = client_signed_in(Client(), group.secretariat)
    page = client.get(reverse("proposals:audit_trail"), {"since": "2026-02-30", "proposal": "-1"})
    assert page.status_code == 400
    assert "Enter a valid date." in page.content.decode()


def test_the_trail_exports_as_csv_in_the_readers_language_and_zone(
    group: Group, trail: Trail
) -> None:
    group.secretariat.timezone = "America/Guayaquil"
    group.secretariat.language = "es"
    group.secretariat.save(update_fields=["timezone", "language"])
    client = client_signed_in(Client(), group.secretariat)
    response = client.get(
        reverse("proposals:audit_trail_csv"),
        {"action": "approve"},
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0].startswith("Fecha (") and "Guayaquil" in rows[0][0]
    assert len(rows) == 2
    approved = trail_entries(audit_trail(group.secretariat, TrailFilter(action="approve")))[0]
    local = approved.at.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    assert rows[1][0] == local.strftime("%Y-%m-%d %H:%M")
    assert rows[1][1] == "Un revisor aprobó la propuesta"


def test_the_pages_run_a_constant_number_of_queries(group: Group, trail: Trail) -> None:
    client = client_signed_in(Client(), group.secretariat)
    url = reverse("proposals:audit_trail")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for number in range(40):
        audit_record(
            action="person.settings_changed",
            actor=group.drafter if number % 2 else group.reviewer,
            subject=group.co_drafter,
            obj=trail.proposal,
        )
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
