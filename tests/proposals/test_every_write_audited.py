"""Every write of the domain leaves its log row, in the same transaction (issue 10, item 4).

The services are found by introspection: every public function of the service modules is
either marked `@audited(...)` (proposals/audited.py) or listed below as not a write, with why.
Each marked service has a scenario here, run twice: once to see that it leaves one of the rows
it declares, once with that row's insert failing, to see that nothing of the write survives
without its row. The faces (pages, API, admin, calendars, the demo loader) call no write
method of a model.
"""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import pathlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group as AuthGroup
from django.contrib.auth.models import Permission
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import proposals.attachments
import proposals.calendar_import.services
import proposals.departures
import proposals.following
import proposals.notification_centre
import proposals.personal_data
import proposals.retention
from proposals import (
    accounts,
    discussion,
    invitations,
    notifications,
    people,
    reference,
    services,
    webhooks,
)
from proposals.audited import AUDITED, SYSTEM, audited_write
from proposals.models import (
    ApiToken,
    Endorsement,
    Language,
    Occasion,
    Organization,
    PresidencyTerm,
    ProposalState,
    ReminderRule,
)
from tests.factories import (
    BodyFactory,
    Group,
    OccasionFactory,
    OrganizationFactory,
    PersonFactory,
    api_token_key,
    client_signed_in,
    proposal_draft,
    totp_code,
    totp_device_for,
)
from tests.proposals.api.helpers import client_for, fresh, proposal_in, run
from workflow.models import AuditEvent, TransitionLog

pytestmark = pytest.mark.django_db

SERVICE_MODULES: tuple[ModuleType, ...] = (
    proposals.attachments,
    proposals.calendar_import.services,
    invitations,
    services,
    reference,
    people,
    accounts,
    notifications,
    webhooks,
    proposals.departures,
    proposals.following,
    proposals.notification_centre,
    discussion,
    proposals.personal_data,
    proposals.retention,
)

# Public functions of the service modules that write nothing the audit trail holds.
NOT_WRITES = {
    "proposals.calendar_import.services.calendar_feed_read_dispatch": "queues after commit",
    "proposals.calendar_import.services.feed_move_reason": "computes",
    "proposals.calendar_import.services.feed_failed_email_context": "computes an email's context",
    "proposals.attachments.file_size_text": "computes",
    "proposals.attachments.accepted_types_text": "computes",
    "proposals.attachments.attachment_max_bytes": "reads a setting",
    "proposals.attachments.upload_body_max_bytes": "reads settings",
    "proposals.attachments.attachment_permission_reasons": "checks",
    "proposals.attachments.attachment_state_reasons": "checks",
    "proposals.attachments.attachments_of": "reads",
    "proposals.attachments.attachment_downloadable": "checks",
    "proposals.attachments.attachment_visible_to": "reads",
    "proposals.attachments.attachment_removed_reason": "computes",
    "proposals.attachments.attachment_file_response": "reads a stored file",
    "proposals.invitations.invitation_lifetime": "reads a setting",
    "proposals.invitations.invitation_token": "computes",
    "proposals.invitations.invitation_status": "computes",
    "proposals.invitations.invitations_with_status": "reads",
    "proposals.invitations.role_label": "computes",
    "proposals.invitations.roles_text": "computes",
    "proposals.invitations.invitation_by_token": "reads a link",
    "proposals.invitations.welcome_of": "reads",
    "proposals.invitations.invitation_email_context": "computes an email's context",
    "proposals.services.endorsement_check": "reads: who would endorse, or why not",
    "proposals.people.roles_change_reasons": "reads: why a change of roles is refused",
    "proposals.people.person_roles": "reads",
    "proposals.people.email_change_pending": "reads a confirmation link",
    "proposals.accounts.token_digest": "computes",
    "proposals.accounts.login_token_lifetime": "reads a setting",
    "proposals.accounts.script_token_expiry_check": "validates",
    "proposals.accounts.api_tokens_active": "reads",
    "proposals.accounts.api_token_authenticate": "bookkeeping: when a token was last used",
    "proposals.accounts.api_token_from_header": "api_token_authenticate, from a header",
    "proposals.accounts.login_or_api_token_required": "a view decorator: who is asking",
    "proposals.accounts.two_factor_required": "reads",
    "proposals.accounts.totp_device_of": "reads",
    "proposals.accounts.totp_device_start": "bookkeeping: an app not yet confirmed (otp.enabled)",
    "proposals.accounts.totp_secret": "computes",
    "proposals.accounts.totp_verify": "bookkeeping: the device's last code accepted",
    "proposals.accounts.second_factor_check": "checks a code (a recovery code: recovery_code_use)",
    "proposals.accounts.session_confirm": "writes the session only",
    "proposals.accounts.session_two_factor_verified": "writes the session only",
    "proposals.accounts.session_has_device": "reads (remembered in the session)",
    "proposals.departures.departure_plan": "reads",
    "proposals.departures.proposals_to_hand_over": "reads",
    "proposals.departures.unrepresented_after": "reads",
    "proposals.departures.departure_permission_reasons": "checks",
    "proposals.departures.departure_request_reasons": "checks",
    "proposals.departures.departures_due": "a sweep: departure_carry_out for each person due",
    "proposals.departures.people_represented_by": "reads",
    "proposals.invitations.invitation_status_condition": "computes",
    "proposals.accounts.session_two_factor_missing": "reads",
    "proposals.accounts.recently_confirmed": "reads",
    "proposals.accounts.two_factor_verified": "reads",
    "proposals.accounts.identity_confirm": "checks a password or a code (lockout counts it)",
    "proposals.accounts.recent_confirmation_check": "checks",
    "proposals.notifications.notification_choices_of": "reads",
    "proposals.notifications.webhook_payload": "computes",
    "proposals.notifications.webhook_readers_annotate": "reads (with a locking query)",
    "proposals.notifications.webhook_readers_of": "reads (what the query read)",
    "proposals.notifications.webhook_events_write": (
        "outbox rows, in the transaction of the audited write that caused the event"
    ),
    "proposals.webhooks.webhook_url_reasons": "checks a URL",
    "proposals.notifications.notification_modes_of": "reads",
    "proposals.following.proposal_follower_ids": "reads",
    "proposals.following.occasion_follower_ids": "reads",
    "proposals.following.is_following": "reads",
    "proposals.following.follows_automatic": (
        "part of the audited write that makes the person an author, reviewer or endorser"
    ),
    "proposals.following.follower_notices": "computes",
    "proposals.following.followers_told_of_transition": "computes",
    "proposals.following.followers_told_of_revision": (
        "outbox rows, in the transaction of the audited edit that wrote the revision"
    ),
    "proposals.following.followers_told_of_deadline_move": (
        "outbox rows, in the transaction of the audited move of the deadline"
    ),
    "proposals.notification_centre.notifications_of": "reads",
    "proposals.notification_centre.unread_count": "reads",
    "proposals.notification_centre.notification_sentence": "computes",
    "proposals.notification_centre.notification_path": "computes",
    "proposals.notification_centre.changes_since": "reads",
    "proposals.notification_centre.content_types": "reads",
    "proposals.notification_centre.visit_record": "the person's own bookkeeping of when they "
    "last opened the dashboard, not a change of what the group holds",
    "proposals.notification_centre.notification_groups": "computes",
    "proposals.discussion.paragraphs": "computes",
    "proposals.discussion.mentioned_usernames": "computes",
    "proposals.discussion.comment_path": "computes",
    "proposals.discussion.comments_of": "reads",
    "proposals.discussion.threads_of": "reads",
    "proposals.discussion.comment_outdated": "computes",
    "proposals.discussion.mention_candidates": "reads",
    "proposals.personal_data.pseudonym_of": "computes",
    "proposals.personal_data.personal_data_export": "reads",
    "proposals.personal_data.personal_data_archive": "reads",
    "proposals.personal_data.archive_filename": "computes",
    "proposals.personal_data.identity_of": "reads",
    "proposals.personal_data.erasure_reasons": "checks",
    "proposals.personal_data.erasure_requested_at": "reads",
    "proposals.personal_data.erasure_requests_pending": "reads",
}


