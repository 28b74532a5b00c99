"""Serializers: they validate input and shape output; the services act."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import cached_property
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS

from proposals.forecast import REASONS, STEPS, Forecast, forecasts_for
from proposals.lifecycle import TRANSITIONS, transitions_allowed
from proposals.limits import (
    DEADLINE_CHANGE_REASON_MAX_LENGTH,
)
from proposals.models import (
    Body,
    Endorsement,
    Language,
    Occasion,
    Organization,
    OutcomeResult,
    Person,
    PresidencyTerm,
    Proposal,
    Review,
    Revision,
    Role,
    Theme,
)
from proposals.notifications import OPTIONAL_NOTIFICATIONS
from proposals.records import AuditEvent, TransitionLog
from proposals.security import security_event_label
from proposals.selectors import roles_of

MAX_COUNT = 100  # of approvals or endorsements an occasion may require
EARLIEST_YEAR = 1900
LATEST_YEAR = 2200


def requester_of(serializer: serializers.BaseSerializer[Any]) -> Any:
    """The person making the request the serializer works for."""
    request = serializer.context.get("request")
    return getattr(request, "user", None)


def check_year(value: dt.date) -> None:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise serializers.ValidationError(
            _("Give a date between the years %(first)s and %(last)s.")
            % {"first": EARLIEST_YEAR, "last": LATEST_YEAR}
        )


def model_clean(instance: Any) -> None:
    """Run the model's own clean(), turning its errors into input errors."""
    try:
        instance.clean()
    except DjangoValidationError as error:
        raise serializers.ValidationError(
            error.message_dict
            if hasattr(error, "error_dict")
            else {"non_field_errors": error.messages}
        ) from None


def merged(serializer: serializers.ModelSerializer[Any], attrs: dict[str, Any], name: str) -> Any:
    """The value of `name` after this write: the new one, else the stored one."""
    if name in attrs:
        return attrs[name]
    instance = serializer.instance
    return getattr(instance, name) if instance is not None else None


