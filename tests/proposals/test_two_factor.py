"""Two-factor authentication: an authenticator app (TOTP) with recovery codes, required for the
secretariat and superusers, asked after the password in the pages, the admin and the API."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from types import SimpleNamespace
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from proposals.accounts import (
    SESSION_CONFIRMED_AT,
    api_token_create,
    recently_confirmed,
    recovery_codes_renew,
    totp_verify,
)
from proposals.management.demo_data import DEMO_TOTP_SECRET
from proposals.models import ApiToken, Person
from tests.factories import (
    Group,
    PersonFactory,
    client_signed_in,
    session_verify,
    totp_code,
    totp_device_for,
)
from workflow.models import AuditEvent, Delivery

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token/"


@pytest.fixture
def no_throttle(settings: Any) -> None:
    """django-otp waits a second after a wrong code before it checks another."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def frozen(time_machine: Any) -> None:
    """A clock that stands still: every code of a test is in the same time step."""
    time_machine.move_to(timezone.now(), tick=False)


def logged_in_with_password(username: str, next_url: str = "/") -> tuple[Client, Any]:
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": username, "password": "demo", "next": next_url}
    )
    return client, response


@pytest.mark.parametrize("who", ["secretariat", "superuser"])
def test_the_secretariat_and_superusers_without_an_app_reach_only_its_set_up(
    group: Group, who: str
) -> None:
    person = (
        group.secretariat
        if who == "secretariat"
        else Person.objects.create_superuser("root", "root@example.org", "demo")
    )
    client = Client()
    client.force_login(person)
    for path in ("/", "/proposals/", "/settings/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/settings/two-factor/enrol/?next="), path
    assert client.get("/settings/two-factor/enrol/").status_code == 200
    assert client.get("/api/proposals/").status_code == 401


def test_a_drafter_without_an_app_is_not_asked_for_one(group: Group) -> None:
    client = Client()
    client.force_login(group.drafter)
    assert client.get("/").status_code == 200


def test_after_the_password_a_person_with_an_app_types_its_code_before_anything_else(
    group: Group, no_throttle: None
) -> None:
    device = totp_device_for(group.drafter)
    client, response = logged_in_with_password("claire", "/proposals/")
    assert response["Location"] == "/accounts/verify/?next=%2Fproposals%2F"
    assert client.get("/").status_code == 302
    assert client.get("/api/proposals/").status_code == 401
    wrong = client.post("/accounts/verify/", {"code": "000000", "next": "/proposals/"})
    assert wrong.status_code == 400
    assert "wrong or was used already" in wrong.content.decode()
    right = client.post("/accounts/verify/", {"code": totp_code(device), "next": "/proposals/"})
    assert right.status_code == 302 and right["Location"] == "/proposals/"
    assert client.get("/").status_code == 200
    assert client.get("/api/proposals/").status_code == 200
    assert client.session[SESSION_CONFIRMED_AT]


