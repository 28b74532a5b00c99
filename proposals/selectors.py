"""Reads that are reused: a person's roles, what they may see, proposals with what rules need."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import reduce
from typing import Any, cast

from django.db.models import (
    Count,
    Exists,
    F,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.db.models.query import ModelIterable
from django.utils import timezone

from proposals.models import (
    Endorsement,
    Membership,
    Organization,
    Person,
    PresidencyTerm,
    Proposal,
    ProposalState,
    Review,
    Role,
)


@dataclass(frozen=True)
class PersonRoles:
    """What one person may do, derived from their roles in organisations that have not left."""

    person_id: int | None
    is_superuser: bool = False
    organization_ids: frozenset[int] = frozenset()
    drafter_organization_ids: frozenset[int] = frozenset()
    representative_organization_ids: frozenset[int] = frozenset()
    observer_organization_ids: frozenset[int] = frozenset()
    reviewer: bool = False
    secretariat: bool = False
    presidency: bool = False

    @property
    def in_group(self) -> bool:
        return bool(self.organization_ids) or self.is_superuser

    @property
    def may_review(self) -> bool:
        return self.reviewer or self.secretariat

    @property
    def secretariat_or_superuser(self) -> bool:
        """Who manages the group itself: its people, invitations, deliveries, feeds, bundles."""
        return self.secretariat or self.is_superuser

    @property
    def sees_everything(self) -> bool:
        return self.secretariat or self.presidency or self.is_superuser

    @property
    def represents_observer_only(self) -> bool:
        """True for a representative-like person whose organisations are all observers."""
        return bool(self.observer_organization_ids) and not self.representative_organization_ids


NOBODY = PersonRoles(person_id=None)


def presidency_current(today: date | None = None) -> PresidencyTerm | None:
    today = today or timezone.localdate()
    return (
        PresidencyTerm.objects.select_related("organization")
        .filter(starts_on__lte=today, ends_on__gte=today)
        .first()
    )


def roles_of(person: Any) -> PersonRoles:
    """The person's roles, read once per person object (one query: the memberships, each
    saying whether its organisation chairs the group today) and then cached on it."""
    if person is None or not getattr(person, "is_authenticated", False):
        return NOBODY
    cached = getattr(person, "_roles", None)
    if cached is not None:
        return cached
    today = timezone.localdate()
    memberships = list(
        Membership.objects.filter(person=person)
        .exclude(organization__status=Organization.Status.FORMER)
        .select_related("organization")
        .annotate(
            chairs=Exists(
                PresidencyTerm.objects.filter(
                    organization=OuterRef("organization_id"),
                    starts_on__lte=today,
                    ends_on__gte=today,
                )
            )
        )
    )
    org_ids = frozenset(m.organization_id for m in memberships)
    by_role = {
        role: frozenset(m.organization_id for m in memberships if m.role == role) for role in Role
    }
    full_representative = frozenset(
        m.organization_id
        for m in memberships
        if m.role == Role.REPRESENTATIVE and m.organization.status == Organization.Status.MEMBER
    )
    roles = PersonRoles(
        person_id=person.pk,
        is_superuser=person.is_superuser,
        organization_ids=org_ids,
        drafter_organization_ids=by_role[Role.DRAFTER],
        representative_organization_ids=full_representative,
        observer_organization_ids=frozenset(
            m.organization_id
            for m in memberships
            if m.organization.status == Organization.Status.OBSERVER
        ),
        reviewer=bool(by_role[Role.REVIEWER]),
        secretariat=any(
            m.role == Role.SECRETARIAT and m.organization.is_secretariat for m in memberships
        ),
        presidency=any(m.role == Role.REPRESENTATIVE and m.chairs for m in memberships),
    )
    person._roles = roles
    return roles


def proposals_visible_to(
    person: Any, queryset: QuerySet[Proposal] | None = None
) -> QuerySet[Proposal]:
    """Drafts for their authors, their lead organisation, the secretariat and the presidency;
    everything from review on for every person of the group."""
    queryset = Proposal.objects.all() if queryset is None else queryset
    roles = roles_of(person)
    if roles.sees_everything:
        return queryset
    if roles.person_id is None:
        return queryset.none()
    authored = Exists(
        Proposal.authors.through.objects.filter(proposal=OuterRef("pk"), person=person)
    )
    visible = Q(authored) | Q(lead_organization_id__in=roles.organization_ids)
    if roles.in_group:
        visible |= ~Q(state=ProposalState.DRAFT)
    return queryset.filter(visible)


PEOPLE_AND_THEMES = ("authors", "contributors", "themes")
"""What the rules read of a proposal that no transition changes."""


def _decisions() -> tuple[Prefetch[Any], Prefetch[Any]]:
    """The reviews and the endorsements, as the rules read them."""
    return (
        Prefetch("reviews", queryset=Review.objects.select_related("revision", "reviewer")),
        Prefetch(
            "endorsements",
            queryset=Endorsement.objects.select_related("organization", "endorsed_by"),
        ),
    )


RULE_RELATIONS = ("authors", "contributors", "themes", "reviews", "endorsements")
"""The relations of a proposal the rules read, under the names of their prefetch caches."""


def _prefetched(instance: Model, name: str, model: type[Model], items: list[Any]) -> None:
    """Make `items` what `instance.<name>.all()` answers, as prefetch_related leaves it."""
    found: Any = QuerySet(model=model)
    found._result_cache = items
    found._prefetch_done = True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = found


def rule_relations_attach(proposals: Sequence[Proposal]) -> None:
    """Read the relations the rules read for all these proposals at once, five queries in the
    order and with the related rows prefetch_related reads (`proposals_with_rule_data`), and
    make them each proposal's prefetched relations. Unlike prefetch_related, no queryset is
    made and filtered per proposal and relation: at 50 proposals, that was about half of the
    API list's time in Python."""
    by_id = {proposal.pk: proposal for proposal in proposals}
    found: dict[str, dict[int, list[Any]]] = {
        name: {pk: [] for pk in by_id} for name in RULE_RELATIONS
    }
    models: dict[str, Any] = {
        "authors": Person,
        "contributors": Person,
        "themes": Proposal.themes.field.related_model,
        "reviews": Review,
        "endorsements": Endorsement,
    }
    for name, related in (("authors", "person"), ("contributors", "person"), ("themes", "theme")):
        model = models[name]
        rows = (
            getattr(Proposal, name)
            .through.objects.filter(proposal_id__in=by_id)
            .select_related(related)
            .order_by(*(f"{related}__{key}" for key in cast(Any, model)._meta.ordering), "pk")
        )
        for row in rows:
            found[name][row.proposal_id].append(getattr(row, related))
    reviews, endorsements = _decisions()
    for prefetch in (reviews, endorsements):
        name = prefetch.prefetch_to
        relation = cast(Any, prefetch.queryset).filter(proposal_id__in=by_id)
        for item in relation:
            proposal = by_id[item.proposal_id]
            type(item).proposal.field.set_cached_value(item, proposal)
            found[name][proposal.pk].append(item)
    for name, lists in found.items():
        for pk, items in lists.items():
            _prefetched(by_id[pk], name, models[name], items)


