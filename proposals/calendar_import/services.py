"""The bodies' calendar feeds: attached, changed, removed and read, each write in one
transaction with its audit row (docs/calendar-import.md).

A reading creates or updates one occasion per event, by the event's UID within its feed:
new occasions through a create recorded as occasion.created, a moved deadline through
`proposals.services.occasion_move_deadline` (the same move as by hand: recorded, versioned,
reminders restart), other changes through `proposals.reference.occasion_update`. A field the
secretariat changed by hand is pinned (`Occasion.pinned_fields`) and never written again by a
reading. A cancelled event flags its occasion (`cancelled_at`): it stays, sends no more
reminders, and the authors of its open proposals are told. A reading that fails as a whole
changes no occasion; its reason is kept on the feed and the secretariat is told once per
distinct failure.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals.audited import SYSTEM, audited
from proposals.calendar_generation import calendar_generation_bump
from proposals.calendar_import.events import EventFacts, FeedRules, calendar_events, calendar_parse
from proposals.calendar_import.fetch import feed_fetch
from proposals.calendar_import.problems import EventProblem, FeedError, FeedReport, feed_report
from proposals.models import (
    OPEN_STATES,
    Body,
    CalendarFeed,
    Occasion,
    Proposal,
    validate_timezone,
)
from proposals.reference import OCCASION_IMPORTED_FIELDS, occasion_update
from proposals.selectors import roles_of, secretariat_ids
from proposals.services import occasion_move_deadline
from proposals.webhooks import webhook_url_reasons
from workflow import emails
from workflow.audit import audit_record, audit_records, changed_fields
from workflow.errors import Reason, RefusalKind, Refused, refuse_invalid_fields
from workflow.policy import Notice
from workflow.services import deliveries_enqueue

logger = logging.getLogger(__name__)

FEED_CREATED = "calendar_feed.created"
FEED_CHANGED = "calendar_feed.changed"
FEED_DELETED = "calendar_feed.deleted"
FEED_READ = "calendar_feed.read"
FEED_FAILED = "calendar_feed.failed"
OCCASION_CANCELLED = "occasion.cancelled"
OCCASION_RESTORED = "occasion.restored"
OCCASION_UNPINNED = "occasion.unpinned"

FEED_FIELDS = (
    "name",
    "url",
    "occasion_kind",
    "deadline_rule",
    "lead_days",
    "default_timezone",
    "active",
)
MAPPING_FIELDS = ("occasion_kind", "deadline_rule", "lead_days", "default_timezone")
"""A change of these reads the whole feed again at its next reading (no conditional GET)."""
IMPORTED_FIELDS = OCCASION_IMPORTED_FIELDS
"""What a reading writes on an occasion, and what the secretariat's edits pin."""
NAME_MAX_LENGTH = 200

CANCELLED_TEMPLATE = "proposals/email/occasion_cancelled"
FAILED_TEMPLATE = "proposals/email/feed_failed"
READ_TASK = "proposals.calendar_feed_read"


def _secretariat_check(actor: Any) -> None:
    if actor is None or actor is SYSTEM:
        return
    roles = roles_of(actor)
    if not roles.secretariat_or_superuser:
        raise Refused(
            RefusalKind.PERMISSION,
            [Reason("secretariat_only", _("Only the secretariat can manage calendar feeds."))],
        )


def _facts(feed: CalendarFeed) -> dict[str, Any]:
    return {name: getattr(feed, name) for name in ("body_id", *FEED_FIELDS)}


