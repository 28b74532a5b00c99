"""A person's personal data in the pages: their own download and request for erasure (in their
settings), and the erasure the secretariat carries out from the person's page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from proposals import personal_data
from proposals.models import Person
from proposals.selectors import roles_of
from proposals.web.views.common import PersonRequest, posted, refusal_to_form
from workflow.errors import RefusalKind, Refused


class ErasureRequestForm(forms.Form):
    understood = forms.BooleanField(
        label=gettext_lazy(
            "I understand that my account closes and that my name is replaced by a pseudonym "
            "once the secretariat carries out the erasure."
        ),
    )


class ErasureForm(forms.Form):
    confirm = forms.CharField(
        label=gettext_lazy("The person's username, typed again"),
        max_length=150,
        help_text=gettext_lazy("The erasure cannot be undone."),
    )

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.person = person

    def clean_confirm(self) -> str:
        value: str = self.cleaned_data["confirm"]
        if value != self.person.username:
            raise forms.ValidationError(
                _("Type the person's username exactly to confirm the erasure.")
            )
        return value


@login_required
def personal_data_page(request: PersonRequest) -> HttpResponse:
    """What the system holds about the person, the download of it, and their request for
    erasure."""
    form = ErasureRequestForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            personal_data.erasure_request(person=request.user, request=request)
        except Refused as refused:
            refusal_to_form(form, refused)
        else:
            messages.success(
                request,
                _(
                    "Your request is recorded: the secretariat erases your personal data and "
                    "your account closes."
                ),
            )
            return redirect("proposals:personal_data")
    return render(
        request,
        "proposals/personal_data.html",
        {
            "form": form,
            "sections": personal_data.SECTION_LABELS.values(),
            "requested_at": personal_data.erasure_requested_at(request.user),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def personal_data_download(request: PersonRequest) -> HttpResponse:
    """The person's own archive: data.json and a summary in their language, zipped."""
    response = HttpResponse(
        personal_data.personal_data_archive(request.user), content_type="application/zip"
    )
    filename = personal_data.archive_filename(request.user)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def person_erasure(request: PersonRequest, pk: int) -> HttpResponse:
    """The secretariat erases a person's personal data, confirming with their username."""
    person = get_object_or_404(Person, pk=pk)
    reasons = personal_data.erasure_reasons(request.user, person)
    if reasons:
        roles = roles_of(request.user)
        if not roles.secretariat_or_superuser:
            raise PermissionDenied(_("Only the secretariat erases personal data."))
        return render(request, "proposals/refused.html", {"reasons": reasons}, status=403)
    form = ErasureForm(posted(request), person=person)
    if person.erased_at is None and request.method == "POST" and form.is_valid():
        try:
            personal_data.person_erase(actor=request.user, person=person, request=request)
        except Refused as refused:
            if refused.kind == RefusalKind.PERMISSION:
                raise PermissionDenied(" ".join(refused.reasons)) from None
            refusal_to_form(form, refused)
        else:
            messages.success(
                request,
                _("The personal data of %(pseudonym)s is erased.")
                % {"pseudonym": personal_data.pseudonym_of(person)},
            )
            return redirect("proposals:person_erasure", pk=person.pk)
    return render(
        request,
        "proposals/person_erasure.html",
        {
            "person": person,
            "form": form,
            "requested_at": personal_data.erasure_requested_at(person),
        },
        status=400 if form.errors else 200,
    )
