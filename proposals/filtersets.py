"""Filters of the lists; a value that is not understood is a 400 that says why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django_filters import fields as filter_fields
from django_filters import rest_framework as filters
from django_filters.constants import EMPTY_VALUES

from proposals.invitations import STATUS_LABELS, invitation_status_condition
from proposals.models import (
    Body,
    Invitation,
    Occasion,
    Organization,
    Person,
    PresidencyTerm,
    Proposal,
    ProposalState,
    Role,
    Theme,
)
from proposals.search import proposals_matching
from proposals.security import SECURITY_EVENTS
from workflow.models import AuditEvent

SEARCH_MAX_LENGTH = 200
EARLIEST_YEAR = 1900
LATEST_YEAR = 2200


class YearBoundIsoDateTimeField(filter_fields.IsoDateTimeField):
    """An ISO 8601 date and time between the years 1900 and 2200."""

    def to_python(self, value: object) -> dt.datetime | None:
        parsed = super().to_python(value)
        if parsed is not None and not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
            raise forms.ValidationError(
                _("Give a date between the years %(first)s and %(last)s.")
                % {"first": EARLIEST_YEAR, "last": LATEST_YEAR}
            )
        return parsed


class DateTimeFilter(filters.IsoDateTimeFilter):
    field_class = YearBoundIsoDateTimeField


class SearchFilter(filters.CharFilter):
    """Words to find, case-insensitive, in the fields given."""

    def __init__(self, *, search_fields: tuple[str, ...], **kwargs: object) -> None:
        kwargs.setdefault("max_length", SEARCH_MAX_LENGTH)
        super().__init__(**kwargs)
        self.search_fields = search_fields

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        for word in (value or "").split():
            condition = Q()
            for field in self.search_fields:
                condition |= Q(**{f"{field}__icontains": word})
            qs = qs.filter(condition)
        return qs


class ProposalSearchFilter(filters.CharFilter):
    """Words to find in proposals, accents and case aside (proposals.search)."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("max_length", SEARCH_MAX_LENGTH)
        super().__init__(**kwargs)

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        """The proposals found, best matches first (a sort chosen after this one wins)."""
        if not (value or "").split():
            return qs
        order = [*(qs.query.order_by or Proposal._meta.ordering or ())]
        found: QuerySet = proposals_matching(qs, value)
        return found.order_by("-search_rank", *order)


def _state_rank() -> Case:
    """A proposal's state as its place in the lifecycle (draft first, withdrawn last)."""
    return Case(
        *(When(state=state, then=Value(rank)) for rank, state in enumerate(ProposalState)),
        default=Value(len(ProposalState)),
    )


# Each column a list of proposals sorts by, as the expressions it orders by; the id breaks ties.
PROPOSAL_SORTS: dict[str, Callable[[], list[Any]]] = {
    "title": lambda: [Lower("title")],
    "state": lambda: [_state_rank()],
    "lead_organization": lambda: [Lower("lead_organization__name")],
    "occasion": lambda: [Lower("occasion__name")],
    "deadline": lambda: [F("occasion__submission_deadline")],
    "updated": lambda: [F("updated_at")],
}
PROPOSAL_SORT_CHOICES = [
    (f"{sign}{key}", f"{sign}{key}") for key in PROPOSAL_SORTS for sign in ("", "-")
]


# The columns of the delivery log and of the security events, as they sort.
DELIVERY_SORTS: dict[str, Callable[[], list[Any]]] = {
    "created": lambda: [F("created_at")],
    "recipient": lambda: [
        Lower("recipient__first_name"),
        Lower("recipient__last_name"),
        F("recipient__username"),
        F("target_id"),
    ],
    "message": lambda: [F("template"), F("event")],
    "channel": lambda: [F("channel")],
    "kind": lambda: [F("kind")],
    "status": lambda: [F("status")],
    "attempts": lambda: [F("attempts")],
    "sent": lambda: [F("sent_at")],
    "error": lambda: [F("last_error")],
}
SECURITY_EVENT_SORTS: dict[str, Callable[[], list[Any]]] = {
    "when": lambda: [F("at")],
    "event": lambda: [F("action")],
    "subject": lambda: [Lower("subject__first_name"), Lower("subject__last_name")],
    "actor": lambda: [Lower("actor__first_name"), Lower("actor__last_name")],
    "address": lambda: [F("ip_address")],
}


