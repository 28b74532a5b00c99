"""`manage.py load_demo`: the group of 17 September 2014, demo people and proposals in every state.

Every write goes through the domain's services, so the demo has the revisions, reviews,
endorsements, log entries, notifications and audit rows that real use would leave. The
reference data, people, roles and apps are written by the system (proposals.audited.SYSTEM;
`actor=None` for proposals.reference, whose services check nobody): their audit rows name no
actor and nobody is emailed about them. A second run finds everything by its natural key
(username, name, title) and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from proposals import accounts, invitations, people, reference, services
from proposals.audited import SYSTEM
from proposals.dossiers.store import dossiers_render_missing
from proposals.forecast.history import ARCHIVE_PREFIX, Cast, history_generate
from proposals.management import demo_data
from proposals.management.demo_data import DemoOccasion, DemoProposal
from proposals.models import (
    Body,
    Endorsement,
    Occasion,
    Organization,
    Person,
    PresidencyTerm,
    Proposal,
    ProposalState,
    Role,
    Theme,
)
from proposals.selectors import proposals_with_rule_data
from workflow.errors import Refused

DEMO_PASSWORD = "demo"  # noqa: S105 (the demo's documented password; refused without DEBUG)


class Command(BaseCommand):
    help = (
        "Load the demo group (members, bodies, occasions, people with password 'demo' and "
        "proposals in every state). Runs only with DEBUG on unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load the demo even with DEBUG off (it creates people whose password is 'demo').",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already holds people.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "load_demo creates people whose password is 'demo', so it runs only with "
                "DEBUG on. Use --force to load the demo anyway."
            )
        if options["if_empty"] and Person.objects.exists():
            self.stdout.write("People exist already: the demo was not loaded.")
            return
        loader = DemoLoader(now=timezone.now(), write=self.stdout.write)
        with transaction.atomic():
            loader.load()
        self.stdout.write(loader.summary())
        rendered = dossiers_render_missing()  # the submitted proposals' dossiers, at once
        if rendered:
            self.stdout.write(f"Dossiers rendered: {len(rendered)}.")


class DemoLoader:
    """Builds the demo once; finds what a previous run built."""

    def __init__(self, *, now: dt.datetime, write: Callable[[str], Any]) -> None:
        self.now = now
        self.today = timezone.localdate(now)
        self.write = write
        self.created: Counter[str] = Counter()
        self.organizations: dict[str, Organization] = {}
        self.people: dict[str, Person] = {}
        self.bodies: dict[str, Body] = {}
        self.occasions: dict[str, Occasion] = {}

    def load(self) -> None:
        self.load_organizations()
        self.load_presidencies()
        self.load_people()
        self.load_secretariat_group()
        self.load_two_factor()
        self.load_bodies()
        self.load_occasions()
        for proposal in demo_data.PROPOSALS:
            self.load_proposal(proposal)
        self.load_archive()

    # The archive: closed proposals of earlier occasions, so that the forecast of the live
    # proposals learns from a real history (proposals.forecast.history; docs/forecast.md).

    ARCHIVE_SEED = 2014

    def load_archive(self) -> None:
        """Occasions of the past two years named "Archive — …", each with its proposals and
        their transition log at past times: submitted in time, late, sent back, withdrawn."""
        if Occasion.objects.filter(name__startswith=ARCHIVE_PREFIX).exists():
            return
        generated = history_generate(
            cast=Cast(
                author=self.people["claire"],
                organization=self.organizations["France"],
                body=self.bodies["UN General Assembly"],
                reviewer=self.people["rita"],
                secretariat=self.people["sam"],
            ),
            seed=self.ARCHIVE_SEED,
            end=self.now - dt.timedelta(days=45),
            first_deadline=self.now - dt.timedelta(days=800),
            occasions_per_kind=4,
            proposals_per_occasion=9,
        )
        self.created["archived occasions"] += len(generated.occasions)
        self.created["archived proposals"] += generated.proposals

    def summary(self) -> str:
        states = Counter(Proposal.objects.values_list("state", flat=True))
        by_state = ", ".join(f"{states[state]} {state}" for state in ProposalState.values)
        made = ", ".join(f"{count} {what}" for what, count in sorted(self.created.items()) if count)
        return (
            f"Demo group: {Organization.objects.count()} organisations, "
            f"{Person.objects.count()} people, {Body.objects.count()} bodies, "
            f"{Occasion.objects.count()} occasions; proposals: {by_state}.\n"
            f"Created now: {made or 'nothing, the demo was there already'}.\n"
            "Demo people log in with the password 'demo'; sam and admin also type the code of "
            f"an authenticator app holding the secret {demo_data.DEMO_TOTP_SECRET}."
        )

    # The group.

    def load_organizations(self) -> None:
        found = _by_name(Organization, [item.name for item in demo_data.ORGANIZATIONS])
        for item in demo_data.ORGANIZATIONS:
            organization = found.get(item.name)
            if organization is None:
                organization = reference.organization_create(
                    actor=None,
                    name=item.name,
                    short_name=item.short_name,
                    kind=item.kind,
                    status=item.status,
                    country=item.country,
                    joined_on=item.joined_on,
                    parent=self.organizations.get(item.parent),
                    is_secretariat=item.is_secretariat
                    and not Organization.objects.filter(is_secretariat=True).exists(),
                )
                self.created["organisations"] += 1
            self.organizations[item.name] = organization

    def load_presidencies(self) -> None:
        """The terms are placed around the first day the demo is loaded, and kept after."""
        if PresidencyTerm.objects.exists():
            return
        for item in demo_data.PRESIDENCIES:
            reference.presidency_create(
                actor=None,
                organization=self.organizations[item.state],
                starts_on=self.today + dt.timedelta(days=item.starts_in_days),
                ends_on=self.today + dt.timedelta(days=item.ends_in_days),
            )
            self.created["presidency terms"] += 1

    def load_people(self) -> None:
        """New people get the demo's password, roles and flags; people already there keep
        their password (unless they have none) and gain the demo roles they lack."""
        found = {
            person.username: person
            for person in Person.objects.filter(
                username__in=[item.username for item in demo_data.PEOPLE]
            )
        }
        for item in demo_data.PEOPLE:
            roles = {(self.organizations[name], role) for name, role in item.roles}
            person = found.get(item.username)
            if person is None:
                person = self.person_create(item, roles)
            else:
                person = self.person_complete(person, roles)
            # The demo's people know the site: no first-visit page for them.
            self.people[item.username] = invitations.person_welcome(person=person)

    def person_create(
        self, item: demo_data.DemoPerson, roles: set[tuple[Organization, str]]
    ) -> Person:
        person = people.person_create(
            actor=SYSTEM,
            username=item.username,
            email=item.email,
            roles=roles,
            password=DEMO_PASSWORD,
            first_name=item.first_name,
            last_name=item.last_name,
            language=item.language,
            timezone=item.timezone,
        )
        if item.is_staff or item.is_superuser:
            person = people.person_update(
                actor=SYSTEM,
                person=person,
                changes={"is_staff": item.is_staff, "is_superuser": item.is_superuser},
            )
        self.created["people"] += 1
        self.created["roles"] += len(roles)
        return person

    def person_complete(self, person: Person, roles: set[tuple[Organization, str]]) -> Person:
        if not person.has_usable_password():
            person = accounts.password_set(person=person, password=DEMO_PASSWORD, actor=SYSTEM)
        current = people.person_roles(person)
        if roles <= current:
            return person
        try:
            person = people.person_update(
                actor=SYSTEM, person=person, changes={}, roles=current | roles
            )
        except Refused as refusal:
            self.write(f"Kept the roles of {person.username}: {refusal}")
            return person
        self.created["roles"] += len(roles - current)
        return person

    def load_secretariat_group(self) -> None:
        """Staff of the secretariat manage the proposals and workflow apps in the admin."""
        wanted = set(
            Permission.objects.filter(content_type__app_label="proposals")
            | Permission.objects.filter(
                content_type__app_label="workflow", codename__startswith="view_"
            )
        )
        group = Group.objects.filter(name=demo_data.SECRETARIAT_GROUP).first()
        if group is None:
            self.created["permission groups"] += 1
        else:
            wanted |= set(group.permissions.all())
        group = people.permission_group_set(
            actor=SYSTEM, name=demo_data.SECRETARIAT_GROUP, permissions=wanted
        )
        for item in demo_data.PEOPLE:
            if item.is_staff and not item.is_superuser:
                person = self.people[item.username]
                groups = set(person.groups.all())
                if group not in groups:
                    people.person_permissions_set(
                        actor=SYSTEM, person=person, groups=[*groups, group]
                    )

    def load_two_factor(self) -> None:
        """The secretariat and the administrator have an authenticator app with the demo's
        documented secret."""
        for username in demo_data.TWO_FACTOR_PEOPLE:
            person = self.people[username]
            if accounts.totp_device_of(person) is None:
                accounts.totp_device_install(
                    person=person, secret=demo_data.DEMO_TOTP_SECRET, actor=SYSTEM
                )
                self.created["authenticator apps"] += 1

    def load_bodies(self) -> None:
        found = _by_name(Body, [name for name, _level, _country in demo_data.BODIES])
        for name, level, country in demo_data.BODIES:
            body = found.get(name)
            if body is None:
                body = reference.body_create(actor=None, name=name, level=level, country=country)
                self.created["bodies"] += 1
            self.bodies[name] = body

    def load_occasions(self) -> None:
        for item in demo_data.OCCASIONS:
            occasion = Occasion.objects.filter(name=item.name).order_by("pk").first()
            if occasion is None:
                occasion = self.occasion_create(item)
                self.created["occasions"] += 1
            self.occasions[item.key] = occasion

    def occasion_create(self, item: DemoOccasion) -> Occasion:
        zone = zoneinfo.ZoneInfo(item.timezone)
        local_today = self.now.astimezone(zone).date()

        def deadline(days: int) -> dt.datetime:
            return dt.datetime.combine(local_today + dt.timedelta(days=days), dt.time(23, 59), zone)

        final = deadline(item.deadline_in_days)
        first = (
            final if item.first_deadline_in_days is None else deadline(item.first_deadline_in_days)
        )
        occasion = reference.occasion_create(
            actor=None,
            name=item.name,
            kind=item.kind,
            location=item.location,
            timezone=item.timezone,
            starts_on=final.date() + dt.timedelta(days=item.starts_after_deadline),
            ends_on=final.date() + dt.timedelta(days=item.ends_after_deadline),
            submission_deadline=first,
            required_approvals=item.required_approvals,
            endorsement_quorum=item.endorsement_quorum,
            accepts_late_submissions=item.accepts_late_submissions,
        )
        if first != final:
            occasion = services.occasion_move_deadline(
                occasion=occasion,
                new_deadline=final,
                actor=self.people["sam"],
                reason=item.move_reason,
            )
        return occasion

    # Proposals, through the services only.

    def load_proposal(self, item: DemoProposal) -> None:
        if Proposal.objects.filter(title=item.title).exists():
            return
        try:
            with transaction.atomic():
                proposal = self.proposal_build(item)
        except Refused as refusal:
            self.write(f"Skipped the demo proposal “{item.title}”: {refusal}")
            return
        if proposal.state != item.state:
            raise CommandError(
                f"The demo proposal “{item.title}” ended {proposal.state}, not {item.state}."
            )
        self.created["proposals"] += 1

    def proposal_build(self, item: DemoProposal) -> Proposal:
        proposal = services.proposal_create(
            author=self.people[item.author],
            title=item.title,
            summary=item.summary,
            text=item.text,
            lead_organization=self.organizations[item.lead],
            target_body=self.bodies[item.body],
            occasion=self.occasions[item.occasion],
            themes=Theme.objects.filter(number__in=item.themes),
            language=item.language,
            co_authors=[self.people[username] for username in item.co_authors],
        )
        for step in item.steps:
            proposal = proposals_with_rule_data().get(pk=proposal.pk)
            person = self.people[step.username]
            if step.action == "edit":
                services.proposal_update(proposal=proposal, editor=person, **step.arguments)
            elif step.action == "endorse":
                services.endorsement_create(proposal=proposal, person=person)
            elif step.action == "withdraw_endorsement":
                endorsement = Endorsement.objects.get(
                    proposal=proposal,
                    organization__memberships__person=person,
                    organization__memberships__role=Role.REPRESENTATIVE,
                    withdrawn_at__isnull=True,
                )
                services.endorsement_withdraw(endorsement=endorsement, person=person)
            else:
                services.proposal_transition_run(
                    proposal=proposal,
                    name=step.action,
                    actor=person,
                    comment=step.comment,
                    arguments=step.arguments,
                )
        return Proposal.objects.get(pk=proposal.pk)


def _by_name(model: type[Any], names: list[str]) -> dict[str, Any]:
    """The rows already there among `names`, by name (the first made, for a name used twice)."""
    found: dict[str, Any] = {}
    for obj in model._default_manager.filter(name__in=names).order_by("pk"):
        found.setdefault(obj.name, obj)
    return found
