"""Reminder rules in the admin: the secretariat sets when reminders go out."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from proposals import reference
from proposals.admin.writes import ServiceWritesAdmin, Writes
from proposals.models import ReminderRule, default_reminder_offsets, validate_reminder_offsets


class OffsetsField(forms.Field):
    """Days before the deadline typed as "30, 14, 7, 2, 1"."""

    widget = forms.TextInput

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(str(days) for days in value)
        return value

    def to_python(self, value: Any) -> list[int]:
        text = str(value or "")
        try:
            offsets = [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
        except ValueError:
            raise ValidationError(
                _("Give whole numbers of days separated by commas, such as 30, 14, 7, 2, 1.")
            ) from None
        validate_reminder_offsets(offsets)
        return sorted(offsets, reverse=True)


class ReminderRuleForm(forms.ModelForm):
    offsets = OffsetsField(
        label=_("days before the deadline"),
        initial=", ".join(str(days) for days in default_reminder_offsets()),
        help_text=_("Whole days separated by commas, such as 30, 14, 7, 2, 1."),
    )

    class Meta:
        model = ReminderRule
        fields = ["occasion_kind", "occasion", "offsets"]


@admin.register(ReminderRule)
class ReminderRuleAdmin(ServiceWritesAdmin):
    """A rule for a kind of occasion, or for one occasion (which overrides its kind's); written
    by the services of proposals.reference, audited."""

    writes = Writes(
        create=reference.reminder_rule_create,
        update=reference.reminder_rule_update,
        delete=reference.reminder_rule_delete,
        name="rule",
        fields=reference.REMINDER_RULE_FIELDS,
    )

    form = ReminderRuleForm
    list_display = ("__str__", "occasion_kind", "occasion", "days", "updated_at")
    list_filter = ("occasion_kind",)
    list_select_related = ("occasion",)
    autocomplete_fields = ("occasion",)
    search_fields = ("occasion__name",)

    @admin.display(description=_("days before the deadline"))
    def days(self, rule: ReminderRule) -> str:
        return ", ".join(str(days) for days in rule.sorted_offsets)
