"""Webhook endpoints: the secretariat registers them; each write here leaves its audit row.

An endpoint names an organisation, and is told only of events about proposals that
organisation may see (`rules.organization_may_view`). The events themselves are written by
`proposals.notifications.webhook_events_write`, in the transaction of what happened, and posted
by the engine (`workflow.webhooks`), which documents the request and its signature.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals.audited import SYSTEM, audited
from proposals.models import (
    Organization,
    WebhookEndpoint,
    WebhookEvent,
    new_webhook_secret,
)
from proposals.selectors import roles_of
from workflow.audit import audit_record, changed_fields
from workflow.errors import Reason, RefusalKind, Refused, refuse_invalid_fields
from workflow.webhooks import TargetRefused, target_addresses

ENDPOINT_CREATED = "webhook_endpoint.created"
ENDPOINT_CHANGED = "webhook_endpoint.changed"
ENDPOINT_SECRET_RENEWED = "webhook_endpoint.secret_renewed"  # noqa: S105 (an audit action)
ENDPOINT_DELETED = "webhook_endpoint.deleted"
NAME_MAX_LENGTH = 100
URL_MAX_LENGTH = 500


def _secretariat_check(actor: Any) -> None:
    if actor is SYSTEM:
        return
    roles = roles_of(actor)
    if not roles.secretariat_or_superuser:
        raise Refused(
            RefusalKind.PERMISSION,
            [Reason("secretariat_only", _("Only the secretariat can manage webhook endpoints."))],
        )


def webhook_url_reasons(url: str) -> list[str]:
    """Why webhooks cannot be posted to `url` (empty when they can): it is not an http(s) URL,
    or its host does not resolve, or resolves to a private address (refused unless
    WEBHOOK_ALLOW_PRIVATE_TARGETS)."""
    if len(url) > URL_MAX_LENGTH:
        return [_("A URL has at most %(count)d characters.") % {"count": URL_MAX_LENGTH}]
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return [_("Give a full URL that starts with https:// or http://.")]
    try:
        target_addresses(url)
    except TargetRefused as refusal:
        return [str(refusal)]
    return []


def _errors(
    *, name: str | None, url: str | None, events: Iterable[str] | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if name is not None and not name.strip():
        errors["name"] = [_("Give the endpoint a name.")]
    elif name is not None and len(name.strip()) > NAME_MAX_LENGTH:
        errors["name"] = [
            _("A name has at most %(count)d characters.") % {"count": NAME_MAX_LENGTH}
        ]
    if url is not None:
        reasons = webhook_url_reasons(url.strip())
        if reasons:
            errors["url"] = reasons
    if events is not None:
        chosen = list(events)
        unknown = [event for event in chosen if event not in WebhookEvent.values]
        if not chosen or unknown:
            errors["events"] = [
                _("Choose one or more of the events: %(events)s.")
                % {"events": ", ".join(WebhookEvent.values)}
            ]
    return errors


def _facts(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """What the audit trail keeps of an endpoint (never its secret)."""
    return {
        "name": endpoint.name,
        "url": endpoint.url,
        "organization": endpoint.organization_id,
        "events": list(endpoint.events),
        "active": endpoint.active,
    }


def _events_in_order(events: Iterable[str]) -> list[str]:
    chosen = set(events)
    return [event for event in WebhookEvent.values if event in chosen]


@audited(ENDPOINT_CREATED)
def webhook_endpoint_create(
    *,
    actor: Any,
    name: str,
    url: str,
    organization: Organization,
    events: Iterable[str],
    active: bool = True,
    request: HttpRequest | None = None,
) -> WebhookEndpoint:
    """Register an endpoint with a new secret (read it from the endpoint returned: it is shown
    once). Only the secretariat may; a URL that cannot be a target is refused."""
    _secretariat_check(actor)
    events = list(events)
    refuse_invalid_fields(_errors(name=name, url=url, events=events))
    now = timezone.now()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            name=name.strip(),
            url=url.strip(),
            organization=organization,
            events=_events_in_order(events),
            active=active,
            created_by=actor if getattr(actor, "pk", None) else None,
            created_at=now,
            updated_at=now,
            secret_rotated_at=now,
        )
        audit_record(
            action=ENDPOINT_CREATED,
            actor=actor,
            obj=endpoint,
            after=_facts(endpoint),
            request=request,
        )
    return endpoint


@audited(ENDPOINT_CHANGED)
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    actor: Any,
    name: str | None = None,
    url: str | None = None,
    organization: Organization | None = None,
    events: Iterable[str] | None = None,
    active: bool | None = None,
    request: HttpRequest | None = None,
) -> WebhookEndpoint:
    """Change what is given (the others stay); nothing is written when nothing changes."""
    _secretariat_check(actor)
    events = list(events) if events is not None else None
    refuse_invalid_fields(_errors(name=name, url=url, events=events))
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        before = _facts(locked)
        if name is not None:
            locked.name = name.strip()
        if url is not None:
            locked.url = url.strip()
        if organization is not None:
            locked.organization = organization
        if events is not None:
            locked.events = _events_in_order(events)
        if active is not None:
            locked.active = active
        changed_before, changed_after = changed_fields(before, _facts(locked))
        if changed_after:
            locked.updated_at = timezone.now()
            locked.save()
            audit_record(
                action=ENDPOINT_CHANGED,
                actor=actor,
                obj=locked,
                before=changed_before,
                after=changed_after,
                request=request,
            )
    return locked


@audited(ENDPOINT_SECRET_RENEWED)
def webhook_endpoint_secret_renew(
    *, endpoint: WebhookEndpoint, actor: Any, request: HttpRequest | None = None
) -> str:
    """Give the endpoint a new secret and return it (shown once); deliveries signed from now on
    use it, including retries of earlier events."""
    _secretariat_check(actor)
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.secret = new_webhook_secret()
        locked.secret_rotated_at = locked.updated_at = timezone.now()
        locked.save(update_fields=["secret", "secret_rotated_at", "updated_at"])
        audit_record(action=ENDPOINT_SECRET_RENEWED, actor=actor, obj=locked, request=request)
    endpoint.secret = locked.secret
    return locked.secret


@audited(ENDPOINT_DELETED)
def webhook_endpoint_delete(
    *, endpoint: WebhookEndpoint, actor: Any, request: HttpRequest | None = None
) -> None:
    """Remove the endpoint; its deliveries stay in the log, those still waiting fail."""
    _secretariat_check(actor)
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        audit_record(
            action=ENDPOINT_DELETED,
            actor=actor,
            obj=locked,
            before=_facts(locked),
            request=request,
        )
        locked.delete()