def sorted_by(
    queryset: QuerySet[Any], sort: str, sorts: dict[str, Callable[[], list[Any]]]
) -> QuerySet[Any]:
    """The rows in the order `sort` names (a key of `sorts`, "-" first to reverse), empty
    values last, the id breaking ties in the same direction; unchanged for a key not known."""
    key = sort.removeprefix("-")
    if key not in sorts:
        return queryset
    descending = sort.startswith("-")
    expressions = [*sorts[key](), F("id")]
    return queryset.order_by(
        *(
            expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
            for expression in expressions
        )
    )


def proposals_sorted(queryset: QuerySet[Proposal], sort: str) -> QuerySet[Proposal]:
    """The proposals in the order `sort` names (a PROPOSAL_SORTS key, "-" first to reverse)."""
    return sorted_by(queryset, sort, PROPOSAL_SORTS)


class ProposalSortFilter(filters.ChoiceFilter):
    """The column a list of proposals is sorted by: `title`, `-deadline`..."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("choices", PROPOSAL_SORT_CHOICES)
        super().__init__(**kwargs)

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        return proposals_sorted(qs, value) if value else qs


LARGEST_KEY = 2**63 - 1
"""The largest id a database key holds (a bigint): a larger number is no id at all."""

NAMES_NOTHING = object()
"""What a filter of objects holds when the id it was given names no object."""


class AnyIdModelChoiceField(forms.ModelChoiceField):
    """An object's id (or other key): one that names no object is no error, it matches
    nothing; a key of the wrong form (letters for a number) is still an error."""

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except forms.ValidationError:
            model = cast(QuerySet[Any], self.queryset).model
            key_field = model._meta.pk if not self.to_field_name else None
            key_field = key_field or model._meta.get_field(self.to_field_name)
            try:
                key = key_field.to_python(value)
                if isinstance(key, int) and not 1 <= key <= LARGEST_KEY:
                    raise ValueError(key)
                if not isinstance(key, int):  # a username: of the form the field validates
                    key_field.run_validators(key)
            except Exception:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice"
                ) from None
            return NAMES_NOTHING


class ModelChoiceFilter(filters.ModelChoiceFilter):
    """A filter by an object: an id that names nothing gives no rows, not a 400 (a filter
    cannot know which ids exist, nor can the API's schema say it)."""

    field_class = AnyIdModelChoiceField

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value is NAMES_NOTHING:
            return qs.none()
        return super().filter(qs, value)


class StatesFilter(filters.MultipleChoiceFilter):
    """Rows in any of the values given of one column of their own: one `IN`, which an index
    on the column starts from (PostgreSQL reads an OR of equalities as a filter over the whole
    index), and no DISTINCT (django-filter's default, which sorted every match's whole row): a
    column of the row itself cannot bring a row twice."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("distinct", False)
        super().__init__(**kwargs)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": sorted(set(value))})


class KeyOnlyModelChoiceField(AnyIdModelChoiceField):
    """An object's key, checked for its form only: the object is not read (one query fewer);
    the filter that takes it matches nothing when no object has that key."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        key_field = cast(QuerySet[Any], self.queryset).model._meta.pk
        try:
            key = key_field.to_python(value)
            if not isinstance(key, int) or not 1 <= key <= LARGEST_KEY:
                raise ValueError(key)
        except Exception:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None
        return key


class ThemeFilter(ModelChoiceFilter):
    """The proposals with a theme (its number), found by an EXISTS on the themes' table: no
    join, so each proposal comes once without a DISTINCT over its whole row (nor under its
    count); the theme itself is not read."""

    field_class = KeyOnlyModelChoiceField

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in EMPTY_VALUES:
            return qs
        themed = Proposal.themes.through.objects.filter(proposal=OuterRef("pk"), theme_id=value)
        return qs.filter(Exists(themed))


class ProposalFilter(filters.FilterSet):
    state = StatesFilter(choices=ProposalState.choices)
    occasion = ModelChoiceFilter(queryset=Occasion.objects.all())
    target_body = ModelChoiceFilter(queryset=Body.objects.all())
    lead_organization = ModelChoiceFilter(queryset=Organization.objects.all())
    theme = ThemeFilter(field_name="themes", queryset=Theme.objects.all())
    deadline_before = DateTimeFilter(field_name="occasion__submission_deadline", lookup_expr="lte")
    deadline_after = DateTimeFilter(field_name="occasion__submission_deadline", lookup_expr="gte")
    search = ProposalSearchFilter()
    ordering = filters.OrderingFilter(
        fields=(
            ("id", "id"),
            ("title", "title"),
            ("state", "state"),
            ("created_at", "created_at"),
            ("updated_at", "updated_at"),
            ("occasion__submission_deadline", "deadline"),
        )
    )

    class Meta:
        model = Proposal
        fields: list[str] = []


class OrganizationFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=Organization.Kind.choices)
    status = filters.ChoiceFilter(choices=Organization.Status.choices)
    parent = ModelChoiceFilter(queryset=Organization.objects.all())
    search = SearchFilter(search_fields=("name", "short_name"))
    ordering = filters.OrderingFilter(fields=("id", "name", "joined_on"))

    class Meta:
        model = Organization
        fields: list[str] = []