class ProposalsWithRuleRelations(QuerySet[Proposal]):
    """Proposals that carry, once read, the relations the rules read (`rule_relations_attach`:
    five queries for all of them)."""

    def _fetch_all(self) -> None:
        unread = self._result_cache is None
        super()._fetch_all()
        if unread and self._result_cache and self._iterable_class is ModelIterable:
            rule_relations_attach(cast(list[Proposal], self._result_cache))


def proposals_with_rule_data(queryset: QuerySet[Proposal] | None = None) -> QuerySet[Proposal]:
    """Proposals with everything the rules read, in a constant number of queries."""
    queryset = Proposal.objects.all() if queryset is None else queryset
    reviews, endorsements = _decisions()
    return queryset.select_related(
        "occasion", "target_body", "lead_organization", "submission", "outcome_record"
    ).prefetch_related("authors", "contributors", "themes", reviews, endorsements)


def proposals_with_rule_data_by_ids(
    queryset: QuerySet[Proposal] | None = None,
) -> QuerySet[Proposal]:
    """Proposals with what the rules read, for readers that show the lead organisation and the
    target body as ids (the API): those two are not joined (with them, PostgreSQL weighed the
    join orders of seven tables: at 100,000 proposals, planning a page of the list took about
    20 ms, more than running it; with five tables, about 1 ms), and the relations are attached
    by `rule_relations_attach`, not by prefetch_related."""
    queryset = Proposal.objects.all() if queryset is None else queryset
    chained = queryset.select_related("occasion", "submission", "outcome_record")  # a copy
    chained.__class__ = ProposalsWithRuleRelations  # the same query, its rows read the cheaper way
    return chained