class StrictEmailField(serializers.EmailField):
    """An email address given as a string."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TextField(serializers.CharField):
    """A string, and only a string: a number or a boolean is a wrong type, not text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false, and nothing else: "yes", 1 or "true" are the wrong type."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: a string of digits, a fraction or a boolean is the wrong type."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictManyRelatedField(serializers.ManyRelatedField):
    """A JSON array of ids: an object or a string is not a list."""

    def to_internal_value(self, data: Any) -> list[Any]:
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        return list(super().to_internal_value(data))


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField[Any]):
    """An object's id as a JSON integer (many: an array of them)."""

    @classmethod
    def many_init(cls, *args: Any, **kwargs: Any) -> serializers.ManyRelatedField:
        list_kwargs: dict[str, Any] = {"child_relation": cls(*args, **kwargs)}
        for key in kwargs:
            if key in MANY_RELATION_KWARGS:
                list_kwargs[key] = kwargs[key]
        return StrictManyRelatedField(**list_kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class ModelSerializer(serializers.ModelSerializer[Any]):
    """Model fields of text take strings only. It validates and shows; it never writes: the
    views hand what it validated to a service of the domain, which writes and audits."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: TextField,
        models.TextField: TextField,
        models.EmailField: StrictEmailField,
        models.BooleanField: StrictBooleanField,
        models.IntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
    }
    serializer_related_field = StrictPrimaryKeyRelatedField

    def create(self, validated_data: Any) -> Any:
        raise NotImplementedError("A serializer validates; a service of the domain writes.")

    def update(self, instance: Any, validated_data: Any) -> Any:
        raise NotImplementedError("A serializer validates; a service of the domain writes.")


YEAR_PATTERN = "(19[0-9]{2}|2[01][0-9]{2}|2200)"
"""A year from 1900 to 2200, as the start of an ISO 8601 date."""

TIME_ZONE_NAMES = sorted(zoneinfo.available_timezones())


TIME_ZONE_CHOICES = [(name, name) for name in TIME_ZONE_NAMES]


class TimeZoneField(serializers.ChoiceField):
    """An IANA time zone name, such as Europe/Paris.

    Its choices are not among the arguments it was declared with: a serializer copies each
    field from those arguments for every request, and copying some 600 choices each time was
    the larger part of the time of a small API request."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "An IANA time zone name, such as Europe/Paris.")
        super().__init__(choices=TIME_ZONE_CHOICES, **kwargs)


def time_zone_field(**kwargs: Any) -> serializers.ChoiceField:
    """An IANA time zone name, such as Europe/Paris."""
    return TimeZoneField(**kwargs)


class NullWhenBlankChoiceField(serializers.ChoiceField):
    """A choice stored blank when there is none, read and written as null (a blank is still
    read as none, for the clients that sent one)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_null=True, **kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        is_empty, value = super().validate_empty_values(data)
        return is_empty, ("" if is_empty and value is None else value)

    def to_internal_value(self, data: Any) -> Any:
        return "" if data == "" else super().to_internal_value(data)

    def to_representation(self, value: Any) -> Any:
        return None if value in ("", None) else super().to_representation(value)


@extend_schema_field(
    {"type": "string", "format": "date", "pattern": f"^{YEAR_PATTERN}-[0-9]{{2}}-[0-9]{{2}}$"}
)
class YearBoundDateField(serializers.DateField):
    """A date whose year is plausible (1900–2200), so that date arithmetic never overflows."""

    def to_internal_value(self, value: Any) -> dt.date:
        parsed = super().to_internal_value(value)
        check_year(parsed)
        return parsed


@extend_schema_field(
    {
        "type": "string",
        "format": "date-time",
        "pattern": f"^{YEAR_PATTERN}-[0-9]{{2}}-[0-9]{{2}}T.*([Zz]|[+-][0-9]{{2}}:?[0-9]{{2}})$",
    }
)
class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date and time that must carry its UTC offset (2025-11-10T23:59:00-03:00)."""

    default_error_messages = {
        "invalid": gettext_lazy(
            "Give a date and time in ISO 8601 with its offset, such as 2025-11-10T23:59:00-03:00."
        ),
        "naive": gettext_lazy(
            "Give the date and time with its offset from UTC, such as 2025-11-10T23:59:00-03:00."
        ),
    }

    def to_internal_value(self, value: Any) -> dt.datetime:
        if not isinstance(value, str):
            self.fail("invalid")
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid")
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            self.fail("naive")
        check_year(parsed)
        return parsed


def local_iso(moment: dt.datetime | None, zone: Any) -> str | None:
    """The moment in ISO 8601 with the offset of `zone`."""
    return moment.astimezone(zone).isoformat() if moment is not None else None


# Reference data


class OrganizationSerializer(ModelSerializer):
    joined_on = YearBoundDateField(required=False, allow_null=True)
    left_on = YearBoundDateField(required=False, allow_null=True)

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "short_name",
            "kind",
            "status",
            "country",
            "joined_on",
            "left_on",
            "parent",
            "is_secretariat",
        ]
        read_only_fields = ["is_secretariat"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        status = merged(self, attrs, "status")
        if merged(self, attrs, "left_on") and status != Organization.Status.FORMER:
            raise serializers.ValidationError(
                {"left_on": [_("Only a former member has a date it left on.")]}
            )
        parent = attrs.get("parent")
        if parent is not None and self.instance is not None:
            ancestor: Organization | None = parent
            while ancestor is not None:
                if ancestor.pk == self.instance.pk:
                    raise serializers.ValidationError(
                        {"parent": [_("An organisation cannot be part of itself.")]}
                    )
                ancestor = ancestor.parent
        return attrs


class OrganizationRolesSerializer(serializers.Serializer):
    """One organisation a person acts for, with their roles in it."""

    id = StrictPrimaryKeyRelatedField(queryset=Organization.objects.all())
    name = serializers.CharField(read_only=True)
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), allow_empty=False, max_length=4
    )


