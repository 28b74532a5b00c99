"""A person leaves the group on a date: the secretariat records it, the drafts they wrote are
handed on, and on that day their roles end and their access is revoked.

Recording a departure (`departure_record`) checks everything first and changes nothing when
anything is wrong. It sets `Person.left_on`, and it hands each open proposal the person writes
to a successor the secretariat chose (another of its authors, or a drafter of its lead
organisation), who becomes an author at once. On the day (at once when it is today, else by
`departures_due`, which Celery beat runs every hour) `departure_carry_out` removes the person
from the authors of those proposals, ends their roles through `people.person_update` (each
change audited), which also turns their account off (they cannot sign in, every session of
theirs stops on its next request) and revokes their API tokens, and renews their calendar link
(the old feed answers nothing). From then on the outbox writes nothing to them but security
notices (`workflow.outbox`), so reminders and notices stop.

What stays: the endorsements they signed (given in their organisation's name, they keep counting
toward quorums), their reviews, the revisions they wrote and every row of the logs. Reviewers
are not assigned to proposals in this product: a proposal in review that the person had not
decided yet is decided by the other reviewers, so there is nothing to reassign.

A representative of the person's organisation asks for a departure (`departure_request`): the
secretariat is told by email and records it, choosing who takes the drafts over.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals import people, rules
from proposals.audited import SYSTEM, audited
from proposals.following import follows_automatic
from proposals.localized import date_text
from proposals.models import (
    OPEN_STATES,
    Endorsement,
    Membership,
    Organization,
    Person,
    Proposal,
    Role,
)
from proposals.search import search_document_refresh
from proposals.security import security_event_record
from proposals.selectors import proposals_awaiting_review_by, roles_of, secretariat_ids
from proposals.services import calendar_token_regenerate
from workflow.audit import audit_record
from workflow.errors import RefusalKind, Refused
from workflow.models import Delivery
from workflow.policy import Notice
from workflow.services import deliveries_enqueue

DEPARTURE_REQUESTED_TEMPLATE = "proposals/email/departure_requested"


@dataclass(frozen=True)
class Handover:
    """An open proposal the leaving person writes, and who may take it over."""

    proposal: Proposal
    co_authors: list[Person]
    candidates: list[Person]

    @property
    def needs_successor(self) -> bool:
        """No other author stays: someone must be chosen to take it over."""
        return not self.co_authors


@dataclass(frozen=True)
class DeparturePlan:
    """What a departure of this person changes, read before it is recorded."""

    person: Person
    handovers: list[Handover]
    reviews_undecided: list[Proposal]
    endorsements_signed: int
    unrepresented: list[Organization]
    warnings: list[str] = field(default_factory=list)


def _staying(queryset: Any) -> Any:
    """People with an active account and no departure recorded."""
    return queryset.filter(is_active=True, left_on__isnull=True)


def _drafters_of(organization_ids: set[int]) -> dict[int, list[Person]]:
    """The drafters who stay, by organisation, ordered by name: one query."""
    memberships = (
        Membership.objects.filter(
            organization_id__in=organization_ids,
            role=Role.DRAFTER,
            person__is_active=True,
            person__left_on__isnull=True,
        )
        .exclude(organization__status=Organization.Status.FORMER)
        .select_related("person")
        .order_by("person__first_name", "person__last_name", "person__username")
    )
    drafters: dict[int, list[Person]] = {}
    for membership in memberships:
        drafters.setdefault(membership.organization_id, []).append(membership.person)
    return drafters


def proposals_to_hand_over(person: Person) -> list[Proposal]:
    """The open proposals (draft, in review, open for endorsement) the person is an author of,
    with their authors and lead organisation."""
    return list(
        Proposal.objects.filter(authors=person, state__in=OPEN_STATES)
        .select_related("lead_organization")
        .prefetch_related("authors")
        .order_by("pk")
    )


def unrepresented_after(person: Person) -> list[Organization]:
    """The full members the person represents that no one else who stays would represent."""
    organizations = Organization.objects.filter(
        memberships__person=person,
        memberships__role=Role.REPRESENTATIVE,
        status=Organization.Status.MEMBER,
    ).distinct()
    others = Membership.objects.filter(
        role=Role.REPRESENTATIVE, person__is_active=True, person__left_on__isnull=True
    ).exclude(person=person)
    return list(organizations.exclude(pk__in=others.values("organization_id")).order_by("name"))


def departure_plan(person: Person) -> DeparturePlan:
    """The proposals to hand over with who may take each, the reviews the person had not
    decided, the endorsements they signed and the organisations left with no representative."""
    proposals = proposals_to_hand_over(person)
    drafters = _drafters_of({proposal.lead_organization_id for proposal in proposals})
    handovers = []
    for proposal in proposals:
        co_authors = [
            author
            for author in proposal.authors.all()
            if author.pk != person.pk and author.is_active and author.left_on is None
        ]
        candidates = list(co_authors)
        candidates += [
            drafter
            for drafter in drafters.get(proposal.lead_organization_id, [])
            if drafter.pk != person.pk and drafter not in candidates
        ]
        handovers.append(Handover(proposal=proposal, co_authors=co_authors, candidates=candidates))
    unrepresented = unrepresented_after(person)
    warnings = [
        _(
            "%(organization)s will have no representative left to endorse in its name: appoint "
            "one (give a person of %(organization)s the representative role) before or after "
            "recording this departure."
        )
        % {"organization": organization}
        for organization in unrepresented
    ]
    return DeparturePlan(
        person=person,
        handovers=handovers,
        reviews_undecided=list(proposals_awaiting_review_by(person).order_by("pk")),
        endorsements_signed=Endorsement.objects.filter(
            endorsed_by=person, withdrawn_at__isnull=True
        ).count(),
        unrepresented=unrepresented,
        warnings=warnings,
    )


def departure_permission_reasons(actor: Any, person: Person) -> list[str]:
    """Who may record a departure: whoever may change the person and end all their roles (the
    secretariat; a superuser for the secretariat's own people), never the person themself."""
    if person.pk == getattr(actor, "pk", None):
        return [_("Nobody records their own departure: ask the secretariat.")]
    reasons = rules.person_manage_reasons(actor, person)
    if reasons:
        return reasons
    return rules.person_roles_permission_reasons(actor, person, set(), people.person_roles(person))


def _already_left_reason(person: Person) -> str:
    return _("%(person)s's departure is already recorded, on %(date)s.") % {
        "person": person,
        "date": date_text(person.left_on),
    }


def _handover_errors(
    person: Person, plan: DeparturePlan, successors: Mapping[int, int]
) -> dict[str, list[str]]:
    """Every hand-over choice that is wrong or missing, by the field that carries it
    (`handovers`)."""
    errors: list[str] = []
    by_proposal = {handover.proposal.pk: handover for handover in plan.handovers}
    for proposal_id in sorted(set(successors) - set(by_proposal)):
        errors.append(
            _("Proposal %(id)s is not an open proposal that %(person)s writes.")
            % {"id": proposal_id, "person": person}
        )
    for handover in plan.handovers:
        successor_id = successors.get(handover.proposal.pk)
        if successor_id is None:
            if handover.needs_successor:
                errors.append(
                    _(
                        "“%(title)s” has no other author: choose who takes it over, a drafter "
                        "of %(organization)s."
                    )
                    % {
                        "title": handover.proposal.title,
                        "organization": handover.proposal.lead_organization,
                    }
                )
            continue
        if successor_id not in {candidate.pk for candidate in handover.candidates}:
            errors.append(
                _(
                    "The person chosen for “%(title)s” is neither one of its authors nor a "
                    "drafter of %(organization)s who stays: choose one of them."
                )
                % {
                    "title": handover.proposal.title,
                    "organization": handover.proposal.lead_organization,
                }
            )
    return {"handovers": errors} if errors else {}


def _left_on_errors(person: Person, left_on: dt.date, today: dt.date) -> dict[str, list[str]]:
    joined = timezone.localtime(person.date_joined).date() if person.date_joined else None
    if left_on < today:
        return {
            "left_on": [_("The day of leaving cannot be in the past: give today or a later day.")]
        }
    if joined is not None and left_on < joined:
        return {
            "left_on": [
                _("%(person)s joined on %(date)s: the day of leaving cannot be before it.")
                % {"person": person, "date": date_text(joined)}
            ]
        }
    return {}


def _authors_set(
    *, proposal: Proposal, authors: set[int], actor: Any, request: HttpRequest | None
) -> None:
    """Give the (locked) proposal these authors, audited as an edit of its authors."""
    before = sorted(rules.author_ids(proposal))
    if sorted(authors) == before:
        return
    proposal.authors.set(authors)
    proposal.contributors.add(*authors)
    follows_automatic(proposal=proposal, person_ids=authors - set(before))
    proposal.version += 1
    proposal.save(update_fields=["version"])
    search_document_refresh(proposal_ids=[proposal.pk])
    audit_record(
        action="proposal.edited",
        actor=None if actor is SYSTEM else actor,
        obj=proposal,
        before={"authors": before},
        after={"authors": sorted(authors)},
        request=request,
    )


def _locked_proposals(ids: list[int]) -> list[Proposal]:
    return list(
        Proposal.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .prefetch_related("authors")
        .order_by("pk")
    )


@audited("person.departure_recorded", "proposal.edited", "person.roles_changed")
def departure_record(
    *,
    actor: Any,
    person: Person,
    left_on: dt.date,
    successors: Mapping[int, int] | None = None,
    request: HttpRequest | None = None,
) -> Person:
    """Record that the person leaves on `left_on` (today or later) and hand each open proposal
    they write to the successor chosen for it (`successors`: proposal id to person id); one
    with no other author must have one. On a departure today it is carried out at once."""
    successors = dict(successors or {})
    reasons = departure_permission_reasons(actor, person)
    if reasons:
        raise Refused(RefusalKind.PERMISSION, reasons)
    today = timezone.localdate()
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        if locked.left_on is not None:
            raise Refused(RefusalKind.CONFLICT, [_already_left_reason(locked)])
        plan = departure_plan(locked)
        errors = {
            **_left_on_errors(locked, left_on, today),
            **_handover_errors(locked, plan, successors),
        }
        if errors:
            raise Refused(
                RefusalKind.INVALID,
                [reason for field_reasons in errors.values() for reason in field_reasons],
                errors,
            )
        locked.left_on = left_on
        locked.save(update_fields=["left_on"])
        security_event_record(
            action="person.departure_recorded",
            subject=locked,
            actor=actor,
            after={
                "left_on": left_on.isoformat(),
                "successors": {str(pk): successor for pk, successor in sorted(successors.items())},
                "unrepresented": [organization.pk for organization in plan.unrepresented],
            },
            request=request,
        )
        for proposal in _locked_proposals(sorted(successors)):
            _authors_set(
                proposal=proposal,
                authors=rules.author_ids(proposal) | {successors[proposal.pk]},
                actor=actor,
                request=request,
            )
        if left_on <= today:
            _carry_out(actor=actor, person=locked, request=request)
    return locked


def _carry_out(*, actor: Any, person: Person, request: HttpRequest | None) -> None:
    """The person's last day came: off the proposals handed over, roles ended, account off,
    tokens revoked, calendar link renewed. A proposal nobody else writes keeps them as its
    author (it is never left without one), and the audit row names it."""
    handed, kept = [], []
    for proposal in _locked_proposals(
        list(
            Proposal.objects.filter(authors=person, state__in=OPEN_STATES).values_list(
                "pk", flat=True
            )
        )
    ):
        others = rules.author_ids(proposal) - {person.pk}
        if not others:
            kept.append(proposal.pk)
            continue
        _authors_set(proposal=proposal, authors=others, actor=actor, request=request)
        handed.append(proposal.pk)
    people.person_update(
        actor=actor, person=person, changes={"is_active": False}, roles=[], request=request
    )
    person.refresh_from_db()
    person.__dict__.pop("_roles", None)
    calendar_token_regenerate(person=person, actor=actor)
    security_event_record(
        action="person.left",
        subject=person,
        actor=actor,
        after={
            "left_on": person.left_on.isoformat() if person.left_on else "",
            "handed_over": handed,
            "kept_as_author": kept,
        },
        request=request,
        notify=False,
    )


def _carried_out(person: Person) -> bool:
    return not person.is_active and not person.memberships.exists()


@audited("person.left")
def departure_carry_out(
    *,
    person: Person,
    actor: Any = SYSTEM,
    request: HttpRequest | None = None,
    today: dt.date | None = None,
) -> Person:
    """Carry out a recorded departure whose day came (the system, by default, on that day);
    one already carried out is left as it is."""
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        if locked.left_on is None or locked.left_on > today:
            raise Refused(
                RefusalKind.STATE,
                [_("%(person)s has no departure due today.") % {"person": locked}],
            )
        if not _carried_out(locked):
            _carry_out(actor=actor, person=locked, request=request)
    return locked


def departures_due(today: dt.date | None = None) -> list[int]:
    """Carry out, each in its own transaction (`departure_carry_out`), every departure whose
    day came and that is not carried out yet (the person still has an active account or a
    role); the ids of those people. Safe to run twice at once: each person is locked and
    checked again."""
    today = today or timezone.localdate()
    due = list(
        Person.objects.filter(left_on__lte=today)
        .filter(Q(is_active=True) | Q(memberships__isnull=False))
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )
    for pk in due:
        departure_carry_out(person=Person(pk=pk), today=today)
    return due


def people_represented_by(person: Any) -> list[Person]:
    """The people, other than themself, who hold a role in an organisation this person
    represents and whose departure is not recorded: those they may ask a departure for."""
    represented = roles_of(person).representative_organization_ids
    if not represented:
        return []
    return list(
        _staying(Person.objects.filter(memberships__organization_id__in=represented))
        .exclude(pk=person.pk)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def departure_request_reasons(actor: Any, person: Person) -> list[str]:
    """A representative asks for the departure of a person of an organisation they represent."""
    represented = roles_of(actor).representative_organization_ids
    if (
        not represented
        or not Membership.objects.filter(person=person, organization_id__in=represented).exists()
    ):
        return [
            _(
                "Only a representative of the person's organisation can ask for their "
                "departure; the secretariat records it."
            )
        ]
    if person.pk == getattr(actor, "pk", None):
        return [
            _(
                "Nobody asks for their own departure: another representative or the secretariat does."
            )
        ]
    return []


@audited("person.departure_requested")
def departure_request(
    *,
    actor: Person,
    person: Person,
    left_on: dt.date,
    note: str = "",
    request: HttpRequest | None = None,
) -> None:
    """Tell the secretariat that a representative asks for this person's departure on
    `left_on`; nothing changes until the secretariat records it."""
    reasons = departure_request_reasons(actor, person)
    if reasons:
        raise Refused(RefusalKind.PERMISSION, reasons)
    if person.left_on is not None:
        raise Refused(RefusalKind.CONFLICT, [_already_left_reason(person)])
    errors = _left_on_errors(person, left_on, timezone.localdate())
    if errors:
        raise Refused(RefusalKind.INVALID, errors["left_on"], errors)
    with transaction.atomic():
        event = audit_record(
            action="person.departure_requested",
            actor=actor,
            obj=person,
            subject=person,
            after={"left_on": left_on.isoformat(), "note": note},
            request=request,
        )
        deliveries_enqueue(
            [
                Notice(
                    recipient_id=recipient_id,
                    template=DEPARTURE_REQUESTED_TEMPLATE,
                    event="person.departure_requested",
                    context={
                        "person": str(person),
                        "person_id": person.pk,
                        "left_on": left_on.isoformat(),
                        "note": note,
                        "actor_name": str(actor),
                        "path": reverse("proposals:person_departure", args=[person.pk]),
                    },
                    essential=True,
                )
                for recipient_id in sorted(secretariat_ids() - {person.pk})
            ],
            key_prefix=f"departure-request:{event.pk}",
            about=person,
            kind=Delivery.Kind.NOTIFICATION,
        )
