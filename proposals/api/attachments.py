"""The files of a proposal: /api/proposals/{id}/attachments/ (list, upload as multipart),
/attachments/{aid}/ (metadata, removal) and /attachments/{aid}/download/ (the file)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from config.request_limits import request_body_limit
from proposals.api.errors import ErrorSerializer, refusals
from proposals.api.serializers import ModelSerializer
from proposals.api.views import ProposalChildViewSet, requester
from proposals.attachments import (
    attachment_add,
    attachment_downloadable,
    attachment_file_response,
    attachment_remove,
    attachment_removed_reason,
    attachments_of,
    upload_body_max_bytes,
)
from proposals.filetypes import ACCEPTED_TYPES
from proposals.models import ATTACHMENT_TITLE_MAX_LENGTH, Attachment, Person, Revision
from workflow.errors import Reason, RefusalKind, Refused


class AttachmentSerializer(ModelSerializer):
    """A file of the proposal; a removed one keeps its record, and `download` is null for
    whoever may no longer download it."""

    revision = serializers.IntegerField(
        source="revision.number", read_only=True, allow_null=True, default=None
    )
    uploaded_by: serializers.SlugRelatedField[Person] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    removed_by: serializers.SlugRelatedField[Person] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    download = serializers.SerializerMethodField(
        help_text="The address of the file, for this requester; null once it is removed "
        "(the secretariat still downloads it)."
    )

    class Meta:
        model = Attachment
        fields = [
            "id",
            "title",
            "filename",
            "content_type",
            "size",
            "sha256",
            "revision",
            "uploaded_by",
            "uploaded_at",
            "removed_at",
            "removed_by",
            "download",
        ]
        read_only_fields = fields

    def get_download(self, attachment: Attachment) -> str | None:
        request = self.context["request"]
        if not attachment_downloadable(attachment, request.user):
            return None
        return reverse(
            "proposal-attachment-download",
            kwargs={"proposal_id": attachment.proposal_id, "pk": attachment.pk},
            request=request,
        )


class AttachmentUploadSerializer(serializers.Serializer):
    """A file and its title, sent as multipart/form-data; `revision` is the number of the
    proposal's revision it belongs to, if any."""

    title = serializers.CharField(max_length=ATTACHMENT_TITLE_MAX_LENGTH)
    file = serializers.FileField(
        allow_empty_file=True,  # the service says what is wrong with an empty one
        help_text="PDF, ODT, DOCX, XLSX, PNG or JPEG, checked by its content; at most "
        "ATTACHMENT_MAX_BYTES (20 MB by default).",
    )
    revision = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**31 - 1
    )


class BinaryRenderer(BaseRenderer):
    """Lets a download answer any Accept: the file goes out as it is stored."""

    media_type = "*/*"
    format = "file"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> Any:
        return data


OCTET_STREAM = "application/octet-stream"
FILE_RESPONSES: dict[Any, Any] = {
    (200, file_type.content_type): OpenApiResponse(
        OpenApiTypes.BINARY, description=f"The file ({file_type.name}), as an attachment."
    )
    for file_type in ACCEPTED_TYPES
}
FILE_RESPONSES[(200, OCTET_STREAM)] = OpenApiResponse(
    OpenApiTypes.BINARY,
    description="The same bytes, when `Accept` asks for application/octet-stream and not for "
    "the file's own type.",
)
TOO_LARGE = {
    (413, "application/json"): OpenApiResponse(
        ErrorSerializer, description="The request is larger than a file of the largest size."
    )
}


@extend_schema_view(
    list=extend_schema(
        responses={200: AttachmentSerializer(many=True), **refusals(400, 401, 403, 404)}
    ),
    create=extend_schema(
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer, **refusals(400, 401, 403, 404, 409), **TOO_LARGE},
    ),
    retrieve=extend_schema(responses={200: AttachmentSerializer, **refusals(401, 403, 404)}),
    destroy=extend_schema(responses={204: None, **refusals(400, 401, 403, 404, 409)}),
)
@request_body_limit(upload_body_max_bytes)
class ProposalAttachmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, ProposalChildViewSet
):
    """Files of one proposal, removed ones included (their record is kept). The authors and
    the secretariat upload and remove them while the proposal is open."""

    queryset = Attachment.objects.none()
    serializer_class = AttachmentSerializer
    parser_classes: list[type[BaseParser]] = [MultiPartParser]

    def get_queryset(self) -> QuerySet[Attachment]:
        return attachments_of(self.proposal)

    def get_renderers(self) -> list[BaseRenderer]:
        if self.action == "download":
            return [JSONRenderer(), BinaryRenderer()]
        return super().get_renderers()

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        """A refusal of a download is JSON whatever the Accept header asked for."""
        if isinstance(response, Response) and isinstance(
            getattr(request, "accepted_renderer", None), BinaryRenderer
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def create(self, request: Request, proposal_id: int) -> Response:
        """Upload a file (multipart/form-data: `title`, `file`, optional `revision`)."""
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        attachment = attachment_add(
            proposal=self.proposal,
            person=requester(request),
            title=data["title"],
            upload=data["file"],
            revision=self._revision(data.get("revision")),
        )
        attachment = self.get_queryset().get(pk=attachment.pk)
        return Response(self.get_serializer(attachment).data, status=status.HTTP_201_CREATED)

    def _revision(self, number: int | None) -> Revision | None:
        if number is None:
            return None
        revision = Revision.objects.filter(proposal=self.proposal, number=number).first()
        if revision is None:
            reason = Reason(
                "revision_unknown",
                _("This proposal has no revision %(number)s; its latest is %(latest)s.")
                % {"number": number, "latest": self.proposal.revision},
            )
            raise Refused(RefusalKind.INVALID, [reason], {"revision": [str(reason)]})
        return revision

    def destroy(self, request: Request, proposal_id: int, pk: int) -> Response:
        """Remove the file: it keeps its record, and the history shows who removed it."""
        attachment_remove(attachment=self.get_object(), person=requester(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={**FILE_RESPONSES, **refusals(401, 403, 404)})
    def download(self, request: Request, proposal_id: int, pk: int) -> Any:
        """The file, with its original name, as an attachment."""
        attachment = self.get_object()
        if not attachment_downloadable(attachment, request.user):
            raise NotFound(attachment_removed_reason(attachment))
        accept = request.headers.get("Accept", "")
        generic = OCTET_STREAM in accept and attachment.content_type not in accept
        return attachment_file_response(attachment, OCTET_STREAM if generic else None)
