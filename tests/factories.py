"""Factories for the domain; `group_setup` builds a small group with every role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import factory
from django.utils import timezone

from proposals.markdown import markdown_to_html
from proposals.models import (
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
    france = OrganizationFactory.create(name="France", kind=Organization.Kind.STATE)
    morocco = OrganizationFactory.create(name="Morocco", kind=Organization.Kind.STATE)
    luxembourg = OrganizationFactory.create(name="Luxembourg", kind=Organization.Kind.STATE)
    quebec = OrganizationFactory.create(
        name="Québec", kind=Organization.Kind.LOCAL_GOVERNMENT, status=Organization.Status.OBSERVER
    )
    secretariat_org = OrganizationFactory.create(
        name="Mont-Blanc Meetings", kind=Organization.Kind.CIVIL_SOCIETY, is_secretariat=True
    )
    PresidencyTerm.objects.create(
        organization=france,
        starts_on=timezone.localdate() - dt.timedelta(days=30),
        ends_on=timezone.localdate() + dt.timedelta(days=150),
    )

    def person(username: str, org: Organization, *roles: str) -> Person:
        someone = PersonFactory.create(username=username)
        for role in roles:
            MembershipFactory.create(person=someone, organization=org, role=role)
        return someone

    return Group(
        france=france,
        morocco=morocco,
        luxembourg=luxembourg,
        quebec=quebec,
        secretariat_org=secretariat_org,
        drafter=person("claire", france, Role.DRAFTER),
        co_drafter=person("pierre", france, Role.DRAFTER),
        representative_fr=person("marianne", france, Role.REPRESENTATIVE),
        representative_ma=person("youssef", morocco, Role.REPRESENTATIVE, Role.DRAFTER),
        representative_lu=person("lena", luxembourg, Role.REPRESENTATIVE),
        observer=person("gabriel", quebec, Role.DRAFTER, Role.REPRESENTATIVE),
        reviewer=person("rita", secretariat_org, Role.REVIEWER),
        second_reviewer=person("ines", morocco, Role.REVIEWER),
        secretariat=person("sam", secretariat_org, Role.SECRETARIAT),
        outsider=PersonFactory.create(username="nobody"),
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
