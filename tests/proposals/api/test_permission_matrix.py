"""The permission matrix: every API route × method, for every role, in every proposal state.

Expectations are written here from the product rules (docs/roles.md, docs/lifecycle.md and
docs/visibility.md), not computed by the code under test. A route of the URL resolver under
/api/ without an entry here fails `test_every_api_route_has_an_entry_in_the_matrix`, so no
endpoint slips in untested.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from proposals.accounts import token_digest
from proposals.models import (
    ApiToken,
    CalendarFeed,
    Comment,
    Endorsement,
    Occasion,
    Organization,
    PresidencyTerm,
    Proposal,
)
from tests.factories import (
    BodyFactory,
    Group,
    OccasionFactory,
    OrganizationFactory,
    api_token_key,
)
from tests.proposals import attachment_files
from tests.proposals.api.helpers import STATES, client_for, proposal_in

pytestmark = pytest.mark.django_db

# Who asks. Each name is a role as docs/roles.md describes it; the value names the Group person.
ACTORS: dict[str, str | None] = {
    "anonymous": None,
    "outsider": "outsider",  # a person of no organisation of the group
    "author": "drafter",  # France, drafter, wrote the proposal
    "colleague": "co_drafter",  # France, drafter, not an author (same lead organisation)
    "presidency": "representative_fr",  # France's representative: France chairs
    "representative": "representative_ma",  # Morocco: drafter and representative
    "observer": "observer",  # Québec (observer): drafter
    "reviewer": "reviewer",
    "secretariat": "secretariat",
}
DRAFTERS = {"author", "colleague", "representative", "observer"}
SEES_DRAFTS = {"author", "colleague", "presidency", "secretariat"}

Expect = Callable[[str, str], int]


def sees(actor: str, state: str) -> bool:
    """A draft: its authors, its lead organisation, the secretariat, the presidency.
    From review on: every person of the group."""
    if actor in ("anonymous", "outsider"):
        return False
    return state != "draft" or actor in SEES_DRAFTS


def on_proposal(expect: Expect) -> Expect:
    """Anonymous: 401; a proposal the actor cannot see: 404, never 403."""

    def expected(actor: str, state: str) -> int:
        if actor == "anonymous":
            return 401
        if not sees(actor, state):
            return 404
        return expect(actor, state)

    return expected


def anyone_signed_in(status: int) -> Expect:
    return lambda actor, state: 401 if actor == "anonymous" else status


def public(status: int) -> Expect:
    return lambda actor, state: status


def group_reads(actor: str, state: str) -> int:
    return {"anonymous": 401, "outsider": 403}.get(actor, 200)


def secretariat_writes(status: int) -> Expect:
    def expected(actor: str, state: str) -> int:
        if actor == "anonymous":
            return 401
        return status if actor == "secretariat" else 403

    return expected


def secretariat_only(status: int) -> Expect:
    return secretariat_writes(status)


# Transitions: who may run each (else 403), from which states (else 409).
TRANSITION_PEOPLE = {
    "submit_for_review": {"author"},
    "approve": {"reviewer", "secretariat"},
    "request_changes": {"reviewer", "secretariat"},
    "submit": {"secretariat"},
    "record_outcome": {"secretariat"},
    "withdraw": {"author", "secretariat"},
}
TRANSITION_SOURCES = {
    "submit_for_review": {"draft"},
    "approve": {"in_review"},
    "request_changes": {"in_review"},
    "submit": {"endorsement"},
    "record_outcome": {"submitted"},
    "withdraw": {"draft", "in_review", "endorsement"},
}
TRANSITION_INPUT: dict[str, dict[str, Any]] = {
    "request_changes": {"comment": "Shorten article 2."},
    "submit": {"reference": "A/81/1"},
    "record_outcome": {"outcome": "adopted"},
    "withdraw": {"comment": "No longer needed."},
}


def transition(name: str) -> Expect:
    @on_proposal
    def expected(actor: str, state: str) -> int:
        if actor not in TRANSITION_PEOPLE[name]:
            return 403
        return 200 if state in TRANSITION_SOURCES[name] else 409

    return expected


@on_proposal
def edit(actor: str, state: str) -> int:
    if actor != "author":
        return 403
    return 200 if state == "draft" else 409


@on_proposal
def endorse(actor: str, state: str) -> int:
    """Representatives of full members endorse while open for endorsement; Morocco already did."""
    if actor not in ("presidency", "representative"):
        return 403
    if state != "endorsement":
        return 409
    return 409 if actor == "representative" else 201


@on_proposal
def withdraw_endorsement(actor: str, state: str) -> int:
    """Morocco's endorsement, which exists from endorsement on."""
    if state in ("draft", "in_review"):
        return 404
    if actor not in ("representative", "secretariat"):
        return 403
    return 204 if state == "endorsement" else 409


