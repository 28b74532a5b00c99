"""The outbox's rows name their channel, their event kind and their event; people turn kinds off."""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from proposals.models import Person, Proposal
from proposals.people import email_change_request
from proposals.security import security_event_record
from proposals.selectors import proposals_with_rule_data
from tests.factories import Group, PersonFactory, proposal_draft
from workflow.errors import RefusalKind, Refused
from workflow.events import EVENT_NAMESPACE, event_id_named
from workflow.models import AuditEvent, Delivery, NotificationPreference
from workflow.outbox import outbox_write
from workflow.policy import Notice
from workflow.preferences import (
    PREFERENCE_CHANGED,
    notification_preference_set,
    notification_preferences_of,
)
from workflow.reminders import reminders_scan
from workflow.services import deliveries_enqueue, transition_run

pytestmark = pytest.mark.django_db

backfill = importlib.import_module("workflow.migrations.0009_delivery_event_backfill")

TEMPLATE = "proposals/email/submitted"


def people(count: int, prefix: str = "reader") -> list[Person]:
    return [
        PersonFactory.create(username=f"{prefix}{index}", email=f"{prefix}{index}@example.org")
        for index in range(count)
    ]


def notices(
    readers: list[Person], event: str = "proposal.submitted", **fields: Any
) -> list[Notice]:
    return [
        Notice(recipient_id=person.pk, template=TEMPLATE, event=event, **fields)
        for person in readers
    ]


def run(proposal: Proposal, name: str, actor: Person) -> Proposal:
    fresh = proposals_with_rule_data().get(pk=proposal.pk)
    return transition_run(obj=fresh, name=name, actor=actor).obj


# A notice names its event kind


def test_a_notice_needs_a_dotted_event_kind() -> None:
    with pytest.raises(TypeError):
        Notice(recipient_id=1, template=TEMPLATE)  # type: ignore[call-arg]
    for wrong in ("", "submitted", "Proposal.Submitted", "proposal.", "proposal..x"):
        with pytest.raises(ValueError):
            Notice(recipient_id=1, template=TEMPLATE, event=wrong)


def test_rows_carry_the_channel_the_event_kind_and_one_event_id_per_event() -> None:
    readers = people(5)
    first = deliveries_enqueue(notices(readers), key_prefix="first")
    second = deliveries_enqueue(notices(readers), key_prefix="second")
    rows = Delivery.objects.filter(pk__in=first)
    assert len(rows) == 5
    assert {(row.channel, row.event) for row in rows} == {("email", "proposal.submitted")}
    (first_id,) = {row.event_id for row in rows}
    (second_id,) = set(Delivery.objects.filter(pk__in=second).values_list("event_id", flat=True))
    assert first_id != second_id


def test_a_caller_may_add_rows_to_an_event_it_already_wrote() -> None:
    reader, other = people(2)
    event_id = uuid.uuid4()
    deliveries_enqueue(notices([reader]), key_prefix="one", event_id=event_id)
    deliveries_enqueue(notices([other], "proposal.approved"), key_prefix="two", event_id=event_id)
    assert set(Delivery.objects.values_list("event_id", flat=True)) == {event_id}


def test_a_row_without_an_event_kind_is_refused_by_the_outbox() -> None:
    (reader,) = people(1)
    row = Delivery(key="bare", kind=Delivery.Kind.NOTIFICATION, recipient=reader, template=TEMPLATE)
    with pytest.raises(ValueError):
        outbox_write([row])
    assert not Delivery.objects.exists()


def test_one_transition_is_one_event_whatever_the_kinds_it_sends(group: Group) -> None:
    proposal = run(proposal_draft(group), "submit_for_review", group.drafter)
    requested = Delivery.objects.filter(event="proposal.review_requested", channel="email")
    assert requested.count() == 2  # the two reviewers
    assert len({row.event_id for row in requested}) == 1
    run(proposal, "approve", group.reviewer)
    approval = Delivery.objects.exclude(event="proposal.review_requested").filter(channel="email")
    assert {row.event for row in approval} == {"proposal.approved", "proposal.endorsement_opened"}
    assert len({row.event_id for row in approval}) == 1
    assert approval[0].event_id != requested[0].event_id


