"""The audit trail as people read it: what happened to a proposal (the transition log) and every
other write (the audit events), in one trail, newest first.

One trail, not two: a reader looking into a person, an organisation or a proposal wants one
chronology (an edit, then the submission for review, then a change of roles), and the filters
mean the same on both records. The database merges them: one UNION ALL of the two tables, each
side filtered first (by its own indexes), ordered by time, then kind, then id; a page is one
query, its count another, and the people and proposals it names two more, whatever its size.

Who reads what: the secretariat (and a superuser) reads the whole trail. Every other person
reads the entries about themselves: those that concern them (`subject`: their roles, tokens,
settings, invitation, departure, erasure) and those they made (`actor`: their edits, their
transitions, what they did to others, which they already knew). They never read what others did
to others. "My activity" is that same reading for every person, the secretariat included.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.db.models import CharField, F, Q, QuerySet, TextField, Value
from django.db.models.functions import Cast, Concat, JSONObject
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from proposals.exports import EchoWriter, csv_cell, people_csv_response
from proposals.filtersets import EARLIEST_YEAR, LATEST_YEAR
from proposals.localized import zone_name
from proposals.models import Membership, Organization, Person, Proposal, ProposalState
from proposals.security import SECURITY_EVENTS
from workflow.models import AuditEvent, TransitionLog

TRANSITION = "transition"
AUDIT = "audit"
PROPOSAL_TYPE = "proposals.proposal"
ORGANIZATION_TYPE = "proposals.organization"
BIGINT_MAX = 2**63 - 1
CHUNK = 500

# What each action is called, in the past tense; an unknown code is shown as itself.
ACTION_LABELS: dict[str, str | Promise] = {
    **SECURITY_EVENTS,
    # The life of a proposal (the transition log).
    "create": _("The proposal was created"),
    "submit_for_review": _("The proposal was submitted for review"),
    "approve": _("A reviewer approved the proposal"),
    "request_changes": _("A reviewer asked for changes"),
    "submit": _("The proposal was submitted to the body"),
    "record_outcome": _("The outcome was recorded"),
    "withdraw": _("The proposal was withdrawn"),
    "endorse": _("An organisation endorsed the proposal"),
    "withdraw_endorsement": _("An endorsement was withdrawn"),
    "attachment_added": _("A file was attached"),
    "attachment_removed": _("An attached file was removed"),
    # Edits and the discussion.
    "proposal.edited": _("The proposal was edited"),
    "comment.created": _("A comment was written"),
    "comment.edited": _("A comment was edited"),
    "comment.deleted": _("A comment was deleted"),
    "comment.hidden": _("A comment was hidden"),
    "follow.started": _("Following started"),
    "follow.stopped": _("Following stopped"),
    # People: invitations, settings, departures, personal data.
    "invitation.created": _("An invitation was sent"),
    "invitation.resent": _("An invitation was sent again"),
    "invitation.revoked": _("An invitation was revoked"),
    "invitation.accepted": _("An invitation was accepted"),
    "person.welcomed": _("The welcome was seen"),
    "person.updated": _("The profile was changed"),
    "person.settings_changed": _("The settings were changed"),
    "person.departure_requested": _("A departure was asked for"),
    "person.departure_recorded": _("A departure was recorded"),
    "person.left": _("The person left"),
    "person.erasure_requested": _("An erasure was asked for"),
    "person.erased": _("The personal data were erased"),
    "notification.read": _("A notification was marked as read"),
    "notification.all_read": _("Every notification was marked as read"),
    "notification_preference.changed": _("A notification choice was changed"),
    "retention.purged": _("Old records were purged"),
    # Reference data and integrations.
    "organization.created": _("An organisation was created"),
    "organization.changed": _("An organisation was changed"),
    "organization.deleted": _("An organisation was deleted"),
    "body.created": _("A body was created"),
    "body.changed": _("A body was changed"),
    "body.deleted": _("A body was deleted"),
    "occasion.created": _("An occasion was created"),
    "occasion.changed": _("An occasion was changed"),
    "occasion.deleted": _("An occasion was deleted"),
    "occasion.deadline_moved": _("A deadline was moved"),
    "occasion.cancelled": _("An occasion was cancelled by its body's calendar"),
    "occasion.restored": _("A cancelled occasion is back in its body's calendar"),
    "occasion.unpinned": _("An occasion's field is updated by its calendar feed again"),
    "calendar_feed.created": _("A calendar feed was attached to a body"),
    "calendar_feed.changed": _("A calendar feed was changed"),
    "calendar_feed.deleted": _("A calendar feed was removed"),
    "calendar_feed.read": _("A calendar feed was read"),
    "calendar_feed.failed": _("A calendar feed could not be read"),
    "presidency.created": _("A presidency term was created"),
    "presidency.changed": _("A presidency term was changed"),
    "presidency.deleted": _("A presidency term was deleted"),
    "reminder_rule.created": _("A reminder rule was created"),
    "reminder_rule.changed": _("A reminder rule was changed"),
    "reminder_rule.deleted": _("A reminder rule was deleted"),
    "webhook_endpoint.created": _("A webhook endpoint was created"),
    "webhook_endpoint.changed": _("A webhook endpoint was changed"),
    "webhook_endpoint.secret_renewed": _("A webhook endpoint's secret was renewed"),
    "webhook_endpoint.deleted": _("A webhook endpoint was deleted"),
}


def action_label(action: str) -> str:
    """The action's name in the active language, or its code when it has none."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def action_choices() -> list[tuple[str, str]]:
    """Every known action and its name, in the order of the names."""
    return sorted(((code, action_label(code)) for code in ACTION_LABELS), key=lambda c: c[1])