class PersonSerializer(ModelSerializer):
    """A person; the email is shown only to the secretariat and to the person themself."""

    name = serializers.SerializerMethodField()
    organizations = OrganizationRolesSerializer(many=True, required=False)
    timezone = time_zone_field(required=False)

    class Meta:
        model = Person
        fields = [
            "id",
            "username",
            "name",
            "first_name",
            "last_name",
            "email",
            "organizations",
            "language",
            "timezone",
        ]

    def get_name(self, person: Person) -> str:
        return person.get_full_name() or person.username

    def to_representation(self, instance: Person) -> dict[str, Any]:
        data = super().to_representation(instance)
        viewer = requester_of(self)
        roles = roles_of(viewer)
        if not (roles.secretariat_or_superuser or roles.person_id == instance.pk):
            data.pop("email", None)
        by_organization: dict[int, dict[str, Any]] = {}
        for membership in instance.memberships.all():
            entry = by_organization.setdefault(
                membership.organization_id,
                {
                    "id": membership.organization_id,
                    "name": membership.organization.name,
                    "roles": [],
                },
            )
            entry["roles"].append(membership.role)
        data["organizations"] = list(by_organization.values())
        return data

    def validate_organizations(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: set[int] = set()
        for entry in value:
            organization = entry["id"]
            if organization.pk in seen:
                raise serializers.ValidationError(
                    _("%(name)s is listed twice; give all its roles at once.")
                    % {"name": organization.name}
                )
            seen.add(organization.pk)
            if Role.SECRETARIAT in entry["roles"] and not organization.is_secretariat:
                raise serializers.ValidationError(
                    _("Only people of the secretariat organisation can be secretariat.")
                )
        return value

    def role_pairs(self) -> set[tuple[Organization, str]] | None:
        """The (organisation, role) pairs asked for, or None when roles are not being set."""
        data = cast(dict[str, Any], self.validated_data)
        if "organizations" not in data:
            return None
        return {(entry["id"], role) for entry in data["organizations"] for role in entry["roles"]}

    def profile_changes(self) -> dict[str, Any]:
        """The validated fields other than roles, under the names the services take."""
        data = dict(cast(dict[str, Any], self.validated_data))
        data.pop("organizations", None)
        return data


class EmailChangeSerializer(serializers.Serializer):
    """A person's own new address, confirmed with their password; a link goes to it."""

    email = StrictEmailField(max_length=254)
    password = TextField(max_length=4096, trim_whitespace=False)


class NoticeSerializer(serializers.Serializer):
    """What was done, and what happens next."""

    detail = serializers.CharField(help_text="What was done, in one or more sentences.")
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="The same, sentence by sentence."
    )


class EmailChangeConfirmSerializer(serializers.Serializer):
    token = TextField(max_length=1000)


class NotificationChoiceSerializer(serializers.Serializer):
    """One kind of optional email and whether the person wants it."""

    event = serializers.CharField(
        read_only=True, help_text="The event kind, such as proposal.approved."
    )
    # A serializer's own `label` attribute, as the stubs see it; DRF takes it as a field.
    label = serializers.CharField(  # type: ignore[assignment]
        read_only=True, help_text="What it is, in your language."
    )
    description = serializers.CharField(read_only=True, help_text="When it is sent.")
    channel = serializers.CharField(
        read_only=True, help_text="How it comes: email, the only channel today."
    )
    enabled = serializers.BooleanField(
        read_only=True,
        help_text="Whether you get it. While your optional notifications are off "
        "(optional_notifications), none of these is sent, whatever this says.",
    )


NOTIFICATION_EVENTS = [kind.event for kind in OPTIONAL_NOTIFICATIONS]

NOTIFICATION_CHOICES_REQUEST: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "description": "Each kind to change, with true (send it) or false.",
            "properties": {event: {"type": "boolean"} for event in NOTIFICATION_EVENTS},
            "additionalProperties": False,
            "example": {"proposal.approved": False},
        },
        {
            "type": "array",
            "description": "A list such as GET returns; only event and enabled are read.",
            "items": {
                "type": "object",
                "properties": {
                    "event": {"type": "string", "enum": NOTIFICATION_EVENTS},
                    "enabled": {"type": "boolean"},
                },
                "required": ["event", "enabled"],
            },
        },
    ]
}
"""The body of a change of one's notification choices, as the schema documents it."""


