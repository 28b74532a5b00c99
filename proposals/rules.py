"""Who may do what with a proposal, and when. Each rule returns the reasons it refuses.

Rules read prefetched relations (see selectors.proposals_with_rule_data) so that a list of
proposals is checked in a constant number of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from proposals.localized import date_text, time_text
from proposals.models import (
    Endorsement,
    Occasion,
    Organization,
    Proposal,
    ProposalState,
    Review,
    Role,
)
from proposals.selectors import roles_of
from workflow.errors import Reason

Permission = Callable[..., list[Reason]]
"""Why this person may never do this to this proposal (nothing if they may): called with
(proposal, person) and, for an action about something more, that as a keyword."""
Condition = Callable[..., list[Reason]]
"""Why it cannot be done now (nothing if it can): called with (proposal, person, now)."""


def author_ids(proposal: Proposal) -> set[int]:
    return {author.pk for author in proposal.authors.all()}


def is_author(proposal: Proposal, person: Any) -> bool:
    return person is not None and person.pk in author_ids(proposal)


def contributor_ids(proposal: Proposal) -> set[int]:
    """Everyone who is or was an author, or wrote one of its revisions: none of them reviews."""
    return author_ids(proposal) | {contributor.pk for contributor in proposal.contributors.all()}


def ever_wrote(proposal: Proposal, person: Any) -> bool:
    return person is not None and person.pk in contributor_ids(proposal)


def current_reviews(proposal: Proposal) -> list[Review]:
    return [r for r in proposal.reviews.all() if r.revision.number == proposal.revision]


def approvals_of_current_revision(proposal: Proposal) -> int:
    return len(
        {r.reviewer_id for r in current_reviews(proposal) if r.decision == Review.Decision.APPROVE}
    )


def active_endorsements(proposal: Proposal) -> list[Endorsement]:
    return [e for e in proposal.endorsements.all() if e.withdrawn_at is None]


def endorsements_counted(proposal: Proposal) -> int:
    """Endorsements that count toward the quorum: one per full member organisation."""
    return len(
        {e.organization_id for e in active_endorsements(proposal) if e.organization.is_full_member}
    )


def endorsement_quorum(proposal: Proposal) -> int:
    """How many full members must endorse: the occasion's quorum (none without an occasion)."""
    return proposal.occasion.endorsement_quorum if proposal.occasion else 0


def quorum_reached(proposal: Proposal) -> bool:
    return proposal.occasion is not None and endorsements_counted(proposal) >= endorsement_quorum(
        proposal
    )


def endorsements_needed_phrase(count: int, quorum: int) -> str:
    """ "1 endorsement of 2 needed.", in the plural forms of the reader's language."""
    return ngettext(
        "%(count)s endorsement of %(quorum)s needed.",
        "%(count)s endorsements of %(quorum)s needed.",
        count,
    ) % {"count": count, "quorum": quorum}


def quorum_phrase(proposal: Proposal) -> str:
    """Where the proposal's endorsements stand against its quorum, in one sentence."""
    count, quorum = endorsements_counted(proposal), endorsement_quorum(proposal)
    if proposal.occasion is not None and count >= quorum:
        return ngettext(
            "Quorum reached: %(count)s endorsement, %(quorum)s needed.",
            "Quorum reached: %(count)s endorsements, %(quorum)s needed.",
            count,
        ) % {"count": count, "quorum": quorum}
    return endorsements_needed_phrase(count, quorum)


def approvals_needed_phrase(count: int, required: int) -> str:
    """ "1 approval of 2 needed.", in the plural forms of the reader's language."""
    return ngettext(
        "%(count)s approval of %(required)s needed.",
        "%(count)s approvals of %(required)s needed.",
        count,
    ) % {"count": count, "required": required}


def changes_request(proposal: Proposal) -> Review | None:
    """The review that sent the proposal back to draft with changes requested, while it is
    still a draft: the latest request for changes (read from the prefetched reviews)."""
    if proposal.state != ProposalState.DRAFT:
        return None
    requests = [r for r in proposal.reviews.all() if r.decision == Review.Decision.REQUEST_CHANGES]
    return max(requests, key=lambda r: (r.created_at, r.pk)) if requests else None