def attachments_write(success: int) -> Expect:
    """Files: the authors and the secretariat add and remove them while the proposal is open;
    they are frozen with a submitted, closed or withdrawn one (409)."""

    @on_proposal
    def expected(actor: str, state: str) -> int:
        if actor not in ("author", "secretariat"):
            return 403
        return success if state in ("draft", "in_review", "endorsement") else 409

    return expected


def attachment_url(route: str) -> Callable[[Scene], str]:
    """A file of the proposal, stored for the one request (its row rolled back with it)."""

    def url(scene: Scene) -> str:
        attachment = attachment_files.attachment_on(scene.proposal, scene.group.drafter)
        return reverse(route, kwargs={"proposal_id": scene.proposal.pk, "pk": attachment.pk})

    return url


@on_proposal
def dossier_read(actor: str, state: str) -> int:
    """A submitted (or since closed) proposal has its dossier, still being rendered here (the
    render runs after commit; the matrix's requests never commit): 409. Before: 404."""
    return 409 if state in ("submitted", "closed") else 404


def own_comment(success: int) -> Expect:
    """A comment written by the proposal's author: only they change it (403 for others)."""

    @on_proposal
    def expected(actor: str, state: str) -> int:
        return success if actor == "author" else 403

    return expected


@on_proposal
def comment_hide(actor: str, state: str) -> int:
    return 200 if actor == "secretariat" else 403


def authors_comment_url(route: str) -> Callable[[Scene], str]:
    """A comment of the proposal's author, written for the one request (rolled back with it)."""

    def url(scene: Scene) -> str:
        comment = Comment.objects.create(
            proposal=scene.proposal, author=scene.group.drafter, body="Article 2?"
        )
        return reverse(route, kwargs={"proposal_id": scene.proposal.pk, "pk": comment.pk})

    return url


def create_proposal(actor: str, state: str) -> int:
    if actor == "anonymous":
        return 401
    return 201 if actor in DRAFTERS else 403


def obtain_token(actor: str, state: str) -> int:
    """The secretariat must set up two-factor authentication in the pages first."""
    return {"anonymous": 400, "secretariat": 403}.get(actor, 200)


def own_token_revoke(actor: str, state: str) -> int:
    """The token is the author's: nobody else even learns that it exists."""
    return {"anonymous": 401, "author": 204}.get(actor, 404)


def invitation_pk(scene: Scene) -> int:
    """A pending invitation of the secretariat, made for the one request (rolled back with it)."""
    from proposals.invitations import invitation_create

    return invitation_create(
        actor=scene.group.secretariat,
        email="invited@ministry.example",
        organization=scene.group.morocco,
        roles=["drafter"],
    ).pk


def script_token_body(scene: Scene) -> dict[str, Any]:
    return {
        "name": "Nightly export",
        "expires_at": (timezone.now() + dt.timedelta(days=30)).isoformat(),
    }


@dataclass
class Scene:
    """What a request of the matrix acts on."""

    group: Group
    proposal: Proposal
    spare_organization: Organization
    spare_occasion: Occasion
    spare_body_id: int
    spare_term: PresidencyTerm
    endorsement_id: int
    actor: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    """One route and method: how to call it, and what each actor gets in each state."""

    expect: Expect
    url: Callable[[Scene], str]
    body: Callable[[Scene], dict[str, Any]] | None = None
    states: tuple[str, ...] = ("draft",)  # states that matter; others are covered elsewhere
    format: str = "json"  # of the body: "multipart" for an upload


