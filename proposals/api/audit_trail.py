"""The API of the audit trail: /api/audit-events/, the transition log and the audit events in
one list, newest first (proposals/audit_trail.py says who reads what)."""

from __future__ import annotations

from typing import Any, cast

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import pagination, serializers
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from proposals.api.errors import refusals
from proposals.api.pagination import (
    OrderKey,
    PageNumberPagination,
    cursor_decode,
    cursor_encode,
    page_size_of,
)
from proposals.api.renderers import CSVRenderer
from proposals.api.views import ApiViewSet
from proposals.audit_trail import (
    ACTION_LABELS,
    AUDIT,
    NEWEST_FIRST_ORDERING,
    TRANSITION,
    AuditTrailFilterSet,
    Position,
    TrailEntry,
    audit_trail,
    trail_entries,
    trail_machine_csv_response,
)
from proposals.records import AuditEvent

LIST_REFUSALS = refusals(400, 401, 403, 404)
# A cursor of the trail: a position in (time, kind, id), newest first.
CURSOR_KEYS = [
    OrderKey("at", True, False),
    OrderKey("kind", True, False),
    OrderKey("pk", True, False),
]


class TrailEntrySerializer(serializers.Serializer[TrailEntry]):
    """One entry of the audit trail: a transition of a proposal, or an audit event."""

    kind = serializers.ChoiceField(
        choices=[TRANSITION, AUDIT],
        help_text="transition: a row of a proposal's log (its id is the history entry's); "
        "audit: any other write.",
    )
    id = serializers.IntegerField(help_text="The row's id within its kind.")
    at = serializers.DateTimeField()
    action = serializers.CharField(help_text="The action's code, such as approve or token.created.")
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="The action in the requester's language."
    )
    actor = serializers.CharField(
        source="actor.username", read_only=True, allow_null=True, help_text="Who did it."
    )
    subject = serializers.CharField(
        source="subject.username",
        read_only=True,
        allow_null=True,
        help_text="The person the entry concerns, if any.",
    )
    object_type = serializers.CharField(help_text="The kind of object, such as proposals.proposal.")
    object_id = serializers.CharField()
    object = serializers.CharField(source="object_label", help_text="The object, as named then.")
    proposal = serializers.IntegerField(source="proposal_id", allow_null=True)
    before = serializers.DictField(help_text="The values before (for a transition: its state).")
    after = serializers.DictField(
        help_text="The values after (for a transition: its state and its details)."
    )
    comment = serializers.CharField(help_text="A transition's comment; empty for audit events.")


def trail_filter_parameters() -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            "person", str, description="A username: entries made by or concerning them."
        ),
        OpenApiParameter(
            "organization",
            int,
            description="An organisation's id: entries made by or concerning its members, about "
            "it, or about the proposals it leads.",
        ),
        OpenApiParameter(
            "proposal",
            int,
            description="A proposal's id: its transitions and the writes to it and what "
            "belongs to it.",
        ),
        OpenApiParameter(
            "action",
            OpenApiTypes.STR,
            description="An action's code, such as approve.",
            enum=sorted(ACTION_LABELS),
        ),
        OpenApiParameter(
            "since", OpenApiTypes.DATE, description="From this day (in the requester's zone)."
        ),
        OpenApiParameter(
            "until",
            OpenApiTypes.DATE,
            description="To this day, included (in the requester's zone).",
        ),
        OpenApiParameter(
            "ordering",
            str,
            enum=[NEWEST_FIRST_ORDERING],
            description="The trail is read newest first.",
        ),
        OpenApiParameter("format", str, enum=["json", "csv"], description="csv: every entry."),
    ]


@extend_schema_view(
    list=extend_schema(
        parameters=trail_filter_parameters(),
        responses={200: TrailEntrySerializer(many=True), **LIST_REFUSALS},
    )
)
class AuditEventViewSet(ApiViewSet):
    """The audit trail: all of it for the secretariat; for everyone else, the entries they
    made or that concern them."""

    queryset = AuditEvent.objects.none()
    serializer_class = TrailEntrySerializer
    filter_backends: list[Any] = []
    filterset_class = AuditTrailFilterSet
    pagination_class = PageNumberPagination

    def get_renderers(self) -> list[BaseRenderer]:
        return [*super().get_renderers(), CSVRenderer()]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        filterset = self.filterset_class(request.query_params)
        if not filterset.is_valid():
            raise serializers.ValidationError(
                {
                    field: [str(error) for error in errors]
                    for field, errors in filterset.errors.items()
                }
            )
        where = filterset.form.trail_filter()
        if isinstance(request.accepted_renderer, CSVRenderer):
            return trail_machine_csv_response(
                audit_trail(request.user, where), filename="audit-trail.csv"
            )
        paginator = cast(PageNumberPagination, self.paginator)
        if not paginator.cursor_asked(request):
            # Numbered pages of the merged rows as they are ordered (count, then one slice).
            page = pagination.PageNumberPagination.paginate_queryset(
                paginator, audit_trail(request.user, where), request, self
            )
            entries = trail_entries(page or [])
            return paginator.get_paginated_response(self.get_serializer(entries, many=True).data)
        return self.cursor_page(request, where, paginator)

    def cursor_page(
        self, request: Request, where: Any, paginator: PageNumberPagination
    ) -> Response:
        """A page after (or before) a cursor's position: one query for the rows, no count."""
        size = page_size_of(request, paginator.page_size or 25)
        cursor = request.query_params.get(paginator.cursor_query_param)
        position, backwards = None, False
        if cursor is not None:
            values, backwards = cursor_decode(cursor, keys=CURSOR_KEYS, model=AuditEvent)
            if values[1] not in (AUDIT, TRANSITION) or values[0] is None:
                raise serializers.ValidationError(
                    {
                        "cursor": [
                            _(
                                "This cursor is not one this list gave: follow the next and "
                                "previous links of a page as they are, or start again with "
                                "pagination=cursor."
                            )
                        ]
                    }
                )
            position = Position(at=values[0], kind=values[1], id=values[2])
        rows = list(
            audit_trail(request.user, where, after=position, oldest_first=backwards)[: size + 1]
        )
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
        entries = trail_entries(rows)

        def link(entry: TrailEntry, *, backwards: bool) -> str | None:
            values = [entry.at, entry.kind, entry.id]
            return paginator.cursor_link(
                cursor_encode(keys=CURSOR_KEYS, values=values, backwards=backwards)
            )

        paginator.request = request
        next_link = previous_link = None
        if entries:
            if more or (position is not None and backwards):
                next_link = link(entries[-1], backwards=False)
            if (more and backwards) or (position is not None and not backwards):
                previous_link = link(entries[0], backwards=True)
        data = self.get_serializer(entries, many=True).data
        return Response({"next": next_link, "previous": previous_link, "results": data})
