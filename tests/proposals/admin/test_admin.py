"""The secretariat's admin on the demo group: every page opens, history stays read-only."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from proposals.models import DeadlineChange, Occasion, Person, Proposal, ProposalState
from tests.factories import PersonFactory, totp_code, totp_device_for
from workflow.models import TransitionLog

pytestmark = pytest.mark.django_db

# Registered models of which the demo holds rows.
DEMO_MODELS = {
    "organization",
    "person",
    "membership",
    "presidencyterm",
    "body",
    "occasion",
    "proposal",
    "transitionlog",
    "delivery",
}


@pytest.fixture
def demo(demo_loaded: None) -> None:
    """The demo of `load_demo`, loaded once per process and then copied (tests/conftest.py)."""


def log_in(client: Client, username: str) -> None:
    """Log in through the pages, as the admin asks: the password, then the app's code."""
    response = client.post(
        reverse("login"), {"username": username, "password": "demo", "next": "/admin/"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/accounts/verify/?next=%2Fadmin%2F"
    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    response = client.post(response["Location"], {"code": totp_code(device), "next": "/admin/"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/admin/"


def admin_url(model: Any, view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def registered(*app_labels: str) -> list[Any]:
    return [
        model
        for model in admin.site._registry
        if not app_labels or model._meta.app_label in app_labels
    ]


@pytest.mark.parametrize("username", ["sam", "admin"])
def test_the_secretariat_and_the_superuser_open_every_page_of_the_domain(
    client: Client, demo: None, username: str
) -> None:
    log_in(client, username)
    assert client.get(reverse("admin:index")).status_code == 200
    opened = set()
    for model in registered("proposals", "workflow"):
        assert client.get(admin_url(model, "changelist")).status_code == 200, model
        assert client.get(admin_url(model, "changelist"), {"q": "a"}).status_code == 200, model
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            assert client.get(admin_url(model, "change", first.pk)).status_code == 200, model
            opened.add(model._meta.model_name)
    assert opened >= DEMO_MODELS
    for proposal in Proposal.objects.all():
        response = client.get(admin_url(Proposal, "change", proposal.pk))
        assert response.status_code == 200, proposal


def test_the_superuser_opens_every_registered_changelist(client: Client, demo: None) -> None:
    log_in(client, "admin")
    for model in registered():
        assert client.get(admin_url(model, "changelist")).status_code == 200, model
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            assert client.get(admin_url(model, "change", first.pk)).status_code == 200, model


def test_the_lists_filter_proposals_and_deliveries(client: Client, demo: None) -> None:
    log_in(client, "sam")
    occasion = Occasion.objects.get(name__startswith="Habitat III")
    response = client.get(
        admin_url(Proposal, "changelist"),
        {"state__exact": "draft", "occasion__id__exact": str(occasion.pk)},
    )
    assert response.status_code == 200
    assert [p.title for p in response.context["cl"].result_list] == [
        "Les villes, partenaires de l'économie sociale et solidaire : l'expérience québécoise"
    ]
    from workflow.models import Delivery

    response = client.get(
        admin_url(Delivery, "changelist"),
        {"status__exact": "pending", "kind__exact": "notification"},
    )
    assert response.status_code == 200
    assert (
        response.context["cl"].result_count
        == Delivery.objects.filter(status="pending", kind="notification").count()
    )


def test_the_secretariat_may_add_members_bodies_and_occasions(client: Client, demo: None) -> None:
    log_in(client, "sam")
    for view in ("organization", "person", "membership", "presidencyterm", "body", "occasion"):
        assert client.get(reverse(f"admin:proposals_{view}_add")).status_code == 200, view


def test_a_proposals_state_is_not_editable_in_the_admin(client: Client, demo: None) -> None:
    log_in(client, "sam")
    proposal = Proposal.objects.filter(state=ProposalState.DRAFT).earliest("pk")
    url = admin_url(Proposal, "change", proposal.pk)
    response = client.get(url)
    assert "state" not in response.context["adminform"].form.fields
    assert 'name="state"' not in response.content.decode()
    assert client.post(url, {"state": "closed", "title": "Changed"}).status_code == 403
    assert client.get(admin_url(Proposal, "add")).status_code == 403
    assert (
        client.post(admin_url(Proposal, "delete", proposal.pk), {"post": "yes"}).status_code == 403
    )
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.DRAFT
    assert proposal.title != "Changed"


def test_a_proposal_page_shows_its_history(client: Client, demo: None) -> None:
    log_in(client, "sam")
    proposal = Proposal.objects.get(title__startswith="Recognise the social and solidarity")
    content = client.get(admin_url(Proposal, "change", proposal.pk)).content.decode()
    assert "Please ground the proposal in the evidence gathered by UNRISD" in content
    assert "request_changes" in content  # the transition log
    assert "submit_for_review" in content


@pytest.mark.parametrize("username", ["sam", "admin"])
def test_the_log_cannot_be_changed_or_deleted_in_the_admin(
    client: Client, demo: None, username: str
) -> None:
    log_in(client, username)
    entry = TransitionLog.objects.earliest("pk")
    count = TransitionLog.objects.count()
    response = client.get(admin_url(TransitionLog, "change", entry.pk))
    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}
    assert (
        client.post(admin_url(TransitionLog, "change", entry.pk), {"comment": "x"}).status_code
        == 403
    )
    assert client.get(admin_url(TransitionLog, "delete", entry.pk)).status_code == 403
    assert (
        client.post(admin_url(TransitionLog, "delete", entry.pk), {"post": "yes"}).status_code
        == 403
    )
    assert client.get(admin_url(TransitionLog, "add")).status_code == 403
    client.post(
        admin_url(TransitionLog, "changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert TransitionLog.objects.count() == count
    assert TransitionLog.objects.get(pk=entry.pk).comment == entry.comment


def occasion_form_data(
    occasion: Occasion, deadline: dt.datetime, zone: str, reason: str
) -> dict[str, Any]:
    """What the occasion's change form posts, with the deadline typed in the person's zone."""
    local = deadline.astimezone(zoneinfo.ZoneInfo(zone))
    changes = occasion.deadline_changes.count()
    data = {
        "name": occasion.name,
        "kind": occasion.kind,
        "location": occasion.location,
        "timezone": occasion.timezone,
        "starts_on": occasion.starts_on.isoformat(),
        "ends_on": occasion.ends_on.isoformat(),
        "submission_deadline_0": local.date().isoformat(),
        "submission_deadline_1": local.strftime("%H:%M:%S"),
        "required_approvals": occasion.required_approvals,
        "endorsement_quorum": occasion.endorsement_quorum,
        "deadline_change_reason": reason,
        "deadline_changes-TOTAL_FORMS": changes,
        "deadline_changes-INITIAL_FORMS": changes,
        "deadline_changes-MIN_NUM_FORMS": 0,
        "deadline_changes-MAX_NUM_FORMS": 1000,
    }
    if occasion.accepts_late_submissions:
        data["accepts_late_submissions"] = "on"
    return data


def test_moving_a_deadline_in_the_admin_records_the_move(client: Client, demo: None) -> None:
    log_in(client, "sam")
    occasion = Occasion.objects.get(name__startswith="Habitat III")
    old = occasion.submission_deadline
    new = old + dt.timedelta(days=3)
    data = occasion_form_data(occasion, new, "Europe/Paris", "The venue was confirmed late.")
    data["location"] = "Quito, Ecuador (Casa de la Cultura)"
    response = client.post(admin_url(Occasion, "change", occasion.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    occasion.refresh_from_db()
    assert (occasion.submission_deadline, occasion.deadline_version) == (new, 2)
    assert occasion.location == "Quito, Ecuador (Casa de la Cultura)"
    change = DeadlineChange.objects.get(occasion=occasion)
    assert (change.old_deadline, change.new_deadline, change.version) == (old, new, 2)
    assert (change.changed_by, change.reason) == (
        Person.objects.get(username="sam"),
        "The venue was confirmed late.",
    )
    page = client.get(admin_url(Occasion, "change", occasion.pk)).content.decode()
    assert "The venue was confirmed late." in page


def test_an_unchanged_deadline_records_no_move(client: Client, demo: None) -> None:
    log_in(client, "sam")
    occasion = Occasion.objects.get(name__startswith="Habitat III")
    data = occasion_form_data(occasion, occasion.submission_deadline, "Europe/Paris", "")
    data["endorsement_quorum"] = 3
    assert client.post(admin_url(Occasion, "change", occasion.pk), data).status_code == 302
    occasion.refresh_from_db()
    assert (occasion.endorsement_quorum, occasion.deadline_version) == (3, 1)
    assert not DeadlineChange.objects.filter(occasion=occasion).exists()


def test_staff_outside_the_secretariat_are_told_why_a_deadline_did_not_move(
    client: Client, demo: None
) -> None:
    clerk = PersonFactory.create(username="clerk", is_staff=True, timezone="UTC")
    totp_device_for(clerk)  # the admin asks everyone for a second factor
    Person.objects.get(username="clerk").groups.add(Person.objects.get(username="sam").groups.get())
    log_in(client, "clerk")
    occasion = Occasion.objects.get(name__startswith="Habitat III")
    old = occasion.submission_deadline
    data = occasion_form_data(occasion, old + dt.timedelta(days=1), "UTC", "")
    response = client.post(admin_url(Occasion, "change", occasion.pk), data, follow=True)
    assert "Only the secretariat can move a deadline." in messages_of(response)
    occasion.refresh_from_db()
    assert (occasion.submission_deadline, occasion.deadline_version) == (old, 1)
    assert not DeadlineChange.objects.filter(occasion=occasion).exists()


def transition(client: Client, proposal: Proposal, name: str, **fields: str) -> Any:
    data = {"transition": name, "seen_state": proposal.state}
    data.update({f"transition-{key}": value for key, value in fields.items()})
    return client.post(
        reverse("admin:proposals_proposal_transition", args=[proposal.pk]), data, follow=True
    )


def test_the_secretariat_submits_an_endorsed_proposal_from_the_admin(
    client: Client, demo: None
) -> None:
    log_in(client, "sam")
    proposal = Proposal.objects.get(title__startswith="Le travail décent")
    page = client.get(admin_url(Proposal, "change", proposal.pk)).content.decode()
    assert 'value="submit"' in page
    response = transition(client, proposal, "submit", reference="ILC/2027/12")
    assert "Submit to body: the proposal is now submitted." in messages_of(response)
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.SUBMITTED
    assert proposal.submission.reference == "ILC/2027/12"
    log = TransitionLog.objects.for_object(proposal).latest("at", "id")
    assert (log.transition, log.actor) == ("submit", Person.objects.get(username="sam"))


def test_a_refused_transition_in_the_admin_says_why(client: Client, demo: None) -> None:
    log_in(client, "sam")
    proposal = Proposal.objects.get(title__startswith="An international statistical framework")
    page = client.get(admin_url(Proposal, "change", proposal.pk)).content.decode()
    assert "1 endorsement of 2 needed." in page
    response = transition(client, proposal, "submit")
    assert messages_of(response) == ["1 endorsement of 2 needed."]
    in_review = Proposal.objects.get(title__startswith="Recognise the social and solidarity")
    response = transition(client, in_review, "request_changes", comment="  ")
    assert messages_of(response) == ["Say what should change: a comment is required."]
    response = transition(client, in_review, "publish")
    assert messages_of(response) == ["A proposal has no action named “publish”."]
    assert Proposal.objects.get(pk=proposal.pk).state == ProposalState.ENDORSEMENT
    assert Proposal.objects.get(pk=in_review.pk).state == ProposalState.IN_REVIEW


def test_a_transition_on_a_proposal_that_changed_meanwhile_is_refused(
    client: Client, demo: None
) -> None:
    log_in(client, "sam")
    proposal = Proposal.objects.get(title__startswith="Le travail décent")
    response = client.post(
        reverse("admin:proposals_proposal_transition", args=[proposal.pk]),
        {"transition": "withdraw", "seen_state": "in_review"},
        follow=True,
    )
    assert "Someone changed this proposal" in messages_of(response)[0]
    assert Proposal.objects.get(pk=proposal.pk).state == ProposalState.ENDORSEMENT


def test_someone_who_may_not_act_is_refused_by_the_transition_service(
    client: Client, demo: None
) -> None:
    log_in(client, "admin")  # a superuser, but not of the secretariat
    proposal = Proposal.objects.get(title__startswith="Le travail décent")
    response = transition(client, proposal, "submit")
    assert messages_of(response) == ["Only the secretariat can submit a proposal to its body."]
    assert Proposal.objects.get(pk=proposal.pk).state == ProposalState.ENDORSEMENT


def test_the_transition_url_answers_only_posts(client: Client, demo: None) -> None:
    log_in(client, "sam")
    proposal = Proposal.objects.earliest("pk")
    url = reverse("admin:proposals_proposal_transition", args=[proposal.pk])
    assert client.get(url).status_code == 405
    missing = reverse("admin:proposals_proposal_transition", args=[999999])
    assert client.post(missing, {"transition": "withdraw"}).status_code == 404


def test_the_secretariat_cannot_take_over_a_superuser(client: Client, demo: None) -> None:
    log_in(client, "sam")
    superuser = Person.objects.get(username="admin")
    assert client.get(admin_url(Person, "change", superuser.pk)).status_code == 200
    assert client.post(admin_url(Person, "change", superuser.pk), {}).status_code == 403
    password_url = reverse("admin:auth_user_password_change", args=[superuser.pk])
    assert client.get(password_url).status_code == 403
    claire = Person.objects.get(username="claire")
    form = client.get(admin_url(Person, "change", claire.pk)).context["adminform"].form
    assert "is_superuser" not in form.fields
    assert "groups" not in form.fields
    assert {"language", "timezone", "daily_digest"} <= set(form.fields)


def posted_form(client: Client, url: str, **changes: Any) -> dict[str, Any]:
    """The admin change form's current values as a POST body, with `changes` applied; an
    inline formset's rows are given as `<prefix>_rows=[{field: value}, ...]`."""
    page = client.get(url)
    data: dict[str, Any] = {}
    form = page.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, dt.datetime):  # the admin splits it into a date and a time
            data[f"{name}_0"], data[f"{name}_1"] = (
                value.date().isoformat(),
                value.strftime("%H:%M:%S"),
            )
        elif isinstance(value, list | tuple):
            data[name] = [str(item) for item in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = str(value)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        prefix = formset.prefix
        rows = changes.pop(f"{prefix}_rows", None)
        if rows is None:
            rows = [
                {name: f[name].value() for name in ("id", "organization", "role")}
                for f in formset.initial_forms
            ]
        initial = len(formset.initial_forms)
        for index, row in enumerate(rows):
            for name, value in row.items():
                if value is not None:
                    data[f"{prefix}-{index}-{name}"] = str(value)
            data[f"{prefix}-{index}-person"] = str(formset.instance.pk)
        data[f"{prefix}-TOTAL_FORMS"] = str(len(rows))
        data[f"{prefix}-INITIAL_FORMS"] = str(min(initial, len(rows)))
        data[f"{prefix}-MIN_NUM_FORMS"] = "0"
        data[f"{prefix}-MAX_NUM_FORMS"] = "1000"
    data.update(changes)
    return data


def test_the_secretariat_sets_no_password_username_or_email_in_the_admin(
    client: Client, demo: None
) -> None:
    log_in(client, "sam")
    claire = Person.objects.get(username="claire")
    password_url = reverse("admin:auth_user_password_change", args=[claire.pk])
    assert client.get(password_url).status_code == 403
    form = client.get(admin_url(Person, "change", claire.pk)).context["adminform"].form
    assert not {"username", "email", "password"} & set(form.fields)
    body = posted_form(client, admin_url(Person, "change", claire.pk), email="x@evil.org")
    client.post(admin_url(Person, "change", claire.pk), body)
    assert Person.objects.get(pk=claire.pk).email == claire.email


def test_the_secretariat_invites_a_person_without_a_password_and_it_is_audited(
    client: Client, demo: None
) -> None:
    from workflow.models import AuditEvent

    log_in(client, "sam")
    form = client.get(admin_url(Person, "add")).context["adminform"].form
    assert not {"password1", "password2", "usable_password"} & set(form.fields)
    response = client.post(
        admin_url(Person, "add"),
        {
            "username": "maria",
            "first_name": "María",
            "last_name": "Pérez",
            "email": "maria@example.org",
            "language": "es",
            "timezone": "America/Bogota",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    maria = Person.objects.get(username="maria")
    assert not maria.has_usable_password()
    event = AuditEvent.objects.get(action="person.created", subject=maria)
    assert event.actor == Person.objects.get(username="sam")


def test_in_the_admin_nobody_changes_their_own_roles_nor_gives_two_organisations(
    client: Client, demo: None
) -> None:
    from proposals.models import Membership, Organization

    log_in(client, "sam")
    sam = Person.objects.get(username="sam")
    france = Organization.objects.get(name="France")
    url = admin_url(Person, "change", sam.pk)
    rows = [
        {"id": m.pk, "organization": m.organization_id, "role": m.role}
        for m in Membership.objects.filter(person=sam)
    ] + [{"organization": france.pk, "role": "representative"}]
    response = client.post(url, posted_form(client, url, memberships_rows=rows))
    assert response.status_code == 200
    assert "Nobody can change their own roles" in response.content.decode()
    assert not Membership.objects.filter(person=sam, organization=france).exists()

    claire = Person.objects.get(username="claire")
    morocco = Organization.objects.get(name="Morocco")
    url = admin_url(Person, "change", claire.pk)
    rows = [
        {"id": m.pk, "organization": m.organization_id, "role": m.role}
        for m in Membership.objects.filter(person=claire)
    ] + [{"organization": morocco.pk, "role": "representative"}]
    response = client.post(url, posted_form(client, url, memberships_rows=rows))
    assert "one organisation only" in response.content.decode()
    assert not Membership.objects.filter(person=claire, organization=morocco).exists()


def test_a_change_in_the_admin_is_audited_and_a_deactivation_revokes_tokens(
    client: Client, demo: None
) -> None:
    from proposals.models import ApiToken
    from tests.factories import api_token_key
    from workflow.models import AuditEvent

    log_in(client, "sam")
    youssef = Person.objects.get(username="youssef")
    api_token_key(youssef)
    url = admin_url(Person, "change", youssef.pk)
    body = posted_form(client, url, language="en")
    body.pop("is_active", None)
    response = client.post(url, body)
    assert response.status_code == 302
    youssef.refresh_from_db()
    assert (youssef.language, youssef.is_active) == ("en", False)
    assert AuditEvent.objects.filter(action="person.updated", subject=youssef).exists()
    assert AuditEvent.objects.filter(action="person.deactivated", subject=youssef).exists()
    assert not ApiToken.objects.filter(person=youssef, revoked_at__isnull=True).exists()


def test_a_password_set_by_the_superuser_revokes_tokens_and_is_told(
    client: Client, demo: None
) -> None:
    from proposals.models import ApiToken
    from tests.factories import api_token_key
    from workflow.models import AuditEvent

    log_in(client, "admin")
    claire = Person.objects.get(username="claire")
    api_token_key(claire)
    url = reverse("admin:auth_user_password_change", args=[claire.pk])
    response = client.post(
        url,
        {"password1": "a long new passphrase", "password2": "a long new passphrase"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not ApiToken.objects.filter(person=claire, revoked_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action="password.changed", subject=claire).exists()


def test_the_admin_picks_time_zones_by_region_in_the_readers_language(
    client: Client, demo: None
) -> None:
    Person.objects.filter(username="sam").update(language="es")
    log_in(client, "sam")
    occasion = Occasion.objects.get(name__startswith="Habitat III")
    page = client.get(admin_url(Occasion, "change", occasion.pk)).content.decode()
    select = page[page.index('<select name="timezone"') :].split("</select>")[0]
    assert "<optgroup" in select
    assert '<option value="America/Guayaquil" selected>Guayaquil (Ecuador)</option>' in select
    assert '<option value="America/New_York">Nueva York (Estados Unidos)</option>' in select
    person = Person.objects.get(username="andres")
    page = client.get(admin_url(Person, "change", person.pk)).content.decode()
    assert '<option value="America/Guayaquil" selected>' in page
