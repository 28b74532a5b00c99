"""Forms of the pages: writing a proposal, filtering the list, endorsing, transition input,
one's own settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any, cast

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from proposals.filtersets import ProposalFilter, ProposalSortFilter
from proposals.lifecycle import TRANSITIONS
from proposals.limits import (
    COMMENT_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)
from proposals.localized import datetime_text, zone_choices, zone_name
from proposals.models import (
    Body,
    Language,
    Occasion,
    Organization,
    Person,
    Proposal,
    ProposalState,
    Theme,
)
from proposals.notifications import Mode, NotificationGroup, NotificationModeChoice
from proposals.selectors import co_author_candidates, roles_of


def seen_version_field() -> forms.IntegerField:
    """A hidden field with the version of the proposal the page showed, so that a write on a
    proposal that changed since is refused as a conflict."""
    return forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1
    )


class ThemeChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class OccasionChoiceField(forms.ModelChoiceField):
    """Occasions with their submission deadline, in the reader's time zone."""

    def label_from_instance(self, obj: Any) -> str:
        return _("%(occasion)s — deadline %(when)s (%(zone)s)") % {
            "occasion": obj,
            "when": datetime_text(obj.submission_deadline),
            "zone": zone_name(timezone.get_current_timezone()),
        }


class ProposalForm(forms.Form):
    """Title, summary, Markdown text and where the proposal goes."""

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH)
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        max_length=SUMMARY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    text = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        help_text=_("Markdown: # heading, *emphasis*, **strong**, - list item, [link](https://…)."),
        widget=forms.Textarea(attrs={"rows": 16, "class": "monospace"}),
    )
    lead_organization = forms.ModelChoiceField(
        label=_("Lead organisation"), queryset=Organization.objects.none(), empty_label=None
    )
    target_body = forms.ModelChoiceField(
        label=_("Target body"),
        queryset=Body.objects.all(),
        required=False,
        empty_label=_("— choose later —"),
    )
    occasion = OccasionChoiceField(
        label=_("Occasion"),
        queryset=Occasion.objects.all(),
        required=False,
        empty_label=_("— choose later —"),
        help_text=_("Occasions whose deadline is ahead; submit for review before the deadline."),
    )
    themes = ThemeChoiceField(
        label=_("Themes"),
        queryset=Theme.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    language = forms.ChoiceField(label=_("Language of the text"), choices=Language.choices)
    co_authors = forms.ModelMultipleChoiceField(
        label=_("Co-authors"),
        queryset=Person.objects.none(),
        required=False,
        help_text=_(
            "Drafters who write this proposal with you and may edit it. Choose several with "
            "Ctrl-click (⌘-click on a Mac); Ctrl-click a chosen name again to remove it."
        ),
    )
    expected_revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, person: Person, proposal: Proposal | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if proposal is None:
            lead = cast(forms.ModelChoiceField, self.fields["lead_organization"])
            lead.queryset = Organization.objects.filter(
                pk__in=roles_of(person).drafter_organization_ids
            )
            del self.fields["expected_revision"]
            self.fields["language"].initial = (
                person.language if person.language in Language.values else Language.ENGLISH
            )
        else:
            del self.fields["lead_organization"]
        co_authors = cast(forms.ModelMultipleChoiceField, self.fields["co_authors"])
        co_authors.queryset = co_author_candidates().exclude(
            pk=proposal.created_by_id if proposal else person.pk
        )
        occasion = cast(forms.ModelChoiceField, self.fields["occasion"])
        upcoming = Q(submission_deadline__gte=timezone.now())
        if proposal is not None and proposal.occasion_id:
            upcoming |= Q(pk=proposal.occasion_id)
        occasion.queryset = Occasion.objects.filter(upcoming).order_by("submission_deadline")

    def service_fields(self) -> dict[str, Any]:
        """The cleaned fields as the proposal services take them."""
        data = dict(self.cleaned_data)
        data.pop("expected_revision", None)
        return data


class MarkdownPreviewForm(forms.Form):
    """The text to preview: no longer than a proposal's text may be."""

    text = forms.CharField(required=False, strip=False, max_length=TEXT_MAX_LENGTH)


def proposal_initial(proposal: Proposal) -> dict[str, Any]:
    return {
        "title": proposal.title,
        "summary": proposal.summary,
        "text": proposal.text,
        "target_body": proposal.target_body_id,
        "occasion": proposal.occasion_id,
        "themes": [theme.pk for theme in proposal.themes.all()],
        "language": proposal.language,
        "co_authors": [a.pk for a in proposal.authors.all() if a.pk != proposal.created_by_id],
        "expected_revision": proposal.revision,
    }


class ProposalPageFilter(ProposalFilter):
    """The API's proposal filters (proposals.api.filters) with page widgets: one state, and
    deadline bounds as whole days in the reader's time zone."""

    state = django_filters.ChoiceFilter(choices=ProposalState.choices, empty_label=_("Any state"))
    deadline_after = django_filters.DateFilter(
        method="filter_deadline_after", widget=forms.DateInput(attrs={"type": "date"})
    )
    deadline_before = django_filters.DateFilter(
        method="filter_deadline_before", widget=forms.DateInput(attrs={"type": "date"})
    )

    sort = ProposalSortFilter()

    LABELS = {
        "search": (_("Search"), None),
        "state": (_("State"), None),
        "occasion": (_("Occasion"), _("Any occasion")),
        "target_body": (_("Target body"), _("Any body")),
        "lead_organization": (_("Lead organisation"), _("Any organisation")),
        "theme": (_("Theme"), _("Any theme")),
        "deadline_after": (_("Deadline from"), None),
        "deadline_before": (_("Deadline until"), None),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters.pop("ordering", None)
        for name, (label, empty_label) in self.LABELS.items():
            self.filters[name].label = label
            if empty_label is not None:
                self.filters[name].extra["empty_label"] = empty_label
        self.filters["lead_organization"].queryset = Organization.objects.exclude(
            status=Organization.Status.FORMER
        )
        ordered = sorted(self.filters.items(), key=lambda item: self._rank(item[0]))
        self.filters.clear()
        self.filters.update(ordered)

    def _rank(self, name: str) -> int:
        return list(self.LABELS).index(name) if name in self.LABELS else len(self.LABELS)

    def filter_deadline_after(
        self, queryset: QuerySet[Proposal], name: str, value: date
    ) -> QuerySet[Proposal]:
        start = datetime.combine(value, time.min, tzinfo=timezone.get_current_timezone())
        return queryset.filter(occasion__submission_deadline__gte=start)

    def filter_deadline_before(
        self, queryset: QuerySet[Proposal], name: str, value: date
    ) -> QuerySet[Proposal]:
        end = datetime.combine(value, time.max, tzinfo=timezone.get_current_timezone())
        return queryset.filter(occasion__submission_deadline__lte=end)


class EndorseForm(forms.Form):
    """Which of the person's organisations endorses (asked only of those who represent several)."""

    organization = forms.ModelChoiceField(
        label=_("On behalf of"), queryset=Organization.objects.none(), empty_label=None
    )

    password = forms.CharField(
        label=_("Your password"),
        required=False,
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Endorsing signs in your organisation's name: confirm that it is you."),
    )
    code = forms.CharField(
        label=_("Or a two-factor code"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    version = seen_version_field()

    def __init__(
        self, *args: Any, organization_ids: list[int], confirm: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["organization"])
        field.queryset = Organization.objects.filter(pk__in=organization_ids)
        if len(organization_ids) == 1:
            field.widget = forms.HiddenInput()
            field.initial = organization_ids[0]
        if not confirm:
            del self.fields["password"]
            del self.fields["code"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "password" in self.fields and not (cleaned.get("password") or cleaned.get("code")):
            self.add_error(
                "password",
                _(
                    "Enter your password or a two-factor code: you last confirmed it over 15 minutes ago."
                ),
            )
        return cleaned


def transition_form_class(name: str) -> type[forms.Form]:
    """The action's declared input (proposals.lifecycle) as a page shows it: the comment, a
    text area, comes last, and dates get a date picker; a hidden `version` carries the version
    of the proposal the person acted on."""
    base = TRANSITIONS[name].input
    comment = forms.CharField(
        label=_("Comment"),
        required=base.base_fields["comment"].required,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages=base.base_fields["comment"].error_messages,
        help_text=base.base_fields["comment"].help_text,
    )
    order = [field for field in base.base_fields if field != "comment"] + ["comment"]

    def __init__(self: forms.Form, *args: Any, **kwargs: Any) -> None:
        base.__init__(self, *args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.DateField):
                field.widget = forms.DateInput(attrs={"type": "date"})

    return type(
        f"{base.__name__}Page",
        (base,),
        {
            "comment": comment,
            "version": seen_version_field(),
            "field_order": order,
            "__init__": __init__,
        },
    )


def transition_arguments(form: forms.Form) -> tuple[str, dict[str, Any]]:
    """The comment and the raw arguments of a bound transition form, for transition_run (the
    version is what the person saw, not an input of the transition)."""
    comment = form.data.get("comment", "")
    arguments = {
        name: form.data.get(name, "") for name in form.fields if name not in ("comment", "version")
    }
    return comment, arguments


class SettingsForm(forms.ModelForm):
    """What a person chooses for themselves."""

    timezone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("Grouped by region: pick your city, or the nearest one in your time zone."),
        # zone-filter.js adds a search box, labelled with this, that narrows the list.
        widget=forms.Select(attrs={"data-zone-filter": _("Find a city or a country")}),
    )

    class Meta:
        model = Person
        fields = ["language", "timezone", "daily_digest", "optional_notifications"]
        labels = {
            "language": _("Language"),
            "daily_digest": _("Daily digest"),
            "optional_notifications": _("Optional notifications"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zones = cast(forms.ChoiceField, self.fields["timezone"])
        zones.choices = zone_choices(self.instance.timezone)


class NotificationModesForm(forms.Form):
    """One group of radio buttons per kind of notice: in the pages only, by email too, or in
    the daily digest (what asks to act and reminders: by email or in the digest).

    A hidden `shown` field travels with the buttons: a form posted without it (one made
    before they existed, or a script) changes no choice; a kind posted without a choice
    stays as it is.
    """

    shown = forms.BooleanField(required=False, initial=True, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        groups: Sequence[tuple[NotificationGroup, Sequence[NotificationModeChoice]]],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", "notify")
        super().__init__(*args, **kwargs)
        labels = dict(Mode.choices)
        self.groups = [(group, list(choices)) for group, choices in groups]
        for _group, choices in self.groups:
            for choice in choices:
                self.fields[notification_field_name(choice.event)] = forms.ChoiceField(
                    required=False,
                    initial=choice.mode,
                    label=choice.label,
                    help_text=choice.description,
                    choices=[(mode, labels[mode]) for mode in choice.modes],
                    widget=forms.RadioSelect,
                )

    def grouped(self) -> list[tuple[NotificationGroup, list[forms.BoundField]]]:
        """The groups of kinds with their radio buttons, in the order the settings show them."""
        return [
            (group, [self[notification_field_name(choice.event)] for choice in choices])
            for group, choices in self.groups
        ]

    def wanted(self) -> dict[str, str]:
        """Event kind → mode, as posted; empty when the buttons were not part of the form."""
        if not self.cleaned_data.get("shown"):
            return {}
        return {
            choice.event: self.cleaned_data[notification_field_name(choice.event)]
            for _group, choices in self.groups
            for choice in choices
            if self.cleaned_data.get(notification_field_name(choice.event))
        }


def notification_field_name(event: str) -> str:
    """A form field's name for an event kind (proposal.approved → proposal__approved)."""
    return event.replace(".", "__")