def proposals_with_rule_relations(queryset: QuerySet[Proposal] | None = None) -> QuerySet[Proposal]:
    """`proposals_with_rule_data` for pages that only read: the same joins, the relations
    attached by `rule_relations_attach` instead of prefetch_related."""
    queryset = Proposal.objects.all() if queryset is None else queryset
    chained = queryset.select_related(
        "occasion", "target_body", "lead_organization", "submission", "outcome_record"
    )
    chained.__class__ = ProposalsWithRuleRelations
    return chained


def proposal_after_transition(proposal: Proposal) -> Proposal:
    """The proposal as a transition left it, read again with everything the rules read; its
    authors, contributors and themes, which no transition changes, are taken from the copy
    the transition ran on (three queries fewer than reading it all again)."""
    cached = getattr(proposal, "_prefetched_objects_cache", {})
    kept = {name: cached[name] for name in PEOPLE_AND_THEMES if name in cached}
    queryset = proposals_with_rule_data()
    if len(kept) == len(PEOPLE_AND_THEMES):
        reviews, endorsements = _decisions()
        queryset = queryset.prefetch_related(None).prefetch_related(reviews, endorsements)
    fresh = queryset.get(pk=proposal.pk)
    cast(Any, fresh)._prefetched_objects_cache.update(kept)
    return fresh


def co_author_candidates() -> QuerySet[Person]:
    """The people who may be named co-authors: active drafters of a member or observer."""
    return (
        Person.objects.filter(
            is_active=True,
            memberships__role=Role.DRAFTER,
            memberships__organization__status__in=[
                Organization.Status.MEMBER,
                Organization.Status.OBSERVER,
            ],
        )
        .distinct()
        .order_by("first_name", "username")
    )


def reviewer_ids() -> set[int]:
    return set(
        Membership.objects.filter(role=Role.REVIEWER)
        .exclude(organization__status=Organization.Status.FORMER)
        .values_list("person_id", flat=True)
    )


def reviewers_active() -> list[Person]:
    """The active people named reviewers (in an organisation that has not left), by name: one
    query."""
    memberships = (
        Membership.objects.filter(role=Role.REVIEWER, person__is_active=True)
        .exclude(organization__status=Organization.Status.FORMER)
        .select_related("person")
        .order_by("person__first_name", "person__last_name", "person__username")
    )
    people: dict[int, Person] = {}
    for membership in memberships:
        people.setdefault(membership.person_id, membership.person)
    return list(people.values())


def representatives_active() -> list[Membership]:
    """The representative roles of active people in full member organisations, with the person
    and the organisation, by organisation then person: one query."""
    return list(
        Membership.objects.filter(
            role=Role.REPRESENTATIVE,
            person__is_active=True,
            organization__status=Organization.Status.MEMBER,
        )
        .select_related("person", "organization")
        .order_by("organization__name", "person__first_name", "person__username")
    )


def secretariat_ids() -> set[int]:
    return set(
        Membership.objects.filter(
            role=Role.SECRETARIAT, organization__is_secretariat=True
        ).values_list("person_id", flat=True)
    )