def _errors(changes: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if "url" in changes and changes["url"]:
        reasons = webhook_url_reasons(str(changes["url"]).strip())
        if reasons:
            errors["url"] = reasons
    if "name" in changes and len(str(changes["name"])) > NAME_MAX_LENGTH:
        errors["name"] = [
            _("A name has at most %(count)d characters.") % {"count": NAME_MAX_LENGTH}
        ]
    if "occasion_kind" in changes and changes["occasion_kind"] not in Occasion.Kind.values:
        errors["occasion_kind"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(Occasion.Kind.values)}
        ]
    if "deadline_rule" in changes and changes["deadline_rule"] not in CalendarFeed.Deadline.values:
        errors["deadline_rule"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(CalendarFeed.Deadline.values)}
        ]
    if "lead_days" in changes and not (
        isinstance(changes["lead_days"], int) and 0 <= changes["lead_days"] <= 365
    ):
        errors["lead_days"] = [_("Give a number of days from 0 to 365.")]
    if "default_timezone" in changes:
        try:
            validate_timezone(changes["default_timezone"])
        except Exception:  # noqa: BLE001 (a ValidationError with the model's words)
            errors["default_timezone"] = [_("Choose a time zone from the list.")]
    return errors


def calendar_feed_read_dispatch(feed_ids: list[int]) -> None:
    """Queue a reading of each feed once the transaction commits (the broker carries ids; a
    lost message waits for the next scheduled reading)."""

    def send() -> None:
        from celery import current_app

        task = current_app.tasks.get(READ_TASK)
        if task is None:
            return
        for feed_id in feed_ids:
            try:
                task.apply_async((feed_id,))
            except Exception:  # the broker is down: the hourly reading finds the feed again
                logger.warning(
                    "Broker unavailable; feed %s waits for its scheduled reading.", feed_id
                )
                return

    if feed_ids:
        transaction.on_commit(send)


# Feeds


@audited(FEED_CREATED)
def calendar_feed_create(
    *,
    actor: Any,
    body: Body,
    url: str,
    occasion_kind: str,
    name: str = "",
    deadline_rule: str = CalendarFeed.Deadline.EVENT_END,
    lead_days: int = 14,
    default_timezone: str = "UTC",
    active: bool = True,
    request: HttpRequest | None = None,
) -> CalendarFeed:
    """Attach a feed URL to a body; it is read at once (after commit) and then every hour. A
    URL webhooks could not be posted to (not http(s), private or loopback address) is refused."""
    _secretariat_check(actor)
    url = url.strip()
    values = {
        "name": name.strip(),
        "url": url,
        "occasion_kind": occasion_kind,
        "deadline_rule": deadline_rule,
        "lead_days": lead_days,
        "default_timezone": default_timezone,
        "active": active,
    }
    errors = _errors(values)
    if not url:
        errors["url"] = [_("Give the feed's URL, or upload a .ics file instead.")]
    refuse_invalid_fields(errors)
    with transaction.atomic():
        feed = CalendarFeed.objects.create(
            body=body, created_by=actor if getattr(actor, "pk", None) else None, **values
        )
        audit_record(
            action=FEED_CREATED, actor=actor, obj=feed, after=_facts(feed), request=request
        )
        if active:
            calendar_feed_read_dispatch([feed.pk])
    return feed


@audited(FEED_CHANGED)
def calendar_feed_update(
    *,
    actor: Any,
    feed: CalendarFeed,
    changes: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> CalendarFeed:
    """Change a feed's URL, name, rule, zone or kind, or turn its scheduled reading off or on;
    a change of URL or of how events map reads the whole feed again next time."""
    _secretariat_check(actor)
    unknown = set(changes) - set(FEED_FIELDS)
    if unknown:
        raise TypeError(f"Cannot change {', '.join(sorted(unknown))}.")
    changes = {
        name: value.strip() if isinstance(value, str) else value for name, value in changes.items()
    }
    errors = _errors(changes)
    with transaction.atomic():
        locked = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
        if "url" in changes and bool(changes["url"]) != bool(locked.url):
            errors["url"] = [_("A feed read from a URL stays one; an uploaded feed has no URL.")]
        refuse_invalid_fields(errors)
        before = _facts(locked)
        for name, value in changes.items():
            setattr(locked, name, value)
        changed_before, changed_after = changed_fields(before, _facts(locked))
        if not changed_after:
            return locked
        fields = list(changed_after)
        if {"url", *MAPPING_FIELDS} & set(changed_after):
            locked.etag = locked.last_modified = ""
            fields += ["etag", "last_modified"]
        locked.save(update_fields=fields)
        audit_record(
            action=FEED_CHANGED,
            actor=actor,
            obj=locked,
            before=changed_before,
            after=changed_after,
            request=request,
        )
    return locked


@audited(FEED_DELETED)
def calendar_feed_delete(
    *, actor: Any, feed: CalendarFeed, request: HttpRequest | None = None
) -> None:
    """Remove a feed; the occasions it brought stay, with their proposals and history (they
    no longer name it)."""
    _secretariat_check(actor)
    with transaction.atomic():
        locked = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
        audit_record(
            action=FEED_DELETED,
            actor=actor,
            obj=locked,
            before={**_facts(locked), "occasions": locked.occasions.count()},
            request=request,
        )
        locked.delete()


# Reading


@dataclass
class ImportResult:
    """What one reading did."""

    status: str
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    moved: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    restored: list[int] = field(default_factory=list)
    unchanged: int = 0
    problems: list[EventProblem] = field(default_factory=list)
    error: FeedError | None = None

    @property
    def counts(self) -> dict[str, int]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "moved": len(self.moved),
            "cancelled": len(self.cancelled),
            "restored": len(self.restored),
            "unchanged": self.unchanged,
            "skipped": len(self.problems),
        }


