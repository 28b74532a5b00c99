"""`manage.py load_demo`: the group of 17 September 2014, demo people and proposals in every state.

Every write of a proposal goes through the services, so the demo has the revisions, reviews,
endorsements, log entries and notifications that real use would leave. A second run finds
everything by its natural key (username, name, title) and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from base64 import b32decode
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from proposals import services
from proposals.management import demo_data
from proposals.management.demo_data import DemoOccasion, DemoProposal
from proposals.models import (
    Body,
    Endorsement,
    Membership,
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
        for item in demo_data.ORGANIZATIONS:
            organization, created = Organization.objects.get_or_create(
                name=item.name,
                defaults={
                    "short_name": item.short_name,
                    "kind": item.kind,
                    "status": item.status,
                    "country": item.country,
                    "joined_on": item.joined_on,
                    "parent": self.organizations.get(item.parent),
                    "is_secretariat": item.is_secretariat
                    and not Organization.objects.filter(is_secretariat=True).exists(),
                },
            )
            self.created["organisations"] += created
            self.organizations[item.name] = organization

    def load_presidencies(self) -> None:
        """The terms are placed around the first day the demo is loaded, and kept after."""
        if PresidencyTerm.objects.exists():
            return
        for item in demo_data.PRESIDENCIES:
            PresidencyTerm.objects.create(
                organization=self.organizations[item.state],
                starts_on=self.today + dt.timedelta(days=item.starts_in_days),
                ends_on=self.today + dt.timedelta(days=item.ends_in_days),
            )
            self.created["presidency terms"] += 1

    def load_people(self) -> None:
        for item in demo_data.PEOPLE:
            person, created = Person.objects.get_or_create(
                username=item.username,
                defaults={
                    "first_name": item.first_name,
                    "last_name": item.last_name,
                    "email": item.email,
                    "language": item.language,
                    "timezone": item.timezone,
                    "is_staff": item.is_staff,
                    "is_superuser": item.is_superuser,
                },
            )
            if created or not person.has_usable_password():
                person.set_password(DEMO_PASSWORD)
                person.save(update_fields=["password"])
            self.created["people"] += created
            for organization_name, role in item.roles:
                _, created = Membership.objects.get_or_create(
                    person=person, organization=self.organizations[organization_name], role=role
                )
                self.created["roles"] += created
            self.people[item.username] = person

    def load_secretariat_group(self) -> None:
        """Staff of the secretariat manage the proposals and workflow apps in the admin."""
        group, created = Group.objects.get_or_create(name=demo_data.SECRETARIAT_GROUP)
        self.created["permission groups"] += created
        permissions = Permission.objects.filter(content_type__app_label="proposals") | (
            Permission.objects.filter(
                content_type__app_label="workflow", codename__startswith="view_"
            )
        )
        missing = permissions.exclude(pk__in=group.permissions.values("pk"))
        if missing.exists():
            group.permissions.add(*missing)
        for item in demo_data.PEOPLE:
            if item.is_staff and not item.is_superuser:
                person = self.people[item.username]
                if not person.groups.filter(pk=group.pk).exists():
                    person.groups.add(group)

    def load_two_factor(self) -> None:
        """The secretariat and the administrator have an authenticator app with the demo's
        documented secret."""
        key = b32decode(demo_data.DEMO_TOTP_SECRET).hex()
        for username in demo_data.TWO_FACTOR_PEOPLE:
            _, created = TOTPDevice.objects.get_or_create(
                user=self.people[username],
                confirmed=True,
                defaults={"name": "Authenticator app", "key": key},
            )
            self.created["authenticator apps"] += created

    def load_bodies(self) -> None:
        for name, level, country in demo_data.BODIES:
            body, created = Body.objects.get_or_create(
                name=name, defaults={"level": level, "country": country}
            )
            self.created["bodies"] += created
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
        occasion = Occasion.objects.create(
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