def deadline_passed_reason(occasion: Occasion, now: datetime) -> str | None:
    if not occasion.deadline_passed(now):
        return None
    return _("The deadline of %(occasion)s passed on %(date)s at %(time)s (%(place)s time).") % {
        "occasion": occasion.name,
        "date": date_text(occasion.submission_deadline, occasion.zone),
        "time": time_text(occasion.submission_deadline, occasion.zone),
        "place": occasion.place_name,
    }


# Who may view and edit.


def may_view(proposal: Proposal, person: Any) -> bool:
    roles = roles_of(person)
    if roles.sees_everything or is_author(proposal, person):
        return True
    if proposal.lead_organization_id in roles.organization_ids:
        return True
    return roles.in_group and proposal.state != ProposalState.DRAFT


def organization_may_view(
    proposal: Proposal, organization: Organization, presidency_organization_id: int | None
) -> bool:
    """`may_view` read for an organisation (a webhook endpoint's): the secretariat and the presidency see every proposal; another
    organisation sees the drafts it leads and every proposal from review on; a former member
    sees none."""
    if organization.status == Organization.Status.FORMER:
        return False
    if organization.is_secretariat or organization.pk == presidency_organization_id:
        return True
    return proposal.lead_organization_id == organization.pk or proposal.state != ProposalState.DRAFT


def create_reasons(person: Any, lead_organization_id: int | None) -> list[str]:
    roles = roles_of(person)
    if getattr(person, "left_on", None) is not None:
        return [
            _(
                "Your departure from the group is recorded: a drafter of your organisation who "
                "stays starts new proposals."
            )
        ]
    if not roles.drafter_organization_ids:
        return [_("Only drafters of a member or observer organisation can write proposals.")]
    if (
        lead_organization_id is not None
        and lead_organization_id not in roles.drafter_organization_ids
    ):
        return [_("You can write proposals only for an organisation you draft for.")]
    return []


def co_author_reasons(people: Any, drafter_ids: set[int]) -> list[str]:
    """Co-authors must be drafters: naming anyone else as co-author is refused."""
    return [
        _("%(name)s is not a drafter: only drafters can be co-authors.") % {"name": person}
        for person in people
        if person.pk not in drafter_ids
    ]


def edit_permission_reasons(proposal: Proposal, person: Any) -> list[str]:
    if not is_author(proposal, person):
        return [_("Only the authors of this proposal can edit it.")]
    return []


def edit_state_reasons(proposal: Proposal) -> list[str]:
    if proposal.state != ProposalState.DRAFT:
        return [
            _("Only a draft can be edited; this proposal is %(state)s.")
            % {"state": proposal.get_state_display().lower()}
        ]
    return []


# Who may run each transition (never: a permission), and when (now: a condition). Each
# predicate is named in the lifecycle's declarations (proposals.lifecycle); a permission
# returns its reasons from (proposal, person), a condition from (proposal, person, now).


def must_be_author(refusal: str | Promise) -> Permission:
    """Only an author may; `refusal` says so in the words of the action."""

    def check(proposal: Proposal, person: Any) -> list[Reason]:
        return [] if is_author(proposal, person) else [Reason("not_author", str(refusal))]

    return check


def must_be_secretariat(refusal: str | Promise) -> Permission:
    """Only the secretariat may; `refusal` says so in the words of the action."""

    def check(proposal: Proposal, person: Any) -> list[Reason]:
        return [] if roles_of(person).secretariat else [Reason("not_secretariat", str(refusal))]

    return check


def must_be_author_or_secretariat(refusal: str | Promise) -> Permission:
    def check(proposal: Proposal, person: Any) -> list[Reason]:
        if roles_of(person).secretariat or is_author(proposal, person):
            return []
        return [Reason("not_author_nor_secretariat", str(refusal))]

    return check