def _rules(feed: CalendarFeed) -> FeedRules:
    return FeedRules(
        deadline_rule=feed.deadline_rule,
        lead_days=feed.lead_days,
        default_timezone=feed.default_timezone,
    )


def _imported_values(feed: CalendarFeed, facts: EventFacts) -> dict[str, Any]:
    return {
        "name": facts.name,
        "kind": feed.occasion_kind,
        "location": facts.location,
        "timezone": facts.timezone,
        "starts_on": facts.starts_on,
        "ends_on": facts.ends_on,
        "submission_deadline": facts.submission_deadline,
    }


def feed_move_reason(feed: CalendarFeed) -> str:
    """Why an imported deadline moved, as its recorded move says."""
    return _("Moved by the calendar feed “%(feed)s” of %(body)s.") % {
        "feed": feed.name or feed.url or _("uploaded file"),
        "body": feed.body.name,
    }


def _occasions_create(
    feed: CalendarFeed, described: list[EventFacts], now: datetime
) -> list[Occasion]:
    """The occasions of the feed's new events, with their audit rows: one insert of each
    (a feed of a thousand new events was two thousand queries)."""
    occasions = Occasion.objects.bulk_create(
        [
            Occasion(
                **_imported_values(feed, facts),
                body_id=feed.body_id,
                feed=feed,
                feed_uid=facts.uid,
                imported_at=now,
                cancelled_at=now if facts.cancelled else None,
            )
            for facts in described
        ]
    )
    calendar_generation_bump()  # a bulk insert sends no signal
    audit_records(
        action="occasion.created",
        written=[
            (
                occasion,
                {
                    **_imported_values(feed, facts),
                    "body": feed.body_id,
                    "feed": feed.pk,
                    "feed_uid": facts.uid,
                    "cancelled": facts.cancelled,
                },
            )
            for occasion, facts in zip(occasions, described, strict=True)
        ],
        now=now,
    )
    return occasions


def _authors_of_open_proposals(occasion: Occasion) -> set[int]:
    return set(
        Proposal.authors.through.objects.filter(
            proposal__occasion=occasion, proposal__state__in=OPEN_STATES
        ).values_list("person_id", flat=True)
    )