def notification_wanted(data: Any) -> dict[str, bool]:
    """The choices a body names, event kind → wanted: {"proposal.approved": false, ...} or a
    list of {"event", "enabled"}. Only the shape is checked here; the service refuses kinds
    that cannot be turned off."""
    not_boolean = _("Must be true or false.")
    errors: dict[str, list[str]] = {}
    wanted: dict[str, bool] = {}
    if isinstance(data, dict):
        for event, enabled in data.items():
            if isinstance(enabled, bool):
                wanted[event] = enabled
            else:
                errors[event] = [not_boolean]
    elif isinstance(data, list):
        for index, item in enumerate(data):
            where = f"[{index}]"
            event = item.get("event") if isinstance(item, dict) else None
            enabled = item.get("enabled") if isinstance(item, dict) else None
            if not isinstance(event, str) or not event:
                errors[where] = [_('Give each kind as {"event": ..., "enabled": true or false}.')]
            elif not isinstance(enabled, bool):
                errors[where] = [not_boolean]
            elif event in wanted:
                errors[where] = [_("“%(event)s” is named twice.") % {"event": event}]
            else:
                wanted[event] = enabled
    else:
        errors["non_field_errors"] = [
            _(
                "Send an object of kinds with true or false, such as "
                '{"proposal.approved": false}, or a list of {"event", "enabled"}.'
            )
        ]
    if errors:
        raise serializers.ValidationError(errors)
    return wanted


