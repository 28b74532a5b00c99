"""Reads that are reused: a person's roles, what they may see, proposals with what rules need."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import reduce
from typing import Any, cast

from django.db import connections
from django.db.models import (
    BooleanField,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    JSONField,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.query import ModelIterable
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from proposals.models import (
    Endorsement,
    Membership,
    Organization,
    Person,
    PresidencyTerm,
    Proposal,
    ProposalState,
    Review,
    Revision,
    Role,
    Theme,
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


@dataclass(frozen=True)
class MembershipFact:
    """One role of a person, with what their roles read of its organisation (which has not
    left the group) and whether that organisation chairs the group on the person's day."""

    organization_id: int
    role: str
    organization_status: str
    is_secretariat: bool
    chairs: bool


def roles_built(person: Any, memberships: Iterable[MembershipFact]) -> PersonRoles:
    """The person's roles from their memberships: how `roles_of` and the token's own query
    (`roles_read_with`) both build them."""
    memberships = list(memberships)
    by_role = {
        role: frozenset(m.organization_id for m in memberships if m.role == role) for role in Role
    }
    return PersonRoles(
        person_id=person.pk,
        is_superuser=person.is_superuser,
        organization_ids=frozenset(m.organization_id for m in memberships),
        drafter_organization_ids=by_role[Role.DRAFTER],
        representative_organization_ids=frozenset(
            m.organization_id
            for m in memberships
            if m.role == Role.REPRESENTATIVE and m.organization_status == Organization.Status.MEMBER
        ),
        observer_organization_ids=frozenset(
            m.organization_id
            for m in memberships
            if m.organization_status == Organization.Status.OBSERVER
        ),
        reviewer=bool(by_role[Role.REVIEWER]),
        secretariat=any(m.role == Role.SECRETARIAT and m.is_secretariat for m in memberships),
        presidency=any(m.role == Role.REPRESENTATIVE and m.chairs for m in memberships),
    )


def roles_of(person: Any) -> PersonRoles:
    """The person's roles, read once per person object (one query: the memberships, each
    saying whether its organisation chairs the group today) and then cached on it; a token
    request's person has them already (`roles_read_with`)."""
    if person is None or not getattr(person, "is_authenticated", False):
        return NOBODY
    cached = getattr(person, "_roles", None)
    if cached is not None:
        return cached
    today = timezone.localdate()
    rows = (
        Membership.objects.filter(person=person)
        .exclude(organization__status=Organization.Status.FORMER)
        .annotate(
            chairs=Exists(
                PresidencyTerm.objects.filter(
                    organization=OuterRef("organization_id"),
                    starts_on__lte=today,
                    ends_on__gte=today,
                )
            )
        )
        .values_list(
            "organization_id",
            "role",
            "organization__status",
            "organization__is_secretariat",
            "chairs",
        )
        .order_by()
    )
    roles = roles_built(person, [MembershipFact(*row) for row in rows])
    person._roles = roles
    return roles


ROLE_DAYS = (-1, 0, 1)
"""The days, from the UTC date, on one of which a person's local date falls (UTC-12 to UTC+14):
the token's query says whether each membership's organisation chairs on each, before the
person's time zone is known."""


def roles_read_with(
    queryset: QuerySet[Any], person_field: str, now: datetime, name: str = "person_roles"
) -> QuerySet[Any]:
    """`queryset` with the memberships of each row's person (`person_field`, a foreign key)
    as `roles_of` reads them, in the same query: a JSON array under `name` (empty for a person
    with none). Read it with `roles_from_json`."""
    vendor = connections[queryset.db].vendor
    _outer_table, outer = _table(queryset.model, f'"{queryset.model._meta.db_table}"')
    operations = connections[queryset.db].ops
    membership, m = _table(Membership, "roles_m")
    organization, o = _table(Organization, "roles_o")
    term, t = _table(PresidencyTerm, "roles_t")
    utc_today = now.astimezone(UTC).date()
    chairs: dict[str, str] = {}
    params: list[Any] = []
    for index, offset in enumerate(ROLE_DAYS):
        chairs[f"chairs_{index}"] = (
            f"EXISTS (SELECT 1 FROM {term} WHERE {t('organization')} = {m('organization')} "  # noqa: S608
            f"AND {t('starts_on')} <= %s AND {t('ends_on')} >= %s)"
        )
        day = operations.adapt_datefield_value(utc_today + timedelta(days=offset))
        params += [day, day]
    sql = json_array_sql(
        vendor,
        f"FROM {membership} JOIN {organization} ON {o('id')} = {m('organization')} "
        f"WHERE {m('person')} = {outer(person_field)} AND {o('status')} <> %s",
        organization_id=m("organization"),
        role=m("role"),
        organization_status=o("status"),
        is_secretariat=o("is_secretariat"),
        **chairs,
    )
    params.append(Organization.Status.FORMER.value)
    return queryset.annotate(
        **{name: RawSQL(sql, params, output_field=JSONField())}  # noqa: S611 (no input)
    )