def _occasion_cancel(occasion: Occasion, feed: CalendarFeed, now: datetime) -> None:
    """Flag the occasion cancelled (its calendars show it so), and tell the authors of its
    open proposals."""
    Occasion.objects.filter(pk=occasion.pk).update(
        cancelled_at=now, dates_version=occasion.dates_version + 1
    )
    calendar_generation_bump()  # an update of the queryset sends no signal
    occasion.cancelled_at = now
    occasion.dates_version += 1
    audit_record(
        action=OCCASION_CANCELLED,
        actor=None,
        obj=occasion,
        before={"cancelled_at": None},
        after={"cancelled_at": now, "feed": feed.pk, "feed_uid": occasion.feed_uid},
        now=now,
    )
    data = {
        "event": "occasion_cancelled",
        "occasion_id": occasion.pk,
        "occasion": occasion.name,
        "body": feed.body.name,
        "deadline": occasion.submission_deadline.isoformat(),
        "occasion_timezone": occasion.timezone,
        "occasion_place": occasion.place_name,
        "path": reverse("proposals:occasion_detail", args=[occasion.pk]),
    }
    deliveries_enqueue(
        [
            Notice(
                recipient_id=person_id,
                template=CANCELLED_TEMPLATE,
                context=data,
                essential=True,
                event=OCCASION_CANCELLED,
            )
            for person_id in sorted(_authors_of_open_proposals(occasion))
        ],
        key_prefix=f"occasion{occasion.pk}:cancelled:{now.isoformat()}",
        about=occasion,
    )


def _occasion_restore(occasion: Occasion, feed: CalendarFeed, now: datetime) -> None:
    """The event is back in the feed, not cancelled: its occasion is too (reminders resume)."""
    Occasion.objects.filter(pk=occasion.pk).update(
        cancelled_at=None, dates_version=occasion.dates_version + 1
    )
    calendar_generation_bump()  # an update of the queryset sends no signal
    audit_record(
        action=OCCASION_RESTORED,
        actor=None,
        obj=occasion,
        before={"cancelled_at": occasion.cancelled_at},
        after={"cancelled_at": None, "feed": feed.pk, "feed_uid": occasion.feed_uid},
        now=now,
    )
    occasion.cancelled_at = None
    occasion.dates_version += 1


def _occasion_refresh(
    occasion: Occasion, feed: CalendarFeed, facts: EventFacts, result: ImportResult, now: datetime
) -> None:
    pinned = set(occasion.pinned_fields or [])
    wanted = {
        name: value
        for name, value in _imported_values(feed, facts).items()
        if name not in pinned and getattr(occasion, name) != value
    }
    touched = False
    if "submission_deadline" in wanted:
        occasion = occasion_move_deadline(
            occasion=occasion,
            new_deadline=wanted.pop("submission_deadline"),
            actor=None,
            reason=feed_move_reason(feed),
        )
        result.moved.append(occasion.pk)
        touched = True
    if wanted:
        occasion = occasion_update(actor=None, occasion=occasion, changes=wanted)
        result.updated.append(occasion.pk)
        touched = True
    if facts.cancelled and occasion.cancelled_at is None:
        _occasion_cancel(occasion, feed, now)
        result.cancelled.append(occasion.pk)
        touched = True
    elif not facts.cancelled and occasion.cancelled_at is not None:
        _occasion_restore(occasion, feed, now)
        result.restored.append(occasion.pk)
        touched = True
    if not touched:
        result.unchanged += 1


def _failure_notify(feed: CalendarFeed, report: FeedReport) -> None:
    """Tell the secretariat once per feed and distinct failure: the key names the feed, the
    reason and the last good reading, so an hourly repeat of the same failure is not mailed
    again, while the same failure after a recovery is."""
    digest = hashlib.sha256((report.as_json() + str(feed.succeeded_at or "")).encode()).hexdigest()[
        :16
    ]
    data = {
        "event": "feed_failed",
        "feed_id": feed.pk,
        "feed": feed.name or feed.url or "",
        "body": feed.body.name,
        "last_error": feed.last_error,
        "path": reverse("proposals:body_detail", args=[feed.body_id]),
    }
    deliveries_enqueue(
        [
            Notice(
                recipient_id=person_id,
                template=FAILED_TEMPLATE,
                context=data,
                essential=True,
                event="calendar_feed.failed",
            )
            for person_id in sorted(secretariat_ids())
        ],
        key_prefix=f"feed{feed.pk}:failed:{digest}",
        about=feed,
    )