@dataclass(frozen=True)
class TrailFilter:
    """What a reading of the trail is narrowed to; None or empty: not narrowed."""

    person: str = ""  # a username: entries made by or concerning them
    organization_id: int | None = None
    proposal_id: int | None = None
    action: str = ""
    since: dt.datetime | None = None  # included
    until: dt.datetime | None = None  # excluded


class YearBoundDateField(forms.DateField):
    """A day between the years 1900 and 2200, as every date the filters read."""

    def to_python(self, value: Any) -> dt.date | None:
        day = super().to_python(value)
        if day is not None and not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            raise forms.ValidationError(
                _("Give a date between the years %(first)s and %(last)s.")
                % {"first": EARLIEST_YEAR, "last": LATEST_YEAR}
            )
        return day


class TrailFilterForm(forms.Form):
    """The filters as a page or the API receive them; days are days of the reader's zone."""

    person = forms.CharField(
        label=_("Person (username)"),
        required=False,
        max_length=150,
        validators=[UnicodeUsernameValidator()],
    )
    organization = forms.IntegerField(
        label=_("Organisation"), required=False, min_value=1, max_value=BIGINT_MAX
    )
    proposal = forms.IntegerField(
        label=_("Proposal number"), required=False, min_value=1, max_value=BIGINT_MAX
    )
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", "")] + [(code, code) for code in ACTION_LABELS],
        error_messages={"invalid_choice": _("Choose an action the trail records, by its code.")},
    )
    since = YearBoundDateField(label=_("From (day)"), required=False)
    until = YearBoundDateField(label=_("To (day, included)"), required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The last day comes on or after the first day."))
        return cleaned

    def trail_filter(self, zone: dt.tzinfo | None = None) -> TrailFilter:
        """The filters of a valid form; a day runs from midnight to midnight in `zone`."""
        data = self.cleaned_data
        zone = zone or timezone.get_current_timezone()

        def midnight(day: dt.date | None, days_after: int = 0) -> dt.datetime | None:
            if day is None:
                return None
            moment = dt.datetime.combine(day + dt.timedelta(days=days_after), dt.time())
            return timezone.make_aware(moment, zone)

        return TrailFilter(
            person=data.get("person") or "",
            organization_id=data.get("organization"),
            proposal_id=data.get("proposal"),
            action=data.get("action") or "",
            since=midnight(data.get("since")),
            until=midnight(data.get("until"), days_after=1),
        )


NEWEST_FIRST_ORDERING = "-at"


class AuditTrailApiForm(TrailFilterForm):
    """The filters as the API receives them: the page's, and an ordering (newest first, the
    one order the trail is read in)."""

    ordering = forms.ChoiceField(
        label=_("Order"), required=False, choices=[(NEWEST_FIRST_ORDERING, _("Newest first"))]
    )


class AuditTrailFilterSet(filters.FilterSet):
    """The API's filters of the trail, by name; their fields and checks are those of
    `AuditTrailApiForm`, and `trail_filter` of its valid form narrows the trail."""

    person = filters.CharFilter()
    organization = filters.NumberFilter()
    proposal = filters.NumberFilter()
    action = filters.CharFilter()
    since = filters.DateFilter()
    until = filters.DateFilter()
    ordering = filters.ChoiceFilter(choices=[(NEWEST_FIRST_ORDERING, NEWEST_FIRST_ORDERING)])

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def get_form_class(self) -> type[forms.Form]:
        return AuditTrailApiForm


def _text(expression: Any) -> Cast:
    return Cast(expression, output_field=CharField(max_length=64))


def _proposal_objects(proposal_ids: Any) -> Q:
    """Audit events about the proposals, or about what belongs to one of them (a comment, an
    attachment, an endorsement, a review, a revision...)."""
    condition = Q(
        object_type=PROPOSAL_TYPE,
        object_id__in=proposal_ids.annotate(text_id=_text("pk")).values("text_id"),
    )
    for model in _models_of_a_proposal():
        owned = model._default_manager.filter(proposal__in=proposal_ids.values("pk"))
        condition |= Q(
            object_type=model._meta.label_lower,
            object_id__in=owned.annotate(text_id=_text("pk")).values("text_id"),
        )
    return condition


def _models_of_a_proposal() -> list[type[models.Model]]:
    """The models whose rows belong to one proposal (a foreign key named `proposal`)."""
    from django.apps import apps

    found = []
    for model in apps.get_app_config("proposals").get_models():
        try:
            field = model._meta.get_field("proposal")
        except Exception:  # noqa: S112 (a model without a proposal)
            continue
        if getattr(field, "related_model", None) is Proposal and field.many_to_one:
            found.append(model)
    return found


def _audit_side(viewer_id: int | None, where: TrailFilter) -> QuerySet[Any]:
    events = AuditEvent.objects.all()
    if viewer_id is not None:
        events = events.filter(Q(actor_id=viewer_id) | Q(subject_id=viewer_id))
    if where.person:
        events = events.filter(Q(actor__username=where.person) | Q(subject__username=where.person))
    if where.organization_id is not None:
        members = Membership.objects.filter(organization_id=where.organization_id)
        led = Proposal.objects.filter(lead_organization_id=where.organization_id)
        events = events.filter(
            Q(actor_id__in=members.values("person_id"))
            | Q(subject_id__in=members.values("person_id"))
            | Q(object_type=ORGANIZATION_TYPE, object_id=str(where.organization_id))
            | _proposal_objects(led)
        )
    if where.proposal_id is not None:
        events = events.filter(_proposal_objects(Proposal.objects.filter(pk=where.proposal_id)))
    if where.action:
        events = events.filter(action=where.action)
    if where.since is not None:
        events = events.filter(at__gte=where.since)
    if where.until is not None:
        events = events.filter(at__lt=where.until)
    return (
        events.annotate(
            t_kind=Value(AUDIT, output_field=CharField(max_length=16)),
            t_id=F("id"),
            t_at=F("at"),
            t_action=F("action"),
            t_actor=F("actor_id"),
            t_subject=F("subject_id"),
            t_object_type=F("object_type"),
            t_object_id=F("object_id"),
            t_object=F("object_repr"),
            t_before=F("before"),
            t_after=F("after"),
            t_comment=Value("", output_field=TextField()),
        )
        .order_by()
        .values(*COLUMNS)
    )


def _transition_side(viewer_id: int | None, where: TrailFilter) -> QuerySet[Any]:
    entries = TransitionLog.objects.all()
    if viewer_id is not None:
        entries = entries.filter(actor_id=viewer_id)
    if where.person:
        entries = entries.filter(actor__username=where.person)
    of_proposals = Q(content_type__app_label="proposals", content_type__model="proposal")
    if where.organization_id is not None:
        members = Membership.objects.filter(organization_id=where.organization_id)
        led = Proposal.objects.filter(lead_organization_id=where.organization_id)
        entries = entries.filter(
            Q(actor_id__in=members.values("person_id"))
            | (of_proposals & Q(object_id__in=led.values("pk")))
        )
    if where.proposal_id is not None:
        entries = entries.filter(of_proposals, object_id=where.proposal_id)
    if where.action:
        entries = entries.filter(transition=where.action)
    if where.since is not None:
        entries = entries.filter(at__gte=where.since)
    if where.until is not None:
        entries = entries.filter(at__lt=where.until)
    return (
        entries.annotate(
            t_kind=Value(TRANSITION, output_field=CharField(max_length=16)),
            t_id=F("id"),
            t_at=F("at"),
            t_action=F("transition"),
            t_actor=F("actor_id"),
            t_subject=Cast(Value(None), output_field=models.BigIntegerField()),
            t_object_type=Concat(
                "content_type__app_label",
                Value("."),
                "content_type__model",
                output_field=CharField(),
            ),
            t_object_id=_text("object_id"),
            t_object=Value("", output_field=CharField(max_length=200)),
            t_before=JSONObject(state=F("source")),
            t_after=JSONObject(state=F("target"), details=F("data")),
            t_comment=F("comment"),
        )
        .order_by()
        .values(*COLUMNS)
    )


COLUMNS = (
    "t_kind",
    "t_id",
    "t_at",
    "t_action",
    "t_actor",
    "t_subject",
    "t_object_type",
    "t_object_id",
    "t_object",
    "t_before",
    "t_after",
    "t_comment",
)
NEWEST_FIRST = ("-t_at", "-t_kind", "-t_id")
OLDEST_FIRST = ("t_at", "t_kind", "t_id")


def reads_everything(viewer: Any) -> bool:
    """Whether the person reads the whole trail: the secretariat and a superuser."""
    from proposals.selectors import roles_of

    roles = roles_of(viewer)
    return roles.secretariat_or_superuser


@dataclass(frozen=True)
class Position:
    """Where a row stands in the trail's order: for reading on from it."""

    at: dt.datetime
    kind: str
    id: int


def _after(position: Position, kind: str, *, older: bool) -> Q:
    """The rows of one side (all of one kind) that come after `position` in the trail's
    order: (time, kind, id) below it, newest first; above it when not `older`."""
    strict, inclusive, by_id = (
        ("at__lt", "at__lte", "id__lt") if older else ("at__gt", "at__gte", "id__gt")
    )
    if kind == position.kind:
        return Q(**{strict: position.at}) | Q(at=position.at, **{by_id: position.id})
    kind_comes_after = kind < position.kind if older else kind > position.kind
    return Q(**{inclusive if kind_comes_after else strict: position.at})


def audit_trail(
    viewer: Any,
    where: TrailFilter | None = None,
    *,
    mine: bool = False,
    after: Position | None = None,
    oldest_first: bool = False,
) -> QuerySet[Any]:
    """The entries the viewer may read, narrowed by `where`, newest first (or oldest first),
    from after `after` when given: rows of COLUMNS, one query for any slice of it.

    `mine` narrows the secretariat's reading to its own entries too (the My activity page)."""
    where = where or TrailFilter()
    if not getattr(viewer, "is_authenticated", False):
        return AuditEvent.objects.none().values(*COLUMNS)
    viewer_id = None if (reads_everything(viewer) and not mine) else viewer.pk
    audit, transitions = _audit_side(viewer_id, where), _transition_side(viewer_id, where)
    if after is not None:
        older = not oldest_first
        audit = audit.filter(_after(after, AUDIT, older=older))
        transitions = transitions.filter(_after(after, TRANSITION, older=older))
    merged = audit.union(transitions, all=True)
    return merged.order_by(*(OLDEST_FIRST if oldest_first else NEWEST_FIRST))


@dataclass
class TrailEntry:
    """One entry of the trail, with the people and the proposal it names."""

    kind: str
    id: int
    at: dt.datetime
    action: str
    label: str
    actor: Person | None
    subject: Person | None
    object_type: str
    object_id: str
    object_label: str
    proposal_id: int | None
    before: dict[str, Any]
    after: dict[str, Any]
    comment: str

    @property
    def position(self) -> Position:
        return Position(at=self.at, kind=self.kind, id=self.id)

    @property
    def changes(self) -> str:
        """What changed, in a line: each key's value before and after."""
        return changes_text(self.before, self.after)


def _state_label(value: Any) -> str:
    labels = dict(ProposalState.choices)
    return str(labels.get(value, value)) if value else "—"


def _short(value: Any) -> str:
    text = "—" if value in (None, "", [], {}) else str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def changes_text(before: dict[str, Any], after: dict[str, Any]) -> str:
    """The values before and after, key by key, in one line ("state: Draft → In review")."""
    if "state" in before or "state" in after:
        line = f"{_state_label(before.get('state'))} → {_state_label(after.get('state'))}"
        details = after.get("details") or {}
        extra = "; ".join(f"{key}: {_short(value)}" for key, value in sorted(details.items()))
        return f"{line}; {extra}" if extra else line
    keys = sorted(set(before) | set(after))
    parts = []
    for key in keys:
        if key in before and key in after:
            parts.append(f"{key}: {_short(before[key])} → {_short(after[key])}")
        elif key in after:
            parts.append(f"{key}: {_short(after[key])}")
        else:
            parts.append(f"{key}: {_short(before[key])} → —")
    return "; ".join(parts)


def trail_entries(rows: Iterable[dict[str, Any]]) -> list[TrailEntry]:
    """The rows with their people and proposals: two queries, whatever their number."""
    rows = list(rows)
    people_ids = {row[key] for row in rows for key in ("t_actor", "t_subject") if row[key]}
    people = Person.objects.in_bulk(people_ids) if people_ids else {}
    proposal_ids = {
        int(row["t_object_id"])
        for row in rows
        if row["t_object_type"] == PROPOSAL_TYPE and row["t_object_id"].isdigit()
    }
    titles = (
        dict(Proposal.objects.filter(pk__in=proposal_ids).values_list("pk", "title"))
        if proposal_ids
        else {}
    )
    entries = []
    for row in rows:
        object_type, object_id = row["t_object_type"], row["t_object_id"]
        proposal_id = (
            int(object_id) if object_type == PROPOSAL_TYPE and object_id.isdigit() else None
        )
        object_label = row["t_object"] or (titles.get(proposal_id, "") if proposal_id else "")
        entries.append(
            TrailEntry(
                kind=row["t_kind"],
                id=row["t_id"],
                at=row["t_at"],
                action=row["t_action"],
                label=action_label(row["t_action"]),
                actor=people.get(row["t_actor"]) if row["t_actor"] else None,
                subject=people.get(row["t_subject"]) if row["t_subject"] else None,
                object_type=object_type,
                object_id=object_id,
                object_label=object_label or (f"{object_type} {object_id}".strip()),
                proposal_id=proposal_id,
                before=_mapping(row["t_before"]),
                after=_mapping(row["t_after"]),
                comment=row["t_comment"] or "",
            )
        )
    return entries


def _mapping(value: Any) -> dict[str, Any]:
    """A JSON object of a row; SQLite gives the objects it builds (and a JSON column inside
    one) as text."""
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict):
        return {}
    if isinstance(value.get("details"), str):
        value["details"] = json.loads(value["details"])
    return value