def test_the_code_page_does_not_send_anyone_to_another_site(group: Group) -> None:
    device = totp_device_for(group.drafter)
    client, _response = logged_in_with_password("claire")
    response = client.post(
        "/accounts/verify/", {"code": totp_code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_a_code_is_refused_when_used_again_in_the_same_time_step(
    group: Group, frozen: None
) -> None:
    device = totp_device_for(group.drafter)
    code = totp_code(device)
    assert totp_verify(device, code)
    assert not totp_verify(device, code)
    response = APIClient().post(
        TOKEN_URL, {"username": "claire", "password": "demo", "otp": code}, format="json"
    )
    assert response.status_code == 400
    assert "used already" in response.json()["otp"][0]


def test_a_recovery_code_works_once(group: Group, no_throttle: None) -> None:
    totp_device_for(group.drafter)
    code = recovery_codes_renew(person=group.drafter)[0]
    client, _response = logged_in_with_password("claire")
    assert client.post("/accounts/verify/", {"code": code}).status_code == 302
    assert AuditEvent.objects.filter(
        action="otp.recovery_code_used", subject=group.drafter
    ).exists()
    again = APIClient().post(
        TOKEN_URL, {"username": "claire", "password": "demo", "otp": code}, format="json"
    )
    assert again.status_code == 400


def test_setting_up_an_app_shows_its_secret_and_qr_code_then_confirms_with_a_code(
    group: Group,
) -> None:
    client = client_signed_in(Client(), group.drafter)
    page = client.get("/settings/two-factor/enrol/")
    assert page.status_code == 200
    secret = page.context["secret"]
    content = page.content.decode()
    assert secret in content and "<svg" in content and "otpauth://totp/" in content
    device = TOTPDevice.objects.get(user=group.drafter, confirmed=False)
    done = client.post("/settings/two-factor/enrol/", {"code": totp_code(device)})
    assert done.status_code == 200
    assert len(done.context["codes"]) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(action="otp.enabled", subject=group.drafter).exists()
    assert client.get("/").status_code == 200  # the session counts as verified


def test_a_wrong_code_does_not_turn_two_factor_authentication_on(group: Group) -> None:
    client = client_signed_in(Client(), group.drafter)
    client.get("/settings/two-factor/enrol/")
    response = client.post("/settings/two-factor/enrol/", {"code": "12"})
    assert response.status_code == 400
    assert not TOTPDevice.objects.filter(user=group.drafter, confirmed=True).exists()


def test_a_person_whose_code_is_pending_cannot_set_up_another_app(group: Group) -> None:
    totp_device_for(group.drafter)
    client, _response = logged_in_with_password("claire")
    response = client.get("/settings/two-factor/enrol/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/verify/")


def test_new_recovery_codes_replace_the_former_ones(group: Group) -> None:
    client = client_signed_in(Client(), group.drafter)
    session_verify(client, group.drafter)
    former = recovery_codes_renew(person=group.drafter)
    response = client.post("/settings/two-factor/recovery-codes/")
    assert response.status_code == 200
    assert set(response.context["codes"]).isdisjoint(former)
    assert (
        AuditEvent.objects.filter(
            action="otp.recovery_codes_renewed", subject=group.drafter
        ).count()
        == 2
    )


def test_turning_it_off_needs_a_current_code(group: Group, no_throttle: None) -> None:
    client = client_signed_in(Client(), group.drafter)
    session_verify(client, group.drafter)
    device = totp_device_for(group.drafter)
    client.post("/settings/two-factor/disable/", {"code": "000000"})
    assert TOTPDevice.objects.filter(user=group.drafter).exists()
    client.post("/settings/two-factor/disable/", {"code": totp_code(device)})
    assert not TOTPDevice.objects.filter(user=group.drafter).exists()
    assert AuditEvent.objects.filter(action="otp.disabled", subject=group.drafter).exists()


def test_the_secretariat_cannot_turn_it_off(group: Group) -> None:
    client = client_signed_in(Client(), group.secretariat)
    device = totp_device_for(group.secretariat)
    client.post("/settings/two-factor/disable/", {"code": totp_code(device)})
    assert TOTPDevice.objects.filter(user=group.secretariat, confirmed=True).exists()


def test_the_token_endpoint_asks_a_person_with_an_app_for_its_code(
    group: Group, no_throttle: None
) -> None:
    device = totp_device_for(group.drafter)
    client = APIClient()
    missing = client.post(TOKEN_URL, {"username": "claire", "password": "demo"}, format="json")
    assert missing.status_code == 400
    assert "send `otp`" in missing.json()["reasons"][0]
    wrong = client.post(
        TOKEN_URL, {"username": "claire", "password": "demo", "otp": "123456"}, format="json"
    )
    assert wrong.status_code == 400
    assert AccessAttempt.objects.get(username="claire").failures_since_start == 2
    right = client.post(
        TOKEN_URL,
        {"username": "claire", "password": "demo", "otp": totp_code(device)},
        format="json",
    )
    assert right.status_code == 200
    assert ApiToken.objects.filter(person=group.drafter, kind="login").count() == 1


def test_five_wrong_codes_lock_the_account_like_wrong_passwords(
    group: Group, no_throttle: None
) -> None:
    totp_device_for(group.drafter)
    client = APIClient()
    statuses = [
        client.post(
            TOKEN_URL, {"username": "claire", "password": "demo", "otp": "123456"}, format="json"
        ).status_code
        for _ in range(5)
    ]
    assert statuses == [400, 400, 400, 400, 429]


def test_the_token_endpoint_tells_the_secretariat_without_an_app_to_set_one_up(
    group: Group,
) -> None:
    response = APIClient().post(TOKEN_URL, {"username": "sam", "password": "demo"}, format="json")
    assert response.status_code == 403
    assert "set up an authenticator app in the pages" in response.json()["reasons"][0]


def test_the_admin_needs_a_session_verified_by_an_app(group: Group) -> None:
    admin = Person.objects.create_superuser("root", "root@example.org", "demo")
    totp_device_for(admin)
    client = Client()
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/verify/")
    session_verify(client, admin)
    assert client.get("/admin/").status_code == 200


def test_staff_who_need_no_app_still_cannot_open_the_admin_without_one(group: Group) -> None:
    staff = PersonFactory.create(username="helper", is_staff=True)
    client = Client()
    client.force_login(staff)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/?next=")
    assert "cannot see this page" in response.content.decode()


def test_recent_confirmation_lasts_fifteen_minutes(group: Group, time_machine: Any) -> None:
    client = client_signed_in(Client(), group.drafter)
    client.post("/accounts/login/", {"username": "claire", "password": "demo"})
    request = SimpleNamespace(session=client.session, auth=None)
    assert recently_confirmed(request)
    token, _key = api_token_create(person=group.drafter, kind=ApiToken.Kind.LOGIN, name="Login")
    assert recently_confirmed(SimpleNamespace(auth=token))
    time_machine.move_to(timezone.now() + dt.timedelta(minutes=16))
    assert not recently_confirmed(request)
    assert not recently_confirmed(SimpleNamespace(auth=token))


def test_failed_logins_are_security_events_and_only_the_lockout_is_emailed(
    group: Group,
) -> None:
    client = APIClient()
    for _ in range(7):
        client.post(TOKEN_URL, {"username": "claire", "password": "wrong"}, format="json")
    client.post(TOKEN_URL, {"username": "nobody-here", "password": "wrong"}, format="json")
    failed = AuditEvent.objects.filter(action="login.failed", security=True)
    assert failed.filter(subject=group.drafter).count() >= 5
    assert failed.filter(subject__isnull=True).count() == 1
    assert AuditEvent.objects.filter(action="login.locked_out", subject=group.drafter).exists()
    emailed = Delivery.objects.filter(recipient=group.drafter, kind=Delivery.Kind.SECURITY)
    assert emailed.count() == 1


def test_the_demo_gives_sam_and_admin_an_app_with_the_documented_secret(settings: Any) -> None:
    settings.DEBUG = True
    call_command("load_demo", stdout=StringIO())
    for username in ("sam", "admin"):
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        from base64 import b32decode

        assert device.bin_key == b32decode(DEMO_TOTP_SECRET)
        assert totp(device.bin_key) == totp(b32decode(DEMO_TOTP_SECRET))
