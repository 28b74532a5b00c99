"""A body's calendar feeds under /api/bodies/{body_id}/feeds/: people of the group read them
(status, last reading, what went wrong), the secretariat attaches, changes and removes them.

Writes go through the audited services of `proposals.calendar_import`; the URL passes the
webhooks' address guard (no private, loopback or link-local target). An uploaded .ics is
imported from the body's page, not here."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import Count
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers

from proposals import calendar_import
from proposals.api.permissions import ReadByGroupWriteBySecretariat
from proposals.api.serializers import time_zone_field
from proposals.api.views import LIST_REFUSALS, READ_REFUSALS, WRITE_REFUSALS, ApiViewSet
from proposals.models import Body, CalendarFeed


class FeedProblemSerializer(serializers.Serializer[Any]):
    uid = serializers.CharField()
    summary = serializers.CharField()
    reason = serializers.CharField()


class CalendarFeedSerializer(serializers.ModelSerializer[CalendarFeed]):
    """A feed: where it is read from, how its events become occasions, and its last reading."""

    url = serializers.CharField(
        max_length=500,
        help_text="The iCalendar feed's http or https URL; its host must resolve to public addresses.",
    )
    lead_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    default_timezone = time_zone_field(required=False)
    last_error = serializers.SerializerMethodField(
        help_text="Why the last reading failed, in the request's language; empty when it went well."
    )
    problems = serializers.SerializerMethodField(
        help_text="The events the last reading skipped, and why."
    )
    occasion_count = serializers.SerializerMethodField()

    class Meta:
        model = CalendarFeed
        fields = [
            "id",
            "body",
            "name",
            "url",
            "occasion_kind",
            "deadline_rule",
            "lead_days",
            "default_timezone",
            "active",
            "status",
            "last_error",
            "problems",
            "checked_at",
            "succeeded_at",
            "occasion_count",
            "created_at",
        ]
        read_only_fields = ["id", "body", "status", "checked_at", "succeeded_at", "created_at"]

    def get_last_error(self, feed: CalendarFeed) -> str:
        return calendar_import.feed_report(feed.last_error).reason

    @extend_schema_field(FeedProblemSerializer(many=True))
    def get_problems(self, feed: CalendarFeed) -> list[dict[str, str]]:
        report = calendar_import.feed_report(feed.last_error)
        return [
            {"uid": problem.uid, "summary": problem.summary, "reason": problem.text()}
            for problem in report.events
        ]

    def get_occasion_count(self, feed: CalendarFeed) -> int:
        return int(getattr(feed, "occasion_count", 0) or 0)


@extend_schema_view(
    list=extend_schema(responses={200: CalendarFeedSerializer(many=True), **LIST_REFUSALS}),
    retrieve=extend_schema(responses={200: CalendarFeedSerializer, **READ_REFUSALS}),
    create=extend_schema(responses={201: CalendarFeedSerializer, **WRITE_REFUSALS}),
    partial_update=extend_schema(responses={200: CalendarFeedSerializer, **WRITE_REFUSALS}),
    destroy=extend_schema(responses={204: None, **WRITE_REFUSALS}),
)
class CalendarFeedViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    """The calendar feeds of one body; each is read every hour (conditional GET) and its events
    create or update the body's occasions (docs/calendar-import.md). Removing a feed keeps the
    occasions it brought."""

    serializer_class = CalendarFeedSerializer
    permission_classes = [ReadByGroupWriteBySecretariat]
    filter_backends: list[Any] = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @cached_property
    def body(self) -> Body:
        """The body of the URL; an unknown one (or a number no key can be) is a 404."""
        return get_object_or_404(Body, pk=self.kwargs["body_id"])

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.body  # noqa: B018 (an unknown body is a 404 before anything else)

    def get_queryset(self) -> Any:
        return (
            CalendarFeed.objects.filter(body=self.body)
            .annotate(occasion_count=Count("occasions"))
            .order_by("pk")
        )

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = calendar_import.calendar_feed_create(
            **self.writer(), body=self.body, **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = calendar_import.calendar_feed_update(
            **self.writer(), feed=serializer.instance, changes=serializer.validated_data
        )

    def perform_destroy(self, instance: CalendarFeed) -> None:
        calendar_import.calendar_feed_delete(**self.writer(), feed=instance)
