"""Webhook endpoints under /api/webhooks/: the secretariat registers, changes and removes them.

Writes go through the audited services of `proposals.webhooks`. The secret is in the answer to
the creation and to `POST /api/webhooks/{id}/secret/` (which renews it), and nowhere else.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from proposals.api.permissions import SecretariatOnly
from proposals.api.views import LIST_REFUSALS, READ_REFUSALS, WRITE_REFUSALS, ApiViewSet
from proposals.models import Organization, Person, WebhookEndpoint, WebhookEvent
from proposals.webhooks import (
    NAME_MAX_LENGTH,
    URL_MAX_LENGTH,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_secret_renew,
    webhook_endpoint_update,
)


class SecretariatManagesWebhooks(SecretariatOnly):
    """The secretariat (and superusers) read and write webhook endpoints; nobody else."""

    message = gettext_lazy("Only the secretariat can manage webhook endpoints.")


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """An endpoint: where the events go, which ones, and whose view of the proposals it gets."""

    name = serializers.CharField(max_length=NAME_MAX_LENGTH, trim_whitespace=True)
    url = serializers.CharField(
        max_length=URL_MAX_LENGTH,
        help_text=(
            "An http or https URL; its host must resolve to public addresses. Redirects are not "
            "followed."
        ),
    )
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(),
        help_text="Events are sent only about proposals this organisation may see.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        allow_empty=False,
        help_text="The kinds of event sent to it.",
    )
    created_by: serializers.PrimaryKeyRelatedField[Person] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "name",
            "url",
            "organization",
            "events",
            "active",
            "created_by",
            "created_at",
            "updated_at",
            "secret_rotated_at",
        ]
        read_only_fields = ["id", "created_by", "created_at", "updated_at", "secret_rotated_at"]


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    """The endpoint with its secret: answered once, when it is created or its secret renewed."""

    secret = serializers.CharField(
        read_only=True,
        help_text=(
            "The key of the X-Webhook-Signature HMAC. Shown only now: keep it in the receiver."
        ),
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = [*WebhookEndpointSerializer.Meta.read_only_fields, "secret"]


@extend_schema_view(
    list=extend_schema(responses={200: WebhookEndpointSerializer(many=True), **LIST_REFUSALS}),
    retrieve=extend_schema(responses={200: WebhookEndpointSerializer, **READ_REFUSALS}),
    create=extend_schema(
        request=WebhookEndpointSerializer,
        responses={201: WebhookEndpointWithSecretSerializer, **WRITE_REFUSALS},
    ),
    partial_update=extend_schema(responses={200: WebhookEndpointSerializer, **WRITE_REFUSALS}),
    destroy=extend_schema(responses={204: None, **WRITE_REFUSALS}),
    secret=extend_schema(
        request=None, responses={200: WebhookEndpointWithSecretSerializer, **WRITE_REFUSALS}
    ),
)
class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    """Webhook endpoints (secretariat only): each event of a kind it subscribes to, about a
    proposal its organisation may see, is POSTed to its URL as JSON, signed with its secret
    (`X-Webhook-Signature: sha256=HMAC-SHA256(secret, "<X-Webhook-Timestamp>.<body>")`),
    retried with backoff, with an `X-Webhook-Event-Id` that stays the same on every try."""

    serializer_class = WebhookEndpointSerializer
    permission_classes = [SecretariatManagesWebhooks]
    filter_backends: list[Any] = []
    queryset = WebhookEndpoint.objects.select_related("organization").order_by("name", "id")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = webhook_endpoint_create(**self.writer(), **serializer.validated_data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        answer = WebhookEndpointWithSecretSerializer(serializer.instance)
        return Response(answer.data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = webhook_endpoint_update(
            endpoint=serializer.instance, **self.writer(), **serializer.validated_data
        )

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        webhook_endpoint_delete(endpoint=instance, **self.writer())

    @action(detail=True, methods=["post"])
    def secret(self, request: Request, pk: Any = None) -> Response:
        """Renew the endpoint's secret and answer it (shown once); the old one stops signing."""
        endpoint = self.get_object()
        webhook_endpoint_secret_renew(endpoint=endpoint, **self.writer())
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)
