"""The client's address, resolved once per request: from X-Forwarded-For only behind trusted proxies.

With TRUSTED_PROXY_COUNT = n > 0, each of the n proxies in front of the site appends the address
it received the request from to X-Forwarded-For, so the n-th entry from the right is the one the
outermost trusted proxy saw: the client. Entries further left were written by the client and are
never believed. With n = 0 the header is ignored. Everything downstream (django-axes' lockout,
the audit trail, the reset throttle) reads REMOTE_ADDR.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def forwarded_client_address(forwarded_for: str, proxy_count: int) -> str | None:
    """The address `proxy_count` hops from the right of an X-Forwarded-For value, if valid."""
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    if proxy_count < 1 or len(hops) < proxy_count:
        return None
    candidate = hops[-proxy_count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


class TrustedProxyMiddleware:
    """Replace REMOTE_ADDR by the client's address given by the trusted proxies, if any."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        proxy_count = settings.TRUSTED_PROXY_COUNT
        if proxy_count:
            client = forwarded_client_address(
                request.META.get("HTTP_X_FORWARDED_FOR", ""), proxy_count
            )
            if client is not None:
                request.META["PROXY_ADDR"] = request.META.get("REMOTE_ADDR", "")
                request.META["REMOTE_ADDR"] = client
        return self.get_response(request)


def client_ip_address(request: HttpRequest) -> str | None:
    """The client's address as TrustedProxyMiddleware left it (django-axes asks here)."""
    return request.META.get("REMOTE_ADDR") or None
