"""Posting the outbox's webhook rows to their endpoints, signed, retried with backoff.

A webhook delivery goes pending → sending (claimed by one worker, row locked) → sent, or back to
pending with `next_attempt_at` pushed further each time (WEBHOOK_RETRY_SECONDS, doubled after
each failure, at most RETRY_WAIT_MAX), or failed once out of attempts (WEBHOOK_MAX_ATTEMPTS) or
when its endpoint was removed or turned off. The broker carries ids only: a task that waits for
a retry is queued again with a countdown no longer than RETRY_WAIT_MAX, and the sweep
(`workflow.delivery.deliveries_sweep`) finds again what a lost message or a killed worker left.
Delivery is at least once: a worker killed between the receiver's answer and the commit of
`sent` posts the event again, with the same `X-Webhook-Event-Id`.

The request: `POST` of the row's JSON body (its `context`, written with the event) to the
endpoint's URL, with

- `X-Webhook-Event-Id`: the event's id, the same on every try (receivers de-duplicate by it);
- `X-Webhook-Timestamp`: seconds since the epoch when this try was signed;
- `X-Webhook-Signature`: `sha256=` and the hex HMAC-SHA256, keyed with the endpoint's secret
  (its UTF-8 bytes), of the timestamp, a full stop and the body's bytes.

Only `http` and `https` URLs are posted to; redirects are not followed (a 3xx is a failure);
the host is resolved when the row is sent and every address it resolves to must be public
(no private, loopback, link-local, multicast or reserved range) unless the setting
WEBHOOK_ALLOW_PRIVATE_TARGETS allows them (tests, a development machine). The connection goes
to the address that was checked, so a second resolution cannot point it elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from celery import current_app
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from workflow.models import Delivery

logger = logging.getLogger(__name__)

SEND_TASK = "workflow.webhooks_send"
WEBHOOK = Delivery.Channel.WEBHOOK
Status = Delivery.Status
RETRY_WAIT_MAX = timedelta(seconds=600)
"""The longest wait between two tries (far below the broker's visibility timeout)."""
BATCH_SIZE = 20
SIGNATURE_HEADER = "X-Webhook-Signature"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
EVENT_ID_HEADER = "X-Webhook-Event-Id"
USER_AGENT = "policy-tracker-webhooks/1"
ANSWER_KEPT = 500
"""Characters of a refusing receiver's answer kept in `last_error`."""


class WebhookTarget(Protocol):
    """What the engine reads of an endpoint (the app's model, named by the delivery)."""

    url: str
    secret: str
    active: bool


class TargetRefused(ValueError):
    """The URL is not one webhooks may be posted to; the message says why."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, timestamp + "." + body)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The JSON body as posted: compact, keys sorted, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def _private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def target_addresses(url: str, *, allow_private: bool | None = None) -> list[str]:
    """The addresses a webhook to `url` may connect to, or TargetRefused saying why not.

    The scheme is http or https, the URL names a host, and every address the host resolves to
    is public, unless private targets are allowed (WEBHOOK_ALLOW_PRIVATE_TARGETS).
    """
    if allow_private is None:
        allow_private = settings.WEBHOOK_ALLOW_PRIVATE_TARGETS
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused(_("This is not a URL.")) from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(_("A webhook URL starts with https:// or http://."))
    if not parts.hostname:
        raise TargetRefused(_("A webhook URL names a host."))
    if parts.username or parts.password:
        raise TargetRefused(_("A webhook URL carries no user name or password."))
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TargetRefused(
            _("The host %(host)s cannot be resolved.") % {"host": parts.hostname}
        ) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise TargetRefused(_("The host %(host)s has no address.") % {"host": parts.hostname})
    if not allow_private:
        for address in addresses:
            if _private(ipaddress.ip_address(address.split("%", 1)[0])):
                raise TargetRefused(
                    _(
                        "%(host)s resolves to %(address)s, a private, loopback or reserved "
                        "address: webhooks go only to public addresses."
                    )
                    % {"host": parts.hostname, "address": address}
                )
    return addresses


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


def checked_connection(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    """A connection to `url` whose socket goes to an address checked by `target_addresses`
    (so a second resolution cannot point it elsewhere), and the path to ask for. Raises
    TargetRefused. Also used to read the bodies' calendar feeds."""
    address = target_addresses(url)[0]
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname or "", port, timeout=timeout)

    def connect_checked(_address: Any, timeout: Any = None, source_address: Any = None) -> Any:
        return socket.create_connection((address, port), timeout, source_address)

    # The TLS check and the Host header still name the host; the socket goes to the checked address.
    connection._create_connection = connect_checked  # type: ignore[attr-defined]
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return connection, path


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST `body` to `url` over a connection to an address checked by `target_addresses`;
    redirects are not followed. Raises TargetRefused, OSError or http.client errors."""
    connection, path = checked_connection(url, timeout)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(ANSWER_KEPT * 4).decode("utf-8", "replace")
        return Answer(response.status, text)
    finally:
        connection.close()


def retry_wait(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try: the base, doubled each time."""
    base = timedelta(seconds=settings.WEBHOOK_RETRY_SECONDS)
    return min(base * (2 ** max(attempts - 1, 0)), RETRY_WAIT_MAX)


