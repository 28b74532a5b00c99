"""Rendering deliveries as emails, in the recipient's language and time zone.

A delivery names a template; `<template>.subject.txt`, `<template>.txt` and `<template>.html`
make its email. An app adds to the context of its templates with a hook registered for a
template prefix; the hook runs with the recipient's language and time zone active.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

from workflow.discovery import discover
from workflow.models import Delivery

ContextHook = Callable[[str, dict[str, Any], Any, datetime], dict[str, Any]]

_context_hooks: dict[str, ContextHook] = {}
_digest_templates: list[str] = []


def register(*, prefix: str, context: ContextHook, digest_template: str | None = None) -> None:
    """Templates starting with `prefix` get the hook's context; the app may name the digest."""
    _context_hooks[prefix] = context
    if digest_template and digest_template not in _digest_templates:
        _digest_templates.append(digest_template)


def digest_template() -> str:
    discover()
    if not _digest_templates:
        raise LookupError("No app registered a digest template with workflow.emails.register.")
    return _digest_templates[0]


def recipient_language(recipient: Any) -> str:
    return getattr(recipient, "language", "") or settings.LANGUAGE_CODE


def recipient_timezone(recipient: Any) -> str:
    return getattr(recipient, "timezone", "") or settings.TIME_ZONE


def recipient_timezone_field() -> str | None:
    """The person model's time-zone field, for queries (None where it has none)."""
    fields = {field.name for field in get_user_model()._meta.get_fields()}
    return "timezone" if "timezone" in fields else None


def delivery_context(
    row: Delivery, now: datetime | None = None, *, in_digest: bool = False
) -> dict[str, Any]:
    """The template context of one delivery; call it with the recipient's language active."""
    discover()
    now = now or timezone.now()
    recipient = email_recipient(row)
    context: dict[str, Any] = {
        **row.context,
        "recipient": recipient,
        "recipient_name": recipient.get_full_name() or recipient.get_username(),
        "recipient_timezone": recipient_timezone(recipient),
        "site_url": settings.SITE_URL.rstrip("/"),
        "delivery_kind": row.kind,
        "essential": row.essential,
        "in_digest": in_digest,
        "now": now,
    }
    for prefix, hook in _context_hooks.items():
        if row.template.startswith(prefix):
            context.update(hook(row.template, context, recipient, now))
    return context


def _render(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    subject = render_to_string(f"{template}.subject.txt", context)
    text = render_to_string(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    return " ".join(subject.split()), text, html


def delivery_message_id(row: Delivery) -> str:
    """The same Message-ID each time a delivery is sent: mail clients merge a repeat."""
    digest = hashlib.sha256(row.key.encode()).hexdigest()[:24]
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<delivery-{row.pk}.{digest}@{host}>"


def email_recipient(row: Delivery) -> Any:
    """The person an email row goes to (every row but a webhook's names one)."""
    if row.recipient is None:
        raise ValueError(f"Delivery {row.key} names no recipient: it is not an email.")
    return row.recipient


def delivery_address(row: Delivery) -> str:
    """Where the delivery goes: its own address if it names one, else the recipient's."""
    return row.address or email_recipient(row).email


def _message(
    recipient: Any,
    subject: str,
    text: str,
    html: str,
    message_id: str | None = None,
    *,
    address: str | None = None,
) -> EmailMultiAlternatives:
    headers = {"Auto-Submitted": "auto-generated"}
    if message_id:
        headers["Message-ID"] = message_id
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address or recipient.email],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message


def delivery_message(row: Delivery, now: datetime | None = None) -> EmailMultiAlternatives:
    """The email of one delivery, in its recipient's language and time zone, with the files
    its context names (`attachments`: storage name, file name and type of each)."""
    recipient = email_recipient(row)
    with translation.override(recipient_language(recipient)):
        with timezone.override(recipient_timezone(recipient)):
            subject, text, html = _render(row.template, delivery_context(row, now))
    message = _message(
        recipient, subject, text, html, delivery_message_id(row), address=delivery_address(row)
    )
    for item in row.context.get("attachments") or []:
        with default_storage.open(item["storage_name"], "rb") as stored:
            message.attach(item["filename"], stored.read(), item["content_type"])
    return message


def digest_message(
    recipient: Any, rows: Sequence[Delivery], now: datetime | None = None
) -> EmailMultiAlternatives:
    """One email that gathers every delivery waiting for the recipient's daily digest."""
    now = now or timezone.now()
    template = digest_template()
    with translation.override(recipient_language(recipient)):
        with timezone.override(recipient_timezone(recipient)):
            items = []
            for row in rows:
                context = delivery_context(row, now, in_digest=True)
                subject, text, html = _render(row.template, context)
                items.append({"subject": subject, "text": text, "html": html, "kind": row.kind})
            context = {
                "recipient": recipient,
                "recipient_name": recipient.get_full_name() or recipient.get_username(),
                "recipient_timezone": recipient_timezone(recipient),
                "site_url": settings.SITE_URL.rstrip("/"),
                "items": items,
                "count": len(items),
                "now": now,
            }
            for prefix, hook in _context_hooks.items():
                if template.startswith(prefix):
                    context.update(hook(template, context, recipient, now))
            subject, text, html = _render(template, context)
    return _message(recipient, subject, text, html)