ALL_STATES = tuple(STATES)


def proposal_url(route: str, **more: Any) -> Callable[[Scene], str]:
    return lambda scene: reverse(route, kwargs={"proposal_id": scene.proposal.pk, **more})


def detail_url(name: str, attribute: str) -> Callable[[Scene], str]:
    return lambda scene: reverse(name, kwargs={"pk": getattr(scene, attribute).pk})


def occasion_payload(scene: Scene) -> dict[str, Any]:
    return {
        "name": "COP 30",
        "kind": "summit",
        "location": "Belém, Brazil",
        "timezone": "America/Belem",
        "starts_on": "2030-11-10",
        "ends_on": "2030-11-21",
        "submission_deadline": "2030-11-01T23:59:00-03:00",
    }


def term_payload(scene: Scene) -> dict[str, Any]:
    start = timezone.localdate() + dt.timedelta(days=400)
    return {
        "organization": scene.group.morocco.pk,
        "starts_on": start.isoformat(),
        "ends_on": (start + dt.timedelta(days=180)).isoformat(),
    }


def token_body(scene: Scene) -> dict[str, Any]:
    person = ACTORS[scene.actor]
    return (
        {}
        if person is None
        else {"username": getattr(scene.group, person).username, "password": "demo"}
    )


def departure_url(scene: Scene) -> str:
    return reverse("person-departure", kwargs={"person_id": scene.group.co_drafter.pk})


def _today() -> str:
    return timezone.localdate().isoformat()


def departure_asked(actor: str, state: str) -> int:
    """Only a representative of the person's organisation (France: the presidency) asks."""
    return {"anonymous": 401, "presidency": 202}.get(actor, 403)


def proposal_detail(scene: Scene) -> str:
    return reverse("proposal-detail", kwargs={"pk": scene.proposal.pk})


PROPOSAL_READS = {
    ("proposal-detail", "get"): proposal_detail,
    ("proposal-transition-list", "get"): proposal_url("proposal-transition-list"),
    ("proposal-endorsement-list", "get"): proposal_url("proposal-endorsement-list"),
    ("proposal-review-list", "get"): proposal_url("proposal-review-list"),
    ("proposal-revision-list", "get"): proposal_url("proposal-revision-list"),
    ("proposal-revision-detail", "get"): proposal_url("proposal-revision-detail", number=1),
    ("proposal-revision-diff", "get"): proposal_url("proposal-revision-diff"),
    ("proposal-history-list", "get"): proposal_url("proposal-history-list"),
}

