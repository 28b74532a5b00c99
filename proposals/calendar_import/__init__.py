"""Occasions read from the bodies' iCalendar feeds (docs/calendar-import.md)."""

from proposals.calendar_import.problems import FeedReport, feed_report
from proposals.calendar_import.services import (
    IMPORTED_FIELDS,
    ImportResult,
    calendar_feed_create,
    calendar_feed_delete,
    calendar_feed_read,
    calendar_feed_update,
    calendar_feed_upload,
    occasion_unpin,
)

__all__ = [
    "IMPORTED_FIELDS",
    "FeedReport",
    "ImportResult",
    "calendar_feed_create",
    "calendar_feed_delete",
    "calendar_feed_read",
    "calendar_feed_update",
    "calendar_feed_upload",
    "feed_report",
    "occasion_unpin",
]