class PresidencyTermSerializer(ModelSerializer):
    starts_on = YearBoundDateField()
    ends_on = YearBoundDateField()

    class Meta:
        model = PresidencyTerm
        fields = ["id", "organization", "starts_on", "ends_on"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        starts_on, ends_on = merged(self, attrs, "starts_on"), merged(self, attrs, "ends_on")
        if starts_on and ends_on and ends_on <= starts_on:
            raise serializers.ValidationError({"ends_on": [_("A term ends after it starts.")]})
        term = PresidencyTerm(
            pk=self.instance.pk if self.instance else None,
            organization=merged(self, attrs, "organization"),
            starts_on=starts_on,
            ends_on=ends_on,
        )
        model_clean(term)
        return attrs


class BodySerializer(ModelSerializer):
    class Meta:
        model = Body
        fields = ["id", "name", "level", "country"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if merged(self, attrs, "level") == Body.Level.NATIONAL and not merged(
            self, attrs, "country"
        ):
            raise serializers.ValidationError(
                {"country": [_("A national body belongs to a country: give its ISO code.")]}
            )
        return attrs


class OccasionSerializer(ModelSerializer):
    """An occasion; its deadline is shown in its own time zone, and a change of it is a
    recorded move (proposals.services.occasion_move_deadline)."""

    starts_on = YearBoundDateField()
    ends_on = YearBoundDateField()
    timezone = time_zone_field(required=False)
    submission_deadline = AwareDateTimeField(
        help_text="ISO 8601 with its UTC offset; shown in the occasion's time zone."
    )
    deadline_change_reason = TextField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=DEADLINE_CHANGE_REASON_MAX_LENGTH,
        help_text="Why the deadline moves (kept with the recorded move).",
    )

    class Meta:
        model = Occasion
        fields = [
            "id",
            "name",
            "kind",
            "location",
            "timezone",
            "starts_on",
            "ends_on",
            "submission_deadline",
            "deadline_version",
            "required_approvals",
            "endorsement_quorum",
            "accepts_late_submissions",
            "deadline_change_reason",
            # Where an imported occasion came from (proposals.calendar_import), read only.
            "body",
            "feed",
            "feed_uid",
            "imported_at",
            "pinned_fields",
            "cancelled_at",
        ]
        read_only_fields = [
            "deadline_version",
            "body",
            "feed",
            "feed_uid",
            "imported_at",
            "pinned_fields",
            "cancelled_at",
        ]
        extra_kwargs = {
            "required_approvals": {"max_value": MAX_COUNT},
            "endorsement_quorum": {"max_value": MAX_COUNT},
        }

    def to_representation(self, instance: Occasion) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["submission_deadline"] = local_iso(instance.submission_deadline, instance.zone)
        return data

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        starts_on, ends_on = merged(self, attrs, "starts_on"), merged(self, attrs, "ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            raise serializers.ValidationError(
                {"ends_on": [_("An occasion cannot end before it starts.")]}
            )
        return attrs


# Proposals


class OutcomeSerializer(serializers.Serializer):
    """What the body did with the proposal, recorded by the secretariat."""

    result = serializers.ChoiceField(choices=OutcomeResult.choices)
    decided_on = serializers.DateField()
    note = serializers.CharField(help_text="Blank when none was given.")
    link = serializers.CharField(help_text="A URL, or blank when none was given.")
    recorded_at = serializers.DateTimeField()


class DossierSerializer(serializers.Serializer):
    """The submission's dossier: `ready` once it is rendered and stored (until then `url`
    answers 409); `sha256` and `size` are those of the stored PDF."""

    ready = serializers.BooleanField()
    url = serializers.CharField(help_text="The address of the PDF.")
    sha256 = serializers.CharField(allow_null=True)
    size = serializers.IntegerField(allow_null=True)
    rendered_at = serializers.DateTimeField(allow_null=True)


class SubmissionSerializer(serializers.Serializer):
    body = serializers.IntegerField(source="body_id")
    submitted_at = serializers.DateTimeField()
    reference = serializers.CharField()
    number = serializers.CharField(
        help_text="The dossier's number (ILG-<year>-<proposal>); empty for a submission made "
        "before dossiers existed."
    )
    fingerprint = serializers.CharField(
        help_text="SHA-256 of the submitted title, summary and text in their canonical form "
        "(docs/dossier.md); empty before dossiers existed."
    )
    dossier = serializers.SerializerMethodField()

    @extend_schema_field(DossierSerializer(allow_null=True))
    def get_dossier(self, submission: Any) -> dict[str, Any] | None:
        if not submission.number:
            return None
        request = self.context.get("request")
        url = reverse("proposal-dossier", kwargs={"proposal_id": submission.proposal_id})
        ready = bool(submission.dossier)
        return {
            "ready": ready,
            "url": request.build_absolute_uri(url) if request is not None else url,
            "sha256": submission.dossier_sha256 if ready else None,
            "size": submission.dossier_size if ready else None,
            "rendered_at": (
                serializers.DateTimeField().to_representation(submission.dossier_rendered_at)
                if ready and submission.dossier_rendered_at
                else None
            ),
        }


class ForecastSerializer(serializers.Serializer):
    """The chance that an open proposal is submitted before its deadline, learned from how long
    each step took in the group's history (docs/forecast.md); null for a proposal not open."""

    probability = serializers.FloatField(
        allow_null=True,
        help_text="From 0 to 1; null when history cannot tell (see reason).",
    )
    expected_submission = serializers.DateField(
        allow_null=True, help_text="The median of the forecast's draws, in the occasion's zone."
    )
    weighing_step = serializers.ChoiceField(
        choices=list(STEPS),
        allow_null=True,
        help_text="The step whose remaining duration is the largest in expectation.",
    )
    typical_days = serializers.IntegerField(
        allow_null=True, help_text="How many days that step usually takes (its median)."
    )
    days_left = serializers.IntegerField(
        allow_null=True, help_text="Whole days left before the deadline."
    )
    at_risk = serializers.BooleanField(
        help_text="The probability is below the threshold (FORECAST_AT_RISK_BELOW)."
    )
    reason = NullWhenBlankChoiceField(
        choices=list(REASONS),
        help_text="Why there is no probability (null when there is one): not_enough_history, "
        "beyond_history (in this step longer than nearly every past proposal), "
        "deadline_passed, no_deadline.",
    )


class ProposalListSerializer(serializers.ListSerializer):
    """A page of proposals: the transitions the requester can run are decided for the whole
    page at once (proposals.lifecycle.transitions_allowed), from the prefetched facts."""

    def to_representation(self, data: Any) -> list[Any]:
        proposals = list(data.all() if isinstance(data, models.Manager) else data)
        context = cast(dict[str, Any], self._context)
        context["transitions_allowed"] = transitions_allowed(proposals, requester_of(self))
        context["forecasts"] = forecasts_for(proposals)
        return super().to_representation(proposals)


class ProposalSerializer(ModelSerializer):
    """A proposal as the requester sees it, with the transitions they can run now.

    On create, `authors` are the co-authors (the creator is always one) and
    `lead_organization` defaults to the creator's own; on edit, `expected_revision`
    refuses an edit made on an older revision.
    """

    authors = StrictPrimaryKeyRelatedField(
        many=True, required=False, queryset=Person.objects.filter(is_active=True)
    )
    lead_organization = StrictPrimaryKeyRelatedField(
        required=False, allow_null=True, queryset=Organization.objects.all()
    )
    themes = StrictPrimaryKeyRelatedField(many=True, required=False, queryset=Theme.objects.all())
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    text_html = serializers.CharField(read_only=True)
    deadline = serializers.SerializerMethodField()
    outcome = OutcomeSerializer(source="outcome_record", read_only=True, allow_null=True)
    submission = SubmissionSerializer(read_only=True, allow_null=True)
    transitions = serializers.SerializerMethodField()
    forecast = serializers.SerializerMethodField()
    expected_revision = StrictIntegerField(
        write_only=True,
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="The revision this edit was made on; a newer one refuses the edit (409).",
    )

    class Meta:
        model = Proposal
        list_serializer_class = ProposalListSerializer
        fields = [
            "id",
            "title",
            "summary",
            "text",
            "text_html",
            "state",
            "lead_organization",
            "authors",
            "target_body",
            "occasion",
            "themes",
            "language",
            "revision",
            "version",
            "outcome",
            "submission",
            "deadline",
            "created_at",
            "updated_at",
            "transitions",
            "forecast",
            "expected_revision",
        ]
        read_only_fields = ["state", "revision", "version", "created_at", "updated_at"]

    @extend_schema_field(
        serializers.DateTimeField(
            allow_null=True,
            help_text="The occasion's submission deadline, in its time zone; null without an "
            "occasion.",
        )
    )
    def get_deadline(self, proposal: Proposal) -> str | None:
        occasion = proposal.occasion
        return local_iso(occasion.submission_deadline, occasion.zone) if occasion else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_transitions(self, proposal: Proposal) -> list[str]:
        page = self.context.get("transitions_allowed")
        if page is not None and proposal.pk in page:
            return list(page[proposal.pk])
        return transitions_allowed([proposal], requester_of(self))[proposal.pk]

    @extend_schema_field(ForecastSerializer(allow_null=True))
    def get_forecast(self, proposal: Proposal) -> dict[str, Any] | None:
        page = self.context.get("forecasts")
        found: Forecast | None = (
            page.get(proposal.pk)
            if page is not None
            else forecasts_for([proposal]).get(proposal.pk)
        )
        return None if found is None else self.forecast_shape.to_representation(found)

    @cached_property
    def forecast_shape(self) -> ForecastSerializer:
        """One forecast serializer for every row: a serializer copies its fields when made,
        which, made for each row, was a tenth of a page's time."""
        return ForecastSerializer()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "lead_organization" in attrs:
            raise serializers.ValidationError(
                {"lead_organization": [_("The lead organisation of a proposal does not change.")]}
            )
        if self.instance is None and "expected_revision" in attrs:
            attrs.pop("expected_revision")
        return attrs

    def service_arguments(self) -> dict[str, Any]:
        """The validated input under the names the services take."""
        arguments = dict(cast(dict[str, Any], self.validated_data))
        if "authors" in arguments:
            arguments["co_authors"] = arguments.pop("authors")
        return arguments


class TransitionOptionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    target = serializers.CharField()
    allowed = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())


