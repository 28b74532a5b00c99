"""Fill PostgreSQL with a group at scale: organisations, people, bodies, occasions, proposals in
every state with their authors, themes, revisions, reviews, endorsements, submissions,
outcomes, transition log rows and sent notifications.

    python -m bench.generate --proposals 100000          # a fresh policy_bench database
    python -m bench.generate --proposals 900000 --append --open-only

The group (organisations, people, occasions) is made once; proposals are written with COPY in
chunks. A fixed set of proposals sits on occasions whose reminders are due now ("due"
proposals), whatever the number of the others, so that the reminder scan has the same work at
every size. The other open proposals are timed to occasions more than 30 days away, the closed
ones to past occasions.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bench import db
from bench.progress import Progress

CHUNK = 5_000

STATE_MIX = {
    "draft": 0.25,
    "in_review": 0.08,
    "endorsement": 0.07,
    "submitted": 0.10,
    "closed": 0.40,
    "withdrawn": 0.10,
}
OPEN_MIX = {"draft": 0.6, "in_review": 0.2, "endorsement": 0.2}
OPEN = ("draft", "in_review", "endorsement")
# The states whose first entry a proposal keeps on its row (proposals.models.MILESTONE_FIELDS).
MILESTONES = ("draft", "in_review", "endorsement", "submitted", "withdrawn")

LANGUAGES = ("en", "fr", "es")
ZONES = (
    "Europe/Paris",
    "Africa/Casablanca",
    "Europe/Luxembourg",
    "America/Guayaquil",
    "America/Bogota",
    "America/Toronto",
    "Asia/Seoul",
    "UTC",
)
WORDS = (
    "cooperative social solidarity economy mutual association foundation network local "
    "public procurement finance employment decent work fair trade housing energy community "
    "law framework statistics recognition youth women rural urban climate transition care"
).split()

# Offsets of the default rule are 30, 14, 7, 2 and 1 days: the due occasions' deadlines fall
# between two of them, so that one offset (the latest) is due for each; one deadline passed.
DUE_DEADLINES_IN_DAYS = (29.5, 13.5, 6.5, 1.5, 0.5, -1.0)
# Due proposals per state: about 1,000 reminders with the group's reviewers and members.
DUE_MIX = {"draft": 60, "in_review": 40, "endorsement": 12}
DUE_READY = 4  # of the due proposals in endorsement, those with their quorum reached


@dataclass
class GroupIds:
    """Ids of what the proposals refer to."""

    secretariat_org: int
    member_orgs: list[int]  # full members (representatives endorse for them)
    lead_orgs: list[int]  # organisations whose drafters write proposals (observers too)
    drafters: dict[int, list[int]]  # organisation id -> drafter ids
    representatives: dict[int, int]  # full member id -> representative id
    reviewers: list[int]
    secretariat: list[int]
    bodies: list[int]
    past_occasions: list[tuple[int, datetime]]
    future_occasions: list[tuple[int, datetime]]
    due_occasions: list[tuple[int, datetime]]
    proposal_type: int


@dataclass
class Rows:
    """The rows of one chunk, per table."""

    proposal: list[tuple[Any, ...]] = field(default_factory=list)
    authors: list[tuple[Any, ...]] = field(default_factory=list)
    themes: list[tuple[Any, ...]] = field(default_factory=list)
    revision: list[tuple[Any, ...]] = field(default_factory=list)
    review: list[tuple[Any, ...]] = field(default_factory=list)
    endorsement: list[tuple[Any, ...]] = field(default_factory=list)
    submission: list[tuple[Any, ...]] = field(default_factory=list)
    outcome: list[tuple[Any, ...]] = field(default_factory=list)
    log: list[tuple[Any, ...]] = field(default_factory=list)
    delivery: list[tuple[Any, ...]] = field(default_factory=list)

    def count(self) -> int:
        return sum(len(v) for v in vars(self).values())


class CopyTable:
    """COPY rows into a model's table: the columns given, then every other column with the
    field's default, so that a field added later with a default does not break the generator."""

    def __init__(
        self,
        model: Any,
        columns: Sequence[str],
        derived: dict[str, Callable[[tuple[Any, ...]], Any]] | None = None,
    ) -> None:
        from django.db import connection

        self.table = model._meta.db_table
        given = list(columns)
        rest: list[str] = []
        defaults: list[Any] = []
        with connection.cursor() as cursor:
            existing = {
                column.name
                for column in connection.introspection.get_table_description(cursor, self.table)
            }
        self.derived = [
            (name, compute) for name, compute in (derived or {}).items() if name in existing
        ]
        given += [name for name, _compute in self.derived]
        for model_field in model._meta.concrete_fields:
            if model_field.column in given or model_field.column not in existing:
                continue
            if model_field.primary_key:
                continue
            value = model_field.get_default()
            if value is None and not model_field.null:
                raise RuntimeError(
                    f"{self.table}.{model_field.column} has no default: teach bench/generate.py "
                    "to fill it."
                )
            if isinstance(value, dict | list):
                value = json.dumps(value)
            else:
                value = model_field.get_db_prep_save(value, connection)
            rest.append(model_field.column)
            defaults.append(value)
        self.columns = given + rest
        self.defaults = tuple(defaults)

    def write(self, cursor: Any, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        names = ", ".join(f'"{c}"' for c in self.columns)
        with cursor.copy(f'COPY "{self.table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                extra = tuple(compute(row) for _name, compute in self.derived)
                copy.write_row(row + extra + self.defaults)


class ThroughTable:
    """COPY rows into a many-to-many table (id, left, right)."""

    def __init__(self, table: str, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = list(columns)

    def write(self, cursor: Any, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        names = ", ".join(f'"{c}"' for c in self.columns)
        with cursor.copy(f'COPY "{self.table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)


def password_hash(password: str, salt: str = "benchsalt0000000") -> str:
    """Django's pbkdf2_sha256 hash of `password`, computed once for every generated person."""
    iterations = 1_000_000
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode()}"


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def proposal_text(rng: random.Random, number: int) -> str:
    paragraphs = [sentence(rng, 40).capitalize() + "." for _ in range(3)]
    bullets = "\n".join(f"- {sentence(rng, 6)}" for _ in range(4))
    return f"# Proposal {number}\n\n" + "\n\n".join(paragraphs) + "\n\n## Measures\n\n" + bullets


def text_html(text: str) -> str:
    """The HTML of a generated text (headings, paragraphs, a list), exactly as
    proposals.markdown.markdown_to_html renders it (a test checks it), made by hand because
    rendering 100k texts would slow the generation down by minutes."""
    parts = []
    for block in text.split("\n\n"):
        if block.startswith("## "):
            parts.append(f"<h2>{block[3:]}</h2>\n")
        elif block.startswith("# "):
            parts.append(f"<h1>{block[2:]}</h1>\n")
        elif block.startswith("- "):
            items = "".join(f"<li>{line[2:]}</li>\n" for line in block.splitlines())
            parts.append(f"<ul>\n{items}</ul>\n")
        else:
            parts.append(f"<p>{block}</p>\n")
    return "".join(parts)


def group_create(rng: random.Random, proposals: int, now: datetime) -> GroupIds:
    """The organisations, people, bodies and occasions; sized after the number of proposals."""
    from django.contrib.contenttypes.models import ContentType

    from proposals.models import (
        Body,
        Membership,
        Occasion,
        Organization,
        Person,
        PresidencyTerm,
        Proposal,
        Role,
    )

    orgs: list[Organization] = [
        Organization(
            name="Mont-Blanc Meetings",
            short_name="RMB",
            kind=Organization.Kind.CIVIL_SOCIETY,
            is_secretariat=True,
            joined_on=now.date() - timedelta(days=4000),
        )
    ]
    kinds = (
        [Organization.Kind.STATE] * 30
        + [Organization.Kind.LOCAL_GOVERNMENT] * 10
        + [Organization.Kind.INTERNATIONAL_INSTITUTION] * 8
        + [Organization.Kind.CIVIL_SOCIETY] * 12
    )
    for index, kind in enumerate(kinds, start=1):
        status = Organization.Status.MEMBER
        if kind == Organization.Kind.LOCAL_GOVERNMENT and index % 4 == 0:
            status = Organization.Status.OBSERVER
        left_on = None
        if index in (17, 43):
            status = Organization.Status.FORMER
            left_on = now.date() - timedelta(days=300)
        orgs.append(
            Organization(
                name=f"{kind.label} {index}",
                short_name=f"O{index}",
                kind=kind,
                status=status,
                country="FR" if kind == Organization.Kind.STATE else "",
                joined_on=now.date() - timedelta(days=rng.randint(400, 4000)),
                left_on=left_on,
            )
        )
    Organization.objects.bulk_create(orgs)
    secretariat_org = orgs[0]
    states = [o for o in orgs if o.kind == Organization.Kind.STATE and o.status == "member"]
    PresidencyTerm.objects.create(
        organization=states[0],
        starts_on=now.date() - timedelta(days=30),
        ends_on=now.date() + timedelta(days=150),
    )

    hashed = password_hash("bench")
    people: list[Person] = []
    roles: list[tuple[int, int, str]] = []  # (person index, org index, role)

    def person(username: str) -> int:
        people.append(
            Person(
                username=username,
                email=f"{username}@bench.example.org",
                first_name=username.capitalize(),
                password=hashed,
                language=LANGUAGES[len(people) % 3],
                timezone=ZONES[len(people) % len(ZONES)],
                daily_digest=len(people) % 10 == 0,
                calendar_token=f"bench-calendar-{username}",
            )
        )
        return len(people) - 1

    drafters_per_org = min(max(proposals // 5000, 3), 200)
    for org_index, org in enumerate(orgs):
        if org.is_secretariat:
            continue
        for number in range(1, drafters_per_org + 1):
            roles.append((person(f"o{org_index}d{number}"), org_index, Role.DRAFTER))
        roles.append((person(f"o{org_index}r"), org_index, Role.REPRESENTATIVE))
    for number in range(1, 9):
        home = 0 if number <= 4 else rng.randrange(1, len(orgs))
        roles.append((person(f"reviewer{number}"), home, Role.REVIEWER))
    for number in range(1, 4):
        roles.append((person(f"secretariat{number}"), 0, Role.SECRETARIAT))
    people.append(
        Person(
            username="admin",
            email="admin@bench.example.org",
            password=hashed,
            is_superuser=True,
            is_staff=True,
            calendar_token="bench-calendar-admin",  # noqa: S106
        )
    )
    Person.objects.bulk_create(people, batch_size=2000)
    Membership.objects.bulk_create(
        [Membership(person=people[p], organization=orgs[o], role=role) for p, o, role in roles],
        batch_size=2000,
    )

    bodies = [
        Body(name=f"Parliament of country {i}", level=Body.Level.NATIONAL, country="FR")
        for i in range(1, 26)
    ] + [Body(name=f"International body {i}", level=Body.Level.INTERNATIONAL) for i in range(1, 16)]
    Body.objects.bulk_create(bodies)

    def occasion(name: str, deadline: datetime) -> Occasion:
        return Occasion(
            name=name,
            kind=rng.choice(list(Occasion.Kind)),
            location="New York, United States",
            timezone=rng.choice(ZONES),
            starts_on=(deadline + timedelta(days=10)).date(),
            ends_on=(deadline + timedelta(days=12)).date(),
            submission_deadline=deadline,
            accepts_late_submissions=rng.random() < 0.2,
        )

    past = [
        occasion(f"Past summit {i}", now - timedelta(days=rng.uniform(30, 1500)))
        for i in range(max(20, proposals // 500))
    ]
    future = [
        occasion(f"Future summit {i}", now + timedelta(days=rng.uniform(40, 700)))
        for i in range(max(20, proposals // 2000))
    ]
    due = [
        occasion(f"Summit due in {days} days", now + timedelta(days=days))
        for days in DUE_DEADLINES_IN_DAYS
    ]
    Occasion.objects.bulk_create(past + future + due)

    member_orgs = [o.pk for o in orgs if o.status == "member" and not o.is_secretariat]
    by_role: dict[str, dict[int, list[int]]] = {}
    for p, o, role in roles:
        by_role.setdefault(role, {}).setdefault(orgs[o].pk, []).append(people[p].pk)
    drafters = {
        org_id: ids
        for org_id, ids in by_role[Role.DRAFTER].items()
        if next(o for o in orgs if o.pk == org_id).status != "former"
    }
    return GroupIds(
        secretariat_org=secretariat_org.pk,
        member_orgs=member_orgs,
        lead_orgs=sorted(drafters),
        drafters=drafters,
        representatives={
            org_id: ids[0]
            for org_id, ids in by_role[Role.REPRESENTATIVE].items()
            if org_id in member_orgs
        },
        reviewers=[pid for ids in by_role[Role.REVIEWER].values() for pid in ids],
        secretariat=[pid for ids in by_role[Role.SECRETARIAT].values() for pid in ids],
        bodies=[b.pk for b in bodies],
        past_occasions=[(o.pk, o.submission_deadline) for o in past],
        future_occasions=[(o.pk, o.submission_deadline) for o in future],
        due_occasions=[(o.pk, o.submission_deadline) for o in due],
        proposal_type=ContentType.objects.get_for_model(Proposal).pk,
    )


def group_read() -> GroupIds:
    """The group of a database the generator filled before."""
    from django.contrib.contenttypes.models import ContentType

    from proposals.models import Body, Membership, Occasion, Organization, Proposal, Role

    memberships = list(
        Membership.objects.select_related("organization").values_list(
            "person_id", "organization_id", "role", "organization__status"
        )
    )
    drafters: dict[int, list[int]] = {}
    representatives: dict[int, int] = {}
    reviewers: list[int] = []
    secretariat: list[int] = []
    for person_id, org_id, role, status in memberships:
        if role == Role.DRAFTER and status != "former":
            drafters.setdefault(org_id, []).append(person_id)
        elif role == Role.REPRESENTATIVE and status == "member":
            representatives.setdefault(org_id, person_id)
        elif role == Role.REVIEWER:
            reviewers.append(person_id)
        elif role == Role.SECRETARIAT:
            secretariat.append(person_id)
    occasions = list(Occasion.objects.values_list("pk", "name", "submission_deadline"))
    member_orgs = list(
        Organization.objects.filter(status="member", is_secretariat=False).values_list(
            "pk", flat=True
        )
    )
    return GroupIds(
        secretariat_org=Organization.objects.get(is_secretariat=True).pk,
        member_orgs=member_orgs,
        lead_orgs=sorted(drafters),
        drafters=drafters,
        representatives=representatives,
        reviewers=sorted(reviewers),
        secretariat=sorted(secretariat),
        bodies=list(Body.objects.values_list("pk", flat=True)),
        past_occasions=[(pk, d) for pk, n, d in occasions if n.startswith("Past")],
        future_occasions=[(pk, d) for pk, n, d in occasions if n.startswith("Future")],
        due_occasions=[(pk, d) for pk, n, d in occasions if n.startswith("Summit due")],
        proposal_type=ContentType.objects.get_for_model(Proposal).pk,
    )


class Counters:
    """The next id of each table, read once, then counted here."""

    def __init__(self, cursor: Any, tables: dict[str, str]) -> None:
        self.next: dict[str, int] = {}
        self.tables = tables
        for name, table in tables.items():
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"')
            self.next[name] = cursor.fetchone()[0]

    def take(self, name: str) -> int:
        value = self.next[name]
        self.next[name] = value + 1
        return value

    def sequences_set(self, cursor: Any) -> None:
        for name, table in self.tables.items():
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)",
                [f'"{table}"', self.next[name]],
            )


class ProposalWriter:
    """Makes the rows of one proposal and of everything that hangs from it."""

    def __init__(self, rng: random.Random, group: GroupIds, counters: Counters, now: datetime):
        self.rng = rng
        self.group = group
        self.ids = counters
        self.now = now
        self.number = 0
        self.reached: dict[str, datetime] = {}  # the current proposal's milestones

    def states(self, count: int, mix: dict[str, float]) -> Iterator[str]:
        names = list(mix)
        weights = [mix[n] for n in names]
        for _ in range(count):
            yield self.rng.choices(names, weights)[0]

    def occasion_for(self, state: str) -> tuple[int, datetime]:
        if state in OPEN:
            return self.rng.choice(self.group.future_occasions)
        if state == "submitted" and self.rng.random() < 0.3:
            return self.rng.choice(self.group.future_occasions)
        return self.rng.choice(self.group.past_occasions)

    def log(
        self,
        rows: Rows,
        proposal_id: int,
        name: str,
        source: str,
        target: str,
        actor: int,
        at: datetime,
        comment: str = "",
        data: str = "{}",
        notify: int | None = None,
    ) -> None:
        log_id = self.ids.take("log")
        if target in MILESTONES and (target not in self.reached or at < self.reached[target]):
            self.reached[target] = at
        rows.log.append(
            (
                log_id,
                self.group.proposal_type,
                proposal_id,
                name,
                source,
                target,
                actor,
                at,
                comment,
                data,
            )
        )
        if notify is not None and notify != actor:
            event = {
                "submit_for_review": "review_requested",
                "request_changes": "changes_requested",
                "approve": "approved",
                "submit": "submitted",
                "record_outcome": "outcome_recorded",
                "withdraw": "withdrawn",
            }[name]
            template = f"proposals/email/{event}"
            context = json.dumps({"event": event, "proposal_id": proposal_id})
            rows.delivery.append(
                (
                    self.ids.take("delivery"),
                    f"log{log_id}:{template}:p{notify}",
                    "notification",
                    notify,
                    template,
                    context,
                    name != "record_outcome",
                    self.group.proposal_type,
                    proposal_id,
                    "sent",
                    1,
                    at,
                    at + timedelta(seconds=5),
                    at + timedelta(seconds=6),
                )
            )

    def proposal(
        self,
        rows: Rows,
        state: str,
        occasion: tuple[int, datetime],
        *,
        approvals_current: int | None = None,
        endorsements: int | None = None,
    ) -> None:
        rng = self.rng
        group = self.group
        self.number += 1
        proposal_id = self.ids.take("proposal")
        self.reached = {}
        occasion_id, deadline = occasion
        lead = rng.choice(group.lead_orgs)
        authors = rng.sample(
            group.drafters[lead], k=min(len(group.drafters[lead]), 1 + (rng.random() < 0.4))
        )
        creator = authors[0]
        # Everything happens in the 120 days before the deadline, and before now.
        end = min(deadline, self.now) - timedelta(hours=1)
        at = end - timedelta(days=rng.uniform(20, 120))
        created_at = at
        step = (end - at) / 12

        revisions = 1 if state == "draft" and rng.random() < 0.5 else rng.randint(1, 3)
        title = f"{sentence(rng, 5).capitalize()} ({self.number})"
        summary = sentence(rng, 25).capitalize() + "."
        text = proposal_text(rng, self.number)
        reviewer_pool = group.reviewers

        self.log(rows, proposal_id, "create", "", "draft", creator, at)
        revision_ids = []
        for number in range(1, revisions + 1):
            revision_id = self.ids.take("revision")
            revision_ids.append(revision_id)
            rows.revision.append(
                (revision_id, proposal_id, number, title, summary, text, creator, at)
            )
            if number < revisions:
                # An earlier revision went to review and came back with changes requested.
                at += step / 2
                self.log(
                    rows,
                    proposal_id,
                    "submit_for_review",
                    "draft",
                    "in_review",
                    creator,
                    at,
                    notify=rng.choice(reviewer_pool),
                )
                at += step / 2
                reviewer = rng.choice(reviewer_pool)
                comment = "Please make the measures concrete."
                rows.review.append(
                    (
                        self.ids.take("review"),
                        proposal_id,
                        revision_id,
                        reviewer,
                        "request_changes",
                        comment,
                        at,
                    )
                )
                self.log(
                    rows,
                    proposal_id,
                    "request_changes",
                    "in_review",
                    "draft",
                    reviewer,
                    at,
                    comment,
                    notify=creator,
                )

        outcome = ""
        reached = {"draft": 0, "in_review": 1, "endorsement": 2, "submitted": 3, "closed": 4}
        level = reached.get(state, rng.randint(0, 2))
        if level >= 1:
            at += step
            self.log(
                rows,
                proposal_id,
                "submit_for_review",
                "draft",
                "in_review",
                creator,
                at,
                notify=rng.choice(reviewer_pool),
            )
        if level >= 2 or approvals_current:
            for reviewer in rng.sample(reviewer_pool, k=approvals_current or 1):
                at += step
                rows.review.append(
                    (
                        self.ids.take("review"),
                        proposal_id,
                        revision_ids[-1],
                        reviewer,
                        "approve",
                        "",
                        at,
                    )
                )
                target = "endorsement" if level >= 2 else "in_review"
                self.log(
                    rows, proposal_id, "approve", "in_review", target, reviewer, at, notify=creator
                )
        if level >= 2:
            count = (
                endorsements
                if endorsements is not None
                else (rng.randint(0, 3) if state == "endorsement" else rng.randint(2, 4))
            )
            members = [o for o in group.member_orgs if o in group.representatives]
            for org_id in rng.sample(members, k=min(count, len(members))):
                at += step / 4
                representative = group.representatives[org_id]
                rows.endorsement.append(
                    (
                        self.ids.take("endorsement"),
                        proposal_id,
                        org_id,
                        representative,
                        at,
                        None,
                        None,
                    )
                )
                self.log(
                    rows,
                    proposal_id,
                    "endorse",
                    "endorsement",
                    "endorsement",
                    representative,
                    at,
                    data=json.dumps({"organization": org_id}),
                )
        if level >= 3:
            at += step
            secretary = rng.choice(group.secretariat)
            rows.submission.append(
                (
                    self.ids.take("submission"),
                    proposal_id,
                    rng.choice(group.bodies),
                    secretary,
                    at,
                    f"REF-{proposal_id}",
                )
            )
            self.log(
                rows,
                proposal_id,
                "submit",
                "endorsement",
                "submitted",
                secretary,
                at,
                notify=creator,
            )
        if level >= 4:
            at += step
            secretary = rng.choice(group.secretariat)
            outcome = rng.choice(["adopted", "adopted_in_part", "not_adopted", "no_response"])
            rows.outcome.append(
                (self.ids.take("outcome"), proposal_id, outcome, at.date(), "", "", secretary, at)
            )
            self.log(
                rows,
                proposal_id,
                "record_outcome",
                "submitted",
                "closed",
                secretary,
                at,
                notify=creator,
            )
        if state == "withdrawn":
            at += step
            source = ("draft", "in_review", "endorsement")[level]
            self.log(
                rows,
                proposal_id,
                "withdraw",
                source,
                "withdrawn",
                creator,
                at,
                "No longer needed.",
                notify=authors[-1],
            )

        rows.proposal.append(
            (
                proposal_id,
                title,
                summary,
                text,
                lead,
                creator,
                rng.choice(group.bodies),
                occasion_id,
                rng.choice(LANGUAGES),
                state,
                revisions,
                outcome,
                created_at,
                at,
                *(self.reached.get(state) for state in MILESTONES),
            )
        )
        for author in authors:
            rows.authors.append((self.ids.take("authors"), proposal_id, author))
        for theme in rng.sample(range(1, 18), k=rng.randint(1, 3)):
            rows.themes.append((self.ids.take("themes"), proposal_id, theme))


def tables() -> dict[str, Any]:
    from proposals.models import (
        Endorsement,
        Outcome,
        Proposal,
        Review,
        Revision,
        Submission,
    )
    from workflow.models import Delivery, TransitionLog

    return {
        "proposal": CopyTable(
            Proposal,
            [
                "id",
                "title",
                "summary",
                "text",
                "lead_organization_id",
                "created_by_id",
                "target_body_id",
                "occasion_id",
                "language",
                "state",
                "revision",
                "outcome",
                "created_at",
                "updated_at",
                *(f"reached_{state}_at" for state in MILESTONES),
            ],
            derived={"text_html": lambda row: text_html(row[3])},
        ),
        "authors": ThroughTable(
            Proposal.authors.through._meta.db_table, ["id", "proposal_id", "person_id"]
        ),
        "themes": ThroughTable(
            Proposal.themes.through._meta.db_table, ["id", "proposal_id", "theme_id"]
        ),
        "revision": CopyTable(
            Revision,
            ["id", "proposal_id", "number", "title", "summary", "text", "author_id", "created_at"],
        ),
        "review": CopyTable(
            Review,
            [
                "id",
                "proposal_id",
                "revision_id",
                "reviewer_id",
                "decision",
                "comment",
                "created_at",
            ],
        ),
        "endorsement": CopyTable(
            Endorsement,
            [
                "id",
                "proposal_id",
                "organization_id",
                "endorsed_by_id",
                "created_at",
                "withdrawn_at",
                "withdrawn_by_id",
            ],
        ),
        "submission": CopyTable(
            Submission,
            ["id", "proposal_id", "body_id", "submitted_by_id", "submitted_at", "reference"],
        ),
        "outcome": CopyTable(
            Outcome,
            [
                "id",
                "proposal_id",
                "result",
                "decided_on",
                "note",
                "link",
                "recorded_by_id",
                "recorded_at",
            ],
        ),
        "log": CopyTable(
            TransitionLog,
            [
                "id",
                "content_type_id",
                "object_id",
                "transition",
                "source",
                "target",
                "actor_id",
                "at",
                "comment",
                "data",
            ],
        ),
        "delivery": CopyTable(
            Delivery,
            [
                "id",
                "key",
                "kind",
                "recipient_id",
                "template",
                "context",
                "essential",
                "content_type_id",
                "object_id",
                "status",
                "attempts",
                "created_at",
                "claimed_at",
                "sent_at",
            ],
        ),
    }


# Order of writing: what rows refer to comes first.
WRITE_ORDER = (
    "proposal",
    "authors",
    "themes",
    "revision",
    "review",
    "endorsement",
    "submission",
    "outcome",
    "log",
    "delivery",
)


def chunk_write(cursor: Any, copiers: dict[str, Any], rows: Rows) -> None:
    for name in WRITE_ORDER:
        copiers[name].write(cursor, getattr(rows, name))


def generate(
    proposals: int,
    *,
    append: bool = False,
    open_only: bool = False,
    due: bool = True,
    seed: int = 2014,
    now: datetime | None = None,
) -> dict[str, int]:
    """Add `proposals` proposals (plus the due ones on a fresh database); returns row counts.

    Needs Django set up on the target database, with its schema migrated.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    rng = random.Random(seed + (1 if append else 0) * proposals)
    now = now or timezone.now()
    if append:
        group = group_read()
    else:
        with transaction.atomic():
            group = group_create(rng, proposals, now)
    copiers = tables()
    counter_tables = {name: copier.table for name, copier in copiers.items()}
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        counters = Counters(cursor, counter_tables)
    writer = ProposalWriter(rng, group, counters, now)
    totals = {name: 0 for name in WRITE_ORDER}

    def flush(rows: Rows) -> None:
        with transaction.atomic(), raw.cursor() as cursor:
            chunk_write(cursor, copiers, rows)
            counters.sequences_set(cursor)
        for name in WRITE_ORDER:
            totals[name] += len(getattr(rows, name))

    label = f"{'open ' if open_only else ''}proposals"
    with Progress(label, proposals) as progress:
        rows = Rows()
        if due and not append:
            due_rows_add(writer, rows)
        in_chunk = 0
        for state in writer.states(proposals, OPEN_MIX if open_only else STATE_MIX):
            writer.proposal(rows, state, writer.occasion_for(state))
            in_chunk += 1
            if in_chunk == CHUNK:
                flush(rows)
                progress.advance(in_chunk)
                rows, in_chunk = Rows(), 0
        flush(rows)
        progress.advance(in_chunk)
    with connection.cursor() as cursor:
        # As autovacuum leaves a table in use: statistics, visibility map and hint bits set.
        cursor.execute("VACUUM ANALYZE")
    return totals


def due_rows_add(writer: ProposalWriter, rows: Rows) -> None:
    """The proposals whose reminders are due now: the same set at every size."""
    occasions = writer.group.due_occasions
    index = 0
    for state, count in DUE_MIX.items():
        for number in range(count):
            occasion = occasions[index % len(occasions)]
            index += 1
            if state == "endorsement":
                quorum = number < DUE_READY
                writer.proposal(rows, state, occasion, endorsements=2 if quorum else 1)
            elif state == "in_review":
                writer.proposal(rows, state, occasion, approvals_current=0)
            else:
                writer.proposal(rows, state, occasion)


def django_setup(url: str) -> None:
    """Point Django at the database of `url`, with the benchmark's settings."""
    os.environ.update(db.process_env(url))
    sys.path.insert(0, str(db.ROOT))
    import django

    django.setup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--proposals",
        type=int,
        default=100_000,
        help="how many proposals to add (default 100000; 1000000 for 1M)",
    )
    parser.add_argument(
        "--database-suffix", default="", help="database policy_bench<suffix> (default policy_bench)"
    )
    parser.add_argument(
        "--append", action="store_true", help="add to the database instead of making it afresh"
    )
    parser.add_argument(
        "--open-only",
        action="store_true",
        help="only open proposals (draft, in review, endorsement)",
    )
    parser.add_argument("--seed", type=int, default=2014)
    args = parser.parse_args(argv)

    url = db.database_url(args.database_suffix)
    started = time.perf_counter()
    if not args.append:
        db.database_recreate(url)
        db.migrate(url)
    django_setup(url)
    totals = generate(args.proposals, append=args.append, open_only=args.open_only, seed=args.seed)
    elapsed = time.perf_counter() - started
    rows = sum(totals.values())
    print(
        f"{db.database_name(url)}: {rows} rows in {elapsed:.1f} s "
        f"({', '.join(f'{k} {v}' for k, v in totals.items())})"
    )


if __name__ == "__main__":
    main()
