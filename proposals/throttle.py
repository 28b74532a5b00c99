"""Counting in fixed time windows in the cache (Redis in production), for limits per person or
client."""

from __future__ import annotations

from django.core.cache import cache


def throttle_count(key: str, *, amount: int = 1, window: int = 3600) -> int:
    """Add `amount` to the count under `key` in the current window of `window` seconds and
    return the new count."""
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key, amount)
    except ValueError:  # the window ended between add and incr
        cache.add(key, amount, timeout=window)
        return amount