def independent_reviewer(proposal: Proposal, person: Any) -> list[Reason]:
    """A reviewer named by the secretariat who never wrote the proposal."""
    if not roles_of(person).may_review:
        return [
            Reason(
                "not_reviewer", _("Only reviewers named by the secretariat can review proposals.")
            )
        ]
    if ever_wrote(proposal, person):
        return [Reason("own_proposal", _("You wrote this proposal, so you cannot review it."))]
    return []


def ready_for_review(proposal: Proposal, person: Any, now: datetime) -> list[Reason]:
    """A title, a text, a body, an occasion whose deadline is ahead, and no open request for
    changes on the current revision."""
    reasons: list[Reason] = []
    if not proposal.title.strip():
        reasons.append(Reason("title_missing", _("The proposal needs a title.")))
    if not proposal.text.strip():
        reasons.append(Reason("text_missing", _("The proposal needs a text.")))
    if proposal.target_body_id is None:
        reasons.append(Reason("body_missing", _("Choose the body the proposal is addressed to.")))
    if proposal.occasion is None:
        reasons.append(occasion_missing_reason())
    else:
        reasons.extend(deadline_reasons(proposal.occasion, now))
    if any(r.decision == Review.Decision.REQUEST_CHANGES for r in current_reviews(proposal)):
        reasons.append(
            Reason(
                "changes_requested",
                _(
                    "Changes were requested on revision %(number)s: change its title, summary "
                    "or text (saving makes revision %(next)s), then submit it again."
                )
                % {"number": proposal.revision, "next": proposal.revision + 1},
            )
        )
    return reasons


def not_reviewed_yet(proposal: Proposal, person: Any, now: datetime) -> list[Reason]:
    """A reviewer reviews each revision once."""
    if any(r.reviewer_id == person.pk for r in current_reviews(proposal)):
        return [
            Reason(
                "already_reviewed",
                _("You already reviewed revision %(number)s.") % {"number": proposal.revision},
            )
        ]
    return []


def ready_to_submit(proposal: Proposal, person: Any, now: datetime) -> list[Reason]:
    """Enough full members endorsed it, and the deadline is ahead unless the occasion accepts
    late submissions."""
    occasion = proposal.occasion
    if occasion is None:
        return [occasion_missing_reason()]
    reasons: list[Reason] = []
    counted = endorsements_counted(proposal)
    if counted < occasion.endorsement_quorum:
        reasons.append(
            Reason(
                "quorum_not_reached",
                endorsements_needed_phrase(counted, occasion.endorsement_quorum),
            )
        )
    if not occasion.accepts_late_submissions:
        reasons.extend(deadline_reasons(occasion, now))
    return reasons


def occasion_missing_reason() -> Reason:
    return Reason("occasion_missing", _("Choose the occasion the proposal is timed to."))


def deadline_reasons(occasion: Occasion, now: datetime) -> list[Reason]:
    reason = deadline_passed_reason(occasion, now)
    return [Reason("deadline_passed", reason)] if reason else []


# Endorsements: not a transition, but the same kinds of reasons.


def representative(
    proposal: Proposal | None, person: Any, organization_id: int | None = None
) -> list[Reason]:
    """The representative of a full member organisation (of the one named, if any), whatever
    the proposal: it may be None when the question is whether the person may ever endorse."""
    roles = roles_of(person)
    if not roles.representative_organization_ids:
        if roles.observer_organization_ids:
            return [Reason("observer", _("Observers cannot endorse."))]
        return [
            Reason(
                "not_representative",
                _("Only the representative of a full member organisation can endorse."),
            )
        ]
    if organization_id is not None and organization_id not in roles.representative_organization_ids:
        return [Reason("other_organization", _("You do not represent that organisation."))]
    return []


def open_for_endorsement_by(
    proposal: Proposal, person: Any, now: datetime, organization_id: int
) -> list[Reason]:
    """Open for endorsement, and not yet endorsed by this organisation."""
    if proposal.state != ProposalState.ENDORSEMENT:
        return [
            Reason(
                "state",
                _("Only a proposal open for endorsement can be endorsed; this one is %(state)s.")
                % {"state": proposal.get_state_display().lower()},
            )
        ]
    if any(e.organization_id == organization_id for e in active_endorsements(proposal)):
        return [
            Reason("already_endorsed", _("Your organisation has already endorsed this proposal."))
        ]
    return []