MATRIX: dict[tuple[str, str], Entry | dict[str, Entry]] = {
    ("api-root", "get"): Entry(anyone_signed_in(200), lambda s: reverse("api-root")),
    ("schema", "get"): Entry(public(200), lambda s: reverse("schema")),
    ("swagger-ui", "get"): Entry(public(200), lambda s: reverse("swagger-ui")),
    ("auth-token", "post"): Entry(obtain_token, lambda s: reverse("auth-token"), token_body),
    ("person-email-change", "post"): Entry(
        anyone_signed_in(202),
        lambda s: reverse("person-email-change"),
        lambda s: {"email": "new.address@example.org", "password": "demo"},
    ),
    ("person-email-change-confirm", "post"): Entry(
        anyone_signed_in(400),
        lambda s: reverse("person-email-change-confirm"),
        lambda s: {"token": "not-a-signed-token"},
    ),
    ("person-notifications", "get"): Entry(
        anyone_signed_in(200), lambda s: reverse("person-notifications")
    ),
    ("person-notifications", "put"): Entry(
        anyone_signed_in(200),
        lambda s: reverse("person-notifications"),
        lambda s: {"proposal.approved": False},
    ),
    ("person-notifications", "patch"): Entry(
        anyone_signed_in(200),
        lambda s: reverse("person-notifications"),
        lambda s: {"proposal.withdrawn": False},
    ),
    ("security-event-list", "get"): Entry(
        anyone_signed_in(200), lambda s: reverse("security-event-list")
    ),
    ("audit-event-list", "get"): Entry(
        anyone_signed_in(200), lambda s: reverse("audit-event-list")
    ),
    ("auth-token", "delete"): Entry(anyone_signed_in(204), lambda s: reverse("auth-token")),
    ("auth-token-list", "get"): Entry(anyone_signed_in(200), lambda s: reverse("auth-token-list")),
    ("auth-token-list", "post"): Entry(
        anyone_signed_in(201), lambda s: reverse("auth-token-list"), script_token_body
    ),
    ("auth-token-detail", "delete"): Entry(
        own_token_revoke,
        lambda s: reverse("auth-token-detail", kwargs={"pk": s.extra["author_token"]}),
    ),
    # Proposals
    ("proposal-list", "get"): Entry(anyone_signed_in(200), lambda s: reverse("proposal-list")),
    ("proposal-list", "post"): Entry(
        create_proposal, lambda s: reverse("proposal-list"), lambda s: {"title": "A new one"}
    ),
    **{
        key: Entry(on_proposal(lambda actor, state: 200), url, states=ALL_STATES)
        for key, url in PROPOSAL_READS.items()
    },
    ("proposal-detail", "patch"): Entry(
        edit, proposal_detail, lambda s: {"text": "Edited."}, ALL_STATES
    ),
    ("proposal-transition-run", "post"): {
        name: Entry(
            transition(name),
            proposal_url("proposal-transition-run", name=name),
            lambda s, name=name: TRANSITION_INPUT.get(name, {}),  # type: ignore[misc]
            ALL_STATES,
        )
        for name in TRANSITION_PEOPLE
    },
    ("proposal-endorsement-list", "post"): Entry(
        endorse,
        proposal_url("proposal-endorsement-list"),
        lambda s: {"password": "demo"},
        ALL_STATES,
    ),
    ("proposal-endorsement-detail", "delete"): Entry(
        withdraw_endorsement,
        lambda s: reverse(
            "proposal-endorsement-detail",
            kwargs={"proposal_id": s.proposal.pk, "pk": s.endorsement_id},
        ),
        states=ALL_STATES,
    ),
    # Files (proposals/api/attachments.py)
    ("proposal-attachment-list", "get"): Entry(
        on_proposal(lambda actor, state: 200),
        proposal_url("proposal-attachment-list"),
        states=ALL_STATES,
    ),
    ("proposal-attachment-list", "post"): Entry(
        attachments_write(201),
        proposal_url("proposal-attachment-list"),
        lambda s: {
            "title": "Annex",
            "file": attachment_files.upload("annex.pdf", attachment_files.PDF),
        },
        ALL_STATES,
        format="multipart",
    ),
    ("proposal-attachment-detail", "get"): Entry(
        on_proposal(lambda actor, state: 200),
        attachment_url("proposal-attachment-detail"),
        states=ALL_STATES,
    ),
    ("proposal-attachment-detail", "delete"): Entry(
        attachments_write(204), attachment_url("proposal-attachment-detail"), states=ALL_STATES
    ),
    ("proposal-dossier", "get"): Entry(
        dossier_read, proposal_url("proposal-dossier"), states=ALL_STATES
    ),
    ("proposal-attachment-download", "get"): Entry(
        on_proposal(lambda actor, state: 200),
        attachment_url("proposal-attachment-download"),
        states=ALL_STATES,
    ),
    # The discussion (proposals/api/discussion.py)
    ("proposal-comment-list", "get"): Entry(
        on_proposal(lambda actor, state: 200),
        proposal_url("proposal-comment-list"),
        None,
        ALL_STATES,
    ),
    ("proposal-comment-list", "post"): Entry(
        on_proposal(lambda actor, state: 201),
        proposal_url("proposal-comment-list"),
        lambda s: {"body": "What does article 2 cover?"},
        ALL_STATES,
    ),
    ("proposal-comment-detail", "patch"): Entry(
        own_comment(200),
        authors_comment_url("proposal-comment-detail"),
        lambda s: {"body": "What does article 3 cover?"},
        ALL_STATES,
    ),
    ("proposal-comment-detail", "delete"): Entry(
        own_comment(204), authors_comment_url("proposal-comment-detail"), states=ALL_STATES
    ),
    ("proposal-comment-hide", "post"): Entry(
        comment_hide,
        authors_comment_url("proposal-comment-hide"),
        lambda s: {"reason": "Off topic."},
        ALL_STATES,
    ),
    # Reference data
    ("organization-list", "get"): Entry(group_reads, lambda s: reverse("organization-list")),
    ("organization-list", "post"): Entry(
        secretariat_writes(201),
        lambda s: reverse("organization-list"),
        lambda s: {"name": "Ecuador", "kind": "state"},
    ),
    ("organization-detail", "get"): Entry(
        group_reads, detail_url("organization-detail", "spare_organization")
    ),
    ("organization-detail", "patch"): Entry(
        secretariat_writes(200),
        detail_url("organization-detail", "spare_organization"),
        lambda s: {"short_name": "EC"},
    ),
    ("organization-detail", "delete"): Entry(
        secretariat_writes(204), detail_url("organization-detail", "spare_organization")
    ),
    ("person-list", "get"): Entry(group_reads, lambda s: reverse("person-list")),
    ("person-list", "post"): Entry(
        secretariat_writes(201), lambda s: reverse("person-list"), lambda s: {"username": "andres"}
    ),
    ("person-detail", "get"): Entry(
        group_reads, lambda s: reverse("person-detail", kwargs={"pk": s.group.drafter.pk})
    ),
    ("person-detail", "patch"): Entry(
        secretariat_writes(200),
        lambda s: reverse("person-detail", kwargs={"pk": s.group.drafter.pk}),
        lambda s: {"language": "fr"},
    ),
    # Departures (proposals/api/departures.py): of the co-drafter, who writes no proposal here.
    ("person-departure", "get"): Entry(secretariat_only(200), departure_url),
    ("person-departure", "post"): Entry(
        secretariat_writes(201), departure_url, lambda s: {"left_on": _today()}
    ),
    ("person-departure-request", "post"): Entry(
        departure_asked,
        lambda s: reverse("person-departure-request", kwargs={"person_id": s.group.co_drafter.pk}),
        lambda s: {"left_on": _today()},
    ),
    # Personal data (proposals/api/personal_data.py): one's own export and request; the
    # secretariat erases the co-drafter.
    ("person-data", "get"): Entry(anyone_signed_in(200), lambda s: reverse("person-data")),
    ("person-erasure-request", "post"): Entry(
        anyone_signed_in(202), lambda s: reverse("person-erasure-request")
    ),
    ("person-erasure", "post"): Entry(
        secretariat_writes(200),
        lambda s: reverse("person-erasure", kwargs={"person_id": s.group.co_drafter.pk}),
        lambda s: {"confirm": s.group.co_drafter.username},
    ),
    ("presidency-list", "get"): Entry(group_reads, lambda s: reverse("presidency-list")),
    ("presidency-list", "post"): Entry(
        secretariat_writes(201), lambda s: reverse("presidency-list"), term_payload
    ),
    ("presidency-detail", "get"): Entry(group_reads, detail_url("presidency-detail", "spare_term")),
    ("presidency-detail", "patch"): Entry(
        secretariat_writes(200),
        detail_url("presidency-detail", "spare_term"),
        lambda s: {"organization": s.group.luxembourg.pk},
    ),
    ("presidency-detail", "delete"): Entry(
        secretariat_writes(204), detail_url("presidency-detail", "spare_term")
    ),
    ("body-list", "get"): Entry(group_reads, lambda s: reverse("body-list")),
    ("body-list", "post"): Entry(
        secretariat_writes(201),
        lambda s: reverse("body-list"),
        lambda s: {"name": "ECOSOC", "level": "international"},
    ),
    ("body-detail", "get"): Entry(
        group_reads, lambda s: reverse("body-detail", kwargs={"pk": s.spare_body_id})
    ),
    ("body-detail", "patch"): Entry(
        secretariat_writes(200),
        lambda s: reverse("body-detail", kwargs={"pk": s.spare_body_id}),
        lambda s: {"name": "ECOSOC"},
    ),
    ("body-detail", "delete"): Entry(
        secretariat_writes(204), lambda s: reverse("body-detail", kwargs={"pk": s.spare_body_id})
    ),
    ("occasion-list", "get"): Entry(group_reads, lambda s: reverse("occasion-list")),
    ("occasion-list", "post"): Entry(
        secretariat_writes(201), lambda s: reverse("occasion-list"), occasion_payload
    ),
    ("occasion-detail", "get"): Entry(group_reads, detail_url("occasion-detail", "spare_occasion")),
    ("occasion-detail", "patch"): Entry(
        secretariat_writes(200),
        detail_url("occasion-detail", "spare_occasion"),
        lambda s: {"submission_deadline": "2031-01-01T12:00:00+01:00"},
    ),
    ("occasion-detail", "delete"): Entry(
        secretariat_writes(204), detail_url("occasion-detail", "spare_occasion")
    ),
    # Calendar feeds of a body (proposals/api/feeds.py)
    ("body-feed-list", "get"): Entry(
        group_reads, lambda s: reverse("body-feed-list", kwargs={"body_id": s.spare_body_id})
    ),
    ("body-feed-list", "post"): Entry(
        secretariat_writes(201),
        lambda s: reverse("body-feed-list", kwargs={"body_id": s.spare_body_id}),
        lambda s: {"url": "https://93.184.215.14/sessions.ics", "occasion_kind": "summit"},
    ),
    ("body-feed-detail", "get"): Entry(group_reads, lambda s: feed_url(s)),
    ("body-feed-detail", "patch"): Entry(
        secretariat_writes(200), lambda s: feed_url(s), lambda s: {"active": False}
    ),
    ("body-feed-detail", "delete"): Entry(secretariat_writes(204), lambda s: feed_url(s)),
    # The dossiers (proposals/api/dossiers.py): the spare occasion has none (404 for the
    # secretariat, who alone may download a bundle).
    ("occasion-dossiers", "get"): Entry(
        secretariat_only(404),
        lambda s: reverse("occasion-dossiers", kwargs={"occasion_id": s.spare_occasion.pk}),
    ),
    # Reminders (proposals/api/reminder_urls.py)
    ("delivery-list", "get"): Entry(secretariat_only(200), lambda s: reverse("delivery-list")),
    ("delivery-detail", "get"): Entry(
        secretariat_only(404), lambda s: reverse("delivery-detail", kwargs={"pk": 999_999})
    ),
    ("reminder-rule-list", "get"): Entry(group_reads, lambda s: reverse("reminder-rule-list")),
    ("reminder-rule-list", "post"): Entry(
        secretariat_writes(201),
        lambda s: reverse("reminder-rule-list"),
        lambda s: {"occasion": s.spare_occasion.pk, "offsets": [10, 3]},
    ),
    ("reminder-rule-detail", "get"): Entry(
        group_reads, lambda s: reverse("reminder-rule-detail", kwargs={"pk": s.extra["rule"]})
    ),
    ("reminder-rule-detail", "patch"): Entry(
        secretariat_writes(200),
        lambda s: reverse("reminder-rule-detail", kwargs={"pk": s.extra["rule"]}),
        lambda s: {"offsets": [20, 5]},
    ),
    ("reminder-rule-detail", "delete"): Entry(
        secretariat_writes(204),
        lambda s: reverse("reminder-rule-detail", kwargs={"pk": s.extra["rule"]}),
    ),
    # Webhook endpoints (proposals/api/webhooks.py): the secretariat only, reads too.
    ("webhook-list", "get"): Entry(secretariat_only(200), lambda s: reverse("webhook-list")),
    ("webhook-list", "post"): Entry(
        secretariat_writes(201),
        lambda s: reverse("webhook-list"),
        lambda s: {
            "name": "Registry",
            "url": "https://93.184.215.14/hook",
            "organization": s.group.morocco.pk,
            "events": ["proposal.transitioned"],
        },
    ),
    ("webhook-detail", "get"): Entry(
        secretariat_only(200), lambda s: reverse("webhook-detail", args=[s.extra["webhook"]])
    ),
    ("webhook-detail", "patch"): Entry(
        secretariat_writes(200),
        lambda s: reverse("webhook-detail", args=[s.extra["webhook"]]),
        lambda s: {"active": False},
    ),
    ("webhook-detail", "delete"): Entry(
        secretariat_writes(204), lambda s: reverse("webhook-detail", args=[s.extra["webhook"]])
    ),
    ("webhook-secret", "post"): Entry(
        secretariat_writes(200), lambda s: reverse("webhook-secret", args=[s.extra["webhook"]])
    ),
    # Invitations (proposals/api/invitations.py): the secretariat only, reads too.
    ("invitation-list", "get"): Entry(secretariat_only(200), lambda s: reverse("invitation-list")),
    ("invitation-list", "post"): Entry(
        secretariat_writes(201),
        lambda s: reverse("invitation-list"),
        lambda s: {
            "email": "new@ministry.example",
            "organization": s.group.morocco.pk,
            "roles": ["drafter", "representative"],
            "language": "fr",
        },
    ),
    ("invitation-detail", "delete"): Entry(
        secretariat_writes(204), lambda s: reverse("invitation-detail", args=[invitation_pk(s)])
    ),
    ("invitation-resend", "post"): Entry(
        secretariat_writes(200), lambda s: reverse("invitation-resend", args=[invitation_pk(s)])
    ),
    # Following (proposals/api/notifications.py): what one may see; occasions: the group.
    **{
        ("proposal-follow", method): Entry(
            on_proposal(lambda actor, state: 200),
            proposal_url("proposal-follow"),
            states=ALL_STATES,
        )
        for method in ("get", "put", "delete")
    },
    **{
        ("occasion-follow", method): Entry(
            group_reads,
            lambda s: reverse("occasion-follow", kwargs={"occasion_id": s.spare_occasion.pk}),
        )
        for method in ("get", "put", "delete")
    },
    # The notification centre: one's own notices.
    ("notification-list", "get"): Entry(
        anyone_signed_in(200), lambda s: reverse("notification-list")
    ),
    ("notification-read", "post"): Entry(
        anyone_signed_in(404), lambda s: reverse("notification-read", kwargs={"pk": 999_999})
    ),
    ("notification-read-all", "post"): Entry(
        anyone_signed_in(200), lambda s: reverse("notification-read-all")
    ),
    ("calendar-link", "get"): Entry(anyone_signed_in(200), lambda s: reverse("calendar-link")),
    ("calendar-link", "post"): Entry(anyone_signed_in(201), lambda s: reverse("calendar-link")),
}


