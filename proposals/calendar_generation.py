"""The generation of what calendar feeds show: a number in the cache that goes up with every
write to a proposal's title, state, occasion or lead organisation, to its authors, or to an
occasion, and to the creation or deletion of either.

A feed kept in the cache is served again only while the generation it was written at is still
the current one (proposals.calendars). The number goes up twice per write: at once, so that the
writing transaction itself reads the new feed, and after the commit, so that a feed read by
someone else between the first bump and the commit (which still saw the old rows) is not served
after it. Model signals see every save and delete made through the ORM, factories and the admin
included; the few writes that bypass them (bulk inserts, queryset updates of the calendar
import) call `calendar_generation_bump` themselves.

The cache is shared by every process (Redis): a write in a Celery worker is seen by the web
workers. A missing number starts again from the clock in nanoseconds, never from a number an
earlier feed was kept under; when the cache does not answer, feeds are read afresh.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from proposals.models import Occasion, Proposal

logger = logging.getLogger(__name__)

GENERATION_KEY = "calendar-feeds:generation"

PROPOSAL_FIELDS_SHOWN = frozenset({"title", "state", "occasion", "lead_organization"})
"""A proposal's fields a feed shows or decides its visibility by (with its authors)."""

OCCASION_FIELDS_SHOWN = (
    "name",
    "kind",
    "location",
    "timezone",
    "starts_on",
    "ends_on",
    "submission_deadline",
    "deadline_version",
    "dates_version",
    "cancelled_at",
)
"""An occasion's fields a feed shows, in the order its validator reads them (after the id:
proposals.calendars.feeds.OCCASION_SHOWN)."""


def calendar_generation() -> int | None:
    """The current generation, or None when the cache does not answer."""
    try:
        value = cache.get(GENERATION_KEY)
        if value is None:
            cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
            value = cache.get(GENERATION_KEY)
        return None if value is None else int(value)
    except Exception:
        logger.warning("The calendar feeds' generation could not be read.", exc_info=True)
        return None


def _bump() -> None:
    try:
        try:
            cache.incr(GENERATION_KEY)
        except ValueError:  # missing: start again from the clock
            cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
    except Exception:
        logger.warning("The calendar feeds' generation could not be raised.", exc_info=True)


def calendar_generation_bump() -> None:
    """Raise the generation now and again after the commit of the current transaction."""
    _bump()
    transaction.on_commit(_bump, robust=True)


def _saved(update_fields: Any, shown: Iterable[str]) -> bool:
    return update_fields is None or not frozenset(shown).isdisjoint(update_fields)


def _proposal_saved(sender: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if _saved(update_fields, PROPOSAL_FIELDS_SHOWN):
        calendar_generation_bump()


def _occasion_saved(sender: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if _saved(update_fields, OCCASION_FIELDS_SHOWN):
        calendar_generation_bump()


def _written(sender: Any, **kwargs: Any) -> None:
    calendar_generation_bump()


def _authors_changed(sender: Any, action: str, **kwargs: Any) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        calendar_generation_bump()


AUTHORS = Proposal.authors.through

post_save.connect(_proposal_saved, sender=Proposal, dispatch_uid="calendar-generation-proposal")
post_delete.connect(_written, sender=Proposal, dispatch_uid="calendar-generation-proposal")
post_save.connect(_occasion_saved, sender=Occasion, dispatch_uid="calendar-generation-occasion")
post_delete.connect(_written, sender=Occasion, dispatch_uid="calendar-generation-occasion")
post_save.connect(_written, sender=AUTHORS, dispatch_uid="calendar-generation-authors")
post_delete.connect(_written, sender=AUTHORS, dispatch_uid="calendar-generation-authors")
m2m_changed.connect(_authors_changed, sender=AUTHORS, dispatch_uid="calendar-generation-authors")
