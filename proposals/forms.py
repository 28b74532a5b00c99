"""Input of the transitions that take arguments; shared by the API, the pages and the service."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from proposals.limits import (
    COMMENT_MAX_LENGTH,
    LINK_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    REFERENCE_MAX_LENGTH,
)
from proposals.models import OutcomeResult


class CommentForm(forms.Form):
    """The input of a transition that takes only an optional comment."""

    comment = forms.CharField(label=_("Comment"), max_length=COMMENT_MAX_LENGTH, required=False)


class RequestChangesForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        max_length=COMMENT_MAX_LENGTH,
        error_messages={"required": _("Say what should change: a comment is required.")},
    )


class SubmitForm(forms.Form):
    reference = forms.CharField(
        label=_("Body's reference or receipt"), max_length=REFERENCE_MAX_LENGTH, required=False
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
    note = forms.CharField(label=_("Note"), max_length=NOTE_MAX_LENGTH, required=False)
    link = forms.URLField(
        label=_("Link"), max_length=LINK_MAX_LENGTH, required=False, assume_scheme="https"
    )

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