def entries() -> Iterator[tuple[str, str, str, Entry]]:
    for (route, method), entry in MATRIX.items():
        if isinstance(entry, dict):
            for variant, sub_entry in entry.items():
                yield route, method, variant, sub_entry
        else:
            yield route, method, "", entry


CASES = [
    (route, method, variant, state)
    for route, method, variant, entry in entries()
    for state in entry.states
]


class Rollback(Exception):  # noqa: N818
    """Undo one request so that the next actor meets the same scene."""


def scene_in(group: Group, state: str) -> Scene:
    from proposals.models import ReminderRule, WebhookEndpoint

    proposal = proposal_in(group, state)
    endorsement = Endorsement.objects.filter(proposal=proposal, organization=group.morocco).first()
    start = timezone.localdate() - dt.timedelta(days=900)
    spare_occasion: Any = OccasionFactory(name="Habitat III")
    spare_organization: Any = OrganizationFactory(name="Colombia")
    spare_body: Any = BodyFactory(name="OECD")
    return Scene(
        group=group,
        proposal=proposal,
        spare_organization=spare_organization,
        spare_occasion=spare_occasion,
        spare_body_id=spare_body.pk,
        spare_term=PresidencyTerm.objects.create(
            organization=group.morocco, starts_on=start, ends_on=start + dt.timedelta(days=180)
        ),
        endorsement_id=endorsement.pk if endorsement else 999_999,
        extra={
            "rule": ReminderRule.objects.create(occasion_kind="summit", offsets=[7, 1]).pk,
            "webhook": WebhookEndpoint.objects.create(
                name="Ministry",
                url="https://93.184.215.14/hook",
                organization=group.luxembourg,
                events=["proposal.outcome_recorded"],
            ).pk,
            "feed": CalendarFeed.objects.create(
                body=spare_body, url="https://93.184.215.14/feed.ics", occasion_kind="summit"
            ).pk,
            "author_token": ApiToken.objects.get(
                digest=token_digest(api_token_key(group.drafter))
            ).pk,
        },
    )


