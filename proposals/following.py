"""Who follows what: people follow a proposal or an occasion, and are told of what happens to it.

Authors (when they create a proposal or are added as co-authors), reviewers (when they
review) and the representatives who endorse follow a proposal automatically; anyone who may
see it follows or unfollows it by hand. Unfollowing keeps the row, inactive, so that no
automatic follow brings the person back. Followers hear of transitions (`proposal.moved`),
new revisions (`proposal.revised`), comments (`comment.posted`, written by the discussion)
and deadline moves (`occasion.deadline_moved`): never the one who acted, never twice for
one event, and never of a proposal they may not see (`proposal_follower_ids`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from proposals import rules
from proposals.audited import audited
from proposals.models import DeadlineChange, Follow, Occasion, Proposal
from proposals.notices import Audience, notice_context
from proposals.selectors import people_who_may_view, people_who_may_view_each, roles_of
from workflow.audit import audit_record
from workflow.errors import RefusalKind, Refused
from workflow.policy import Notice
from workflow.services import deliveries_enqueue

FOLLOW_STARTED = "follow.started"
FOLLOW_STOPPED = "follow.stopped"


def proposal_follower_ids(proposal: Proposal) -> set[int]:
    """The people who follow the proposal, or its occasion without having unfollowed the
    proposal, and who may see it: a follower is never told of what they may not see."""
    about = Q(proposal=proposal)
    if proposal.occasion_id is not None:
        about |= Q(occasion_id=proposal.occasion_id)
    following: set[int] = set()
    left: set[int] = set()
    for person_id, active, on_proposal in Follow.objects.filter(about).values_list(
        "person_id", "active", "proposal_id"
    ):
        if active:
            following.add(person_id)
        elif on_proposal is not None:
            left.add(person_id)
    return people_who_may_view(proposal, following - left)


def _followers_of_each_proposal(occasion: Occasion) -> set[int]:
    """The people who follow one of the occasion's proposals and may see it (six queries
    whatever the number of proposals)."""
    proposals = list(Proposal.objects.filter(occasion=occasion).order_by("pk"))
    followers: dict[int, set[int]] = {}
    for person_id, proposal_id in Follow.objects.filter(
        proposal__in=proposals, active=True
    ).values_list("person_id", "proposal_id"):
        followers.setdefault(proposal_id, set()).add(person_id)
    visible = people_who_may_view_each(proposals, set().union(*followers.values()))
    return set().union(
        *(followers.get(proposal.pk, set()) & visible[proposal.pk] for proposal in proposals)
    )


def occasion_follower_ids(occasion: Occasion) -> set[int]:
    """The active people of the group who follow the occasion itself."""
    return set(
        Follow.objects.filter(
            occasion=occasion,
            active=True,
            person__is_active=True,
            person__memberships__isnull=False,
        ).values_list("person_id", flat=True)
    )


def is_following(
    person: Any, *, proposal: Proposal | None = None, occasion: Occasion | None = None
) -> bool:
    """Whether the person follows it: a proposal by its own row, else by its occasion's."""
    rows = dict(
        Follow.objects.filter(
            _about(proposal, occasion, for_reading=True), person=person
        ).values_list("proposal_id", "active")
    )
    if proposal is not None and proposal.pk in rows:
        return rows[proposal.pk]
    return any(rows.values())


def _about(proposal: Proposal | None, occasion: Occasion | None, *, for_reading: bool = False) -> Q:
    if (proposal is None) == (occasion is None):
        raise TypeError("Follow a proposal or an occasion.")
    if proposal is not None:
        if for_reading and proposal.occasion_id is not None:
            return Q(proposal=proposal) | Q(occasion_id=proposal.occasion_id)
        return Q(proposal=proposal)
    return Q(occasion=occasion)


def _follow_refusal(person: Any, proposal: Proposal | None, occasion: Occasion | None) -> None:
    if proposal is not None and not rules.may_view(proposal, person):
        raise Refused(RefusalKind.PERMISSION, [_("You cannot see this proposal.")])
    if occasion is not None and not (roles_of(person).in_group or person.is_superuser):
        raise Refused(RefusalKind.PERMISSION, [_("Only people of the group follow an occasion.")])


def _follow_write(
    *,
    person: Any,
    proposal: Proposal | None,
    occasion: Occasion | None,
    active: bool,
    request: HttpRequest | None,
) -> Follow:
    _about(proposal, occasion)
    _follow_refusal(person, proposal, occasion)
    with transaction.atomic():
        follow, created = Follow.objects.select_for_update().get_or_create(
            person=person,
            proposal=proposal,
            occasion=occasion,
            defaults={"active": active},
        )
        before = None if created else follow.active
        if not created and follow.active == active:
            return follow
        if not created:
            follow.active = active
            follow.automatic = False
            follow.save(update_fields=["active", "automatic"])
        audit_record(
            action=FOLLOW_STARTED if active else FOLLOW_STOPPED,
            actor=person,
            obj=proposal if proposal is not None else occasion,
            subject=person,
            before={} if before is None else {"following": before},
            after={"following": active},
            request=request,
        )
    return follow