def roles_from_json(
    person: Any, rows: Iterable[dict[str, Any]], now: datetime, today: date
) -> PersonRoles:
    """The person's roles from the JSON `roles_read_with` read at `now`, on the person's local
    date `today`; cached on the person as `roles_of` does."""
    day = ROLE_DAYS.index((today - now.astimezone(UTC).date()).days)
    roles = roles_built(
        person,
        [
            MembershipFact(
                organization_id=row["organization_id"],
                role=row["role"],
                organization_status=row["organization_status"],
                is_secretariat=bool(row["is_secretariat"]),
                chairs=bool(row[f"chairs_{day}"]),
            )
            for row in rows
        ],
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
    return _with_rule_relations(queryset, "occasion", "submission", "outcome_record")


def proposals_with_rule_relations(queryset: QuerySet[Proposal] | None = None) -> QuerySet[Proposal]:
    """`proposals_with_rule_data` for pages that only read: the same joins, the relations
    attached by `rule_relations_attach` instead of prefetch_related."""
    return _with_rule_relations(
        queryset, "occasion", "target_body", "lead_organization", "submission", "outcome_record"
    )


def _with_rule_relations(queryset: QuerySet[Proposal] | None, *joined: str) -> QuerySet[Proposal]:
    queryset = Proposal.objects.all() if queryset is None else queryset
    chained = queryset.select_related(*joined)  # a copy
    chained.__class__ = ProposalsWithRuleRelations  # the same query, its rows read the cheaper way
    return chained


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


# One proposal with what the rules read, in one query: the transitions' row lock.


PERSON_NAME_FIELDS = ("id", "username", "first_name", "last_name", "erased_at")
"""What is read of an author or a contributor with the rule facts: enough to name them."""
ORGANIZATION_FIELDS = ("id", "name", "short_name", "kind", "country", "status", "is_secretariat")


def json_array_sql(vendor: str, source: str, **columns: str) -> str:
    """SQL of one subquery: the rows of `source` (its FROM and WHERE) as a JSON array of
    objects whose keys are `columns`' names and values their SQL (PostgreSQL's JSONB_AGG,
    SQLite's JSON_GROUP_ARRAY). Written, not built by the ORM: compiling the ORM's version of
    the transitions' lock took longer than running it."""
    pairs = ", ".join(f"'{key}', {sql}" for key, sql in columns.items())
    if vendor == "postgresql":
        return f"(SELECT COALESCE(JSONB_AGG(JSONB_BUILD_OBJECT({pairs})), '[]'::jsonb) {source})"
    return f"(SELECT JSON_GROUP_ARRAY(JSON_OBJECT({pairs})) {source})"


def _table(model: type[Model], alias: str) -> tuple[str, Callable[[str], str]]:
    """The model's table under `alias`, and the SQL of one of its fields (by name)."""

    def column(name: str) -> str:
        return f'{alias}."{cast(Any, model._meta.get_field(name)).column}"'

    return f'"{model._meta.db_table}" {alias}', column


def _rule_facts_sql(vendor: str) -> dict[str, str]:
    """The SQL of each fact `proposals_with_rule_facts` reads, correlated on the proposal."""
    proposal, outer = _table(Proposal, f'"{Proposal._meta.db_table}"')
    person, p = _table(Person, "facts_p")
    organization, o = _table(Organization, "facts_o")
    revision, v = _table(Revision, "facts_v")
    review, r = _table(Review, "facts_r")
    endorsement, e = _table(Endorsement, "facts_e")
    theme, t = _table(Theme, "facts_t")
    facts = {}
    for name, through_model in (
        ("authors", Proposal.authors.through),
        ("contributors", Proposal.contributors.through),
    ):
        through, link = _table(through_model, "facts_a")
        facts[name] = json_array_sql(
            vendor,
            f"FROM {through} JOIN {person} ON {p('id')} = {link('person')} "
            f"WHERE {link('proposal')} = {outer('id')}",
            **{field: p(field) for field in PERSON_NAME_FIELDS},
        )
    themes, link = _table(Proposal.themes.through, "facts_a")
    facts["themes"] = json_array_sql(
        vendor,
        f"FROM {themes} JOIN {theme} ON {t('number')} = {link('theme')} "
        f"WHERE {link('proposal')} = {outer('id')}",
        number=t("number"),
        name=t("name"),
    )
    facts["reviews"] = json_array_sql(
        vendor,
        f"FROM {review} JOIN {revision} ON {v('id')} = {r('revision')} "
        f"WHERE {r('proposal')} = {outer('id')}",
        id=r("id"),
        revision_id=r("revision"),
        revision_number=v("number"),
        reviewer_id=r("reviewer"),
        decision=r("decision"),
        comment=r("comment"),
        created_at=r("created_at"),
    )
    facts["endorsements"] = json_array_sql(
        vendor,
        f"FROM {endorsement} JOIN {organization} ON {o('id')} = {e('organization')} "
        f"WHERE {e('proposal')} = {outer('id')}",
        id=e("id"),
        endorsed_by_id=e("endorsed_by"),
        created_at=e("created_at"),
        withdrawn_at=e("withdrawn_at"),
        withdrawn_by_id=e("withdrawn_by"),
        **{f"organization_{field}": o(field) for field in ORGANIZATION_FIELDS},
    )
    facts["revision_id"] = (  # names from the models, no input
        f"(SELECT {v('id')} FROM {revision} "  # noqa: S608
        f"WHERE {v('proposal')} = {outer('id')} AND {v('number')} = {outer('revision')})"
    )
    return facts


def proposals_with_rule_facts(queryset: QuerySet[Proposal] | None = None) -> QuerySet[Proposal]:
    """Proposals with everything the rules read in the same query as the proposal (its
    authors, contributors, themes, reviews and endorsements as JSON, and the id of its current
    revision): what `proposals_with_rule_data` reads in six queries. Read each with
    `rule_facts_kept`, which makes them the proposal's prefetched relations."""
    queryset = Proposal.objects.all() if queryset is None else queryset
    facts = _rule_facts_sql(connections[queryset.db].vendor)
    return queryset.select_related(
        "occasion", "target_body", "lead_organization", "submission", "outcome_record"
    ).annotate(
        **{
            f"facts_{name}": RawSQL(  # noqa: S611 (names from the models, no input)
                sql, (), output_field=IntegerField() if name == "revision_id" else JSONField()
            )
            for name, sql in facts.items()
        }
    )


def instance_from_json(model: type[Model], values: dict[str, Any]) -> Any:
    """An instance of `model` with the fields given (by attribute name), converted from their
    JSON form; the others are deferred (read from the database if ever used)."""
    fields = [field for field in model._meta.concrete_fields if field.attname in values]
    converted = []
    for field in fields:
        value = values[field.attname]
        if isinstance(field, DateTimeField) and isinstance(value, str):
            value = parse_datetime(value)
            if value is not None and timezone.is_naive(value):
                value = timezone.make_aware(value, UTC)
        elif isinstance(field, BooleanField) and value is not None:
            value = bool(value)
        elif isinstance(field, JSONField) and isinstance(value, str):
            value = json.loads(value)  # SQLite keeps a JSON column as its text
        converted.append(value)
    return model.from_db(None, [field.attname for field in fields], converted)


def prefetched_append(proposal: Proposal, name: str, item: Any) -> None:
    """Add a row just written to the proposal's prefetched `name`, if it was prefetched."""
    cached = getattr(proposal, "_prefetched_objects_cache", {}).get(name)
    if cached is not None:
        cached._result_cache.append(item)


def _cached(proposal: Proposal, name: str, items: list[Any]) -> None:
    queryset = getattr(proposal, name).all()
    queryset._result_cache = items
    queryset._prefetch_done = True
    cast(Any, proposal)._prefetched_objects_cache[name] = queryset


def rule_facts_kept(proposal: Proposal) -> Proposal:
    """The proposal read with `proposals_with_rule_facts`, its facts made its prefetched
    authors, contributors, themes, reviews (with their revision) and endorsements (with their
    organisation), as `proposals_with_rule_data` leaves them; no query."""
    facts = cast(Any, proposal)
    if not hasattr(facts, "_prefetched_objects_cache"):
        facts._prefetched_objects_cache = {}
    for name in ("authors", "contributors"):
        people = [instance_from_json(Person, row) for row in getattr(facts, f"facts_{name}")]
        _cached(proposal, name, sorted(people, key=lambda person: (person.username, person.pk)))
    themes = [instance_from_json(Theme, row) for row in facts.facts_themes]
    _cached(proposal, "themes", sorted(themes, key=lambda theme: theme.number))
    reviews = []
    for row in facts.facts_reviews:
        review = instance_from_json(Review, {**row, "proposal_id": proposal.pk})
        review.revision = instance_from_json(
            Revision,
            {
                "id": row["revision_id"],
                "proposal_id": proposal.pk,
                "number": row["revision_number"],
            },
        )
        reviews.append(review)
    _cached(proposal, "reviews", sorted(reviews, key=lambda review: (review.created_at, review.pk)))
    endorsements = []
    for row in facts.facts_endorsements:
        endorsement = instance_from_json(Endorsement, {**row, "proposal_id": proposal.pk})
        endorsement.organization = instance_from_json(
            Organization, {name: row[f"organization_{name}"] for name in ORGANIZATION_FIELDS}
        )
        endorsements.append(endorsement)
    _cached(proposal, "endorsements", sorted(endorsements, key=lambda e: (e.created_at, e.pk)))
    return proposal