def feed_url(scene: Scene) -> str:
    """A feed of the spare body, made with the scene (rolled back with each request)."""
    return reverse(
        "body-feed-detail",
        kwargs={"body_id": scene.spare_body_id, "pk": scene.extra["feed"]},
    )


def call(scene: Scene, entry: Entry, method: str) -> int:
    person_attribute = ACTORS[scene.actor]
    person = getattr(scene.group, person_attribute) if person_attribute else None
    client = client_for(person)
    url = entry.url(scene)
    body = entry.body(scene) if entry.body else None
    response = (
        getattr(client, method)(url, body, format=entry.format)
        if body is not None
        else getattr(client, method)(url)
    )
    return response.status_code


@pytest.mark.parametrize(
    ("route", "method", "variant", "state"),
    CASES,
    ids=[f"{m.upper()} {r}{' ' + v if v else ''} [{s}]" for r, m, v, s in CASES],
)
def test_each_role_gets_what_the_matrix_says(
    group: Group, route: str, method: str, variant: str, state: str
) -> None:
    entry = MATRIX[(route, method)]
    if isinstance(entry, dict):
        entry = entry[variant]
    scene = scene_in(group, state)
    for actor in ACTORS:
        client_for(getattr(group, ACTORS[actor] or "", None))  # tokens exist beforehand
    expected, got = {}, {}
    for actor in ACTORS:
        scene.actor = actor
        with contextlib.suppress(Rollback), transaction.atomic():
            got[actor] = call(scene, entry, method)
            raise Rollback
        expected[actor] = entry.expect(actor, state)
    assert got == expected