def _failure_record(
    locked: CalendarFeed, report: FeedReport, now: datetime, fields: list[str]
) -> None:
    changed = locked.status != CalendarFeed.Status.FAILED or locked.last_error != report.as_json()
    locked.status = CalendarFeed.Status.FAILED
    locked.last_error = report.as_json()
    locked.checked_at = now
    locked.save(update_fields=[*fields, "status", "last_error", "checked_at"])
    if changed:
        audit_record(
            action=FEED_FAILED,
            actor=None,
            obj=locked,
            after={"reason": report.reason, "events": report.lines()[:20]},
            now=now,
        )
    _failure_notify(locked, report)


def _content_import(
    locked: CalendarFeed,
    content: bytes,
    *,
    now: datetime,
    etag: str = "",
    last_modified: str = "",
) -> ImportResult:
    """Import the content into the locked feed's occasions (inside the caller's transaction)."""
    try:
        calendar = calendar_parse(content)
    except FeedError as error:
        _failure_record(locked, FeedReport(code=error.code, params=error.params), now, [])
        return ImportResult(status=CalendarFeed.Status.FAILED, error=error)
    facts, problems = calendar_events(calendar, _rules(locked))
    result = ImportResult(status=CalendarFeed.Status.OK, problems=problems)
    existing = {
        occasion.feed_uid: occasion
        for occasion in Occasion.objects.filter(feed=locked)
        .exclude(feed_uid="")
        .select_related(None)
    }
    new = [described for described in facts if described.uid not in existing]
    for created, described in zip(_occasions_create(locked, new, now), new, strict=True):
        result.created.append(created.pk)
        if described.cancelled:
            result.cancelled.append(created.pk)
    for described in facts:
        occasion = existing.get(described.uid)
        if occasion is not None:
            _occasion_refresh(occasion, locked, described, result, now)
    seen = [existing[d.uid].pk for d in facts if d.uid in existing]
    if seen:
        Occasion.objects.filter(pk__in=seen).update(imported_at=now)
    locked.etag, locked.last_modified = etag, last_modified
    stored = ["etag", "last_modified"]
    if problems:
        _failure_record(
            locked,
            FeedReport(events=problems[:50], events_skipped=len(problems)),
            now,
            stored,
        )
        result.status = CalendarFeed.Status.FAILED
        return result
    status_changed = locked.status not in (
        CalendarFeed.Status.OK,
        CalendarFeed.Status.NOT_MODIFIED,
    ) or bool(locked.last_error)
    locked.status = CalendarFeed.Status.OK
    locked.last_error = ""
    locked.checked_at = locked.succeeded_at = now
    locked.save(update_fields=[*stored, "status", "last_error", "checked_at", "succeeded_at"])
    counts = result.counts
    if status_changed or any(counts[name] for name in counts if name != "unchanged"):
        audit_record(action=FEED_READ, actor=None, obj=locked, after=counts, now=now)
    return result


@audited(FEED_READ, FEED_FAILED, "occasion.created", "occasion.changed", "occasion.deadline_moved")
def calendar_feed_read(*, feed_id: int, now: datetime | None = None) -> ImportResult:
    """Read a URL feed (conditional GET) and import its events; a reading that fails as a whole
    is recorded on the feed (status FAILED, its reason) and changes no occasion. The download
    happens before the transaction, which holds the feed's row while it imports."""
    now = now or timezone.now()
    feed = CalendarFeed.objects.select_related("body").get(pk=feed_id)
    if not feed.url:
        return ImportResult(status=feed.status)
    fetched = None
    error: FeedError | None = None
    try:
        fetched = feed_fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
    except FeedError as problem:
        error = problem
    with transaction.atomic():
        locked = CalendarFeed.objects.select_for_update().select_related("body").get(pk=feed_id)
        if error is not None or fetched is None:
            error = error or FeedError("unreachable", detail="")
            _failure_record(locked, FeedReport(code=error.code, params=error.params), now, [])
            return ImportResult(status=CalendarFeed.Status.FAILED, error=error)
        if fetched.not_modified:
            report = feed_report(locked.last_error)
            if locked.status == CalendarFeed.Status.FAILED and not report.code and report:
                # The same content as last time, with the same skipped events: still reported.
                locked.checked_at = now
                locked.save(update_fields=["checked_at"])
                return ImportResult(status=CalendarFeed.Status.FAILED)
            was_failed = locked.status == CalendarFeed.Status.FAILED
            locked.status = CalendarFeed.Status.NOT_MODIFIED
            locked.last_error = ""
            locked.checked_at = now
            locked.save(update_fields=["status", "last_error", "checked_at"])
            if was_failed:
                audit_record(
                    action=FEED_READ, actor=None, obj=locked, after={"not_modified": True}, now=now
                )
            return ImportResult(status=CalendarFeed.Status.NOT_MODIFIED)
        return _content_import(
            locked,
            fetched.content or b"",
            now=now,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
        )


