"""A request body longer than its route accepts is a 413 that says so, never a 500 nor a
silently accepted body: JSON in the API's refusal shape, a page elsewhere. A route may declare
a bigger limit of its own (uploads)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import Client, override_settings
from django.urls import include, path, reverse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.request_body import request_body_limit
from proposals.limits import TEXT_MAX_LENGTH
from proposals.models import Proposal
from tests.config.test_settings import run_manage, settings_under
from tests.factories import Group
from tests.proposals.api.helpers import client_for
from tests.proposals.web.helpers import signed_in

UPLOAD_LIMIT = 5 * 1024 * 1024


@csrf_exempt
@request_body_limit(UPLOAD_LIMIT)
def upload(request: HttpRequest) -> HttpResponse:
    uploaded: Any = request.FILES["file"]
    return JsonResponse({"size": uploaded.size})


@request_body_limit(UPLOAD_LIMIT)
class UploadApiView(APIView):
    permission_classes = [AllowAny]
    parser_classes = [MultiPartParser]
    authentication_classes: list[type] = []

    def post(self, request: Request) -> Response:
        data: Any = request.data
        return Response({"size": len(data["file"].read())})


urlpatterns = [
    path("uploads/", upload),
    path("api/uploads/", UploadApiView.as_view()),
    path("", include("config.urls")),
]


def test_the_global_limit_is_a_bit_above_the_longest_text_escaped() -> None:
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 2 * 1024 * 1024
    assert TEXT_MAX_LENGTH * 12 < settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_an_api_body_over_the_limit_is_a_413_in_the_refusal_shape(group: Group) -> None:
    body = json.dumps({"title": "T", "padding": "a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    response = client_for(group.drafter).generic(
        "POST", "/api/proposals/", body, content_type="application/json"
    )
    assert response.status_code == 413
    refusal = response.json()
    assert set(refusal) == {"detail", "reasons", "code", "reason_codes"}
    assert "more than the 2.0\xa0MB this address accepts" in refusal["detail"]
    assert not Proposal.objects.exists()


def test_an_api_body_with_the_longest_text_in_escapes_is_accepted(group: Group) -> None:
    body = json.dumps({"title": "T", "text": "\U0001f600" * TEXT_MAX_LENGTH})
    assert len(body) > 1024 * 1024
    response = client_for(group.drafter).generic(
        "POST", "/api/proposals/", body, content_type="application/json"
    )
    assert response.status_code == 201, response.content[:500]


def test_a_page_form_over_the_limit_is_a_413_page(group: Group) -> None:
    response = signed_in(group.drafter).post(
        reverse("proposals:markdown_preview"),
        {"text": "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)},
    )
    assert response.status_code == 413
    assert response.templates[0].name == "413.html"
    assert "more than the 2.0\xa0MB this address accepts" in response.content.decode()


@override_settings(ROOT_URLCONF=__name__)
def test_a_route_with_its_own_limit_takes_a_bigger_upload() -> None:
    three_mib = SimpleUploadedFile("minutes.pdf", b"x" * (3 * 1024 * 1024))
    response = Client().post("/uploads/", {"file": three_mib})
    assert response.status_code == 200
    assert response.json() == {"size": 3 * 1024 * 1024}


@override_settings(ROOT_URLCONF=__name__)
def test_a_route_with_its_own_limit_refuses_more_than_it() -> None:
    six_mib = SimpleUploadedFile("minutes.pdf", b"x" * (6 * 1024 * 1024))
    response = Client().post("/uploads/", {"file": six_mib})
    assert response.status_code == 413
    assert "more than the 5.0\xa0MB this address accepts" in response.content.decode()


@override_settings(ROOT_URLCONF=__name__)
def test_an_api_view_class_declares_its_own_limit() -> None:
    three_mib = SimpleUploadedFile("minutes.pdf", b"x" * (3 * 1024 * 1024))
    accepted = Client().post("/api/uploads/", {"file": three_mib})
    assert accepted.status_code == 200
    six_mib = SimpleUploadedFile("minutes.pdf", b"x" * (6 * 1024 * 1024))
    refused = Client().post("/api/uploads/", {"file": six_mib})
    assert refused.status_code == 413
    assert set(refused.json()) == {"detail", "reasons", "code", "reason_codes"}


def test_the_limit_is_read_from_the_environment() -> None:
    values = settings_under("DATA_UPLOAD_MAX_MEMORY_SIZE", REQUEST_BODY_MAX_BYTES="3145728")
    assert values == {"DATA_UPLOAD_MAX_MEMORY_SIZE": 3145728}


def test_a_limit_below_one_mebibyte_is_refused_with_a_clear_message() -> None:
    result = run_manage("check", REQUEST_BODY_MAX_BYTES="1000")
    assert result.returncode != 0
    assert "REQUEST_BODY_MAX_BYTES must be 1048576 (1 MiB) or more" in result.stderr
