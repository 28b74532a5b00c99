"""The departure pages: the secretariat records a departure (in French and Spanish here), a
representative asks for one; bad input is answered in the reader's language, nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from proposals.models import Person
from tests.factories import Group, proposal_draft
from tests.proposals.web.helpers import fresh, signed_in
from workflow.models import Delivery

pytestmark = pytest.mark.django_db

NNBSP = "\u202f"


def speaking(person: Person, language: str) -> Person:
    Person.objects.filter(pk=person.pk).update(language=language)
    return Person.objects.get(pk=person.pk)


def departure_url(person: Person) -> str:
    return reverse("proposals:person_departure", args=[person.pk])


def test_the_secretariat_sees_the_plan_and_the_warning_in_french(group: Group) -> None:
    proposal_draft(
        group, title="Loi ESS", created_by=group.representative_ma, lead_organization=group.morocco
    )
    client = signed_in(speaking(group.secretariat, "fr"))
    response = client.get(departure_url(group.representative_ma))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Départ de" in page
    assert f"Avant de confirmer{NNBSP}:" in page
    assert "n’aura plus de représentant" in page  # Morocco's only representative
    assert "Loi ESS" in page
    assert "Choisissez qui la reprend" in page
    assert "Enregistrer le départ" in page


def test_a_draft_left_without_an_author_is_refused_in_spanish_and_nothing_changes(
    group: Group,
) -> None:
    proposal = proposal_draft(group, title="Ley de ESS")
    client = signed_in(speaking(group.secretariat, "es"))
    response = client.post(
        departure_url(group.drafter),
        {"left_on": timezone.localdate().isoformat(), f"proposal_{proposal.pk}": ""},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "“Ley de ESS” no tiene otro autor" in page
    drafter = Person.objects.get(pk=group.drafter.pk)
    assert drafter.left_on is None and drafter.is_active


def test_a_day_in_the_past_is_refused_in_french(group: Group) -> None:
    client = signed_in(speaking(group.secretariat, "fr"))
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = client.post(departure_url(group.reviewer), {"left_on": yesterday.isoformat()})
    assert response.status_code == 400
    assert "Le jour du départ ne peut pas être passé" in response.content.decode()
    assert Person.objects.get(pk=group.reviewer.pk).left_on is None


def test_the_secretariat_records_a_departure_and_the_draft_passes_on(group: Group) -> None:
    proposal = proposal_draft(group, title="Loi ESS")
    client = signed_in(speaking(group.secretariat, "fr"))
    response = client.post(
        departure_url(group.drafter),
        {
            "left_on": timezone.localdate().isoformat(),
            f"proposal_{proposal.pk}": str(group.co_drafter.pk),
        },
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "a quitté le groupe" in page
    assert {a.pk for a in fresh(proposal).authors.all()} == {group.co_drafter.pk}
    assert not Person.objects.get(pk=group.drafter.pk).is_active
    again = client.get(departure_url(group.drafter)).content.decode()
    assert "Enregistrer le départ" not in again  # recorded once: no form any more


def test_someone_not_of_the_secretariat_may_not_record_a_departure(group: Group) -> None:
    assert signed_in(group.co_drafter).get(departure_url(group.drafter)).status_code == 403
    response = signed_in(group.co_drafter).post(
        departure_url(group.drafter), {"left_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 403
    assert Person.objects.get(pk=group.drafter.pk).left_on is None


def test_the_secretariat_may_not_record_its_own_departure(group: Group) -> None:
    response = signed_in(group.secretariat).get(departure_url(group.secretariat))
    assert response.status_code == 403
    assert "Nobody records their own departure" in response.content.decode()


def test_a_representative_asks_for_a_departure_in_spanish(group: Group) -> None:
    client = signed_in(speaking(group.representative_fr, "es"))
    url = reverse("proposals:person_departure_request", args=[group.drafter.pk])
    page = client.get(url).content.decode()
    assert "Pedir la salida de" in page
    day = timezone.localdate() + dt.timedelta(days=5)
    response = client.post(url, {"left_on": day.isoformat(), "note": "Cambia de ministerio."})
    assert response.status_code == 302
    row = Delivery.objects.get(
        template="proposals/email/departure_requested", channel=Delivery.Channel.EMAIL
    )
    assert row.recipient_id == group.secretariat.pk
    assert Person.objects.get(pk=group.drafter.pk).left_on is None


def test_a_representative_of_another_organisation_may_not_ask(group: Group) -> None:
    url = reverse("proposals:person_departure_request", args=[group.drafter.pk])
    assert signed_in(group.representative_ma).get(url).status_code == 403


def test_the_persons_admin_page_links_to_record_their_departure(group: Group) -> None:
    from django.contrib.auth.models import Permission

    Person.objects.filter(pk=group.secretariat.pk).update(is_staff=True)
    staff = Person.objects.get(pk=group.secretariat.pk)
    staff.user_permissions.set(
        Permission.objects.filter(codename__in=["view_person", "change_person"])
    )
    client = signed_in(staff)
    page = client.get(reverse("admin:proposals_person_change", args=[group.drafter.pk]))
    assert page.status_code == 200
    assert f'href="{departure_url(group.drafter)}"' in page.content.decode()
    assert "Record departure" in page.content.decode()


def test_the_group_page_offers_a_representative_to_ask_for_a_departure(group: Group) -> None:
    page = signed_in(group.representative_fr).get(reverse("proposals:group")).content.decode()
    link = reverse("proposals:person_departure_request", args=[group.drafter.pk])
    assert f'href="{link}"' in page
    assert reverse("proposals:person_departure_request", args=[group.drafter.pk]) in page
    others = signed_in(group.co_drafter).get(reverse("proposals:group")).content.decode()
    assert "/departure/request/" not in others