def webhooks_dispatch(ids: Sequence[int], countdown: float = 0) -> bool:
    """Give the ids to the webhook workers, after `countdown` seconds; False when the broker is
    unreachable (the sweep finds the rows again)."""
    task = current_app.tasks[SEND_TASK]
    ordered = sorted(set(ids))
    try:
        for start in range(0, len(ordered), BATCH_SIZE):
            if countdown:
                task.apply_async((ordered[start : start + BATCH_SIZE],), countdown=countdown)
            else:
                task.apply_async((ordered[start : start + BATCH_SIZE],))
    except Exception:  # the broker is down or refused: the sweep finds the rows again
        logger.warning("Broker unavailable; %d webhook deliveries wait for the sweep.", len(ids))
        return False
    return True


def webhooks_dispatch_on_commit(ids: Sequence[int]) -> None:
    """Dispatch once the transaction that wrote the rows has committed."""
    if ids:
        batch = list(ids)
        transaction.on_commit(lambda: webhooks_dispatch(batch))


def webhooks_claim(ids: Sequence[int], now: datetime) -> list[Delivery]:
    """Lock the webhook rows among `ids` that are due and mark them sending."""
    with transaction.atomic():
        rows = [
            row
            for row in Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=list(ids), channel=WEBHOOK, status=Status.PENDING)
            .order_by("id")
            if row.next_attempt_at is None or row.next_attempt_at <= now
        ]
        if rows:
            Delivery.objects.filter(pk__in=[row.pk for row in rows]).update(
                status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
        for row in rows:
            row.status = Status.SENDING
            row.claimed_at = now
            row.attempts += 1
    return rows


def _targets(rows: Sequence[Delivery]) -> dict[tuple[int, int], Any]:
    """The endpoint of each row, by (content type id, id), one query per kind of endpoint."""
    wanted: dict[int, set[int]] = {}
    for row in rows:
        if row.target_type_id is not None and row.target_id is not None:
            wanted.setdefault(row.target_type_id, set()).add(row.target_id)
    found: dict[tuple[int, int], Any] = {}
    for type_id, target_ids in wanted.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        if model is None:
            continue
        for target in model._default_manager.filter(pk__in=target_ids):
            found[(type_id, target.pk)] = target
    return found


@dataclass(frozen=True)
class WebhookReport:
    sent: int = 0
    failed: int = 0
    waiting: int = 0
    next_attempt_at: datetime | None = None


def _fail(row: Delivery, error: str) -> None:
    Delivery.objects.filter(pk=row.pk, status=Status.SENDING).update(
        status=Status.FAILED, last_error=error[:2000], next_attempt_at=None
    )


def webhooks_send(ids: Sequence[int], now: datetime | None = None) -> WebhookReport:
    """Post each due webhook row among `ids`, signed; each ends sent, failed, or pending with
    the moment of its next try (a non-2xx answer, a time-out or a connection error)."""
    now = now or timezone.now()
    rows = webhooks_claim(ids, now)
    targets = _targets(rows)
    sent = failed = waiting = 0
    next_attempt_at: datetime | None = None
    for row in rows:
        target = targets.get((row.target_type_id or 0, row.target_id or 0))
        if target is None or not target.active:
            _fail(row, "The endpoint was removed or turned off.")
            failed += 1
            continue
        body = body_bytes(row.context)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            EVENT_ID_HEADER: str(row.event_id),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(target.secret, timestamp, body),
        }
        error = ""
        try:
            answer = post(target.url, body, headers, settings.WEBHOOK_TIMEOUT_SECONDS)
            if not 200 <= answer.status < 300:
                error = f"HTTP {answer.status}: {answer.text[:ANSWER_KEPT]}"
        except TargetRefused as refusal:
            error = f"Refused target: {refusal}"
        except (OSError, http.client.HTTPException) as problem:
            error = f"{type(problem).__name__}: {problem}"
        if not error:
            Delivery.objects.filter(pk=row.pk, status=Status.SENDING).update(
                status=Status.SENT, sent_at=timezone.now(), last_error="", next_attempt_at=None
            )
            logger.info("Webhook %s posted to endpoint %s", row.event_id, row.target_id)
            sent += 1
            continue
        logger.warning("Webhook %s to endpoint %s failed: %s", row.event_id, row.target_id, error)
        if row.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            _fail(row, error)
            failed += 1
            continue
        retry_at = timezone.now() + retry_wait(row.attempts)
        Delivery.objects.filter(pk=row.pk, status=Status.SENDING).update(
            status=Status.PENDING, last_error=error[:2000], next_attempt_at=retry_at, queued_at=now
        )
        waiting += 1
        next_attempt_at = min(next_attempt_at or retry_at, retry_at)
    return WebhookReport(sent, failed, waiting, next_attempt_at)


