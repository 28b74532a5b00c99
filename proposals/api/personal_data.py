"""A person's personal data over the API: their own export (GET people/me/data/), their request
for erasure (POST people/me/erasure-request/) and the erasure itself, by the secretariat
(POST people/{id}/erasure/)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from proposals import personal_data
from proposals.api.serializers import NoticeSerializer
from proposals.api.views import READ_REFUSALS, WRITE_REFUSALS, ApiViewSet, requester
from proposals.models import Person
from workflow.errors import RefusalKind, Refused


class ErasureSerializer(serializers.Serializer):
    confirm = serializers.CharField(
        max_length=150,
        help_text="The person's username, typed again: the erasure cannot be undone.",
    )


class ErasureDoneSerializer(serializers.Serializer):
    detail = serializers.CharField()
    person = serializers.IntegerField(help_text="The id, which stays.")
    pseudonym = serializers.CharField(help_text="The username the person is known by now.")
    deleted = serializers.DictField(
        child=serializers.IntegerField(), help_text="Rows deleted, by kind."
    )
    replaced = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Rows whose texts quoted the person and now name the pseudonym, by table.",
    )
    redacted = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Rows of the transition log and audit trail redacted (they still verify).",
    )


class PersonalDataViewSet(ApiViewSet):
    """The personal data of the person asking, and erasures by the secretariat."""

    serializer_class = ErasureSerializer

    @extend_schema(
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Everything the system holds about you, one key per section "
                "(profile, memberships, proposals_authored, revisions, comments, mentions, "
                "reviews, endorsements, submissions, attachments, follows, notifications, "
                "notification_preferences, security_events, audit_events, transitions, "
                "api_tokens, two_factor_devices, invitations); never a secret.",
            ),
            **READ_REFUSALS,
        }
    )
    def export(self, request: Request) -> Response:
        """Your personal data, as the archive's data.json holds it (the pages give the zip
        with a readable summary)."""
        return Response(personal_data.personal_data_export(requester(request)))

    @extend_schema(request=None, responses={202: NoticeSerializer, **WRITE_REFUSALS})
    def ask(self, request: Request) -> Response:
        """Ask the secretariat to erase your personal data: the request is recorded in the
        audit trail and the secretariat is emailed a link to carry it out."""
        personal_data.erasure_request(person=requester(request), request=request._request)
        detail = _(
            "Your request is recorded: the secretariat erases your personal data and your "
            "account closes."
        )
        return Response({"detail": detail, "reasons": [detail]}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=ErasureSerializer, responses={200: ErasureDoneSerializer, **WRITE_REFUSALS}
    )
    def erase(self, request: Request, person_id: int) -> Response:
        """Erase a person's personal data (the secretariat; 409 if erased already): their
        account closes, their names and email address go, and every text that quotes them
        names their pseudonym; their proposals, reviews and endorsements stay, signed by it."""
        person = get_object_or_404(Person, pk=person_id)
        reasons = personal_data.erasure_reasons(requester(request), person)
        if reasons:
            raise Refused(RefusalKind.PERMISSION, reasons)
        serializer = ErasureSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data["confirm"] != person.username:
            wrong = [_("Type the person's username exactly to confirm the erasure.")]
            raise Refused(RefusalKind.INVALID, wrong, {"confirm": wrong})
        summary: dict[str, Any] = personal_data.person_erase(**self.writer(), person=person)
        detail = _("The personal data of %(pseudonym)s is erased.") % {
            "pseudonym": personal_data.pseudonym_of(person)
        }
        return Response(
            {
                "detail": detail,
                "person": person.pk,
                "pseudonym": personal_data.pseudonym_of(person),
                **summary,
            }
        )


urlpatterns = [
    path(
        "people/me/data/",
        PersonalDataViewSet.as_view({"get": "export"}),
        name="person-data",
    ),
    path(
        "people/me/erasure-request/",
        PersonalDataViewSet.as_view({"post": "ask"}),
        name="person-erasure-request",
    ),
    path(
        "people/<int:person_id>/erasure/",
        PersonalDataViewSet.as_view({"post": "erase"}),
        name="person-erasure",
    ),
]
