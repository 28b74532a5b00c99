"""Factories for the domain; `group_setup` builds a small group with every role."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

import factory
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from proposals.accounts import SESSION_CONFIRMED_AT, SESSION_HAS_DEVICE, token_digest
from proposals.markdown import markdown_to_html
from proposals.models import (
    ApiToken,
    Body,
    Membership,
    Occasion,
    Organization,
    Person,
    PresidencyTerm,
    Proposal,
    Revision,
    Role,
)
from proposals.search import search_document_refresh


class PersonFactory(factory.django.DjangoModelFactory[Person]):
    class Meta:
        model = Person
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda p: f"{p.username}@example.org")
    first_name = factory.LazyAttribute(lambda p: p.username.capitalize())
    password = factory.django.Password("demo")
    language = "en"
    timezone = "UTC"
    welcomed_at = factory.LazyFunction(lambda: dt.datetime.now(dt.UTC))  # past the first visit


class OrganizationFactory(factory.django.DjangoModelFactory[Organization]):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organization.Kind.STATE
    status = Organization.Status.MEMBER
    joined_on = dt.date(2013, 1, 1)


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    person = factory.SubFactory(PersonFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.DRAFTER


class BodyFactory(factory.django.DjangoModelFactory[Body]):
    class Meta:
        model = Body

    name = factory.Sequence(lambda n: f"Body {n}")
    level = Body.Level.INTERNATIONAL


class OccasionFactory(factory.django.DjangoModelFactory[Occasion]):
    class Meta:
        model = Occasion

    name = factory.Sequence(lambda n: f"Summit {n}")
    kind = Occasion.Kind.SUMMIT
    location = "New York, United States"
    timezone = "America/New_York"
    starts_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=40))
    ends_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=42))
    submission_deadline = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))


class ProposalFactory(factory.django.DjangoModelFactory[Proposal]):
    """A draft with revision 1; give `authors=[...]` to set its authors."""

    class Meta:
        model = Proposal
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Proposal {n}")
    summary = "A short summary."
    text = "# Proposal\n\nThe text."
    text_html = factory.LazyAttribute(lambda proposal: markdown_to_html(proposal.text))
    lead_organization = factory.SubFactory(OrganizationFactory)
    created_by = factory.SubFactory(PersonFactory)
    target_body = factory.SubFactory(BodyFactory)
    occasion = factory.SubFactory(OccasionFactory)

    @factory.post_generation
    def authors(
        obj: Proposal, create: bool, extracted: list[Person] | None, **kwargs: object
    ) -> None:  # noqa: N805
        if create:
            obj.authors.set(extracted or [obj.created_by])
            obj.contributors.set(extracted or [obj.created_by])

    @factory.post_generation
    def first_revision(obj: Proposal, create: bool, extracted: object, **kwargs: object) -> None:  # noqa: N805
        if create:
            Revision.objects.create(
                proposal=obj,
                number=1,
                title=obj.title,
                summary=obj.summary,
                text=obj.text,
                author=obj.created_by,
            )

    @factory.post_generation
    def searchable(obj: Proposal, create: bool, extracted: object, **kwargs: object) -> None:  # noqa: N805
        if create:
            search_document_refresh(proposal_ids=[obj.pk])


@dataclass
class Group:
    """A small group: two full members and one more, an observer, the secretariat."""

    france: Organization
    morocco: Organization
    luxembourg: Organization
    quebec: Organization
    secretariat_org: Organization
    drafter: Person  # France, drafter
    co_drafter: Person  # France, drafter
    representative_fr: Person  # France, representative (presidency)
    representative_ma: Person  # Morocco, representative
    representative_lu: Person  # Luxembourg, representative
    observer: Person  # Québec, drafter and would-be representative
    reviewer: Person
    second_reviewer: Person
    secretariat: Person
    outsider: Person  # no role anywhere
    body: Body
    occasion: Occasion


def group_setup() -> Group:
    """The group, written in a few bulk INSERTs: each object is built by its factory (same
    values, same sequences) and the people, roles and organisations are saved together."""
    organizations = [
        OrganizationFactory.build(name="France", kind=Organization.Kind.STATE),
        OrganizationFactory.build(name="Morocco", kind=Organization.Kind.STATE),
        OrganizationFactory.build(name="Luxembourg", kind=Organization.Kind.STATE),
        OrganizationFactory.build(
            name="Québec",
            kind=Organization.Kind.LOCAL_GOVERNMENT,
            status=Organization.Status.OBSERVER,
        ),
        OrganizationFactory.build(
            name="Mont-Blanc Meetings", kind=Organization.Kind.CIVIL_SOCIETY, is_secretariat=True
        ),
    ]
    Organization.objects.bulk_create(organizations)
    france, morocco, luxembourg, quebec, secretariat_org = organizations
    PresidencyTerm.objects.create(
        organization=france,
        starts_on=timezone.localdate() - dt.timedelta(days=30),
        ends_on=timezone.localdate() + dt.timedelta(days=150),
    )
    roles: dict[str, tuple[Organization | None, tuple[str, ...]]] = {
        "claire": (france, (Role.DRAFTER,)),
        "pierre": (france, (Role.DRAFTER,)),
        "marianne": (france, (Role.REPRESENTATIVE,)),
        "youssef": (morocco, (Role.REPRESENTATIVE, Role.DRAFTER)),
        "lena": (luxembourg, (Role.REPRESENTATIVE,)),
        "gabriel": (quebec, (Role.DRAFTER, Role.REPRESENTATIVE)),
        "rita": (secretariat_org, (Role.REVIEWER,)),
        "ines": (morocco, (Role.REVIEWER,)),
        "sam": (secretariat_org, (Role.SECRETARIAT,)),
        "nobody": (None, ()),
    }
    # As PersonFactory's get_or_create: a person who exists already is taken as they are.
    people = {person.username: person for person in Person.objects.filter(username__in=roles)}
    built = [PersonFactory.build(username=username) for username in roles]
    Person.objects.bulk_create([person for person in built if person.username not in people])
    for person in built:
        people.setdefault(person.username, person)
    Membership.objects.bulk_create(
        [
            MembershipFactory.build(person=people[username], organization=organization, role=role)
            for username, (organization, person_roles) in roles.items()
            for role in person_roles
        ]
    )
    return Group(
        france=france,
        morocco=morocco,
        luxembourg=luxembourg,
        quebec=quebec,
        secretariat_org=secretariat_org,
        drafter=people["claire"],
        co_drafter=people["pierre"],
        representative_fr=people["marianne"],
        representative_ma=people["youssef"],
        representative_lu=people["lena"],
        observer=people["gabriel"],
        reviewer=people["rita"],
        second_reviewer=people["ines"],
        secretariat=people["sam"],
        outsider=people["nobody"],
        body=BodyFactory.create(name="UN General Assembly"),
        occasion=OccasionFactory.create(name="UNGA 81", location="New York, United States"),
    )


def proposal_draft(group: Group, **kwargs: object) -> Proposal:
    """A complete draft by the group's drafter, for France, timed to the group's occasion."""
    defaults: dict[str, object] = {
        "lead_organization": group.france,
        "created_by": group.drafter,
        "target_body": group.body,
        "occasion": group.occasion,
    }
    defaults.update(kwargs)
    return ProposalFactory.create(**defaults)


# Signing in, in tests: API tokens, authenticator apps and verified sessions.

TEST_TOTP_KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test secret, in hex


def api_token_key(person: Person, **fields: Any) -> str:
    """The secret of a new script token of `person`, made directly (no security event).

    It counts as used a moment ago, so that a test's first request does not also write
    `last_used_at` (which happens at most once a minute).
    """
    key = secrets.token_urlsafe(32)
    now = timezone.now()
    values: dict[str, Any] = {
        "kind": ApiToken.Kind.SCRIPT,
        "name": "Test token",
        "created_at": now,
        "expires_at": now + dt.timedelta(days=30),
        "last_used_at": now,
    }
    values.update(fields)
    ApiToken.objects.create(person=person, prefix=key[:8], digest=token_digest(key), **values)
    return key


def totp_device_for(person: Person, key: str = TEST_TOTP_KEY) -> TOTPDevice:
    """The person's confirmed authenticator app (made with `key` if they had none)."""
    device = TOTPDevice.objects.filter(user=person, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=person, name="Test app", key=key, confirmed=True)
    return device


def totp_code(device: TOTPDevice) -> str:
    """The code the device's app shows now (time-machine moves "now" in tests)."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return str(code).zfill(device.digits)


def session_verify(client: Any, person: Person) -> None:
    """Make the test client's session one verified by the person's authenticator app (one is
    made if they have none), as after typing its code."""
    device = totp_device_for(person)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[SESSION_HAS_DEVICE] = True
    session[SESSION_CONFIRMED_AT] = timezone.now().isoformat()
    session.save()


def client_signed_in(client: Any, person: Person) -> Any:
    """The client, signed in as the person; verified by an app where the person must use one."""
    from proposals.accounts import SESSION_CONFIRMED_AT, two_factor_required

    client.force_login(person)
    session = client.session
    session[SESSION_CONFIRMED_AT] = timezone.now().isoformat()  # as a password login records
    session.save()
    if two_factor_required(person):
        session_verify(client, person)
    return client