def test_each_reminder_of_one_object_is_its_own_event(group: Group) -> None:
    type(group.occasion).objects.filter(pk=group.occasion.pk).update(
        submission_deadline=timezone.now() + dt.timedelta(days=6)
    )
    first = proposal_draft(group)
    second = proposal_draft(group)
    second.authors.add(group.co_drafter)
    reminders_scan(now=timezone.now())
    rows = list(Delivery.objects.filter(kind=Delivery.Kind.REMINDER))
    assert {row.event for row in rows} == {"reminder.draft"}
    by_object: dict[int | None, set[uuid.UUID]] = {}
    for row in rows:
        by_object.setdefault(row.object_id, set()).add(row.event_id)
    assert len(by_object[second.pk]) == 1 and len(by_object[first.pk]) == 1
    assert by_object[first.pk] != by_object[second.pk]
    stage = rows[0].stage
    assert by_object[first.pk] == {
        event_id_named(f"reminder:occasion:{group.occasion.pk}:{stage}:proposal{first.pk}")
    }


# Preferences


def test_a_kind_turned_off_holds_back_news_but_never_what_asks_to_act_or_security() -> None:
    muted, listening = people(2)
    notification_preference_set(
        person=muted, event="proposal.submitted", enabled=False, actor=muted
    )
    deliveries_enqueue(notices([muted, listening]), key_prefix="news")
    deliveries_enqueue(notices([muted], essential=True), key_prefix="act")
    deliveries_enqueue(notices([muted]), key_prefix="security", kind=Delivery.Kind.SECURITY)
    deliveries_enqueue(notices([muted], "proposal.approved"), key_prefix="other-kind")
    written = set(Delivery.objects.filter(channel="email").values_list("key", "recipient_id"))
    assert written == {
        (f"news:{TEMPLATE}:p{listening.pk}", listening.pk),
        (f"act:{TEMPLATE}:p{muted.pk}", muted.pk),
        (f"security:{TEMPLATE}:p{muted.pk}", muted.pk),
        (f"other-kind:{TEMPLATE}:p{muted.pk}", muted.pk),
    }


def test_a_kind_turned_on_again_is_written_again() -> None:
    (reader,) = people(1)
    notification_preference_set(
        person=reader, event="proposal.submitted", enabled=False, actor=reader
    )
    notification_preference_set(
        person=reader, event="proposal.submitted", enabled=True, actor=reader
    )
    assert notification_preferences_of(reader) == {("proposal.submitted", "email"): True}
    assert deliveries_enqueue(notices([reader]), key_prefix="again")


def test_the_global_switch_still_silences_news_of_proposals(group: Group) -> None:
    Person.objects.filter(pk=group.drafter.pk).update(optional_notifications=False)
    proposal = run(
        run(proposal_draft(group), "submit_for_review", group.drafter), "approve", group.reviewer
    )
    assert proposal.state == "endorsement"
    approved = Delivery.objects.filter(event="proposal.approved", recipient=group.drafter)
    assert not approved.filter(channel="email").exists()
    assert approved.filter(channel="page").exists()  # news stays in the pages


def outbox_queries(count: int, prefix: str) -> list[str]:
    readers = people(count, prefix)
    for person in readers[::2]:
        notification_preference_set(
            person=person, event="proposal.submitted", enabled=False, actor=person
        )
    Person.objects.filter(pk__in=[p.pk for p in readers[1::3]]).update(daily_digest=True)
    rows = [
        Delivery(
            key=f"{prefix}:{person.pk}:{essential}",
            kind=Delivery.Kind.NOTIFICATION,
            channel=Delivery.Channel.EMAIL,
            event="proposal.submitted",
            recipient=person,
            template=TEMPLATE,
            essential=essential,
        )
        for person in readers
        for essential in (False, True)
    ]
    with CaptureQueriesContext(connection) as queries:
        ids = outbox_write(rows)
    assert ids  # the essential rows to people without a digest are pending
    return [query["sql"].split()[0].upper() for query in queries]


def test_the_outbox_reads_preferences_and_digests_in_a_constant_number_of_queries() -> None:
    """Two reads before the insert, whatever the number of rows; the insert returns the rows
    it wrote (nothing is read after it) and is one query unless the database limits the
    parameters of one (SQLite: about 40 rows)."""
    small = outbox_queries(3, "small")
    medium = outbox_queries(15, "medium")
    large = outbox_queries(60, "large")
    assert small == ["SELECT", "SELECT", "INSERT"]
    for more in (medium, large):  # their in-page rows too: SQLite splits the insert sooner
        assert [verb for verb in more if verb != "INSERT"] == ["SELECT", "SELECT"]
    if connection.vendor == "postgresql":
        assert large == small