def api_routes() -> set[tuple[str, str]]:
    """Every (route name, method) that the URL resolver serves under /api/."""
    found: set[tuple[str, str]] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/"):
                callback = pattern.callback
                actions = getattr(callback, "actions", None)
                view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
                allowed = set(getattr(view_class, "http_method_names", ()))
                if actions:
                    methods = {m for m in actions if m in allowed and m != "head"}
                else:
                    methods = {
                        m
                        for m in allowed
                        if m not in ("head", "options") and hasattr(view_class, m)
                    }
                for method in methods:
                    found.add((pattern.name or route, method))

    walk(get_resolver().url_patterns, "")
    return found


def test_every_api_route_has_an_entry_in_the_matrix() -> None:
    served = api_routes()
    missing = sorted(served - set(MATRIX))
    assert not missing, (
        "These API routes have no entry in the permission matrix "
        f"(tests/proposals/api/test_permission_matrix.py MATRIX): {missing}"
    )
    stale = sorted(set(MATRIX) - served)
    assert not stale, f"The matrix names routes that no longer exist: {stale}"


def test_the_matrix_covers_every_transition_of_the_proposal() -> None:
    from workflow.services import transition_names

    entry = MATRIX[("proposal-transition-run", "post")]
    assert isinstance(entry, dict)
    assert set(entry) == set(transition_names(Proposal))
