"""`manage.py load_demo` builds the group of the seed once, through the services."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.utils import timezone

from proposals.forecast import forecasts_for
from proposals.forecast.history import ARCHIVE_PREFIX
from proposals.models import (
    Body,
    DeadlineChange,
    Endorsement,
    Membership,
    Occasion,
    Organization,
    Person,
    PresidencyTerm,
    Proposal,
    ProposalState,
    Review,
    Revision,
    Role,
    Submission,
)
from proposals.selectors import presidency_current, roles_of
from tests.factories import PersonFactory
from workflow.models import AuditEvent, Delivery, TransitionLog

pytestmark = pytest.mark.django_db

PEOPLE = {
    # username: (organisation, roles, language, time zone)
    "claire": ("France", {Role.DRAFTER, Role.REPRESENTATIVE}, "fr", "Europe/Paris"),
    "youssef": ("Morocco", {Role.DRAFTER, Role.REPRESENTATIVE}, "fr", "Africa/Casablanca"),
    "lena": ("Luxembourg", {Role.REPRESENTATIVE}, "en", "Europe/Luxembourg"),
    "andres": ("Ecuador", {Role.REPRESENTATIVE}, "es", "America/Guayaquil"),
    "camila": ("Colombia", {Role.REPRESENTATIVE}, "es", "America/Bogota"),
    "gabriel": ("Québec", {Role.DRAFTER}, "fr", "America/Toronto"),
    "rita": ("Mont-Blanc Meetings", {Role.REVIEWER}, "fr", "Europe/Paris"),
    "ines": ("AIM", {Role.REVIEWER}, "en", "Europe/Brussels"),
    "sam": ("Mont-Blanc Meetings", {Role.SECRETARIAT}, "en", "Europe/Paris"),
}


@pytest.fixture
def debug(settings: Any) -> None:
    settings.DEBUG = True


def load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def database_snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every model, in primary-key order."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models(include_auto_created=True)
    }


def test_a_second_run_changes_nothing(debug: None) -> None:
    load_demo()
    first = database_snapshot()
    output = load_demo()
    assert database_snapshot() == first
    assert "Created now: nothing, the demo was there already." in output


def test_the_demo_is_written_through_the_audited_services_by_the_system(debug: None) -> None:
    load_demo()
    created: dict[str, type[Any]] = {
        "organization.created": Organization,
        "presidency.created": PresidencyTerm,
        "body.created": Body,
        "occasion.created": Occasion,
        "person.created": Person,
    }
    for action, model in created.items():
        events = AuditEvent.objects.filter(action=action)
        assert set(events.values_list("actor", flat=True)) == {None}, action
        assert sorted(int(pk) for pk in events.values_list("object_id", flat=True)) == sorted(
            model.objects.values_list("pk", flat=True)
        ), action
    secretariat = Organization.objects.get(is_secretariat=True)
    assert AuditEvent.objects.get(
        action="organization.created", object_id=str(secretariat.pk)
    ).after["is_secretariat"]
    assert AuditEvent.objects.filter(action="person.roles_changed").count() == 9
    assert set(
        AuditEvent.objects.filter(action="otp.enabled").values_list("subject__username", flat=True)
    ) == {"sam", "admin"}
    assert AuditEvent.objects.filter(action="permission_group.created").count() == 1
    assert AuditEvent.objects.filter(
        action="person.permissions_changed", subject__username="sam"
    ).exists()
    moved = AuditEvent.objects.get(action="occasion.deadline_moved")
    assert moved.actor == Person.objects.get(username="sam")
    # What the system sets up is told to nobody: the demo's emails are about proposals.
    assert not Delivery.objects.filter(kind=Delivery.Kind.SECURITY).exists()


def test_a_second_run_on_a_later_day_moves_no_date(debug: None, time_machine: Any) -> None:
    load_demo()
    deadlines = dict(Occasion.objects.values_list("name", "submission_deadline"))
    terms = list(PresidencyTerm.objects.values_list("starts_on", "ends_on"))
    time_machine.move_to(timezone.now() + dt.timedelta(days=3))
    load_demo()
    assert dict(Occasion.objects.values_list("name", "submission_deadline")) == deadlines
    assert list(PresidencyTerm.objects.values_list("starts_on", "ends_on")) == terms


def test_the_demo_people_are_those_of_the_domain_table(debug: None) -> None:
    load_demo()
    for username, (organization, roles, language, zone) in PEOPLE.items():
        person = Person.objects.get(username=username)
        memberships = Membership.objects.filter(person=person).select_related("organization")
        assert {str(m.organization) for m in memberships} == {organization}, username
        assert {m.role for m in memberships} == roles, username
        assert (person.language, person.timezone) == (language, zone), username
        assert person.email == f"{username}@example.org"
        assert person.check_password("demo")
        assert person.get_full_name()
    admin = Person.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password("demo")
    assert not Membership.objects.filter(person=admin).exists()


def test_sam_is_staff_of_the_secretariat_group(debug: None) -> None:
    load_demo()
    sam = Person.objects.get(username="sam")
    assert sam.is_staff and not sam.is_superuser
    assert list(sam.groups.values_list("name", flat=True)) == ["Secretariat"]
    assert sam.has_perms(
        ["proposals.change_occasion", "proposals.view_proposal", "workflow.view_transitionlog"]
    )
    assert not sam.has_perm("workflow.delete_transitionlog")


def test_the_group_is_the_one_of_the_seed(debug: None) -> None:
    load_demo()
    states = Organization.objects.filter(kind=Organization.Kind.STATE)
    assert set(states.values_list("name", flat=True)) == {
        "France",
        "Morocco",
        "Luxembourg",
        "Ecuador",
        "Colombia",
    }
    assert set(states.values_list("status", flat=True)) == {Organization.Status.MEMBER}
    quebec = Organization.objects.get(name="Québec")
    assert (quebec.kind, quebec.status) == (
        Organization.Kind.LOCAL_GOVERNMENT,
        Organization.Status.OBSERVER,
    )
    secretariat = Organization.objects.get(is_secretariat=True)
    assert str(secretariat) == "Mont-Blanc Meetings"
    task_force = Organization.objects.get(short_name="UNTFSSE")
    assert task_force.kind == Organization.Kind.INTERNATIONAL_INSTITUTION
    agencies = set(task_force.children.values_list("short_name", flat=True))
    assert {"UNRISD", "ILO", "UNDP", "OECD", "FAO", "UNESCO"} <= agencies
    assert len(agencies) == 20
    assert {"ICA", "AIM", "AIMF", "FMDV"} <= set(
        Organization.objects.values_list("short_name", flat=True)
    )


def test_france_chairs_the_group_today_after_an_earlier_presidency(debug: None) -> None:
    load_demo()
    current = presidency_current()
    assert current is not None and current.organization.name == "France"
    assert PresidencyTerm.objects.count() == 2
    assert roles_of(Person.objects.get(username="claire")).presidency


def test_every_occasion_has_a_deadline_in_the_near_future(debug: None) -> None:
    load_demo()
    now = timezone.now()
    occasions = Occasion.objects.all()
    assert {o.timezone for o in occasions} >= {
        "America/New_York",
        "America/Guayaquil",
        "Europe/Paris",
    }
    assert set(occasions.values_list("kind", flat=True)) == set(Occasion.Kind.values)
    for occasion in occasions.exclude(name__startswith=ARCHIVE_PREFIX):
        assert now < occasion.submission_deadline < now + dt.timedelta(days=32), occasion
    assert occasions.filter(accepts_late_submissions=True).exists()
    moved = DeadlineChange.objects.get()
    assert moved.occasion.deadline_version == 2
    assert moved.changed_by == Person.objects.get(username="sam")


def test_there_are_proposals_in_every_state_with_their_history(debug: None) -> None:
    load_demo()
    states = set(Proposal.objects.values_list("state", flat=True))
    assert states == set(ProposalState.values)
    assert Proposal.objects.filter(revision__gte=3).exists()
    assert Revision.objects.filter(number=3).exists()
    assert Review.objects.filter(decision=Review.Decision.REQUEST_CHANGES).exists()
    assert Endorsement.objects.filter(withdrawn_at__isnull=False).count() == 1
    assert (
        Submission.objects.count()
        == Proposal.objects.filter(
            state__in=[ProposalState.SUBMITTED, ProposalState.CLOSED]
        ).count()
    )
    assert set(Proposal.objects.values_list("language", flat=True)) == {"en", "fr", "es"}
    for proposal in Proposal.objects.exclude(occasion__name__startswith=ARCHIVE_PREFIX):
        assert proposal.themes.exists(), proposal
        assert proposal.revisions.count() == proposal.revision, proposal
        logged = TransitionLog.objects.for_object(proposal)
        assert logged.filter(transition="create").count() == 1, proposal
        if proposal.state != ProposalState.DRAFT:
            assert logged.latest("at", "id").target == proposal.state, proposal
    assert Delivery.objects.exists()


def test_it_refuses_to_run_without_debug_unless_forced(settings: Any) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="runs only with DEBUG on. Use --force"):
        load_demo()
    assert not Person.objects.exists()
    load_demo("--force")
    assert Person.objects.filter(username="sam").exists()


def test_if_empty_does_nothing_when_people_exist(debug: None) -> None:
    PersonFactory(username="someone")
    output = load_demo("--if-empty")
    assert "People exist already" in output
    assert Person.objects.count() == 1
    assert not Organization.objects.exists()


def test_if_empty_loads_an_empty_database(debug: None) -> None:
    load_demo("--if-empty")
    assert Proposal.objects.exclude(occasion__name__startswith=ARCHIVE_PREFIX).count() == 11


def test_an_archive_of_earlier_occasions_gives_the_live_proposals_a_forecast(debug: None) -> None:
    load_demo()
    archive = Proposal.objects.filter(occasion__name__startswith=ARCHIVE_PREFIX)
    now = timezone.now()
    assert archive.count() > 80
    assert not archive.filter(state__in=["draft", "in_review", "endorsement"]).exists()
    assert not archive.filter(occasion__submission_deadline__gt=now).exists()
    assert archive.filter(state="withdrawn").exists() and archive.filter(state="closed").exists()
    for proposal in archive.filter(state__in=["submitted", "closed"])[:5]:
        logged = TransitionLog.objects.for_object(proposal)
        assert logged.filter(transition="submit").get().at == proposal.submission.submitted_at
    live = list(
        Proposal.objects.exclude(pk__in=archive)
        .filter(state__in=["draft", "in_review", "endorsement"])
        .select_related("occasion")
    )
    forecasts = forecasts_for(live)
    assert all(f.probability is not None for f in forecasts.values()), forecasts
    assert any(f.at_risk for f in forecasts.values())


def test_an_existing_persons_password_is_kept(debug: None) -> None:
    PersonFactory(username="claire", password="her own")
    load_demo()
    claire = Person.objects.get(username="claire")
    assert claire.check_password("her own")
    assert Membership.objects.filter(person=claire, organization__name="France").count() == 2


def test_an_existing_person_without_a_password_gets_the_demos(debug: None) -> None:
    lena = PersonFactory.create(username="lena")
    lena.set_unusable_password()
    lena.save()
    load_demo()
    lena.refresh_from_db()
    assert lena.check_password("demo")
    event = AuditEvent.objects.get(action="password.changed", subject=lena)
    assert event.actor is None
    assert Membership.objects.filter(person=lena, organization__name="Luxembourg").count() == 1
