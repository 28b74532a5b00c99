"""The API of following and of the notification centre.

/api/proposals/{proposal_id}/follow/ and /api/occasions/{occasion_id}/follow/: GET whether you
follow it, PUT to follow, DELETE to unfollow. /api/notifications/: your notices in the pages,
newest first (`unread=true` for the unread only), each with its sentence in your language and
the path of the place it names; POST .../{id}/read/ and .../read-all/ mark them read.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from proposals import following, notification_centre
from proposals.api.errors import refusals
from proposals.api.views import ApiViewSet, ProposalChildViewSet, requester
from proposals.models import Occasion
from proposals.selectors import roles_of
from workflow.errors import Reason, RefusalKind, Refused

READ_REFUSALS = refusals(401, 403, 404)
LIST_REFUSALS = refusals(400, 401, 403, 404)
WRITE_REFUSALS = refusals(400, 401, 403, 404, 409)


class FollowSerializer(serializers.Serializer):
    """Whether you follow it."""

    following = serializers.BooleanField(
        read_only=True,
        help_text="True while you are told of what happens to it. A proposal is followed by "
        "its own choice, else through its occasion's.",
    )


class FollowViewSet(ApiViewSet):
    """Following one thing: GET says whether you do, PUT follows, DELETE unfollows (kept, so
    that no automatic follow brings you back)."""

    serializer_class = FollowSerializer
    pagination_class = None
    filter_backends: list[Any] = []

    def followed(self) -> dict[str, Any]:
        raise NotImplementedError

    def answer(self) -> Response:
        state = following.is_following(requester(self.request), **self.followed())
        return Response(FollowSerializer({"following": state}).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Whether you follow it."""
        return self.answer()

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Follow it (again); following it already changes nothing."""
        following.follow_start(
            person=requester(request), request=request._request, **self.followed()
        )
        return self.answer()

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Stop following it; a proposal followed through its occasion stops alone."""
        following.follow_stop(
            person=requester(request), request=request._request, **self.followed()
        )
        return self.answer()


FOLLOW_SCHEMA = extend_schema_view(
    retrieve=extend_schema(request=None, responses={200: FollowSerializer, **READ_REFUSALS}),
    update=extend_schema(request=None, responses={200: FollowSerializer, **WRITE_REFUSALS}),
    destroy=extend_schema(request=None, responses={200: FollowSerializer, **WRITE_REFUSALS}),
)


@FOLLOW_SCHEMA
class ProposalFollowViewSet(FollowViewSet, ProposalChildViewSet):
    """Following a proposal you may see (one you may not see is a 404)."""

    def followed(self) -> dict[str, Any]:
        return {"proposal": self.proposal}


@FOLLOW_SCHEMA
class OccasionFollowViewSet(FollowViewSet):
    """Following an occasion: its deadline moves, and what happens to each of its proposals
    you may see."""

    @cached_property
    def occasion(self) -> Occasion:
        return get_object_or_404(Occasion, pk=self.kwargs["occasion_id"])

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        person = requester(request)
        if not (roles_of(person).in_group or person.is_superuser):
            raise PermissionDenied(_("Only people of the group follow an occasion."))
        self.occasion  # noqa: B018 (an unknown occasion is a 404 before anything else)

    def followed(self) -> dict[str, Any]:
        return {"occasion": self.occasion}


class NotificationSerializer(serializers.Serializer):
    """One notice in the pages."""

    id = serializers.IntegerField(read_only=True)
    event = serializers.CharField(
        read_only=True, help_text="What happened, such as proposal.revised or comment.posted."
    )
    text = serializers.SerializerMethodField(help_text="What it says, in your language.")
    path = serializers.SerializerMethodField(
        help_text="The page of the place it names (a comment's anchor, a revision's changes), "
        "or of its proposal or occasion; empty when none."
    )
    proposal = serializers.SerializerMethodField(help_text="The proposal it is about, if any.")
    created_at = serializers.DateTimeField(read_only=True)
    read_at = serializers.DateTimeField(read_only=True, allow_null=True)
    unread = serializers.SerializerMethodField()

    def get_text(self, row: Any) -> str:
        return notification_centre.notification_sentence(row)

    def get_path(self, row: Any) -> str:
        return notification_centre.notification_path(row, *self.context["types"])

    def get_proposal(self, row: Any) -> int | None:
        proposal_type, _occasion_type = self.context["types"]
        return row.object_id if row.content_type_id == proposal_type else None

    def get_unread(self, row: Any) -> bool:
        return row.read_at is None


class ReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField(read_only=True, help_text="How many were unread.")


def _unread_param(request: Request) -> bool | None:
    value = request.query_params.get("unread")
    if value in (None, ""):
        return None
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    reason = Reason("notification_filter_invalid", _("Say unread=true or unread=false."))
    raise Refused(RefusalKind.INVALID, [reason], {"unread": [reason]})


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "unread", bool, description="true: the unread only; false: the read only."
            )
        ],
        responses={200: NotificationSerializer(many=True), **LIST_REFUSALS},
    ),
)
class NotificationViewSet(mixins.ListModelMixin, ApiViewSet):
    """Your notices in the pages, newest first: the same events that go by email. Three
    queries whatever the page size."""

    serializer_class = NotificationSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Any]:
        return notification_centre.notifications_of(
            requester(self.request), unread=_unread_param(self.request)
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "types": notification_centre.content_types()}

    @extend_schema(request=None, responses={200: NotificationSerializer, **WRITE_REFUSALS})
    def read(self, request: Request, pk: int) -> Response:
        """Mark one notice read (one read already stays as it was); someone else's is a 404."""
        row = get_object_or_404(notification_centre.notifications_of(requester(request)), pk=pk)
        row = notification_centre.notification_mark_read(
            person=requester(request), notification_id=row.pk, request=request._request
        )
        return Response(self.get_serializer(row).data)

    @extend_schema(request=None, responses={200: ReadAllSerializer, **WRITE_REFUSALS})
    def read_all(self, request: Request) -> Response:
        """Mark every unread notice read."""
        count = notification_centre.notifications_mark_all_read(
            person=requester(request), request=request._request
        )
        return Response(ReadAllSerializer({"marked": count}).data)
