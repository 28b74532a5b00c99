"""The API of a proposal's discussion: /api/proposals/{proposal_id}/comments/ and each comment.

Whoever sees the proposal reads its comments and writes their own; a deleted or hidden comment
keeps its place in the list without its text. Anchors name a revision by its number.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from proposals import discussion
from proposals.api.errors import refusals
from proposals.api.serializers import StrictIntegerField, TextField
from proposals.api.views import ProposalChildViewSet, requester
from proposals.limits import DISCUSSION_COMMENT_MAX_LENGTH, NOTE_MAX_LENGTH
from proposals.models import Comment, Revision
from workflow.errors import Reason, RefusalKind, Refused

LIST_REFUSALS = refusals(400, 401, 403, 404)
WRITE_REFUSALS = refusals(400, 401, 403, 404, 409)

STATUS_VISIBLE, STATUS_DELETED, STATUS_HIDDEN = "visible", "deleted", "hidden"
COMMENT_STATUS_CHOICES = [
    (STATUS_VISIBLE, "Shown with its text."),
    (STATUS_DELETED, "Deleted by its author."),
    (STATUS_HIDDEN, "Hidden by the secretariat, with a reason."),
]


def comment_status(comment: Comment) -> str:
    if comment.deleted_at is not None:
        return STATUS_DELETED
    if comment.hidden_at is not None:
        return STATUS_HIDDEN
    return STATUS_VISIBLE


class CommentEditSerializer(serializers.Serializer):
    """A text the comment had before an edit, and when it was replaced."""

    body = serializers.CharField(read_only=True)
    replaced_at = serializers.DateTimeField(read_only=True)


class CommentSerializer(serializers.Serializer):
    """A comment; a deleted or hidden one shows neither its text nor its earlier texts."""

    id = serializers.IntegerField(read_only=True)
    # A declared field named like Field.parent: the serializer's metaclass takes it off the class.
    parent = serializers.IntegerField(  # type: ignore[assignment]
        source="parent_id", read_only=True, allow_null=True, help_text="The comment answered."
    )
    author = serializers.CharField(source="author.username", read_only=True)
    status = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField(help_text="Markdown; null once deleted or hidden.")
    body_html = serializers.SerializerMethodField(help_text="The body as sanitised HTML.")
    revision = serializers.IntegerField(
        source="revision.number", read_only=True, allow_null=True, default=None
    )
    paragraph = serializers.IntegerField(read_only=True, allow_null=True)
    quoted = serializers.CharField(read_only=True, help_text="The paragraph, as it read.")
    outdated = serializers.SerializerMethodField(
        help_text="The proposal's text has a newer revision than the one the anchor names."
    )
    mentions = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    edited_at = serializers.DateTimeField(read_only=True, allow_null=True)
    edits = serializers.SerializerMethodField()
    hidden_reason = serializers.SerializerMethodField()

    def _shown(self, comment: Comment) -> bool:
        return comment_status(comment) == STATUS_VISIBLE

    @extend_schema_field(serializers.ChoiceField(choices=COMMENT_STATUS_CHOICES))
    def get_status(self, comment: Comment) -> str:
        return comment_status(comment)

    def get_body(self, comment: Comment) -> str | None:
        return comment.body if self._shown(comment) else None

    def get_body_html(self, comment: Comment) -> str | None:
        return comment.body_html if self._shown(comment) else None

    def get_outdated(self, comment: Comment) -> bool:
        return discussion.comment_outdated(comment, self.context["proposal"])

    def get_mentions(self, comment: Comment) -> list[str]:
        return [mention.person.username for mention in comment.mentions.all()]

    @extend_schema_field(CommentEditSerializer(many=True))
    def get_edits(self, comment: Comment) -> list[dict[str, Any]]:
        if not self._shown(comment):
            return []
        return [{"body": e.body, "replaced_at": e.replaced_at} for e in comment.edits.all()]

    def get_hidden_reason(self, comment: Comment) -> str | None:
        return comment.hidden_reason if comment.hidden_at is not None else None


class CommentCreateSerializer(serializers.Serializer):
    """A new comment: its Markdown body; `parent` to answer a comment (one level deep);
    `revision` and `paragraph` to comment on one paragraph of one revision of the text (the
    paragraphs are the blocks of its Markdown separated by blank lines, counted from 1)."""

    body = TextField(max_length=DISCUSSION_COMMENT_MAX_LENGTH, help_text="Markdown.")
    parent = StrictIntegerField(  # type: ignore[assignment]
        required=False, allow_null=True, min_value=1, help_text="The id of the comment answered."
    )
    revision = StrictIntegerField(
        required=False, allow_null=True, min_value=1, help_text="The revision's number."
    )
    paragraph = StrictIntegerField(
        required=False, allow_null=True, min_value=1, help_text="Counted from 1."
    )


class CommentBodySerializer(serializers.Serializer):
    """The comment's new Markdown body."""

    body = TextField(max_length=DISCUSSION_COMMENT_MAX_LENGTH, help_text="Markdown.")