@audited(FEED_CREATED, FEED_READ, FEED_FAILED)
def calendar_feed_upload(
    *,
    actor: Any,
    body: Body,
    content: bytes,
    occasion_kind: str,
    name: str = "",
    deadline_rule: str = CalendarFeed.Deadline.EVENT_END,
    lead_days: int = 14,
    default_timezone: str = "UTC",
    feed: CalendarFeed | None = None,
    request: HttpRequest | None = None,
) -> tuple[CalendarFeed, ImportResult]:
    """Import an uploaded .ics once, as a feed without URL (read the same way as a URL's);
    given an uploaded feed, its new file is read into the same occasions. A file that is not
    iCalendar or too large is refused and nothing is created."""
    _secretariat_check(actor)
    from proposals.calendar_import.fetch import size_limit

    if len(content) > size_limit():
        error = FeedError("too_big", limit=size_limit())
        raise Refused(RefusalKind.INVALID, [error.text()], {"file": [error.text()]})
    try:
        calendar_parse(content)
    except FeedError as error:
        raise Refused(RefusalKind.INVALID, [error.text()], {"file": [error.text()]}) from None
    now = timezone.now()
    with transaction.atomic():
        if feed is None:
            values = {
                "name": name.strip(),
                "occasion_kind": occasion_kind,
                "deadline_rule": deadline_rule,
                "lead_days": lead_days,
                "default_timezone": default_timezone,
            }
            refuse_invalid_fields(_errors(values))
            feed = CalendarFeed.objects.create(
                body=body,
                url="",
                active=False,
                created_by=actor if getattr(actor, "pk", None) else None,
                **values,
            )
            audit_record(
                action=FEED_CREATED, actor=actor, obj=feed, after=_facts(feed), request=request
            )
        elif feed.url:
            raise Refused(
                RefusalKind.INVALID, [_("This feed is read from its URL: upload to a new feed.")]
            )
        locked = CalendarFeed.objects.select_for_update().select_related("body").get(pk=feed.pk)
        result = _content_import(locked, content, now=now)
    return locked, result


@audited(OCCASION_UNPINNED)
def occasion_unpin(
    *, actor: Any, occasion: Occasion, field_name: str, request: HttpRequest | None = None
) -> Occasion:
    """Let the feed write a field the secretariat had edited by hand again (at its next
    reading that brings new content)."""
    _secretariat_check(actor)
    with transaction.atomic():
        locked = Occasion.objects.select_for_update().get(pk=occasion.pk)
        pinned = list(locked.pinned_fields or [])
        if field_name not in pinned:
            return locked
        locked.pinned_fields = [name for name in pinned if name != field_name]
        locked.save(update_fields=["pinned_fields"])
        if locked.feed_id:
            CalendarFeed.objects.filter(pk=locked.feed_id).update(etag="", last_modified="")
        audit_record(
            action=OCCASION_UNPINNED,
            actor=actor,
            obj=locked,
            before={"pinned_fields": pinned},
            after={"pinned_fields": locked.pinned_fields},
            request=request,
        )
    return locked


def feed_failed_email_context(
    template: str, context: dict[str, Any], recipient: Any, now: datetime
) -> dict[str, Any]:
    """The failure's reason and skipped events, in the recipient's language."""
    report = feed_report(context.get("last_error") or "")
    return {"reason": report.reason, "problems": report.lines()[:20]}


emails.register(prefix=FAILED_TEMPLATE, context=feed_failed_email_context)
