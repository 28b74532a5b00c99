"""Throttles of the API, per person: reads and writes each have a rate (settings
API_THROTTLE_READ_RATE and API_THROTTLE_WRITE_RATE, such as "600/minute"). The counts live in
the default cache, Redis when REDIS_URL is set, so every web process counts the same requests.
A request over the rate is a 429 whose Retry-After says how many seconds to wait.

Anonymous requests are not counted here: they get a 401 before any throttle, and the login
endpoint has its own lockout (django-axes).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class PersonRateThrottle(SimpleRateThrottle):
    """Requests of one person, counted in the shared cache; the rate is read from the setting
    at each request, so a changed setting applies at once."""

    rate_setting = ""
    counts_reads = True

    def get_rate(self) -> str | None:
        return str(getattr(settings, self.rate_setting)) or None

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        user = request.user
        if user is None or not user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}

    def allow_request(self, request: Request, view: Any) -> bool:
        if (request.method in SAFE_METHODS) != self.counts_reads:
            return True
        return super().allow_request(request, view)


class PersonReadThrottle(PersonRateThrottle):
    """GET, HEAD and OPTIONS requests of one person."""

    scope = "person-read"
    rate_setting = "API_THROTTLE_READ_RATE"
    counts_reads = True


class PersonWriteThrottle(PersonRateThrottle):
    """POST, PUT, PATCH and DELETE requests of one person."""

    scope = "person-write"
    rate_setting = "API_THROTTLE_WRITE_RATE"
    counts_reads = False


RETRY_AFTER = {
    "description": "Seconds to wait before the next request is accepted.",
    "schema": {"type": "integer", "minimum": 0},
}


def throttled_responses_declared(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Schema hook: every operation may answer 429 (too many requests), in the Error shape and
    with a Retry-After header."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            throttled = operation["responses"].setdefault(
                "429",
                {
                    "description": "Too many requests of this person: wait for the seconds in "
                    "Retry-After.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            )
            throttled.setdefault("headers", {})["Retry-After"] = RETRY_AFTER
    return result
