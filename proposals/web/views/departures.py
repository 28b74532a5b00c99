"""A person's departure: the secretariat records it, choosing who takes over each open proposal
they write; a representative of their organisation asks the secretariat for it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from proposals import departures
from proposals.localized import date_text
from proposals.models import Person
from proposals.selectors import roles_of
from proposals.web.views.common import PersonRequest, posted, refusal_to_form
from workflow.errors import RefusalKind, Refused

HANDOVER_PREFIX = "proposal_"


class DepartureForm(forms.Form):
    """The day of leaving and, per open proposal of the person, who takes it over."""

    left_on = forms.DateField(
        label=gettext_lazy("Last day in the group"),
        help_text=gettext_lazy(
            "Today or later. On that day their roles end and their access is revoked."
        ),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, plan: departures.DeparturePlan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.fields["left_on"].initial = timezone.localdate()
        for handover in plan.handovers:
            blank = (
                _("Its other authors carry on")
                if not handover.needs_successor
                else _("Choose who takes it over")
            )
            self.fields[f"{HANDOVER_PREFIX}{handover.proposal.pk}"] = forms.TypedChoiceField(
                label=handover.proposal.title,
                choices=[("", blank)]
                + [(candidate.pk, str(candidate)) for candidate in handover.candidates],
                coerce=int,
                empty_value=None,
                required=False,
            )

    def handover_fields(self) -> list[tuple[departures.Handover, forms.BoundField]]:
        return [
            (handover, self[f"{HANDOVER_PREFIX}{handover.proposal.pk}"])
            for handover in self.plan.handovers
        ]

    def successors(self) -> dict[int, int]:
        return {
            handover.proposal.pk: self.cleaned_data[f"{HANDOVER_PREFIX}{handover.proposal.pk}"]
            for handover in self.plan.handovers
            if self.cleaned_data.get(f"{HANDOVER_PREFIX}{handover.proposal.pk}") is not None
        }


class DepartureRequestForm(forms.Form):
    left_on = forms.DateField(
        label=gettext_lazy("Last day in the group"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(
        label=gettext_lazy("Note for the secretariat"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("For instance who should take over their drafts."),
    )


def _handover_errors_to_fields(form: DepartureForm, refused: Refused) -> None:
    """Each hand-over reason beside the proposal it names; the others above the form."""
    by_title = {handover.proposal.title: name for handover, name in _field_names(form)}
    for reason in refused.errors.get("handovers", []):
        target = next((name for title, name in by_title.items() if title in reason), None)
        form.add_error(target, reason)
    refusal_to_form(
        form,
        Refused(
            refused.kind,
            [r for r in refused.reasons if r not in refused.errors.get("handovers", [])],
            {k: v for k, v in refused.errors.items() if k != "handovers"},
        ),
    )


def _field_names(form: DepartureForm) -> list[tuple[departures.Handover, str]]:
    return [(h, f"{HANDOVER_PREFIX}{h.proposal.pk}") for h in form.plan.handovers]


@login_required
def person_departure(request: PersonRequest, pk: int) -> HttpResponse:
    """The secretariat records a person's departure: the plan (proposals to hand over, reviews
    they had not decided, endorsements that stay, organisations left without a representative)
    and the form."""
    person = get_object_or_404(Person, pk=pk)
    reasons = departures.departure_permission_reasons(request.user, person)
    if reasons:
        roles = roles_of(request.user)
        if not roles.secretariat_or_superuser:
            raise PermissionDenied(_("Only the secretariat records a departure."))
        return render(
            request,
            "proposals/refused.html",
            {"reasons": reasons, "title": _("Departure of %(person)s") % {"person": person}},
            status=403,
        )
    if person.left_on is not None:
        return render(
            request,
            "proposals/departure.html",
            {"person": person, "left": True, "left_on": date_text(person.left_on)},
        )
    plan = departures.departure_plan(person)
    form = DepartureForm(posted(request), plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            departures.departure_record(
                actor=request.user,
                person=person,
                left_on=form.cleaned_data["left_on"],
                successors=form.successors(),
                request=request,
            )
        except Refused as refused:
            if refused.kind == RefusalKind.PERMISSION:
                raise PermissionDenied(" ".join(refused.reasons)) from None
            _handover_errors_to_fields(form, refused)
        else:
            messages.success(
                request,
                _("The departure of %(person)s on %(date)s is recorded.")
                % {"person": person, "date": date_text(form.cleaned_data["left_on"])},
            )
            return redirect("proposals:person_departure", pk=person.pk)
    return render(
        request,
        "proposals/departure.html",
        {"person": person, "plan": plan, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def person_departure_request(request: PersonRequest, pk: int) -> HttpResponse:
    """A representative asks the secretariat to record the departure of a person of their
    organisation: the secretariat is emailed and records it."""
    person = get_object_or_404(Person, pk=pk)
    reasons = departures.departure_request_reasons(request.user, person)
    if reasons:
        raise PermissionDenied(" ".join(reasons))
    form = DepartureRequestForm(posted(request), initial={"left_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            departures.departure_request(
                actor=request.user,
                person=person,
                left_on=form.cleaned_data["left_on"],
                note=form.cleaned_data["note"],
                request=request,
            )
        except Refused as refused:
            refusal_to_form(form, refused)
        else:
            messages.success(
                request,
                _(
                    "The secretariat is told that %(person)s leaves on %(date)s; it records the "
                    "departure and hands their drafts over."
                )
                % {"person": person, "date": date_text(form.cleaned_data["left_on"])},
            )
            return redirect("proposals:group")
    return render(
        request,
        "proposals/departure_request.html",
        {"person": person, "form": form},
        status=400 if form.errors else 200,
    )