def public_functions() -> dict[str, Any]:
    """Every public function defined in the service modules, by "module.name"."""
    found = {}
    for module in SERVICE_MODULES:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and function.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = function
    return found


# The scenarios: for each write service, the action to look for and how to prepare a call.

Call = Callable[[], Any]
Scenario = tuple[str, Callable[[Group], Call]]


def _later(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def _leaving_today(person: Any) -> Any:
    """The person, whose departure is recorded for today (and not yet carried out)."""
    type(person).objects.filter(pk=person.pk).update(left_on=timezone.localdate())
    return type(person).objects.get(pk=person.pk)


def _endorsable(group: Group) -> Any:
    proposal = proposal_in(group, ProposalState.IN_REVIEW)
    return fresh(run(proposal, "approve", group.reviewer))


def _endorsement(group: Group) -> Endorsement:
    proposal = proposal_in(group, ProposalState.ENDORSEMENT)
    return Endorsement.objects.get(proposal=proposal, organization=group.morocco)


def _pdf_upload() -> Any:
    from tests.proposals.attachment_files import PDF, upload

    return upload("annex.pdf", PDF)


def _webhook_endpoint(group: Group) -> Any:
    return webhooks.webhook_endpoint_create(
        actor=SYSTEM,
        name="Registry",
        url="https://93.184.215.14/hook",
        organization=group.morocco,
        events=["proposal.transitioned"],
    )


def _page_notice(group: Group) -> Any:
    """A notice in the pages of the reviewer: the proposal awaits their review."""
    from workflow.models import Delivery

    proposal_in(group, ProposalState.IN_REVIEW)
    return Delivery.objects.filter(recipient=group.reviewer, channel="page").first()


def _invitation(group: Group) -> Any:
    return invitations.invitation_create(
        actor=group.secretariat,
        email="amina@ministry.example",
        organization=group.morocco,
        roles=["representative"],
    )


def _invitation_token(group: Group) -> str:
    from workflow.models import Delivery

    row = Delivery.objects.get(template=invitations.EMAIL_TEMPLATE, object_id=_invitation(group).pk)
    return invitations.invitation_token(row.context["nonce"])


def _comment(group: Group) -> Any:
    return discussion.comment_create(
        proposal=proposal_in(group, ProposalState.IN_REVIEW), author=group.drafter, body="First."
    )


ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:e1@x\r\n"
    b"SUMMARY:Hearing\r\nDTSTART;VALUE=DATE:20270510\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def _feed(group: Group, url: str = "https://93.184.215.14/feed.ics") -> Any:
    return proposals.calendar_import.services.calendar_feed_create(
        actor=SYSTEM, body=group.body, url=url, occasion_kind="summit"
    )


def _pinned_occasion(group: Group) -> Any:
    feed, _result = proposals.calendar_import.services.calendar_feed_upload(
        actor=SYSTEM, body=group.body, content=ICS, occasion_kind="summit"
    )
    Occasion.objects.filter(feed=feed).update(pinned_fields=["name"])
    return Occasion.objects.get(feed=feed)


def _superuser() -> Any:
    return PersonFactory.create(username="root", is_superuser=True, is_staff=True)


SCENARIOS: dict[str, Scenario] = {
    # proposals.personal_data and proposals.retention
    "proposals.personal_data.person_erase": (
        "person.erased",
        lambda g: (
            lambda: proposals.personal_data.person_erase(actor=g.secretariat, person=g.drafter)
        ),
    ),
    "proposals.personal_data.erasure_request": (
        "person.erasure_requested",
        lambda g: lambda: proposals.personal_data.erasure_request(person=g.drafter),
    ),
    "proposals.retention.retention_purge": (
        "retention.purged",
        lambda g: lambda: proposals.retention.retention_purge(),
    ),
    # proposals.attachments
    "proposals.attachments.attachment_add": (
        "attachment_added",
        lambda g: (
            lambda proposal: (
                lambda: proposals.attachments.attachment_add(
                    proposal=proposal, person=g.drafter, title="Annex", upload=_pdf_upload()
                )
            )
        )(proposal_draft(g)),
    ),
    "proposals.attachments.attachment_remove": (
        "attachment_removed",
        lambda g: (
            lambda attachment: (
                lambda: proposals.attachments.attachment_remove(
                    attachment=attachment, person=g.secretariat
                )
            )
        )(
            proposals.attachments.attachment_add(
                proposal=proposal_draft(g), person=g.drafter, title="Annex", upload=_pdf_upload()
            )
        ),
    ),
    # proposals.invitations
    "proposals.invitations.invitation_create": (
        "invitation.created",
        lambda g: (
            lambda: invitations.invitation_create(
                actor=g.secretariat,
                email="amina@ministry.example",
                organization=g.morocco,
                roles=["drafter"],
            )
        ),
    ),
    "proposals.invitations.invitation_resend": (
        "invitation.resent",
        lambda g: (
            lambda invitation: (
                lambda: invitations.invitation_resend(actor=g.secretariat, invitation=invitation)
            )
        )(_invitation(g)),
    ),
    "proposals.invitations.invitation_revoke": (
        "invitation.revoked",
        lambda g: (
            lambda invitation: (
                lambda: invitations.invitation_revoke(actor=g.secretariat, invitation=invitation)
            )
        )(_invitation(g)),
    ),
    "proposals.invitations.invitation_accept": (
        "invitation.accepted",
        lambda g: (
            lambda token: (
                lambda: invitations.invitation_accept(
                    token=token,
                    username="amina",
                    password="Long enough passphrase 42",
                    language="fr",
                    timezone_name="Africa/Casablanca",
                )
            )
        )(_invitation_token(g)),
    ),
    "proposals.invitations.person_welcome": (
        "person.welcomed",
        lambda g: (lambda person: lambda: invitations.person_welcome(person=person))(
            PersonFactory.create(username="newcomer", welcomed_at=None)
        ),
    ),
    # proposals.departures
    "proposals.departures.departure_record": (
        "person.departure_recorded",
        lambda g: (
            lambda: proposals.departures.departure_record(
                actor=g.secretariat, person=g.reviewer, left_on=timezone.localdate()
            )
        ),
    ),
    "proposals.departures.departure_carry_out": (
        "person.left",
        lambda g: (lambda person: lambda: proposals.departures.departure_carry_out(person=person))(
            _leaving_today(g.reviewer)
        ),
    ),
    "proposals.departures.departure_request": (
        "person.departure_requested",
        lambda g: (
            lambda: proposals.departures.departure_request(
                actor=g.representative_fr, person=g.drafter, left_on=timezone.localdate()
            )
        ),
    ),
    # proposals.services
    "proposals.services.proposal_create": (
        "create",
        lambda g: lambda: services.proposal_create(author=g.drafter, title="A new proposal"),
    ),
    "proposals.services.proposal_update": (
        "proposal.edited",
        lambda g: (
            lambda proposal: (
                lambda: services.proposal_update(
                    proposal=fresh(proposal), editor=g.drafter, text="Another text."
                )
            )
        )(proposal_draft(g)),
    ),
    "proposals.services.endorsement_create": (
        "endorse",
        lambda g: (
            lambda proposal: (
                lambda: services.endorsement_create(proposal=proposal, person=g.representative_ma)
            )
        )(_endorsable(g)),
    ),
    "proposals.services.endorsement_withdraw": (
        "withdraw_endorsement",
        lambda g: (
            lambda endorsement: (
                lambda: services.endorsement_withdraw(
                    endorsement=endorsement, person=g.representative_ma
                )
            )
        )(_endorsement(g)),
    ),
    "proposals.services.proposal_transition_run": (
        "submit_for_review",
        lambda g: (
            lambda proposal: (
                lambda: services.proposal_transition_run(
                    proposal=fresh(proposal), name="submit_for_review", actor=g.drafter
                )
            )
        )(proposal_draft(g)),
    ),
    "proposals.services.occasion_move_deadline": (
        "occasion.deadline_moved",
        lambda g: (
            lambda: services.occasion_move_deadline(
                occasion=g.occasion,
                new_deadline=g.occasion.submission_deadline + dt.timedelta(days=2),
                actor=g.secretariat,
                reason="The venue changed.",
            )
        ),
    ),
    "proposals.services.calendar_token_regenerate": (
        "person.calendar_link_renewed",
        lambda g: lambda: services.calendar_token_regenerate(person=g.drafter),
    ),
    # proposals.reference
    "proposals.reference.organization_create": (
        "organization.created",
        lambda g: (
            lambda: reference.organization_create(
                actor=g.secretariat, name="Ecuador", kind=Organization.Kind.STATE
            )
        ),
    ),
    "proposals.reference.organization_update": (
        "organization.changed",
        lambda g: (
            lambda: reference.organization_update(
                actor=g.secretariat, organization=g.morocco, changes={"short_name": "MA"}
            )
        ),
    ),
    "proposals.reference.organization_delete": (
        "organization.deleted",
        lambda g: (
            lambda spare: (
                lambda: reference.organization_delete(actor=g.secretariat, organization=spare)
            )
        )(OrganizationFactory.create(name="Spare")),
    ),
    "proposals.reference.presidency_create": (
        "presidency.created",
        lambda g: (
            lambda: reference.presidency_create(
                actor=g.secretariat,
                organization=g.morocco,
                starts_on=_later(200),
                ends_on=_later(380),
            )
        ),
    ),
    "proposals.reference.presidency_update": (
        "presidency.changed",
        lambda g: (
            lambda: reference.presidency_update(
                actor=g.secretariat,
                term=PresidencyTerm.objects.get(),
                changes={"ends_on": _later(160)},
            )
        ),
    ),
    "proposals.reference.presidency_delete": (
        "presidency.deleted",
        lambda g: (
            lambda: reference.presidency_delete(
                actor=g.secretariat, term=PresidencyTerm.objects.get()
            )
        ),
    ),
    "proposals.reference.body_create": (
        "body.created",
        lambda g: (
            lambda: reference.body_create(
                actor=g.secretariat, name="Assemblée nationale", level="national", country="FR"
            )
        ),
    ),
    "proposals.reference.body_update": (
        "body.changed",
        lambda g: (
            lambda: reference.body_update(
                actor=g.secretariat, body=g.body, changes={"name": "UNGA"}
            )
        ),
    ),
    "proposals.reference.body_delete": (
        "body.deleted",
        lambda g: (lambda spare: lambda: reference.body_delete(actor=g.secretariat, body=spare))(
            BodyFactory.create()
        ),
    ),
    "proposals.reference.occasion_create": (
        "occasion.created",
        lambda g: (
            lambda: reference.occasion_create(
                actor=g.secretariat,
                name="COP 30",
                kind=Occasion.Kind.SUMMIT,
                starts_on=_later(60),
                ends_on=_later(70),
                submission_deadline=timezone.now() + dt.timedelta(days=50),
                timezone="America/Belem",
            )
        ),
    ),
    "proposals.reference.occasion_update": (
        "occasion.changed",
        lambda g: (
            lambda: reference.occasion_update(
                actor=g.secretariat, occasion=g.occasion, changes={"location": "Geneva"}
            )
        ),
    ),
    "proposals.reference.occasion_delete": (
        "occasion.deleted",
        lambda g: (
            lambda spare: lambda: reference.occasion_delete(actor=g.secretariat, occasion=spare)
        )(OccasionFactory.create()),
    ),
    "proposals.reference.reminder_rule_create": (
        "reminder_rule.created",
        lambda g: (
            lambda: reference.reminder_rule_create(
                actor=g.secretariat, occasion_kind=Occasion.Kind.SUMMIT, offsets=[14, 7]
            )
        ),
    ),
    "proposals.reference.reminder_rule_update": (
        "reminder_rule.changed",
        lambda g: (
            lambda rule: (
                lambda: reference.reminder_rule_update(
                    actor=g.secretariat, rule=rule, changes={"offsets": [10, 3]}
                )
            )
        )(ReminderRule.objects.create(occasion=g.occasion, offsets=[7])),
    ),
    "proposals.reference.reminder_rule_delete": (
        "reminder_rule.deleted",
        lambda g: (
            lambda rule: lambda: reference.reminder_rule_delete(actor=g.secretariat, rule=rule)
        )(ReminderRule.objects.create(occasion=g.occasion, offsets=[7])),
    ),
    # proposals.people
    "proposals.people.person_create": (
        "person.created",
        lambda g: (
            lambda: people.person_create(
                actor=g.secretariat,
                username="andres",
                email="andres@example.org",
                roles=[(g.luxembourg, "drafter")],
            )
        ),
    ),
    "proposals.people.person_update": (
        "person.updated",
        lambda g: (
            lambda: people.person_update(
                actor=g.secretariat, person=g.drafter, changes={"language": Language.FRENCH}
            )
        ),
    ),
    "proposals.people.person_permissions_set": (
        "person.permissions_changed",
        lambda g: (
            lambda root, editors: (
                lambda: people.person_permissions_set(
                    actor=root, person=g.drafter, groups=[editors]
                )
            )
        )(_superuser(), AuthGroup.objects.create(name="Editors")),
    ),
    "proposals.people.permission_group_set": (
        "permission_group.created",
        lambda g: (
            lambda root: (
                lambda: people.permission_group_set(
                    actor=root,
                    name="Editors",
                    permissions=Permission.objects.filter(codename="view_proposal"),
                )
            )
        )(_superuser()),
    ),
    "proposals.people.person_delete": (
        "person.deleted",
        lambda g: (
            lambda someone: lambda: people.person_delete(actor=g.secretariat, person=someone)
        )(PersonFactory.create(username="passing")),
    ),
    "proposals.people.person_settings_update": (
        "person.settings_changed",
        lambda g: (
            lambda: people.person_settings_update(
                person=g.drafter, language=Language.FRENCH, daily_digest=True
            )
        ),
    ),
    "proposals.people.email_change_request": (
        "person.email_change_requested",
        lambda g: (
            lambda: people.email_change_request(
                person=g.drafter, new_email="claire@example.net", password="demo"
            )
        ),
    ),
    "proposals.people.email_change_confirm": (
        "person.email_changed",
        lambda g: (
            lambda: people.email_change_confirm(
                token=people._email_change_token(g.drafter, "claire@example.net"), person=g.drafter
            )
        ),
    ),
    # proposals.accounts
    "proposals.accounts.password_set": (
        "password.changed",
        lambda g: lambda: accounts.password_set(person=g.drafter, password="a long passphrase"),
    ),
    "proposals.accounts.api_token_create": (
        "token.created",
        lambda g: (
            lambda: accounts.api_token_create(
                person=g.drafter,
                kind=ApiToken.Kind.SCRIPT,
                name="Spreadsheet",
                expires_at=timezone.now() + dt.timedelta(days=30),
            )
        ),
    ),
    "proposals.accounts.api_token_revoke": (
        "token.revoked",
        lambda g: (lambda key: lambda: accounts.api_token_revoke(token=ApiToken.objects.get()))(
            api_token_key(g.drafter)
        ),
    ),
    "proposals.accounts.person_tokens_revoke": (
        "token.revoked",
        lambda g: (
            lambda key: lambda: accounts.person_tokens_revoke(person=g.drafter, reason="test")
        )(api_token_key(g.drafter)),
    ),
    "proposals.accounts.recovery_codes_renew": (
        "otp.recovery_codes_renewed",
        lambda g: lambda: accounts.recovery_codes_renew(person=g.drafter),
    ),
    "proposals.accounts.recovery_code_use": (
        "otp.recovery_code_used",
        lambda g: (lambda codes: lambda: accounts.recovery_code_use(g.drafter, codes[0]))(
            accounts.recovery_codes_renew(person=g.drafter)
        ),
    ),
    "proposals.accounts.two_factor_enable": (
        "otp.enabled",
        lambda g: (
            lambda device: (
                lambda: accounts.two_factor_enable(
                    person=g.drafter, device=device, code=totp_code(device)
                )
            )
        )(accounts.totp_device_start(g.drafter)),
    ),
    "proposals.accounts.totp_device_install": (
        "otp.enabled",
        lambda g: (
            lambda: accounts.totp_device_install(
                person=g.drafter, secret="POLICYTRACKERDEMOTOTPSECRET23456", actor=SYSTEM
            )
        ),
    ),
    "proposals.accounts.two_factor_disable": (
        "otp.disabled",
        lambda g: (lambda device: lambda: accounts.two_factor_disable(person=g.drafter))(
            totp_device_for(g.drafter)
        ),
    ),
    "proposals.accounts.login_failed_record": (
        "login.failed",
        lambda g: lambda: accounts.login_failed_record(None, {"username": "claire"}),
    ),
    "proposals.accounts.locked_out_record": (
        "login.locked_out",
        lambda g: lambda: accounts.locked_out_record(None, username="claire"),
    ),
    # proposals.notifications
    "proposals.notifications.notification_modes_set": (
        "notification_preference.changed",
        lambda g: (
            lambda: notifications.notification_modes_set(
                person=g.drafter, wanted={"proposal.revised": "digest"}, actor=g.drafter
            )
        ),
    ),
    # proposals.following
    "proposals.following.follow_start": (
        "follow.started",
        lambda g: (
            lambda proposal: (
                lambda: proposals.following.follow_start(person=g.co_drafter, proposal=proposal)
            )
        )(proposal_in(g, ProposalState.IN_REVIEW)),
    ),
    "proposals.following.follow_stop": (
        "follow.stopped",
        lambda g: (
            lambda proposal: (
                lambda: proposals.following.follow_stop(person=g.drafter, proposal=proposal)
            )
        )(proposal_in(g, ProposalState.IN_REVIEW)),
    ),
    # proposals.notification_centre
    "proposals.notification_centre.notification_mark_read": (
        "notification.read",
        lambda g: (
            lambda row: (
                lambda: proposals.notification_centre.notification_mark_read(
                    person=g.reviewer, notification_id=row.pk
                )
            )
        )(_page_notice(g)),
    ),
    "proposals.notification_centre.notifications_mark_all_read": (
        "notification.all_read",
        lambda g: (
            lambda row: (
                lambda: proposals.notification_centre.notifications_mark_all_read(person=g.reviewer)
            )
        )(_page_notice(g)),
    ),
    "proposals.notifications.notification_choices_set": (
        "notification_preference.changed",
        lambda g: (
            lambda: notifications.notification_choices_set(
                person=g.drafter, wanted={"proposal.approved": False}, actor=g.drafter
            )
        ),
    ),
    # proposals.discussion
    "proposals.discussion.comment_create": (
        "comment.created",
        lambda g: (
            lambda proposal: (
                lambda: discussion.comment_create(
                    proposal=proposal, author=g.drafter, body="What about @rita?"
                )
            )
        )(proposal_draft(g)),
    ),
    "proposals.discussion.comment_edit": (
        "comment.edited",
        lambda g: (
            lambda comment: (
                lambda: discussion.comment_edit(comment=comment, editor=g.drafter, body="Better.")
            )
        )(_comment(g)),
    ),
    "proposals.discussion.comment_delete": (
        "comment.deleted",
        lambda g: (
            lambda comment: lambda: discussion.comment_delete(comment=comment, actor=g.drafter)
        )(_comment(g)),
    ),
    "proposals.discussion.comment_hide": (
        "comment.hidden",
        lambda g: (
            lambda comment: (
                lambda: discussion.comment_hide(
                    comment=comment, actor=g.secretariat, reason="Off topic."
                )
            )
        )(_comment(g)),
    ),
    # proposals.calendar_import
    "proposals.calendar_import.services.calendar_feed_create": (
        "calendar_feed.created",
        lambda g: lambda: _feed(g),
    ),
    "proposals.calendar_import.services.calendar_feed_update": (
        "calendar_feed.changed",
        lambda g: (
            lambda feed: (
                lambda: proposals.calendar_import.services.calendar_feed_update(
                    actor=g.secretariat, feed=feed, changes={"active": False}
                )
            )
        )(_feed(g)),
    ),
    "proposals.calendar_import.services.calendar_feed_delete": (
        "calendar_feed.deleted",
        lambda g: (
            lambda feed: (
                lambda: proposals.calendar_import.services.calendar_feed_delete(
                    actor=g.secretariat, feed=feed
                )
            )
        )(_feed(g)),
    ),
    "proposals.calendar_import.services.calendar_feed_read": (
        # A loopback URL, refused at the reading (private targets are not allowed here).
        "calendar_feed.failed",
        lambda g: (
            lambda feed: (
                lambda: proposals.calendar_import.services.calendar_feed_read(feed_id=feed.pk)
            )
        )(
            proposals.calendar_import.services.CalendarFeed.objects.create(
                body=g.body, url="http://127.0.0.1:9/feed.ics", occasion_kind="summit"
            )
        ),
    ),
    "proposals.calendar_import.services.calendar_feed_upload": (
        "calendar_feed.created",
        lambda g: (
            lambda: proposals.calendar_import.services.calendar_feed_upload(
                actor=g.secretariat, body=g.body, content=ICS, occasion_kind="summit"
            )
        ),
    ),
    "proposals.calendar_import.services.occasion_unpin": (
        "occasion.unpinned",
        lambda g: (
            lambda occasion: (
                lambda: proposals.calendar_import.services.occasion_unpin(
                    actor=g.secretariat, occasion=occasion, field_name="name"
                )
            )
        )(_pinned_occasion(g)),
    ),
    # proposals.webhooks
    "proposals.webhooks.webhook_endpoint_create": (
        "webhook_endpoint.created",
        lambda g: (
            lambda: webhooks.webhook_endpoint_create(
                actor=g.secretariat,
                name="Registry",
                url="https://93.184.215.14/hook",
                organization=g.morocco,
                events=["proposal.transitioned"],
            )
        ),
    ),
    "proposals.webhooks.webhook_endpoint_update": (
        "webhook_endpoint.changed",
        lambda g: (
            lambda endpoint: (
                lambda: webhooks.webhook_endpoint_update(
                    endpoint=endpoint, actor=g.secretariat, active=False
                )
            )
        )(_webhook_endpoint(g)),
    ),
    "proposals.webhooks.webhook_endpoint_secret_renew": (
        "webhook_endpoint.secret_renewed",
        lambda g: (
            lambda endpoint: (
                lambda: webhooks.webhook_endpoint_secret_renew(
                    endpoint=endpoint, actor=g.secretariat
                )
            )
        )(_webhook_endpoint(g)),
    ),
    "proposals.webhooks.webhook_endpoint_delete": (
        "webhook_endpoint.deleted",
        lambda g: (
            lambda endpoint: (
                lambda: webhooks.webhook_endpoint_delete(endpoint=endpoint, actor=g.secretariat)
            )
        )(_webhook_endpoint(g)),
    ),
}


def test_every_public_function_of_the_services_is_a_marked_write_or_listed() -> None:
    functions = public_functions()
    marked = {name for name, function in functions.items() if audited_write(function)}
    unaccounted = set(functions) - marked - set(NOT_WRITES)
    assert not unaccounted, (
        "Mark each write service @audited(...) (proposals/audited.py) and give it a scenario "
        f"here, or list it in NOT_WRITES with why: {sorted(unaccounted)}"
    )
    assert not marked & set(NOT_WRITES)
    assert set(NOT_WRITES) <= set(functions), "NOT_WRITES names a function that is gone"
    assert marked == {name for name in AUDITED if name in functions}


def test_every_write_service_has_a_scenario_with_an_action_it_declares() -> None:
    functions = public_functions()
    marked = {name for name, function in functions.items() if audited_write(function)}
    assert marked == set(SCENARIOS), (
        f"missing: {sorted(marked - set(SCENARIOS))}, gone: {sorted(set(SCENARIOS) - marked)}"
    )
    for name, (action, _prepare) in SCENARIOS.items():
        write = audited_write(functions[name])
        assert write is not None and action in write.actions, name


def rows_of(log: str, action: str) -> int:
    if log == "transition":
        return TransitionLog.objects.filter(transition=action).count()
    return AuditEvent.objects.filter(action=action).count()


def database_contents() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, to see that a failed write left nothing behind."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


class LogRowRefused(Exception):
    """The insert of a log row failed (as a test makes it)."""


def _refuse_insert(self: models.Model, *args: Any, **kwargs: Any) -> None:
    raise LogRowRefused(type(self).__name__)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_write_service_leaves_its_row(group: Group, name: str) -> None:
    action, prepare = SCENARIOS[name]
    write = audited_write(public_functions()[name])
    assert write is not None
    call = prepare(group)
    before = rows_of(write.log, action)
    call()
    assert rows_of(write.log, action) == before + 1


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_nothing_of_a_write_survives_without_its_row(
    group: Group, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row is written in the transaction of the write: when its insert fails, the whole
    write is undone."""
    _action, prepare = SCENARIOS[name]
    call = prepare(group)
    contents = database_contents()
    monkeypatch.setattr(AuditEvent, "save", _refuse_insert)
    monkeypatch.setattr(TransitionLog, "save", _refuse_insert)
    with pytest.raises(LogRowRefused):
        call()
    monkeypatch.undo()
    assert database_contents() == contents


# And the other way round: a write that fails leaves no row.


def test_an_organisation_still_used_is_not_deleted_and_no_deletion_is_recorded(
    group: Group,
) -> None:
    from django.db.models import ProtectedError

    proposal_draft(group)
    with pytest.raises(ProtectedError):
        reference.organization_delete(actor=group.secretariat, organization=group.france)
    assert Organization.objects.filter(pk=group.france.pk).exists()
    assert not AuditEvent.objects.filter(action="organization.deleted").exists()


def test_a_refused_deadline_move_changes_nothing_else_and_records_nothing(group: Group) -> None:
    from workflow.errors import Refused

    old = group.occasion.submission_deadline
    with pytest.raises(Refused):
        reference.occasion_update(
            actor=group.drafter,
            occasion=group.occasion,
            changes={"submission_deadline": old + dt.timedelta(days=1), "location": "Geneva"},
        )
    group.occasion.refresh_from_db()
    assert (group.occasion.submission_deadline, group.occasion.location) == (
        old,
        "New York, United States",
    )
    assert not AuditEvent.objects.filter(action__startswith="occasion.").exists()


# What the rows hold, and the faces that write through the services.


def test_a_change_of_reference_data_records_the_fields_that_changed(group: Group) -> None:
    reference.organization_update(
        actor=group.secretariat,
        organization=group.morocco,
        changes={"short_name": "MA", "name": "Morocco", "status": "observer"},
    )
    event = AuditEvent.objects.get(action="organization.changed")
    assert (event.actor, event.object_type, event.object_id) == (
        group.secretariat,
        "proposals.organization",
        str(group.morocco.pk),
    )
    assert event.before == {"short_name": "", "status": "member"}
    assert event.after == {"short_name": "MA", "status": "observer"}
    reference.organization_update(
        actor=group.secretariat, organization=group.morocco, changes={"short_name": "MA"}
    )
    assert AuditEvent.objects.filter(action="organization.changed").count() == 1


def test_the_api_writes_reference_data_through_the_services(group: Group) -> None:
    client = client_for(group.secretariat)
    created = client.post(
        "/api/bodies/", {"name": "Bundestag", "level": "national", "country": "DE"}, format="json"
    )
    assert created.status_code == 201, created.json()
    body_id = created.json()["id"]
    changed = client.patch(f"/api/bodies/{body_id}/", {"country": "AT"}, format="json")
    assert changed.status_code == 200
    assert client.delete(f"/api/bodies/{body_id}/").status_code == 204
    events = AuditEvent.objects.filter(object_type="proposals.body").order_by("id")
    assert [(e.action, e.actor) for e in events] == [
        ("body.created", group.secretariat),
        ("body.changed", group.secretariat),
        ("body.deleted", group.secretariat),
    ]
    assert events[1].before == {"country": "DE"} and events[1].after == {"country": "AT"}
    assert events[0].ip_address == "127.0.0.1"
    rule = client.post(
        "/api/reminder-rules/", {"occasion_kind": "summit", "offsets": [3, 9]}, format="json"
    )
    assert rule.status_code == 201
    assert AuditEvent.objects.get(action="reminder_rule.created").after == {
        "occasion_kind": "summit",
        "occasion": None,
        "offsets": [9, 3],
    }


def test_the_api_moves_a_deadline_and_changes_the_rest_in_one_write(group: Group) -> None:
    response = client_for(group.secretariat).patch(
        f"/api/occasions/{group.occasion.pk}/",
        {
            "submission_deadline": "2030-11-10T23:59:00-03:00",
            "deadline_change_reason": "Moved.",
            "location": "Belém, Brazil",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "occasion.deadline_moved",
        "occasion.changed",
    ]
    assert AuditEvent.objects.get(action="occasion.changed").after == {"location": "Belém, Brazil"}


def test_the_settings_page_saves_through_the_service(group: Group) -> None:
    client = client_signed_in(Client(), group.drafter)
    response = client.post(
        reverse("proposals:settings"),
        {
            "language": "fr",
            "timezone": "Europe/Paris",
            "daily_digest": "on",
            "optional_notifications": "on",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="person.settings_changed")
    assert (event.actor, event.subject) == (group.drafter, group.drafter)
    assert event.before == {"language": "en", "timezone": "UTC", "daily_digest": False}
    assert event.after == {"language": "fr", "timezone": "Europe/Paris", "daily_digest": True}


def test_a_password_changed_on_the_page_is_a_security_event(group: Group) -> None:
    client = client_signed_in(Client(), group.drafter)
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": "demo",
            "new_password1": "a much longer passphrase",
            "new_password2": "a much longer passphrase",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="password.changed")
    assert (event.subject, event.security) == (group.drafter, True)
    group.drafter.refresh_from_db()
    assert group.drafter.check_password("a much longer passphrase")


def test_the_admin_writes_an_organisation_and_its_parts_through_the_services(
    group: Group,
) -> None:
    from django.contrib.admin.models import LogEntry

    root = _superuser()
    client = client_signed_in(Client(), root)
    url = reverse("admin:proposals_organization_change", args=[group.morocco.pk])
    response = client.post(
        url,
        {
            "name": "Morocco",
            "short_name": "MA",
            "kind": "state",
            "status": "member",
            "joined_on": "2013-01-01",
            "children-TOTAL_FORMS": "1",
            "children-INITIAL_FORMS": "0",
            "children-0-name": "Moroccan Agency for Cooperation",
            "children-0-kind": "international_institution",
            "children-0-status": "member",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    agency = Organization.objects.get(name="Moroccan Agency for Cooperation")
    assert agency.parent == group.morocco
    assert [(e.action, e.object_id, e.actor) for e in AuditEvent.objects.order_by("id")] == [
        ("organization.changed", str(group.morocco.pk), root),
        ("organization.created", str(agency.pk), root),
    ]
    assert LogEntry.objects.filter(object_id=str(group.morocco.pk)).exists()
    spare = OrganizationFactory.create(name="Spare")
    response = client.post(
        reverse("admin:proposals_organization_changelist"),
        {"action": "delete_selected", "_selected_action": [spare.pk, agency.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Organization.objects.filter(pk__in=[spare.pk, agency.pk]).exists()
    assert AuditEvent.objects.filter(action="organization.deleted").count() == 2


# The system as the actor (the demo loader): it may what a superuser may, and tells nobody.


def test_the_system_names_the_secretariat_with_a_password_and_nobody_is_told(
    group: Group,
) -> None:
    from workflow.models import Delivery

    person = people.person_create(
        actor=SYSTEM,
        username="maria",
        email="maria@example.org",
        roles=[(group.secretariat_org, "secretariat")],
        password="a long passphrase",
    )
    people.person_update(actor=SYSTEM, person=person, changes={"is_superuser": True})
    editors = people.permission_group_set(
        actor=SYSTEM, name="Editors", permissions=Permission.objects.filter(codename="view_body")
    )
    people.person_permissions_set(actor=SYSTEM, person=person, groups=[editors])
    accounts.totp_device_install(
        person=person, secret="POLICYTRACKERDEMOTOTPSECRET23456", actor=SYSTEM
    )
    person.refresh_from_db()
    assert person.is_superuser and person.check_password("a long passphrase")
    events = AuditEvent.objects.filter(subject=person).order_by("id")
    assert [(e.action, e.actor_id) for e in events] == [
        ("person.created", None),
        ("person.roles_changed", None),
        ("person.updated", None),
        ("person.permissions_changed", None),
        ("otp.enabled", None),
    ]
    assert not Delivery.objects.exists()


def test_only_a_superuser_or_the_system_sets_a_group_or_installs_an_app(group: Group) -> None:
    from workflow.errors import Refused

    with pytest.raises(Refused):
        people.permission_group_set(actor=group.secretariat, name="Editors", permissions=[])
    with pytest.raises(Refused):
        accounts.totp_device_install(
            person=group.drafter, secret="POLICYTRACKERDEMOTOTPSECRET23456", actor=group.drafter
        )
    with pytest.raises(Refused):
        people.person_create(actor=None, username="nobody", email="nobody@example.org")
    assert not AuditEvent.objects.exists()


FACES = (
    "proposals/api",
    "proposals/web",
    "proposals/admin",
    "proposals/calendars",
    "proposals/management",
)
WRITE_METHODS = {
    "save",
    "delete",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
    "set_password",
    "set_unusable_password",
}
# Calls that look like writes and are not: Django's reset form sends an email; an inline
# formset saved with commit=False writes nothing; `writes` are the services an admin names.
NOT_FACE_WRITES = {("form", "save"), ("formset", "save"), ("writes", "delete")}


def face_writes() -> list[str]:
    root = pathlib.Path(__file__).resolve().parents[2]
    found = []
    for face in FACES:
        for path in sorted((root / face).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                method = node.func.attr
                receiver = ast.unparse(node.func.value)
                writes = method in WRITE_METHODS or (
                    method in {"create", "update", "add", "remove", "clear", "set"}
                    and ("objects" in receiver or "filter(" in receiver)
                )
                if writes and (receiver.rsplit(".", 1)[-1], method) not in NOT_FACE_WRITES:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {receiver}.{method}")
    return found


def test_the_faces_write_nothing_themselves() -> None:
    assert face_writes() == []
