"""Invitations under /api/invitations/: the secretariat lists, sends, resends and revokes them.

Writes go through the audited services of `proposals.invitations`; the link's token is never
in an answer (it leaves only in the email to the invited address).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from proposals import invitations
from proposals.api.permissions import SecretariatOnly
from proposals.api.views import LIST_REFUSALS, WRITE_REFUSALS, ApiViewSet
from proposals.filtersets import InvitationFilter
from proposals.models import Invitation, Language, Organization, Role


class SecretariatManagesInvitations(SecretariatOnly):
    """The secretariat (and superusers) read and write invitations; nobody else."""

    message = gettext_lazy("Only the secretariat can invite people.")


class InvitationSerializer(serializers.ModelSerializer):
    """An invitation: who is invited, to which organisation with which roles, and where it
    stands (pending, accepted, expired, revoked)."""

    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices),
        allow_empty=False,
        help_text="The roles the person gets in the organisation on accepting.",
    )
    language = serializers.ChoiceField(
        choices=Language.choices,
        default=Language.ENGLISH,
        help_text="The language of the email and of the page of the link.",
    )
    status = serializers.SerializerMethodField(
        help_text="pending, accepted, expired or revoked: read from the dates."
    )

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "organization",
            "roles",
            "language",
            "status",
            "invited_by",
            "created_at",
            "sent_at",
            "expires_at",
            "accepted_at",
            "person",
            "revoked_at",
            "revoked_by",
        ]
        read_only_fields = [
            "id",
            "status",
            "invited_by",
            "created_at",
            "sent_at",
            "expires_at",
            "accepted_at",
            "person",
            "revoked_at",
            "revoked_by",
        ]

    def get_status(self, invitation: Invitation) -> str:
        return invitations.invitation_status(invitation)


@extend_schema_view(
    list=extend_schema(
        responses={200: InvitationSerializer(many=True), **LIST_REFUSALS},
    ),
    create=extend_schema(responses={201: InvitationSerializer, **WRITE_REFUSALS}),
    destroy=extend_schema(responses={204: None, **WRITE_REFUSALS}),
    resend=extend_schema(request=None, responses={200: InvitationSerializer, **WRITE_REFUSALS}),
)
class InvitationViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    """Invitations (secretariat only): POST sends one by email, with a link that works once
    until it expires; `resend` sends a new link (the former one stops working); DELETE revokes
    it. An accepted invitation stays as the record of how the account was made."""

    serializer_class = InvitationSerializer
    permission_classes = [SecretariatManagesInvitations]
    filterset_class = InvitationFilter
    queryset = Invitation.objects.all()

    def get_queryset(self) -> QuerySet[Invitation]:
        return invitations.invitations_with_status().order_by("-created_at", "-id")

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = invitations.invitation_create(
            **self.writer(), **serializer.validated_data
        )

    def perform_destroy(self, instance: Invitation) -> None:
        invitations.invitation_revoke(**self.writer(), invitation=instance)

    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: Any = None) -> Response:
        """Send a new link with a new expiry; the former link stops working."""
        invitation = invitations.invitation_resend(**self.writer(), invitation=self.get_object())
        return Response(self.get_serializer(invitation).data, status=status.HTTP_200_OK)