class FormChoiceField(serializers.ChoiceField):
    """A choice of a declared input form, refused in the form's own words."""

    def __init__(self, form_field: forms.Field, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.form_messages = form_field.error_messages

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError:
            message = self.form_messages.get("invalid_choice")
            if message is None:
                raise
            raise serializers.ValidationError(
                str(message) % {"value": data}, code="invalid_choice"
            ) from None


def input_field(form_field: forms.Field) -> serializers.Field:
    """The API field of one field of a declared input form, typed as the form reads it (a
    choice, an ISO 8601 date, a URL, a text), with its length limit and help; the form itself,
    run by the service, checks the rest."""
    help_text = str(form_field.help_text or form_field.label or "")
    options: dict[str, Any] = {"required": False, "help_text": help_text}
    if isinstance(form_field, forms.ChoiceField):
        choices = cast(list[tuple[Any, Any]], list(cast(Any, form_field.choices)))
        return FormChoiceField(
            form_field,
            choices=[(value, label) for value, label in choices if value != ""],
            **options,
        )
    if isinstance(form_field, forms.DateField):
        return YearBoundDateField(allow_null=True, **options)
    max_length = getattr(form_field, "max_length", None)
    if isinstance(form_field, forms.URLField):
        return serializers.URLField(allow_blank=True, max_length=max_length, **options)
    return TextField(allow_blank=True, max_length=max_length, **options)


def seen_version_field() -> StrictIntegerField:
    """The version of the proposal the client acted on (an API field, not a lifecycle input)."""
    return StrictIntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="The proposal's `version` the client acted on: if the proposal changed since, "
        "the request is refused (409) and nothing is written. Without it, only a change made "
        "while this request runs is refused.",
    )


