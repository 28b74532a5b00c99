"""An invitation accepted in the browser (issue 13, "Done when"): a superuser invites a person of
the secretariat from the pages, in French; the email leaves through the outbox to an SMTP sink;
the invited person opens its link, chooses a username, a password, French and a time zone, sets
up two-factor authentication with the secret the page shows, and lands on the first-visit page
in French."""

from __future__ import annotations

import re
from base64 import b32decode
from typing import Any

import pytest
from django.test import override_settings
from django.utils import translation
from django_otp.oath import totp

from proposals.invitations import EMAIL_TEMPLATE
from proposals.management.demo_data import DEMO_TOTP_SECRET
from proposals.models import Invitation, Person, Role
from tests.e2e.test_journey import Visitor
from tests.factories import group_setup, totp_device_for
from tests.workflow.live_services import SmtpSink
from workflow import tasks
from workflow.models import Delivery

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

INVITED = "amelie.durand@secretariat.example"


def fr(msgid: str) -> str:
    """What a French reader reads for `msgid`."""
    with translation.override("fr"):
        return translation.gettext(msgid)


def sent_through_the_sink(row: Delivery) -> Any:
    """Send the outbox row as the worker does, over SMTP to a sink; the message received."""
    sink = SmtpSink().start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=sink.port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
        ):
            assert tasks.deliveries_send([row.pk]) == 1
        (message,) = sink.snapshot()
    finally:
        sink.stop()
    return message


def test_a_secretariat_invitation_is_accepted_in_the_browser_in_french(
    browser: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    group = group_setup()
    root = Person.objects.create_superuser("root", "root@example.org", "demo")
    totp_device_for(root, key=b32decode(DEMO_TOTP_SECRET).hex())

    # The superuser (whose own first visit shows at the home page) invites a person of the
    # secretariat, in French.
    admin = Visitor(browser, live_server.url, "root", totp_secret=DEMO_TOTP_SECRET)
    admin.open("/invitations/new/")
    admin.page.get_by_label(admin.t("Email address")).fill(INVITED)
    admin.page.get_by_label(admin.t("First name")).fill("Amélie")
    admin.page.get_by_label(admin.t("Organisation")).select_option(str(group.secretariat_org.pk))
    admin.page.get_by_label(admin.t("Secretariat"), exact=True).check()
    admin.page.get_by_label(admin.t("Language of the invitation")).select_option("fr")
    admin.button(admin.t("Send the invitation")).click()
    admin.page.wait_for_url(f"{live_server.url}/invitations/")
    expect(admin.page.locator("table")).to_contain_text(INVITED)
    assert admin.problems == []
    admin.close()

    # The email, as the SMTP server receives it, is in French and carries the link.
    invitation = Invitation.objects.get(email=INVITED)
    row = Delivery.objects.get(template=EMAIL_TEMPLATE, object_id=invitation.pk)
    message = sent_through_the_sink(row)
    assert message.to == (INVITED,)
    assert "Bonjour Amélie" in message.text
    link = re.search(r"https?://\S+/invitations/accept/[0-9a-f]+/", message.text)
    assert link is not None, message.text
    path = link.group(0)[link.group(0).index("/invitations/") :]

    # The invited person, not signed in, opens the link.
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + path)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_text(fr("Join the policy tracker"))
    page.get_by_label(fr("Username")).fill("amelie")
    page.locator("#id_password1").fill("Une phrase de passe assez longue")
    page.get_by_label(fr("Password again")).fill("Une phrase de passe assez longue")
    page.locator("#id_language").select_option("fr")
    page.locator("#id_timezone").select_option("Europe/Paris")
    page.get_by_role("button", name=fr("Create my account")).click()

    # Two-factor authentication first: the code of the secret the page shows.
    page.wait_for_url(re.compile(r".*/settings/two-factor/enrol/"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    secret = page.locator("#totp-secret").input_value()
    page.get_by_role("textbox", name=fr("Code"), exact=True).fill(f"{totp(b32decode(secret)):06d}")
    page.get_by_role("button", name=fr("Turn on")).click()
    page.get_by_role("link", name=fr("I have kept them")).click()

    # Then the first visit, in French.
    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h2").first).to_have_text(fr("What you can do"))
    expect(page.locator("main")).to_contain_text(
        fr(
            "As the secretariat, you submit the endorsed proposals, record their outcomes, "
            "move deadlines and manage the people of the group."
        )
    )
    context.close()

    person = Person.objects.get(username="amelie")
    assert (person.email, person.language, person.timezone) == (INVITED, "fr", "Europe/Paris")
    assert person.memberships.filter(role=Role.SECRETARIAT).exists()
    assert person.welcomed_at is not None
    invitation.refresh_from_db()
    assert invitation.person == person and invitation.accepted_at is not None
