"""Turning outbox rows into emails and sending them."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from workflow.models import Delivery

logger = logging.getLogger(__name__)


def deliveries_claim(ids: list[int]) -> list[Delivery]:
    """Mark pending deliveries as sending, so that no other worker sends them too."""
    with transaction.atomic():
        claimed = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids, status=Delivery.Status.PENDING)
            .select_related("recipient")
        )
        now = timezone.now()
        for row in claimed:
            row.status = Delivery.Status.SENDING
            row.claimed_at = now
            row.attempts += 1
        Delivery.objects.bulk_update(claimed, ["status", "claimed_at", "attempts"])
    return claimed


def delivery_message(row: Delivery) -> EmailMultiAlternatives:
    recipient = row.recipient
    context = {**row.context, "recipient": recipient, "site_url": settings.SITE_URL}
    with translation.override(getattr(recipient, "language", None) or settings.LANGUAGE_CODE):
        with timezone.override(getattr(recipient, "timezone", None) or "UTC"):
            subject = render_to_string(f"{row.template}.subject.txt", context).strip()
            body = render_to_string(f"{row.template}.txt", context)
            html = render_to_string(f"{row.template}.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()), body=body, to=[recipient.email]
    )
    message.attach_alternative(html, "text/html")
    return message


def deliveries_send(ids: list[int]) -> int:
    """Send the claimed deliveries over one connection; each ends sent or failed."""
    rows = deliveries_claim(ids)
    if not rows:
        return 0
    sent = 0
    with get_connection() as connection:
        for row in rows:
            try:
                connection.send_messages([delivery_message(row)])
            except Exception as error:  # the error is kept on the row
                logger.exception("Delivery %s failed", row.pk)
                Delivery.objects.filter(pk=row.pk).update(
                    status=Delivery.Status.FAILED, last_error=str(error)[:2000]
                )
                continue
            Delivery.objects.filter(pk=row.pk).update(
                status=Delivery.Status.SENT, sent_at=timezone.now(), last_error=""
            )
            sent += 1
    return sent