class TransitionInputSerializer(serializers.Serializer):
    """What a transition takes, from the inputs the lifecycle declares (proposals.lifecycle): a
    comment (required to request changes), for `submit` the body's reference, for
    `record_outcome` the outcome, its date, a note and a link; and, for every transition, the
    `version` of the proposal the client acted on."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields: dict[str, serializers.Field] = {}
        for action in TRANSITIONS.values():
            for name, form_field in action.input.base_fields.items():
                fields.setdefault(name, input_field(form_field))
        fields["version"] = seen_version_field()
        return fields

    def arguments(self) -> dict[str, Any]:
        """The lifecycle's inputs besides the comment (not the version, which is no input of
        the transition but what the client saw); a null is no value."""
        data = cast(dict[str, Any], self.validated_data)
        return {
            name: value
            for name, value in data.items()
            if name not in ("comment", "version") and value is not None
        }

    def seen_version(self) -> int | None:
        return cast(dict[str, Any], self.validated_data).get("version")


class EndorsementSerializer(ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    endorsed_by: serializers.SlugRelatedField[Person] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    withdrawn_by: serializers.SlugRelatedField[Person] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    at = serializers.DateTimeField(source="created_at", read_only=True)
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = Endorsement
        fields = [
            "id",
            "organization",
            "organization_name",
            "endorsed_by",
            "at",
            "active",
            "withdrawn_at",
            "withdrawn_by",
        ]
        read_only_fields = fields


class EndorsementCreateSerializer(serializers.Serializer):
    organization = StrictPrimaryKeyRelatedField(
        queryset=Organization.objects.all(),
        required=False,
        allow_null=True,
        help_text="The organisation that endorses, when the requester represents several.",
    )
    password = TextField(
        max_length=4096,
        trim_whitespace=False,
        required=False,
        write_only=True,
        help_text="Your password, unless you confirmed who you are in the last 15 minutes "
        "(a token from a login that recent counts).",
    )
    otp = TextField(
        max_length=64,
        required=False,
        write_only=True,
        help_text="A two-factor code, instead of the password.",
    )
    version = seen_version_field()


class ReviewSerializer(ModelSerializer):
    revision = serializers.IntegerField(source="revision.number", read_only=True)
    reviewer: serializers.SlugRelatedField[Person] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Review
        fields = ["id", "revision", "reviewer", "decision", "comment", "at"]
        read_only_fields = fields


class RevisionSerializer(ModelSerializer):
    author: serializers.SlugRelatedField[Person] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Revision
        fields = ["number", "title", "summary", "text", "author", "created_at"]
        read_only_fields = fields


class RevisionDiffQuerySerializer(serializers.Serializer):
    """`from` and `to` revision numbers; by default the current revision and the one before."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "from": serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1),
            "to": serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1),
        }