def presidency_ids(today: date | None = None) -> set[int]:
    presidency = presidency_current(today)
    if presidency is None:
        return set()
    return set(
        Membership.objects.filter(
            role=Role.REPRESENTATIVE, organization_id=presidency.organization_id
        ).values_list("person_id", flat=True)
    )


def people_who_may_view(proposal: Proposal, person_ids: Iterable[int]) -> set[int]:
    """The ids among `person_ids` of the active people who may see the proposal (`may_view`
    read for many people at once, in two queries): whoever may not see it is told nothing
    about it."""
    wanted = set(person_ids)
    if not wanted:
        return set()
    current = Membership.objects.filter(person=OuterRef("pk")).exclude(
        organization__status=Organization.Status.FORMER
    )
    sees = (
        Q(is_superuser=True)
        | Q(Exists(current.filter(role=Role.SECRETARIAT, organization__is_secretariat=True)))
        | Q(
            Exists(
                Proposal.authors.through.objects.filter(proposal=proposal, person=OuterRef("pk"))
            )
        )
    )
    if proposal.lead_organization_id is not None:
        sees |= Q(Exists(current.filter(organization_id=proposal.lead_organization_id)))
    presidency = presidency_current()
    if presidency is not None:
        sees |= Q(
            Exists(
                current.filter(role=Role.REPRESENTATIVE, organization_id=presidency.organization_id)
            )
        )
    if proposal.state != ProposalState.DRAFT:
        sees |= Q(Exists(current))
    return set(
        Person.objects.filter(pk__in=wanted, is_active=True)
        .filter(sees)
        .values_list("pk", flat=True)
    )


def people_who_may_view_each(
    proposals: Sequence[Proposal], person_ids: Iterable[int]
) -> dict[int, set[int]]:
    """`people_who_may_view` for many proposals at once, in four queries whatever their number:
    for each proposal's id, the ids among `person_ids` of the active people who may see it."""
    wanted = set(person_ids)
    if not wanted or not proposals:
        return {proposal.pk: set() for proposal in proposals}
    superusers: set[int] = set()
    active: set[int] = set()
    for pk, is_superuser in Person.objects.filter(pk__in=wanted, is_active=True).values_list(
        "pk", "is_superuser"
    ):
        active.add(pk)
        if is_superuser:
            superusers.add(pk)
    presidency = presidency_current()
    sees_everything = set(superusers)
    organizations: dict[int, set[int]] = {}
    for person_id, organization_id, role, is_secretariat in (
        Membership.objects.filter(person_id__in=active)
        .exclude(organization__status=Organization.Status.FORMER)
        .values_list("person_id", "organization_id", "role", "organization__is_secretariat")
    ):
        organizations.setdefault(person_id, set()).add(organization_id)
        if (role == Role.SECRETARIAT and is_secretariat) or (
            role == Role.REPRESENTATIVE
            and presidency is not None
            and organization_id == presidency.organization_id
        ):
            sees_everything.add(person_id)
    authors: dict[int, set[int]] = {}
    for proposal_id, person_id in Proposal.authors.through.objects.filter(
        proposal_id__in=[proposal.pk for proposal in proposals], person_id__in=active
    ).values_list("proposal_id", "person_id"):
        authors.setdefault(proposal_id, set()).add(person_id)
    in_group = set(organizations) | superusers
    visible: dict[int, set[int]] = {}
    for proposal in proposals:
        if proposal.state != ProposalState.DRAFT:
            visible[proposal.pk] = set(in_group)
            continue
        visible[proposal.pk] = (
            sees_everything
            | authors.get(proposal.pk, set())
            | {
                person_id
                for person_id, ids in organizations.items()
                if proposal.lead_organization_id in ids
            }
        )
    return visible