class PersonFilter(filters.FilterSet):
    organization = ModelChoiceFilter(
        field_name="memberships__organization", queryset=Organization.objects.all(), distinct=True
    )
    role = filters.ChoiceFilter(field_name="memberships__role", choices=Role.choices, distinct=True)
    search = SearchFilter(search_fields=("username", "first_name", "last_name"))
    ordering = filters.OrderingFilter(fields=("id", "username", "last_name"))

    class Meta:
        model = Person
        fields: list[str] = []


class PresidencyTermFilter(filters.FilterSet):
    organization = ModelChoiceFilter(queryset=Organization.objects.all())
    ordering = filters.OrderingFilter(fields=("id", "starts_on"))

    class Meta:
        model = PresidencyTerm
        fields: list[str] = []


class BodyFilter(filters.FilterSet):
    level = filters.ChoiceFilter(choices=Body.Level.choices)
    country = filters.CharFilter(max_length=2)
    search = SearchFilter(search_fields=("name",))
    ordering = filters.OrderingFilter(fields=("id", "name"))

    class Meta:
        model = Body
        fields: list[str] = []


class OccasionFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=Occasion.Kind.choices)
    deadline_before = DateTimeFilter(field_name="submission_deadline", lookup_expr="lte")
    deadline_after = DateTimeFilter(field_name="submission_deadline", lookup_expr="gte")
    search = SearchFilter(search_fields=("name", "location"))
    ordering = filters.OrderingFilter(
        fields=("id", "name", "starts_on", ("submission_deadline", "deadline"))
    )

    class Meta:
        model = Occasion
        fields: list[str] = []


class SecurityEventFilter(filters.FilterSet):
    action = filters.ChoiceFilter(choices=[(code, code) for code in SECURITY_EVENTS])
    subject = ModelChoiceFilter(
        field_name="subject", to_field_name="username", queryset=Person.objects.all()
    )
    at_after = DateTimeFilter(field_name="at", lookup_expr="gte")
    at_before = DateTimeFilter(field_name="at", lookup_expr="lt")
    ordering = filters.OrderingFilter(fields=("at", "id"))

    class Meta:
        model = AuditEvent
        fields: list[str] = []


class InvitationFilter(filters.FilterSet):
    status = filters.ChoiceFilter(
        choices=list(STATUS_LABELS.items()),
        method="in_status",
        error_messages={
            "invalid_choice": _("Choose a status among pending, accepted, expired and revoked.")
        },
    )
    ordering = filters.OrderingFilter(fields=("id", "created_at", "expires_at", "email"))

    class Meta:
        model = Invitation
        fields: list[str] = []

    def in_status(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(invitation_status_condition(value))