class RevisionDiffSerializer(serializers.Serializer):
    """Unified diff lines of title, summary and text from one revision to another."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "from": serializers.IntegerField(),
            "to": serializers.IntegerField(),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                help_text="For title, summary and text: the unified diff lines (empty when "
                "unchanged).",
            ),
        }


class HistoryLineSerializer(ModelSerializer):
    """One line of a proposal's history; `kind` names what was done (`other` for a kind this
    version of the API does not know) and says the shape of `data`."""

    kind = serializers.SerializerMethodField()
    actor: serializers.SlugRelatedField[Person] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = TransitionLog
        fields = ["id", "kind", "transition", "source", "target", "actor", "at", "comment", "data"]
        read_only_fields = fields

    def get_kind(self, entry: TransitionLog) -> str:
        return entry.transition if entry.transition in HISTORY_DATA else "other"


HistoryEntrySerializer = HistoryLineSerializer


def history_data_field(form_field: forms.Field) -> serializers.Field:
    """How one input of a transition is kept in its history entry's `data`."""
    if isinstance(form_field, forms.ChoiceField):
        choices = cast(list[tuple[Any, Any]], list(cast(Any, form_field.choices)))
        return serializers.ChoiceField(choices=[c for c in choices if c[0] != ""])
    if isinstance(form_field, forms.DateField):
        return serializers.DateField()
    return serializers.CharField(allow_blank=True)


def history_data_serializer(name: str, fields: dict[str, serializers.Field]) -> type:
    return type(name, (serializers.Serializer,), {**fields, "__module__": __name__})


ENDORSEMENT_DATA = history_data_serializer(
    "EndorsementHistoryData",
    {"organization": serializers.IntegerField(help_text="The organisation's id.")},
)
NO_DATA = history_data_serializer("NoHistoryData", {})

HISTORY_DATA: dict[str, type] = {"create": NO_DATA}
for _action in TRANSITIONS.values():
    _inputs = {
        name: history_data_field(field)
        for name, field in _action.input.base_fields.items()
        if name != "comment"
    }
    HISTORY_DATA[_action.name] = (
        history_data_serializer(
            "".join(part.title() for part in _action.name.split("_")) + "HistoryData", _inputs
        )
        if _inputs
        else NO_DATA
    )
ATTACHMENT_DATA = history_data_serializer(
    "AttachmentHistoryData",
    {
        "attachment": serializers.IntegerField(help_text="The file's id."),
        "title": serializers.CharField(),
        "filename": serializers.CharField(),
        "sha256": serializers.CharField(help_text="The SHA-256 of the file's content."),
    },
)
HISTORY_DATA.update(
    endorse=ENDORSEMENT_DATA,
    withdraw_endorsement=ENDORSEMENT_DATA,
    attachment_added=ATTACHMENT_DATA,
    attachment_removed=ATTACHMENT_DATA,
)
"""The shape of a history entry's `data`, by kind."""


def history_entry_variant(data: type, kinds: list[str]) -> type:
    """The history entry whose `data` has the shape `data`, for those kinds."""
    if data is dict:
        name = "Other"
    else:
        name = data.__name__.removesuffix("HistoryData").removeprefix("No") or "Plain"
    return type(
        f"{name}HistoryEntry",
        (HistoryLineSerializer,),
        {
            "__module__": __name__,
            "kind": serializers.ChoiceField(choices=kinds),
            "data": data() if data is not dict else serializers.DictField(),
        },
    )


def history_entry_schema() -> PolymorphicProxySerializer:
    """The schema of a history entry: one shape per kind, told apart by `kind`."""
    by_data: dict[type, list[str]] = {}
    for kind, data in HISTORY_DATA.items():
        by_data.setdefault(data, []).append(kind)
    by_data[dict] = ["other"]
    variants = {data: history_entry_variant(data, kinds) for data, kinds in by_data.items()}
    return PolymorphicProxySerializer(
        component_name="HistoryEntry",
        serializers={kind: variants[data] for data, kinds in by_data.items() for kind in kinds},
        resource_type_field_name="kind",
        many=True,
    )


class SecurityEventSerializer(serializers.ModelSerializer[AuditEvent]):
    """A security event: what happened to whose account, by whom, when and from where."""

    description = serializers.SerializerMethodField()
    actor: serializers.SlugRelatedField[Person] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    subject: serializers.SlugRelatedField[Person] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "action",
            "description",
            "actor",
            "subject",
            "ip_address",
            "before",
            "after",
        ]
        read_only_fields = fields

    def get_description(self, event: AuditEvent) -> str:
        return security_event_label(event.action)
