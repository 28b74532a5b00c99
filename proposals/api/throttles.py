"""Throttles of the API, per person: reads and writes each have a rate (settings
API_THROTTLE_READ_RATE and API_THROTTLE_WRITE_RATE, such as "600/minute"). The counts live in
the default cache, Redis when REDIS_URL is set, so every web process counts the same requests.
A request over the rate is a 429 whose Retry-After says how many seconds to wait.

The count is Django REST framework's sliding log (each accepted request's time, those older
than the period dropped). On Redis the log is a sorted set that one server-side script trims,
counts and extends: one round trip per request, where the framework's get and set of a pickled
list took two and carried up to a rate's worth of times each way.

Anonymous requests are not counted here: they get a 401 before any throttle, and the login
endpoint has its own lockout (django-axes).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class PersonRateThrottle(SimpleRateThrottle):
    """Requests of one person, counted in the shared cache; the rate is read from the setting
    at each request, so a changed setting applies at once."""

    rate_setting = ""
    counts_reads = True
    num_requests: int  # set by the framework from the rate
    duration: int

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
        shared = caches["default"]
        if not isinstance(shared, RedisCache) or self.rate is None:
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        accepted, self.counted, self.oldest = sliding_log_add(
            shared, self.key, now=self.now, duration=self.duration, limit=self.num_requests
        )
        return bool(accepted)

    def wait(self) -> float | None:
        """Seconds until the next request may pass, as the framework reckons them."""
        if not hasattr(self, "counted"):
            return super().wait()
        remaining = self.duration - (self.now - self.oldest) if self.counted else self.duration
        available = self.num_requests - self.counted + 1
        return remaining / available if available > 0 else None


SLIDING_LOG = """
local key, now, since, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local kind = redis.call('TYPE', key).ok
if kind ~= 'zset' and kind ~= 'none' then redis.call('DEL', key) end
redis.call('ZREMRANGEBYSCORE', key, '-inf', since)
local counted = redis.call('ZCARD', key)
if counted >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2] or ARGV[1]
  return {0, counted, oldest}
end
redis.call('ZADD', key, now, ARGV[5])
redis.call('EXPIRE', key, ARGV[4])
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]
return {1, counted + 1, oldest}
"""
"""Trim the log under KEYS[1] to the period, then refuse (0) when it holds `limit` times, or
add this request's time (1); with the times now in the log and the oldest of them."""

_script: list[Any] = []  # the script once registered (its digest), run on any client


def sliding_log_add(
    shared: RedisCache, key: str, *, now: float, duration: int, limit: int
) -> tuple[int, int, float]:
    """Run the sliding log's script on the cache's Redis, in one round trip: whether the
    request is accepted, how many requests the period then holds, and the oldest one's time."""
    full_key = shared.make_key(key)
    client = shared._cache.get_client(full_key, write=True)
    if not _script:
        _script.append(client.register_script(SLIDING_LOG))
    accepted, counted, oldest = _script[0](
        keys=[full_key],
        args=[repr(now), repr(now - duration), limit, duration, uuid.uuid4().hex],
        client=client,
    )
    return int(accepted), int(counted), float(oldest)


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