class CommentHideSerializer(serializers.Serializer):
    """Why the secretariat hides the comment: its author and every reader see it."""

    reason = TextField(max_length=NOTE_MAX_LENGTH)


def _not_on_proposal(field: str, message: str) -> Refused:
    return Refused(RefusalKind.INVALID, [Reason("does_not_exist", message)], {field: [message]})


@extend_schema_view(
    list=extend_schema(responses={200: CommentSerializer(many=True), **LIST_REFUSALS}),
    create=extend_schema(
        request=CommentCreateSerializer, responses={201: CommentSerializer, **WRITE_REFUSALS}
    ),
    partial_update=extend_schema(
        request=CommentBodySerializer, responses={200: CommentSerializer, **WRITE_REFUSALS}
    ),
    destroy=extend_schema(responses={204: None, **WRITE_REFUSALS}),
    hide=extend_schema(
        request=CommentHideSerializer, responses={200: CommentSerializer, **WRITE_REFUSALS}
    ),
)
class ProposalCommentViewSet(mixins.ListModelMixin, ProposalChildViewSet):
    """The discussion of one proposal, oldest first: comments and their replies."""

    queryset = Comment.objects.none()
    serializer_class = CommentSerializer

    def get_queryset(self) -> QuerySet[Comment]:
        return discussion.comments_of(self.proposal)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "proposal": self.proposal}

    @cached_property
    def comment(self) -> Comment:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def answer(self, comment: Comment, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=comment.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request: Request, proposal_id: int) -> Response:
        """Post a comment, a reply (`parent`) or a comment on a paragraph (`revision` and
        `paragraph`); 400 for a reply to a reply, an unknown @username, a paragraph that
        does not exist, an empty or too long body."""
        serializer = CommentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        parent = None
        if data.get("parent") is not None:
            parent = Comment.objects.filter(proposal=self.proposal, pk=data["parent"]).first()
            if parent is None:
                raise _not_on_proposal(
                    "parent",
                    _("This proposal has no comment %(id)d to answer.") % {"id": data["parent"]},
                )
        revision = None
        if data.get("revision") is not None:
            revision = Revision.objects.filter(
                proposal=self.proposal, number=data["revision"]
            ).first()
            if revision is None:
                raise _not_on_proposal(
                    "revision",
                    _(
                        "This proposal has no revision %(number)d: its revisions go from 1 to "
                        "%(last)d."
                    )
                    % {"number": data["revision"], "last": self.proposal.revision},
                )
        comment = discussion.comment_create(
            proposal=self.proposal,
            author=requester(request),
            body=data["body"],
            parent=parent,
            revision=revision,
            paragraph=data.get("paragraph"),
            request=request._request,
        )
        return self.answer(comment, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, proposal_id: int, pk: int) -> Response:
        """Its author rewrites the comment (the earlier text is kept in `edits`); 403 for
        someone else's comment, 409 for a deleted or hidden one."""
        comment = discussion.comment_edit(
            comment=self.comment,
            editor=requester(request),
            body=_text(request.data, "body", CommentBodySerializer),
            request=request._request,
        )
        return self.answer(comment)

    def destroy(self, request: Request, proposal_id: int, pk: int) -> Response:
        """Its author deletes the comment: it stays in the thread as deleted, without its
        text; 403 for someone else's comment, 409 if it is deleted already."""
        discussion.comment_delete(
            comment=self.comment, actor=requester(request), request=request._request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def hide(self, request: Request, proposal_id: int, pk: int) -> Response:
        """The secretariat hides the comment, with a reason that replaces its text; its author
        is told. 403 for anyone else, 409 if it is deleted or hidden already."""
        comment = self.comment
        discussion.comment_hide(
            comment=comment,
            actor=requester(request),
            reason=_text(request.data, "reason", CommentHideSerializer),
            request=request._request,
        )
        return self.answer(comment)


def _text(data: Any, field: str, serializer_class: type[serializers.Serializer]) -> str:
    """The text the request sends in `field`: a string goes to the service, which first says
    whether this person may act at all, then whether the text will do; anything else is a 400
    of the serializer."""
    value = data.get(field) if isinstance(data, dict) else None
    if isinstance(value, str):
        return value
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return str(serializer.validated_data[field])