def trail_entries_chunked(
    rows: Iterator[dict[str, Any]], size: int = CHUNK
) -> Iterator[TrailEntry]:
    """Every entry of a long reading, a chunk at a time (two queries a chunk), for exports."""
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield from trail_entries(chunk)
            chunk = []
    if chunk:
        yield from trail_entries(chunk)


def organizations_for_filter() -> QuerySet[Organization]:
    """The organisations a reader may narrow the trail to, by name."""
    return Organization.objects.order_by("name").only("pk", "name")


# The trail as files: for machines (codes, usernames, ISO times in UTC, JSON values) and for
# people (labels and names in their language, times in their zone).

MACHINE_COLUMNS = [
    "kind",
    "id",
    "at",
    "action",
    "actor",
    "subject",
    "object_type",
    "object_id",
    "object",
    "proposal",
    "before",
    "after",
    "comment",
]


def _username(person: Person | None) -> str:
    return person.get_username() if person is not None else ""


def _name(person: Person | None) -> str:
    if person is None:
        return str(_("the system"))
    return person.get_full_name() or person.get_username()


def trail_machine_csv_response(rows: QuerySet[Any], *, filename: str) -> StreamingHttpResponse:
    """Every entry of the reading as CSV for machines, streamed a chunk at a time."""
    writer = csv.writer(EchoWriter())

    def lines() -> Iterator[str]:
        yield writer.writerow(MACHINE_COLUMNS)
        for entry in trail_entries_chunked(rows.iterator(chunk_size=CHUNK)):
            yield writer.writerow(
                [
                    csv_cell(value)
                    for value in (
                        entry.kind,
                        entry.id,
                        entry.at.isoformat(),
                        entry.action,
                        _username(entry.actor),
                        _username(entry.subject),
                        entry.object_type,
                        entry.object_id,
                        entry.object_label,
                        entry.proposal_id or "",
                        json.dumps(entry.before, ensure_ascii=False, sort_keys=True),
                        json.dumps(entry.after, ensure_ascii=False, sort_keys=True),
                        entry.comment,
                    )
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def trail_people_csv_response(
    rows: QuerySet[Any], *, zone: dt.tzinfo, filename: str
) -> StreamingHttpResponse:
    """Every entry of the reading as CSV for a person, in their language and zone."""
    header = [
        f"{_('When')} ({zone_name(zone)})",
        str(_("Action")),
        str(_("Done by")),
        str(_("Person concerned")),
        str(_("Object")),
        str(_("Changes")),
        str(_("Comment")),
    ]

    def values() -> Iterator[list[Any]]:
        for entry in trail_entries_chunked(rows.iterator(chunk_size=CHUNK)):
            yield [
                entry.at.astimezone(zone).replace(tzinfo=None, microsecond=0),
                entry.label,
                _name(entry.actor),
                _name(entry.subject) if entry.subject is not None else "",
                entry.object_label,
                entry.changes,
                entry.comment,
            ]

    return people_csv_response(header, values, filename=filename)
