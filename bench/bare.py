"""A bare Django REST framework view with token authentication: the fixed cost's reference.

It answers the same JSON as `GET /api/occasions/{id}/` (the project's own serializer, the
same token table), with nothing else around it: no middleware, no throttles, no roles, no
content negotiation beyond JSON. `bare_client()` serves it in the benchmark's process.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

from django.http import HttpRequest, HttpResponseBase
from django.test import Client, override_settings
from django.test.client import ClientHandler
from django.urls import path
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from proposals.accounts import token_digest
from proposals.api.serializers import OccasionSerializer
from proposals.models import ApiToken, Occasion


class BareTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <key>`: one query for the token and its person."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Token "):
            return None
        token = ApiToken.objects.select_related("person").get(digest=token_digest(header[6:]))
        return token.person, token


class BareOccasionView(APIView):
    authentication_classes = [BareTokenAuthentication]
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]
    throttle_classes: list[Any] = []

    def get(self, request: Request, pk: int) -> Response:
        occasion = Occasion.objects.get(pk=pk)
        return Response(OccasionSerializer(occasion, context={"request": request}).data)


urlpatterns = [path("bare/occasions/<int:pk>/", BareOccasionView.as_view())]


class BareHandler(ClientHandler):
    """Django's request handling without middleware, resolving only the bare view's URL."""

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        request.urlconf = __name__
        return super().get_response(request)


def bare_client(**defaults: Any) -> Client:
    """A test client served by `BareHandler`."""
    client = Client(**defaults)
    client.handler = BareHandler(enforce_csrf_checks=False)
    with override_settings(MIDDLEWARE=[]):
        client.handler.load_middleware()
    return client


def fixed_cost_what_if(
    token_key: str, small: str, bare_small: str, repeat: int
) -> dict[str, dict[str, float]]:
    """The small object through the API measured again with one part of the fixed cost
    replaced by nothing, in this process only, in turns with the bare view: the throttles (a
    Redis round trip), the middleware (a handler that loads none). The person's roles come in
    the token's query, so they have no variant of their own. Medians in milliseconds, and their ratio
    to the bare view's median of the same turns."""
    from proposals.api.views import OccasionViewSet

    headers: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Token {token_key}"}
    api = Client(**headers)
    no_middleware = Client(**headers)
    with override_settings(MIDDLEWARE=[]):
        no_middleware.handler.load_middleware()
    bare = bare_client(**headers)

    def no_throttles() -> Any:
        return mock.patch.object(OccasionViewSet, "throttle_classes", [])

    def get(client: Client, url: str, *patches: Callable[[], Any]) -> Callable[[], None]:
        def action() -> None:
            started = [patch() for patch in patches]
            for patch in started:
                patch.start()
            try:
                response = client.get(url)
            finally:
                for patch in started:
                    patch.stop()
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code}")

        return action

    variants = {
        "as measured": get(api, small),
        "without the throttles": get(api, small, no_throttles),
        "without middleware": get(no_middleware, small),
        "without the throttles and middleware": get(no_middleware, small, no_throttles),
        "bare view": get(bare, bare_small),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    for action in variants.values():
        action()
    for _ in range(max(repeat, 1) * 4):
        for name, action in variants.items():
            started = time.perf_counter()
            action()
            times[name].append(time.perf_counter() - started)
    bare_ms = statistics.median(times["bare view"]) * 1000
    return {
        name: {
            "system_ms": round(statistics.median(values) * 1000, 2),
            "ratio": round(statistics.median(values) * 1000 / bare_ms, 2),
        }
        for name, values in times.items()
    }
