"""Security events are audited and the person they concern is emailed, at once, even by digest."""

from __future__ import annotations

import pytest
from django.core import mail

from proposals.security import security_event_record
from tests.factories import Group
from workflow.delivery import deliveries_send
from workflow.models import AuditEvent, Delivery


@pytest.mark.django_db
def test_a_security_event_is_audited_and_mailed_even_to_a_digest_reader(group: Group) -> None:
    person = group.drafter
    person.daily_digest = True
    person.save()
    event = security_event_record(action="token.created", subject=person, actor=person)
    assert AuditEvent.objects.security().get() == event
    row = Delivery.objects.get()
    assert row.kind == Delivery.Kind.SECURITY
    deliveries_send([row.pk])
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Security notice: An API token was created"
    assert mail.outbox[0].to == [person.email]


@pytest.mark.django_db
def test_a_former_address_is_told_too(group: Group) -> None:
    person = group.drafter
    security_event_record(
        action="person.email_changed",
        subject=person,
        actor=person,
        before={"email": "old@example.org"},
        after={"email": person.email},
        addresses=("old@example.org",),
    )
    deliveries_send(list(Delivery.objects.values_list("pk", flat=True)))
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [person.email, "old@example.org"]
    )
