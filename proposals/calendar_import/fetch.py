"""Reading a feed's URL: a conditional GET through the webhooks' guard, with a time-out and a
size limit enforced while the answer streams in.

Every request, the first and each redirect's, goes through `workflow.webhooks.checked_connection`:
the host is resolved then, every address must be public (unless WEBHOOK_ALLOW_PRIVATE_TARGETS),
and the socket goes to the address checked. At most MAX_REDIRECTS redirects are followed, each
checked the same way.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings

from proposals.calendar_import.problems import FeedError
from workflow.webhooks import TargetRefused, checked_connection

MAX_REDIRECTS = 3
CHUNK = 64 * 1024
USER_AGENT = "policy-tracker-calendar-import/1"
REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class Fetched:
    """What the server answered: new content, or that nothing changed (HTTP 304)."""

    content: bytes | None
    etag: str = ""
    last_modified: str = ""

    @property
    def not_modified(self) -> bool:
        return self.content is None


def size_limit() -> int:
    return int(settings.CALENDAR_FEED_MAX_BYTES)


def _read_capped(response: http.client.HTTPResponse, limit: int) -> bytes:
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise FeedError("too_big", limit=limit)
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = response.read(CHUNK)
        if not chunk:
            return b"".join(parts)
        size += len(chunk)
        if size > limit:
            raise FeedError("too_big", limit=limit)
        parts.append(chunk)


def feed_fetch(url: str, *, etag: str = "", last_modified: str = "") -> Fetched:
    """GET the feed, asking only for what changed since `etag` / `last_modified`; raises
    FeedError saying why it could not be read."""
    limit = size_limit()
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            connection, path = checked_connection(current, settings.CALENDAR_FEED_TIMEOUT_SECONDS)
        except TargetRefused as refusal:
            raise FeedError("refused", detail=str(refusal)) from None
        try:
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                if response.status in REDIRECTS:
                    location = response.getheader("Location") or ""
                    if not location:
                        raise FeedError("redirect_bad")
                    current = urljoin(current, location)
                    continue
                if response.status == 304:
                    return Fetched(
                        None,
                        etag=response.getheader("ETag") or etag,
                        last_modified=response.getheader("Last-Modified") or last_modified,
                    )
                if not 200 <= response.status < 300:
                    raise FeedError("http", status=response.status)
                content = _read_capped(response, limit)
                return Fetched(
                    content,
                    etag=(response.getheader("ETag") or "")[:300],
                    last_modified=(response.getheader("Last-Modified") or "")[:100],
                )
            except (OSError, http.client.HTTPException) as problem:
                raise FeedError(
                    "unreachable", detail=str(problem) or type(problem).__name__
                ) from None
        finally:
            connection.close()
    raise FeedError("redirects")