def webhooks_retry_later(ids: Sequence[int], now: datetime | None = None) -> list[int]:
    """Queue again the rows among `ids` that wait for a later try, with a countdown to the
    earliest of their next tries (at most RETRY_WAIT_MAX); returns their ids."""
    now = now or timezone.now()
    waiting = list(
        Delivery.objects.filter(pk__in=list(ids), channel=WEBHOOK, status=Status.PENDING)
        .order_by("id")
        .values_list("id", "next_attempt_at")
    )
    if not waiting:
        return []
    earliest = min((at for _id, at in waiting if at is not None), default=now)
    countdown = min(max((earliest - now).total_seconds(), 0), RETRY_WAIT_MAX.total_seconds())
    waiting_ids = [pk for pk, _at in waiting]
    webhooks_dispatch(waiting_ids, countdown=countdown)
    return waiting_ids


def webhooks_sweep(now: datetime, stuck_after: timedelta, requeue_after: timedelta) -> list[int]:
    """Release webhook rows stuck in sending (their worker died) and queue again the due rows
    that no worker holds; returns the ids queued. A row posted just before its worker died is
    posted again: receivers de-duplicate by the event id."""
    stuck = Delivery.objects.filter(
        channel=WEBHOOK, status=Status.SENDING, claimed_at__lt=now - stuck_after
    )
    lost = "The worker sending it stopped before it finished."
    stuck.filter(attempts__gte=settings.WEBHOOK_MAX_ATTEMPTS).update(
        status=Status.FAILED, last_error=lost
    )
    stuck.filter(attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS).update(
        status=Status.PENDING, last_error=lost, queued_at=None, next_attempt_at=None
    )
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    waiting = Q(queued_at__lt=now - requeue_after) | Q(
        queued_at__isnull=True, created_at__lt=now - timedelta(minutes=1)
    )
    ids = list(
        Delivery.objects.filter(due, waiting, channel=WEBHOOK, status=Status.PENDING)
        .order_by("id")
        .values_list("id", flat=True)[:5000]
    )
    if ids and webhooks_dispatch(ids):
        Delivery.objects.filter(pk__in=ids, status=Status.PENDING).update(queued_at=now)
    return ids
