"""The settings page's "Notifications": per kind, radio buttons for how it reaches the person."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from proposals.models import Person
from proposals.notifications import notification_choices_of, notification_modes_of
from proposals.services import proposal_update
from tests.factories import Group, proposal_draft
from tests.proposals.web.helpers import fresh, run, signed_in
from workflow.models import AuditEvent, Delivery

pytestmark = pytest.mark.django_db

KINDS = [
    "proposal.approved",
    "proposal.submitted",
    "proposal.outcome_recorded",
    "proposal.withdrawn",
]


def field(event: str) -> str:
    return "notify-" + event.replace(".", "__")


def settings_form(person: Person, *, off: tuple[str, ...] = (), **changes: Any) -> dict[str, Any]:
    """What the page posts when the person saves it with the kinds in `off` in the pages only
    (the others by email)."""
    data: dict[str, Any] = {
        "language": person.language,
        "timezone": person.timezone,
        "notify-shown": "True",
    }
    if person.optional_notifications:
        data["optional_notifications"] = "on"
    if person.daily_digest:
        data["daily_digest"] = "on"
    data.update({field(event): "page" if event in off else "email" for event in KINDS})
    data.update(changes)
    return data


def wanted(person: Person) -> dict[str, bool]:
    return {choice.event: choice.enabled for choice in notification_choices_of(person)}


def test_the_page_has_a_labelled_group_of_radio_buttons_per_kind(group: Group) -> None:
    html = signed_in(group.drafter).get(reverse("proposals:settings")).content.decode()
    fieldset = html.split('<fieldset class="field choices"', 1)[1].split("</form>", 1)[0]
    assert 'aria-describedby="notify-kinds-help"' in fieldset
    assert "<legend>Notifications</legend>" in fieldset
    assert '<input type="hidden" name="notify-shown" value="True"' in fieldset
    for event in KINDS:
        name = field(event)
        radios = re.findall(rf'<input type="radio" name="{name}"[^>]*>', fieldset)
        assert [re.search(r'value="(\w+)"', radio).group(1) for radio in radios] == [  # type: ignore[union-attr]
            "page",
            "email",
            "digest",
        ], event
        assert ["checked" in radio for radio in radios] == [False, True, False]
        assert f'<fieldset class="radio-choice" aria-describedby="id_{name}_helptext">' in fieldset
        assert f'<label for="id_{name}_0" class="radio">' in fieldset
        assert f'id="id_{name}_helptext"' in fieldset
    assert "A proposal of mine is approved" in fieldset
    assert "When the secretariat submits a proposal you wrote to its body." in fieldset
    assert "In the pages only" in fieldset and "In the daily digest" in fieldset
    assert "keeps all news in the pages at once" in fieldset
    # What asks to act and reminders come by email, singly or in the digest: no "pages only".
    for event in ("proposal.review_requested", "reminder.any"):
        radios = re.findall(rf'<input type="radio" name="{field(event)}"[^>]*>', fieldset)
        assert len(radios) == 2 and 'value="page"' not in "".join(radios)


def test_the_page_says_when_the_global_switch_overrides_the_kinds(group: Group) -> None:
    Person.objects.filter(pk=group.drafter.pk).update(optional_notifications=False)
    html = signed_in(group.drafter).get(reverse("proposals:settings")).content.decode()
    assert "Optional notifications are off: no news comes by email" in html


def test_unticking_a_kind_saves_it_with_its_audit_row(group: Group) -> None:
    client = signed_in(group.drafter)
    response = client.post(
        reverse("proposals:settings"), settings_form(group.drafter, off=("proposal.approved",))
    )
    assert response.status_code == 302
    assert wanted(group.drafter) == {event: event != "proposal.approved" for event in KINDS}
    assert list(AuditEvent.objects.values_list("action", flat=True)) == [
        "notification_preference.changed"
    ]
    html = client.get(reverse("proposals:settings")).content.decode()
    chosen = re.search(
        r'<input type="radio" name="notify-proposal__approved"[^>]*checked[^>]*>', html
    )
    assert chosen is not None and 'value="page"' in chosen.group(0)


def test_a_kind_unticked_stops_that_email_while_what_asks_to_act_still_comes(
    group: Group,
) -> None:
    signed_in(group.drafter).post(
        reverse("proposals:settings"), settings_form(group.drafter, off=("proposal.approved",))
    )
    proposal = proposal_draft(group, authors=[group.drafter, group.co_drafter])
    proposal = run(proposal, "submit_for_review", group.drafter)
    proposal = run(proposal, "request_changes", group.reviewer, "Shorter, please.")
    proposal_update(proposal=fresh(proposal), editor=group.drafter, text="Shorter.")
    proposal = run(run(proposal, "submit_for_review", group.drafter), "approve", group.reviewer)
    assert proposal.state == "endorsement"
    to_claire = set(
        Delivery.objects.filter(recipient=group.drafter, channel="email").values_list(
            "event", flat=True
        )
    )
    assert "proposal.approved" not in to_claire
    assert "proposal.changes_requested" in to_claire  # asks to act: it always comes
    assert Delivery.objects.filter(recipient=group.co_drafter, event="proposal.approved").exists()
    assert Delivery.objects.filter(  # it still reaches the pages
        recipient=group.drafter, event="proposal.approved", channel="page"
    ).exists()


def test_saving_the_page_unchanged_writes_nothing(group: Group) -> None:
    client = signed_in(group.drafter)
    client.post(
        reverse("proposals:settings"), settings_form(group.drafter, off=("proposal.withdrawn",))
    )
    before = AuditEvent.objects.count()
    response = client.post(
        reverse("proposals:settings"), settings_form(group.drafter, off=("proposal.withdrawn",))
    )
    assert response.status_code == 302
    assert AuditEvent.objects.count() == before


def test_a_form_without_the_radio_buttons_changes_no_kind(group: Group) -> None:
    """A form from before the radio buttons (or a script) does not turn every kind off."""
    data = settings_form(group.drafter, language="fr")
    for name in [name for name in data if name.startswith("notify-")]:
        del data[name]
    response = signed_in(group.drafter).post(reverse("proposals:settings"), data)
    assert response.status_code == 302
    assert wanted(group.drafter) == dict.fromkeys(KINDS, True)
    assert Person.objects.get(pk=group.drafter.pk).language == "fr"


def test_the_language_and_the_kinds_are_saved_together(group: Group) -> None:
    response = signed_in(group.drafter).post(
        reverse("proposals:settings"),
        settings_form(group.drafter, off=tuple(KINDS), language="es", daily_digest="on"),
    )
    assert response.status_code == 302
    assert wanted(group.drafter) == dict.fromkeys(KINDS, False)
    person = Person.objects.get(pk=group.drafter.pk)
    assert (person.language, person.daily_digest) == ("es", True)
    assert sorted(AuditEvent.objects.values_list("action", flat=True)) == [
        *["notification_preference.changed"] * 4,
        "person.settings_changed",
    ]


def test_an_invalid_settings_form_saves_no_kind_either(group: Group) -> None:
    response = signed_in(group.drafter).post(
        reverse("proposals:settings"),
        settings_form(group.drafter, off=("proposal.approved",), timezone="Mars/Olympus"),
    )
    assert response.status_code == 400
    assert wanted(group.drafter) == dict.fromkeys(KINDS, True)
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("language", ["fr", "es"])
def test_the_page_shows_the_kinds_in_the_person_s_language(group: Group, language: str) -> None:
    Person.objects.filter(pk=group.drafter.pk).update(language=language)
    response = signed_in(Person.objects.get(pk=group.drafter.pk)).get(reverse("proposals:settings"))
    assert response.status_code == 200
    assert f'<html lang="{language}"' in response.content.decode()
    html = response.content.decode()
    assert html.count('type="radio" name="notify-') == 3 * 10 + 2 * 5  # news, what asks to act
    assert {"fr": "Dans les pages seulement", "es": "Solo en las páginas"}[language] in html


def test_ticking_the_daily_digest_moves_the_kinds_left_as_shown_to_it(group: Group) -> None:
    client = signed_in(group.drafter)
    data = settings_form(group.drafter, daily_digest="on")
    data["notify-proposal__revised"] = "page"  # and one kind chosen on the way
    assert client.post(reverse("proposals:settings"), data).status_code == 302
    modes = {
        choice.event: choice.mode
        for _group, choices in notification_modes_of(Person.objects.get(pk=group.drafter.pk))
        for choice in choices
    }
    assert modes["proposal.approved"] == modes["reminder.any"] == "digest"
    assert modes["proposal.revised"] == "page"
    changed = AuditEvent.objects.filter(action="notification_preference.changed")
    assert [event.after["event"] for event in changed] == ["proposal.revised"]