def test_the_outbox_returns_the_pending_rows_it_wrote_and_nothing_for_a_repeat() -> None:
    """The ids returned are those of the rows written pending (not the in-page copies, which
    are delivered as written); a repeat of the same keys writes and returns nothing."""
    (reader,) = people(1, "repeat")
    event_id = uuid.uuid4()

    def rows() -> list[Delivery]:
        return [
            Delivery(
                key=f"repeat:{reader.pk}",
                kind=Delivery.Kind.NOTIFICATION,
                channel=Delivery.Channel.EMAIL,
                event="proposal.submitted",
                event_id=event_id,
                recipient=reader,
                template=TEMPLATE,
                essential=True,
            )
        ]

    ids = outbox_write(rows())
    pending = Delivery.objects.filter(status=Delivery.Status.PENDING, recipient=reader)
    assert ids == list(pending.values_list("id", flat=True))
    assert Delivery.objects.filter(recipient=reader, channel=Delivery.Channel.PAGE).count() == 1
    assert outbox_write(rows()) == []
    assert Delivery.objects.filter(recipient=reader).count() == 2


def test_a_database_that_cannot_return_a_bulk_inserts_rows_has_them_read_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fallback of the insert that returns its rows: the same ids, read by their keys."""
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    test_the_outbox_returns_the_pending_rows_it_wrote_and_nothing_for_a_repeat()


# Changing a preference is audited


def test_changing_a_preference_writes_its_audit_row_and_a_repeat_writes_nothing() -> None:
    reader, secretary = people(2)
    preference = notification_preference_set(
        person=reader, event="proposal.approved", enabled=False, actor=secretary
    )
    assert preference is not None and not preference.enabled
    event = AuditEvent.objects.get(action=PREFERENCE_CHANGED)
    assert (event.actor_id, event.subject_id) == (secretary.pk, reader.pk)
    assert event.object_type == "workflow.notificationpreference"
    assert event.before == {"event": "proposal.approved", "channel": "email", "enabled": True}
    assert event.after == {"event": "proposal.approved", "channel": "email", "enabled": False}
    notification_preference_set(
        person=reader, event="proposal.approved", enabled=False, actor=reader
    )
    assert AuditEvent.objects.filter(action=PREFERENCE_CHANGED).count() == 1
    # Turning on a kind that is on writes nothing either.
    assert (
        notification_preference_set(
            person=reader, event="proposal.submitted", enabled=True, actor=reader
        )
        is None
    )
    assert AuditEvent.objects.filter(action=PREFERENCE_CHANGED).count() == 1
    assert NotificationPreference.objects.count() == 1


def test_a_preference_and_its_audit_row_are_written_together(monkeypatch: Any) -> None:
    (reader,) = people(1)

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("the audit trail is down")

    monkeypatch.setattr("workflow.preferences.audit_record", broken)
    with pytest.raises(RuntimeError):
        notification_preference_set(
            person=reader, event="proposal.approved", enabled=False, actor=reader
        )
    assert not NotificationPreference.objects.exists()


def test_a_wrong_kind_or_channel_is_refused_as_invalid_input() -> None:
    (reader,) = people(1)
    with pytest.raises(Refused) as refused:
        notification_preference_set(
            person=reader, event="not a kind", channel="pigeon", enabled=False, actor=reader
        )
    assert refused.value.kind == RefusalKind.INVALID
    assert set(refused.value.errors) == {"event", "channel"}
    assert not NotificationPreference.objects.exists()


# Existing rows: the backfill


def derived(row: Delivery) -> str:
    types = dict(ContentType.objects.values_list("id", "model"))
    return backfill.event_of(row, types)


def test_the_backfill_derives_the_kind_the_code_now_writes(group: Group) -> None:
    """Rows written by today's code: the backfill would have given them the same kind, and the
    same grouping into events."""
    proposal = run(
        run(proposal_draft(group), "submit_for_review", group.drafter), "approve", group.reviewer
    )
    security_event_record(
        action="person.email_changed",
        subject=group.drafter,
        actor=group.secretariat,
        addresses=("claire.former@example.org",),
    )
    email_change_request(person=group.drafter, new_email="claire.new@example.org", password="demo")
    type(group.occasion).objects.filter(pk=group.occasion.pk).update(
        submission_deadline=timezone.now() + dt.timedelta(days=6)
    )
    reminders_scan(now=timezone.now())
    rows = list(Delivery.objects.filter(channel="email"))  # the backfill knew no in-page rows
    kinds = {row.event for row in rows}
    assert {
        "proposal.review_requested",
        "reminder.endorse",
        "account.email_changed",
        "account.email_change_requested",
        "account.email_confirm",
    } <= kinds
    assert proposal.pk
    for row in rows:
        assert derived(row) == row.event, row.key
    groups: dict[str | None, set[uuid.UUID]] = {}
    for row in rows:
        groups.setdefault(backfill.event_group(row), set()).add(row.event_id)
    assert None not in groups
    assert all(len(ids) == 1 for ids in groups.values())
    assert len({next(iter(ids)) for ids in groups.values()}) == len(groups)


@pytest.mark.parametrize(
    ("kind", "template", "context", "model", "expected"),
    [
        (
            "notification",
            "proposals/email/review_requested",
            {},
            "proposal",
            "proposal.review_requested",
        ),
        ("reminder", "proposals/email/reminder_submit", {}, "proposal", "reminder.submit"),
        (
            "security",
            "proposals/email/account/security_event",
            {"action": "person.email_changed"},
            None,
            "account.email_changed",
        ),
        (
            "security",
            "proposals/email/account/security_event",
            {"action": "otp.enabled"},
            None,
            "account.otp_enabled",
        ),
        ("security", "proposals/email/account/security_event", {}, None, "account.security_event"),
        (
            "security",
            "proposals/email/account/representative_added",
            {},
            None,
            "account.representative_added",
        ),
        ("notification", "other/email/Hello-There", {}, None, "notification.hello_there"),
    ],
)
def test_the_backfill_names_kinds_from_template_and_kind(
    kind: str, template: str, context: dict[str, Any], model: str | None, expected: str
) -> None:
    row = SimpleNamespace(
        kind=kind, template=template, context=context, content_type_id=7 if model else None
    )
    assert backfill.event_of(row, {7: model} if model else {}) == expected


def test_the_backfill_gives_existing_rows_their_kind_and_event() -> None:
    """The migration's backfill, run on rows as the outbox wrote them before 0008 (no kind;
    the event id here is a placeholder the backfill replaces)."""
    reader = PersonFactory.create(username="old-reader", email="old@example.org")
    proposal_type = ContentType.objects.get_for_model(Proposal).pk
    placeholder = uuid.uuid4()

    def row(key: str, kind: str, template: str, **fields: Any) -> None:
        Delivery.objects.create(
            key=key,
            kind=kind,
            template=template,
            recipient=reader,
            event="",
            event_id=placeholder,
            **fields,
        )

    about = {"content_type_id": proposal_type, "object_id": 3}
    row("log7:proposals/email/approved:p1", "notification", "proposals/email/approved", **about)
    row(
        "log7:proposals/email/endorsement_opened:p2",
        "notification",
        "proposals/email/endorsement_opened",
        **about,
    )
    row("log8:proposals/email/withdrawn:p1", "notification", "proposals/email/withdrawn", **about)
    row(
        "reminder:occasion:4:v1:d7:proposal3:p1",
        "reminder",
        "proposals/email/reminder_draft",
        **about,
    )
    row(
        "reminder:occasion:4:v1:d7:proposal3:p2",
        "reminder",
        "proposals/email/reminder_review",
        **about,
    )
    row(
        "security:9:proposals/email/account/security_event:p1",
        "security",
        "proposals/email/account/security_event",
        context={"action": "password.changed"},
    )
    row("bench-mail:x:1", "reminder", "proposals/email/reminder_draft")
    backfill.rows_backfill(Delivery, ContentType, Delivery.objects.all())
    rows = {row.key: row for row in Delivery.objects.all()}
    assert {key: row.event for key, row in rows.items()} == {
        "log7:proposals/email/approved:p1": "proposal.approved",
        "log7:proposals/email/endorsement_opened:p2": "proposal.endorsement_opened",
        "log8:proposals/email/withdrawn:p1": "proposal.withdrawn",
        "reminder:occasion:4:v1:d7:proposal3:p1": "reminder.draft",
        "reminder:occasion:4:v1:d7:proposal3:p2": "reminder.review",
        "security:9:proposals/email/account/security_event:p1": "account.password_changed",
        "bench-mail:x:1": "reminder.draft",
    }
    ids = {key: row.event_id for key, row in rows.items()}
    assert placeholder not in ids.values()
    assert ids["log7:proposals/email/approved:p1"] == event_id_named("log7")
    assert ids["log7:proposals/email/endorsement_opened:p2"] == event_id_named("log7")
    assert ids["reminder:occasion:4:v1:d7:proposal3:p1"] == event_id_named(
        "reminder:occasion:4:v1:d7:proposal3"
    )
    assert ids["reminder:occasion:4:v1:d7:proposal3:p2"] == event_id_named(
        "reminder:occasion:4:v1:d7:proposal3"
    )
    assert len(set(ids.values())) == 5


def test_the_migrations_namespace_is_the_engines() -> None:
    assert backfill.EVENT_NAMESPACE == EVENT_NAMESPACE