def representatives_of_full_members() -> dict[int, set[int]]:
    """Person ids of the representatives of each full member organisation."""
    by_org: dict[int, set[int]] = {}
    for org_id, person_id in Membership.objects.filter(
        role=Role.REPRESENTATIVE, organization__status=Organization.Status.MEMBER
    ).values_list("organization_id", "person_id"):
        by_org.setdefault(org_id, set()).add(person_id)
    return by_org


# What awaits a person, selected in SQL for the dashboard. These only preselect: the rules
# (proposals.rules) decide when someone acts; tests/proposals/test_selectors.py shows both agree.


def _authored_by(person: Any) -> Exists:
    return Exists(Proposal.authors.through.objects.filter(proposal=OuterRef("pk"), person=person))


def proposals_authored_by(
    person: Any, queryset: QuerySet[Proposal] | None = None
) -> QuerySet[Proposal]:
    """The proposals this person is an author of."""
    queryset = Proposal.objects.all() if queryset is None else queryset
    return queryset.filter(_authored_by(person))


def proposals_awaiting_review_by(
    person: Any, queryset: QuerySet[Proposal] | None = None
) -> QuerySet[Proposal]:
    """In review, not written by this reviewer, and not yet reviewed by them in its current
    revision; nothing for a person who may not review."""
    queryset = Proposal.objects.all() if queryset is None else queryset
    if not roles_of(person).may_review:
        return queryset.none()
    reviewed = Exists(
        Review.objects.filter(
            proposal=OuterRef("pk"), reviewer=person, revision__number=OuterRef("revision")
        )
    )
    return queryset.filter(~_authored_by(person), ~reviewed, state=ProposalState.IN_REVIEW)


def proposals_awaiting_endorsement_by(
    person: Any, queryset: QuerySet[Proposal] | None = None
) -> QuerySet[Proposal]:
    """Open for endorsement, short of its quorum, and not yet endorsed (an endorsement not
    withdrawn) by one at least of the full members this person represents; nothing for a
    person who represents none. Past its quorum a proposal awaits the secretariat, no longer
    its representatives (who may still endorse it)."""
    queryset = Proposal.objects.all() if queryset is None else queryset
    organization_ids = sorted(roles_of(person).representative_organization_ids)
    if not organization_ids:
        return queryset.none()
    not_endorsed_by = [
        Q(
            ~Exists(
                Endorsement.objects.filter(
                    proposal=OuterRef("pk"),
                    organization_id=organization_id,
                    withdrawn_at__isnull=True,
                )
            )
        )
        for organization_id in organization_ids
    ]
    return (
        queryset.filter(reduce(operator.or_, not_endorsed_by), state=ProposalState.ENDORSEMENT)
        .annotate(full_member_endorsements=Coalesce(_full_member_endorsements(), 0))
        .filter(
            Q(occasion__isnull=True)
            | Q(full_member_endorsements__lt=F("occasion__endorsement_quorum"))
        )
    )


def _full_member_endorsements() -> Subquery:
    """The number of distinct full members whose endorsement of the outer proposal is in force."""
    return Subquery(
        Endorsement.objects.filter(
            proposal=OuterRef("pk"),
            withdrawn_at__isnull=True,
            organization__status=Organization.Status.MEMBER,
        )
        .order_by()
        .values("proposal")
        .annotate(count=Count("organization", distinct=True))
        .values("count")
    )


def proposals_ready_to_submit(queryset: QuerySet[Proposal] | None = None) -> QuerySet[Proposal]:
    """Open for endorsement with its occasion's quorum of endorsements from distinct full
    members (annotated as full_member_endorsements)."""
    queryset = Proposal.objects.all() if queryset is None else queryset
    return (
        queryset.filter(state=ProposalState.ENDORSEMENT)
        .annotate(
            full_member_endorsements=Count(
                "endorsements__organization",
                filter=Q(
                    endorsements__withdrawn_at__isnull=True,
                    endorsements__organization__status=Organization.Status.MEMBER,
                ),
                distinct=True,
            )
        )
        .filter(full_member_endorsements__gte=F("occasion__endorsement_quorum"))
    )
