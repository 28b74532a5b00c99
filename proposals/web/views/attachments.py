"""The files of a proposal in the pages: adding one (its own page, the form also on the
proposal's page), downloading, and removing one after a confirmation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from config.request_limits import request_body_limit
from proposals.attachments import (
    accepted_types_text,
    attachment_add,
    attachment_downloadable,
    attachment_file_response,
    attachment_max_bytes,
    attachment_permission_reasons,
    attachment_remove,
    attachment_removed_reason,
    attachment_state_reasons,
    attachment_visible_to,
    file_size_text,
    upload_body_max_bytes,
)
from proposals.filetypes import ACCEPTED_EXTENSIONS
from proposals.models import ATTACHMENT_TITLE_MAX_LENGTH, Attachment, Proposal, Revision
from proposals.web.views.common import (
    PersonRequest,
    refusal_to_form,
    refusal_to_messages,
    visible_proposal,
)
from workflow.errors import RefusalKind, Refused


class AttachmentForm(forms.Form):
    """A file, its title and, if it belongs to one, the revision of the proposal."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=ATTACHMENT_TITLE_MAX_LENGTH)
    file = forms.FileField(
        label=gettext_lazy("File"),
        allow_empty_file=True,  # the service says what is wrong with an empty file
        widget=forms.FileInput(attrs={"accept": ",".join(ACCEPTED_EXTENSIONS)}),
    )
    revision = forms.TypedChoiceField(
        label=gettext_lazy("Revision it belongs to"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, proposal: Proposal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.proposal = proposal
        self.fields["file"].help_text = _(
            "%(types)s, at most %(limit)s. The type is checked by the file's content."
        ) % {"types": accepted_types_text(), "limit": file_size_text(attachment_max_bytes())}
        numbers = range(proposal.revision, 0, -1)
        field: Any = self.fields["revision"]
        field.choices = [
            ("", _("No particular revision")),
            *((n, _("Revision %(number)s") % {"number": n}) for n in numbers),
        ]

    def clean_revision(self) -> Revision | None:
        number = self.cleaned_data.get("revision")
        if number is None:
            return None
        return Revision.objects.filter(proposal=self.proposal, number=number).first()


def attachment_form_for(proposal: Proposal, data: Any = None, files: Any = None) -> AttachmentForm:
    return AttachmentForm(data, files, proposal=proposal, prefix="attachment")


def detail_with_files(proposal: Proposal) -> str:
    return reverse("proposals:proposal_detail", args=[proposal.pk]) + "#attachments-heading"


@login_required
@request_body_limit(upload_body_max_bytes)
@require_http_methods(["GET", "POST"])
def attachment_add_page(request: PersonRequest, pk: int) -> HttpResponse:
    """The form to add a file (GET); adding it (POST). Input that is wrong stays on this page
    with what to fix; a refusal of who or when returns to the proposal with the reasons."""
    proposal = visible_proposal(request, pk)
    reasons = attachment_permission_reasons(proposal, request.user) or attachment_state_reasons(
        proposal
    )
    form = attachment_form_for(proposal)
    status = 200
    if request.method == "POST":
        form = attachment_form_for(proposal, request.POST, request.FILES)
        if form.is_valid():
            try:
                attachment = attachment_add(
                    proposal=proposal,
                    person=request.user,
                    title=form.cleaned_data["title"],
                    upload=form.cleaned_data["file"],
                    revision=form.cleaned_data["revision"],
                )
            except Refused as refused:
                if refused.kind != RefusalKind.INVALID:
                    refusal_to_messages(request, refused)
                    return redirect(detail_with_files(proposal))
                refusal_to_form(form, refused)
                status = 400
            else:
                messages.success(
                    request, _("“%(title)s” is attached.") % {"title": attachment.title}
                )
                return redirect(detail_with_files(proposal))
        else:
            status = 400
    return render(
        request,
        "proposals/attachment_form.html",
        {"proposal": proposal, "form": form, "reasons": reasons},
        status=status,
    )


def _attachment_or_404(request: PersonRequest, pk: int, attachment_pk: int) -> Attachment:
    attachment = attachment_visible_to(request.user, pk, attachment_pk)
    if attachment is None:
        raise Http404(_("This proposal has no such file."))
    return attachment


@login_required
@require_http_methods(["GET", "HEAD"])
def attachment_download(request: PersonRequest, pk: int, attachment_pk: int) -> HttpResponseBase:
    """The file, as an attachment, to whoever sees the proposal (the secretariat only, once
    it is removed)."""
    attachment = _attachment_or_404(request, pk, attachment_pk)
    if not attachment_downloadable(attachment, request.user):
        raise Http404(attachment_removed_reason(attachment))
    return attachment_file_response(attachment)


@login_required
@require_http_methods(["GET", "POST"])
def attachment_remove_page(request: PersonRequest, pk: int, attachment_pk: int) -> HttpResponse:
    """Confirm (GET), then remove the file (POST): it keeps its record in the history."""
    attachment = _attachment_or_404(request, pk, attachment_pk)
    proposal = visible_proposal(request, pk)
    if request.method == "POST":
        try:
            attachment_remove(attachment=attachment, person=request.user)
        except Refused as refused:
            refusal_to_messages(request, refused)
        else:
            messages.success(request, _("“%(title)s” is removed.") % {"title": attachment.title})
        return redirect(detail_with_files(proposal))
    reasons: list[str] = [
        *(
            attachment_permission_reasons(proposal, request.user)
            or attachment_state_reasons(proposal)
        )
    ]
    if attachment.removed_at is not None:
        reasons = [_("This file is already removed.")]
    return render(
        request,
        "proposals/attachment_remove_confirm.html",
        {"proposal": proposal, "attachment": attachment, "reasons": reasons},
    )
