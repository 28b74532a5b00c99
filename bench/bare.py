"""A bare Django REST framework view with token authentication: the fixed cost's reference.

It answers the same JSON as `GET /api/occasions/{id}/` (the project's own serializer, the
same token table), with nothing else around it: no middleware, no throttles, no roles, no
content negotiation beyond JSON. `bare_client()` serves it in the benchmark's process.
"""

from __future__ import annotations

from typing import Any

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
