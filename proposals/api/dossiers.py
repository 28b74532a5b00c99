"""The submission dossier over the API: /api/proposals/{id}/dossier/ (the stored PDF; 409
while it is being rendered) and /api/occasions/{id}/dossiers/ (the secretariat's bundle)."""

from __future__ import annotations

import io
from typing import Any

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from proposals.api.attachments import OCTET_STREAM, BinaryRenderer
from proposals.api.errors import refusals
from proposals.api.views import ApiViewSet, ProposalChildViewSet
from proposals.dossiers.bundle import bundle_filename, bundle_submissions, occasion_bundle_pdf
from proposals.dossiers.store import bundle_allowed, dossier_filename
from proposals.models import Occasion, Submission
from workflow.errors import Reason, RefusalKind, Refused

PDF = {
    (200, "application/pdf"): OpenApiResponse(
        OpenApiTypes.BINARY, description="The PDF, as an attachment."
    ),
    (200, OCTET_STREAM): OpenApiResponse(
        OpenApiTypes.BINARY,
        description="The same bytes, when `Accept` asks for application/octet-stream and not "
        "for application/pdf.",
    ),
}


def _pdf(stream: Any, filename: str) -> FileResponse:
    response = FileResponse(
        stream, as_attachment=True, filename=filename, content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


class _PdfViewMixin:
    """A PDF whatever the Accept header; a refusal is JSON."""

    def get_renderers(self) -> list[BaseRenderer]:
        return [JSONRenderer(), BinaryRenderer()]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(response, Response) and isinstance(
            getattr(request, "accepted_renderer", None), BinaryRenderer
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


class ProposalDossierViewSet(_PdfViewMixin, ProposalChildViewSet):
    """The stored dossier of a submitted proposal, to whoever may see the proposal."""

    queryset = Submission.objects.none()

    @extend_schema(responses={**PDF, **refusals(401, 403, 404, 409)})
    def retrieve(self, request: Request, proposal_id: int) -> Any:
        """The dossier's PDF, as stored when the proposal was submitted (its SHA-256 is the
        submission's `dossier.sha256`). 404 for a proposal not submitted, or submitted before
        dossiers existed; 409 while it is being rendered (a minute at most, usually seconds)."""
        submission = Submission.objects.filter(proposal=self.proposal).first()
        if submission is None or not submission.number:
            raise NotFound(_("This proposal has no dossier."))
        if not submission.dossier:
            raise Refused(
                RefusalKind.CONFLICT,
                [
                    Reason(
                        "dossier_not_ready",
                        _("The dossier is being prepared; try again in a minute."),
                    )
                ],
            )
        response = _pdf(submission.dossier.open("rb"), dossier_filename(submission))
        response["Content-Length"] = str(submission.dossier_size or submission.dossier.size)
        return response


class OccasionBundleViewSet(_PdfViewMixin, ApiViewSet):
    """Every dossier submitted to an occasion, in one PDF with a table of contents."""

    queryset = Occasion.objects.none()

    @extend_schema(responses={**PDF, **refusals(401, 403, 404)})
    def retrieve(self, request: Request, occasion_id: int) -> Any:
        """The bundle (the secretariat only): a table of contents, then each stored dossier.
        404 when no proposal of the occasion was submitted with a dossier."""
        occasion = get_object_or_404(Occasion, pk=occasion_id)
        if not bundle_allowed(request.user):
            raise Refused(
                RefusalKind.PERMISSION,
                [
                    Reason(
                        "not_secretariat",
                        _("Only the secretariat downloads the dossiers of an occasion."),
                    )
                ],
            )
        if not bundle_submissions(occasion):
            raise NotFound(_("No dossier was submitted to this occasion yet."))
        return _pdf(io.BytesIO(occasion_bundle_pdf(occasion)), bundle_filename(occasion))
