"""The delivery log (secretariat only), the reminder rules, and the caller's calendar link."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from proposals.api.permissions import ReadByGroupWriteBySecretariat, SecretariatOnly
from proposals.api.serializers import (
    ModelSerializer,
    NullWhenBlankChoiceField,
    StrictIntegerField,
    StrictPrimaryKeyRelatedField,
)
from proposals.api.views import (
    LIST_REFUSALS,
    READ_REFUSALS,
    WRITE_REFUSALS,
    ApiViewSet,
    refusals,
)
from proposals.filtersets import LARGEST_KEY, ModelChoiceFilter
from proposals.models import Occasion, Person, ReminderRule, validate_reminder_offsets
from proposals.records import Delivery, deliveries_logged
from proposals.reference import reminder_rule_create, reminder_rule_delete, reminder_rule_update
from proposals.services import calendar_token_regenerate

# Deliveries


class IdFilter(filters.NumberFilter):
    """An object's id: a whole number (1.5 is refused, not rounded)."""

    field_class = forms.IntegerField


class DeliveryRecipientSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")


class DeliveryEndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DeliverySerializer(serializers.ModelSerializer):
    """Who was reminded or told of what, when, and with what result; a webhook delivery names
    its endpoint instead of a person."""

    recipient = DeliveryRecipientSerializer(
        read_only=True, allow_null=True, help_text="The person told; null for a webhook."
    )
    endpoint = DeliveryEndpointSerializer(
        source="target",
        read_only=True,
        allow_null=True,
        help_text="The webhook endpoint posted to; null for an email (removed: null too).",
    )
    event = serializers.SerializerMethodField(
        help_text="The email sent, such as reminder_review; for a webhook, its event kind."
    )
    event_kind = serializers.CharField(
        source="event", read_only=True, help_text="What happened, such as proposal.approved."
    )
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    about = serializers.SerializerMethodField(help_text="The object the email is about.")
    title = serializers.SerializerMethodField(help_text="The proposal's title when written.")

    class Meta:
        model = Delivery
        fields = [
            "id",
            "kind",
            "channel",
            "event",
            "event_kind",
            "event_id",
            "status",
            "status_label",
            "recipient",
            "endpoint",
            "about",
            "title",
            "essential",
            "topic",
            "stage",
            "due_at",
            "created_at",
            "queued_at",
            "claimed_at",
            "sent_at",
            "attempts",
            "next_attempt_at",
            "last_error",
        ]
        read_only_fields = fields

    def get_event(self, delivery: Delivery) -> str:
        return delivery.template.rsplit("/", 1)[-1] or delivery.event

    def get_about(self, delivery: Delivery) -> dict[str, Any] | None:
        content_type = delivery.content_type
        if content_type is None:
            return None
        return {"type": content_type.model, "id": delivery.object_id}

    def get_title(self, delivery: Delivery) -> str:
        return str((delivery.context or {}).get("title", ""))


class DeliveryFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Delivery.Status.choices)
    kind = filters.ChoiceFilter(choices=Delivery.Kind.choices)
    channel = filters.ChoiceFilter(choices=Delivery.Channel.choices)
    recipient = ModelChoiceFilter(queryset=Person.objects.all())
    recipient_username = filters.CharFilter(field_name="recipient__username")
    proposal = IdFilter(
        method="filter_proposal",
        min_value=1,
        max_value=LARGEST_KEY,
        help_text="Deliveries about this proposal (its id).",
    )
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Delivery
        fields = ["status", "kind", "recipient"]

    def filter_proposal(self, queryset: QuerySet[Delivery], name: str, value: int) -> Any:
        """Deliveries about the proposal with this id (the schema reads its type here)."""
        return queryset.filter(content_type__model="proposal", object_id=value)