def endorse_confirmation_reasons(confirmed: bool) -> list[Reason]:
    """Endorsing in an organisation's name asks the representative to have confirmed who
    they are (password or two-factor code) in the last minutes."""
    if confirmed:
        return []
    return [
        Reason(
            "confirmation_needed",
            _(
                "Endorsing in your organisation's name needs a recent confirmation of who you "
                "are: enter your password or a two-factor code."
            ),
        )
    ]


def endorsing_representative(
    proposal: Proposal, person: Any, endorsement: Endorsement
) -> list[Reason]:
    """A representative of the endorsing organisation, or the secretariat."""
    roles = roles_of(person)
    if roles.secretariat or endorsement.organization_id in roles.representative_organization_ids:
        return []
    return [
        Reason(
            "other_organization",
            _("Only a representative of the endorsing organisation can withdraw its endorsement."),
        )
    ]


def endorsement_withdrawable(
    proposal: Proposal, person: Any, now: datetime, endorsement: Endorsement
) -> list[Reason]:
    """Not withdrawn yet, and the proposal is still open for endorsement."""
    if endorsement.withdrawn_at is not None:
        return [Reason("already_withdrawn", _("This endorsement was already withdrawn."))]
    if proposal.state != ProposalState.ENDORSEMENT:
        return [
            Reason(
                "state",
                _(
                    "An endorsement can be withdrawn only until the proposal is submitted; it is "
                    "%(state)s."
                )
                % {"state": proposal.get_state_display().lower()},
            )
        ]
    return []


# People: who may change whom, and which roles a person may hold.


def person_manage_reasons(actor: Any, target: Any) -> list[str]:
    """The secretariat manages people, except superusers and the other secretariat staff."""
    actor_roles = roles_of(actor)
    if actor_roles.is_superuser:
        return []
    if not actor_roles.secretariat:
        return [_("Only the secretariat can change the people of the group.")]
    if target is not None and target.is_superuser:
        return [_("Only a superuser can change a superuser.")]
    if target is not None and target.pk != actor.pk and roles_of(target).secretariat:
        return [_("Only a superuser can change another person of the secretariat.")]
    return []


def person_identity_reasons(actor: Any, target: Any) -> list[str]:
    """Usernames and email addresses are set at invitation; later only a superuser corrects them."""
    if roles_of(actor).is_superuser:
        return []
    if target is not None and actor.pk == target.pk:
        return [
            _(
                "To change your email address, ask for it in your settings and confirm it from "
                "the new address; your username does not change."
            )
        ]
    return [
        _(
            "An email address or username is set when the person is invited; after that the "
            "person changes their address themself, and only a superuser corrects a lost one."
        )
    ]


def person_roles_permission_reasons(
    actor: Any, target: Any, wanted: set[tuple[Any, str]], current: set[tuple[Any, str]]
) -> list[str]:
    """Nobody changes their own roles, and only the superuser names or removes the secretariat.
    `wanted` and `current` hold (organisation, role) pairs."""
    if wanted == current:
        return []
    if target is not None and actor.pk == target.pk:
        return [_("Nobody can change their own roles: ask another person of the secretariat.")]
    changed = wanted ^ current
    if any(role == Role.SECRETARIAT for _organization, role in changed) and not actor.is_superuser:
        return [_("Only the superuser can grant or remove the secretariat role.")]
    return []


def person_roles_invalid_reasons(wanted: set[tuple[Any, str]]) -> list[str]:
    """A person acts for the one organisation they belong to; only full members have
    representatives."""
    reasons: list[str] = []
    if len({organization for organization, _role in wanted}) > 1:
        reasons.append(
            _(
                "A person acts for one organisation only: give all their roles in the "
                "organisation they belong to."
            )
        )
    for organization in sorted(
        {o for o, role in wanted if role == Role.REPRESENTATIVE and not o.is_full_member},
        key=lambda o: o.pk,
    ):
        reasons.append(
            _("%(organization)s is not a full member: it has no representative.")
            % {"organization": organization}
        )
    return reasons
