"""The submission dossier in the pages: its download, the draft preview before submission,
and an occasion's bundle for the secretariat."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _

from proposals.dossiers.bundle import bundle_filename, bundle_submissions, occasion_bundle_pdf
from proposals.dossiers.store import (
    bundle_allowed,
    dossier_filename,
    dossier_preview_allowed,
    dossier_preview_pdf,
)
from proposals.models import Occasion, ProposalState
from proposals.web.views.common import PersonRequest, visible_proposal


def _pdf_response(stream: io.BufferedIOBase | io.BytesIO, filename: str) -> FileResponse:
    """A PDF shown in the browser (inline), never cached by a shared cache."""
    response = FileResponse(stream, filename=filename, content_type="application/pdf")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def dossier_download(request: PersonRequest, pk: int) -> HttpResponseBase:
    """The stored dossier of a submitted proposal, to whoever may see the proposal."""
    proposal = visible_proposal(request, pk)
    submission = getattr(proposal, "submission", None)
    if submission is None or not submission.number:
        raise Http404(_("This proposal has no dossier."))
    if not submission.dossier:
        messages.info(request, _("The dossier is being prepared; try again in a minute."))
        return redirect("proposals:proposal_detail", pk=proposal.pk)
    response = _pdf_response(submission.dossier.open("rb"), dossier_filename(submission))
    response["Content-Length"] = str(submission.dossier_size or submission.dossier.size)
    return response


@login_required
def dossier_preview(request: PersonRequest, pk: int) -> HttpResponseBase:
    """The dossier as it would be if the proposal were submitted now, marked DRAFT."""
    proposal = visible_proposal(request, pk)
    if proposal.state in (ProposalState.SUBMITTED, ProposalState.CLOSED):
        return redirect("proposals:dossier_download", pk=proposal.pk)
    if not dossier_preview_allowed(proposal, request.user):
        raise PermissionDenied(_("Only the secretariat and the presidency preview a dossier."))
    pdf = dossier_preview_pdf(proposal)
    return _pdf_response(io.BytesIO(pdf), f"draft-dossier-{proposal.pk}.pdf")


@login_required
def occasion_bundle(request: PersonRequest, pk: int) -> HttpResponse | FileResponse:
    """One PDF of every dossier submitted to the occasion, with its table of contents."""
    occasion = get_object_or_404(Occasion, pk=pk)
    if not bundle_allowed(request.user):
        raise PermissionDenied(_("Only the secretariat downloads the dossiers of an occasion."))
    if not bundle_submissions(occasion):
        messages.info(request, _("No dossier was submitted to this occasion yet."))
        return redirect("proposals:occasion_detail", pk=occasion.pk)
    response = _pdf_response(io.BytesIO(occasion_bundle_pdf(occasion)), bundle_filename(occasion))
    response["Content-Disposition"] = response["Content-Disposition"].replace(
        "inline", "attachment"
    )
    return response