@extend_schema_view(
    list=extend_schema(responses={200: DeliverySerializer(many=True), **LIST_REFUSALS}),
    retrieve=extend_schema(responses={200: DeliverySerializer, **READ_REFUSALS}),
)
class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The delivery log: every reminder and notification that left by email or webhook,
    newest first (a person's notices in the pages are theirs: /api/notifications/)."""

    serializer_class = DeliverySerializer
    permission_classes = [SecretariatOnly]
    filterset_class = DeliveryFilter
    queryset = deliveries_logged().select_related("content_type")


# Reminder rules


class ReminderRuleSerializer(ModelSerializer):
    """Days before the deadline, for a kind of occasion or for one occasion."""

    occasion_kind = NullWhenBlankChoiceField(
        choices=Occasion.Kind.choices,
        required=False,
        default=None,
        help_text="The kind of occasion the rule is for; null for a rule of one occasion.",
    )
    occasion = StrictPrimaryKeyRelatedField(
        queryset=Occasion.objects.all(), allow_null=True, required=False, default=None
    )
    offsets = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=365),
        allow_empty=False,
        help_text="Whole days before the deadline, such as [30, 14, 7, 2, 1].",
    )

    class Meta:
        model = ReminderRule
        fields = ["id", "occasion_kind", "occasion", "offsets", "updated_at"]
        read_only_fields = ["id", "updated_at"]

    def validate_offsets(self, value: list[int]) -> list[int]:
        try:
            validate_reminder_offsets(value)
        except Exception as error:
            raise ValidationError(getattr(error, "messages", [str(error)])) from None
        return sorted(value, reverse=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = cast(ReminderRule | None, self.instance)
        kind = attrs.get("occasion_kind", instance.occasion_kind if instance else "")
        occasion = attrs.get("occasion", instance.occasion if instance else None)
        if bool(kind) == bool(occasion):
            raise ValidationError(
                _("Give either occasion_kind (a rule for a kind) or occasion (one occasion).")
            )
        same = ReminderRule.objects.all()
        if instance is not None:
            same = same.exclude(pk=instance.pk)
        if occasion is not None and same.filter(occasion=occasion).exists():
            raise ValidationError(
                {"occasion": [_("This occasion already has a reminder rule: change that one.")]}
            )
        if kind and same.filter(occasion__isnull=True, occasion_kind=kind).exists():
            raise ValidationError(
                {"occasion_kind": [_("This kind already has a reminder rule: change that one.")]}
            )
        return attrs


class ReminderRuleFilter(filters.FilterSet):
    occasion_kind = filters.ChoiceFilter(choices=Occasion.Kind.choices)
    occasion = filters.ModelChoiceFilter(queryset=Occasion.objects.all())

    class Meta:
        model = ReminderRule
        fields = ["occasion_kind", "occasion"]


@extend_schema_view(
    list=extend_schema(responses={200: ReminderRuleSerializer(many=True), **LIST_REFUSALS}),
    retrieve=extend_schema(responses={200: ReminderRuleSerializer, **READ_REFUSALS}),
    create=extend_schema(responses={201: ReminderRuleSerializer, **WRITE_REFUSALS}),
    partial_update=extend_schema(responses={200: ReminderRuleSerializer, **WRITE_REFUSALS}),
    destroy=extend_schema(responses={204: None, **WRITE_REFUSALS}),
)
class ReminderRuleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    """When reminders go out: without a rule, 30, 14, 7, 2 and 1 days before each deadline;
    an occasion's own rule overrides its kind's."""

    serializer_class = ReminderRuleSerializer
    permission_classes = [ReadByGroupWriteBySecretariat]
    filterset_class = ReminderRuleFilter
    queryset = ReminderRule.objects.select_related("occasion").order_by("occasion_kind", "pk")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = reminder_rule_create(**self.writer(), **serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = reminder_rule_update(
            **self.writer(), rule=serializer.instance, changes=serializer.validated_data
        )

    def perform_destroy(self, instance: ReminderRule) -> None:
        reminder_rule_delete(**self.writer(), rule=instance)


# The caller's calendar link


class CalendarLinkSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Subscribe to it in a calendar app; keep it secret.")


def calendar_link(request: Request, person: Person) -> dict[str, str]:
    return {"url": request.build_absolute_uri(f"/calendar/{person.calendar_token}.ics")}


@extend_schema_view(
    retrieve=extend_schema(responses={200: CalendarLinkSerializer, **refusals(401)}),
    create=extend_schema(request=None, responses={201: CalendarLinkSerializer, **refusals(401)}),
)
class CalendarLinkViewSet(ApiViewSet):
    """The caller's secret calendar link; POST replaces it and the old link stops working."""

    serializer_class = CalendarLinkSerializer
    filter_backends: list[Any] = []
    pagination_class = None

    def retrieve(self, request: Request) -> Response:
        return Response(calendar_link(request, cast(Person, request.user)))

    def create(self, request: Request) -> Response:
        person = cast(Person, request.user)
        calendar_token_regenerate(person=person)
        return Response(calendar_link(request, person), status=201)
