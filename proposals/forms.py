"""Input of the transitions that take arguments; shared by the API, the pages and the service."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from proposals.models import OutcomeResult


class RequestChangesForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        max_length=10_000,
        error_messages={"required": _("Say what should change: a comment is required.")},
    )


class SubmitForm(forms.Form):
    reference = forms.CharField(
        label=_("Body's reference or receipt"), max_length=300, required=False
    )


class RecordOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=OutcomeResult.choices,
        error_messages={
            "required": _(
                "Choose the outcome: adopted, adopted in part, not adopted or no response."
            ),
            "invalid_choice": _(
                "%(value)s is not an outcome; choose adopted, adopted_in_part, not_adopted or no_response."
            ),
        },
    )
    decided_on = forms.DateField(label=_("Decided on"), required=False)
    note = forms.CharField(label=_("Note"), max_length=10_000, required=False)
    link = forms.URLField(label=_("Link"), max_length=500, required=False, assume_scheme="https")

    def clean_decided_on(self) -> date:
        decided_on = self.cleaned_data.get("decided_on") or timezone.localdate()
        if decided_on > timezone.localdate():
            raise forms.ValidationError(_("The decision date cannot be in the future."))
        return decided_on


TRANSITION_FORMS: dict[str, type[forms.Form]] = {
    "request_changes": RequestChangesForm,
    "submit": SubmitForm,
    "record_outcome": RecordOutcomeForm,
}