@audited(FOLLOW_STARTED)
def follow_start(
    *,
    person: Any,
    proposal: Proposal | None = None,
    occasion: Occasion | None = None,
    request: HttpRequest | None = None,
) -> Follow:
    """The person follows the proposal or the occasion (again), by their own choice; nothing
    is written if they already do. Refused to anyone who may not see the proposal."""
    return _follow_write(
        person=person, proposal=proposal, occasion=occasion, active=True, request=request
    )


@audited(FOLLOW_STOPPED)
def follow_stop(
    *,
    person: Any,
    proposal: Proposal | None = None,
    occasion: Occasion | None = None,
    request: HttpRequest | None = None,
) -> Follow:
    """The person stops following; the row stays, inactive, so that nothing follows it again
    automatically. Unfollowing a proposal followed through its occasion stops that proposal
    only."""
    return _follow_write(
        person=person, proposal=proposal, occasion=occasion, active=False, request=request
    )


def follows_automatic(*, proposal: Proposal, person_ids: Iterable[int]) -> None:
    """The people follow the proposal as its authors, reviewers or endorsers, unless they
    follow it already or unfollowed it (a row exists either way). Part of the write that makes
    them one, which its own audit row records; one query."""
    ids = {person_id for person_id in person_ids if person_id is not None}
    if ids:
        Follow.objects.bulk_create(
            [
                Follow(person_id=person_id, proposal=proposal, automatic=True)
                for person_id in sorted(ids)
            ],
            ignore_conflicts=True,
        )


# What followers are told


def follower_notices(
    proposal: Proposal,
    event: str,
    actor: Any,
    *,
    told: Iterable[int] = (),
    comment: str = "",
    audience: Audience | None = None,
    **context: Any,
) -> list[Notice]:
    """One notice of `proposal.<event>` to each follower who may see the proposal, except the
    actor and the people `told` of the same event by a notice of their own; read from the
    `audience` when the caller read it (no query)."""
    followers = audience.follower_ids() if audience is not None else proposal_follower_ids(proposal)
    recipients = followers - set(told) - {getattr(actor, "pk", None)}
    if not recipients:
        return []
    if audience is not None:
        return audience.notices(
            proposal, event, recipients, actor, comment, essential=False, **context
        )
    data = {**notice_context(proposal, event, actor, comment), **context}
    return [
        Notice(
            recipient_id=person_id,
            template=f"proposals/email/{event}",
            context=data,
            essential=False,
            event=f"proposal.{event}",
        )
        for person_id in sorted(recipients)
    ]


def followers_told_of_transition(
    proposal: Proposal,
    transition: str,
    actor: Any,
    comment: str,
    told: Iterable[int],
    audience: Audience | None = None,
) -> list[Notice]:
    """Followers learn that the proposal moved on (the transition's own notices go first)."""
    return follower_notices(
        proposal,
        "moved",
        actor,
        told=told,
        comment=comment,
        audience=audience,
        transition=transition,
    )


def followers_told_of_revision(proposal: Proposal, actor: Any, now: datetime) -> list[int]:
    """Followers learn of the proposal's new revision, which links to its changes."""
    notices = follower_notices(
        proposal,
        "revised",
        actor,
        revision=proposal.revision,
        path=reverse("proposals:proposal_diff", args=[proposal.pk])
        + f"?from={proposal.revision - 1}&to={proposal.revision}",
    )
    return deliveries_enqueue(
        notices, key_prefix=f"revised{proposal.pk}-{proposal.revision}", about=proposal, now=now
    )


def followers_told_of_deadline_move(change: DeadlineChange, actor: Any) -> list[int]:
    """The followers of the occasion, and of each of its proposals they may see, learn once
    that its deadline moved; the notice names the occasion, never a proposal."""
    occasion = change.occasion
    recipients = occasion_follower_ids(occasion) | _followers_of_each_proposal(occasion)
    recipients -= {getattr(actor, "pk", None)}
    data = {
        "event": "deadline_moved",
        "occasion_id": occasion.pk,
        "occasion": occasion.name,
        "deadline": change.new_deadline.isoformat(),
        "previous_deadline": change.old_deadline.isoformat(),
        "occasion_timezone": occasion.timezone,
        "occasion_place": occasion.place_name,
        "actor": str(actor) if actor is not None else "",
        "comment": change.reason,
        "path": reverse("proposals:occasion_detail", args=[occasion.pk]),
    }
    notices = [
        Notice(
            recipient_id=person_id,
            template="proposals/email/deadline_moved",
            context=data,
            essential=False,
            event="occasion.deadline_moved",
        )
        for person_id in sorted(recipients)
    ]
    return deliveries_enqueue(notices, key_prefix=f"deadline{change.pk}", about=occasion)
