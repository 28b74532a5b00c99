"""Who may do what with a proposal, and when. Each rule returns the reasons it refuses.

Rules read prefetched relations (see selectors.proposals_with_rule_data) so that a list of
proposals is checked in a constant number of queries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _

from proposals.models import Endorsement, Occasion, Proposal, ProposalState, Review, Role
from proposals.selectors import roles_of


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


def deadline_passed_reason(occasion: Occasion, now: datetime) -> str | None:
    if not occasion.deadline_passed(now):
        return None
    local = occasion.submission_deadline.astimezone(occasion.zone)
    return _("The deadline of %(occasion)s passed on %(date)s at %(time)s (%(place)s time).") % {
        "occasion": occasion.name,
        "date": formats.date_format(local, "j M Y"),
        "time": formats.time_format(local, "H:i"),
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


def create_reasons(person: Any, lead_organization_id: int | None) -> list[str]:
    roles = roles_of(person)
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


# Who may run each transition (never: a permission), and when (now: a condition).


def transition_permission_reasons(proposal: Proposal, name: str, person: Any) -> list[str]:
    roles = roles_of(person)
    if name == "submit_for_review":
        if not is_author(proposal, person):
            return [_("Only an author of this proposal can submit it for review.")]
    elif name in ("approve", "request_changes"):
        if not roles.may_review:
            return [_("Only reviewers named by the secretariat can review proposals.")]
        if ever_wrote(proposal, person):
            return [_("You wrote this proposal, so you cannot review it.")]
    elif name in ("submit", "record_outcome"):
        if not roles.secretariat:
            if name == "submit":
                return [_("Only the secretariat can submit a proposal to its body.")]
            return [_("Only the secretariat can record an outcome.")]
    elif name == "withdraw":
        if not (roles.secretariat or is_author(proposal, person)):
            return [_("Only an author of this proposal or the secretariat can withdraw it.")]
    return []


def transition_condition_reasons(
    proposal: Proposal, name: str, person: Any, now: datetime
) -> list[str]:
    reasons: list[str] = []
    if name == "submit_for_review":
        if not proposal.title.strip():
            reasons.append(_("The proposal needs a title."))
        if not proposal.text.strip():
            reasons.append(_("The proposal needs a text."))
        if proposal.target_body_id is None:
            reasons.append(_("Choose the body the proposal is addressed to."))
        if proposal.occasion is None:
            reasons.append(_("Choose the occasion the proposal is timed to."))
        else:
            deadline = deadline_passed_reason(proposal.occasion, now)
            if deadline:
                reasons.append(deadline)
        if any(r.decision == Review.Decision.REQUEST_CHANGES for r in current_reviews(proposal)):
            reasons.append(
                _("Changes were requested on revision %(number)s: edit the proposal first.")
                % {"number": proposal.revision}
            )
    elif name in ("approve", "request_changes"):
        if any(r.reviewer_id == person.pk for r in current_reviews(proposal)):
            reasons.append(
                _("You already reviewed revision %(number)s.") % {"number": proposal.revision}
            )
    elif name == "submit":
        occasion = proposal.occasion
        if occasion is None:
            return [_("Choose the occasion the proposal is timed to.")]
        counted = endorsements_counted(proposal)
        if counted < occasion.endorsement_quorum:
            reasons.append(
                _("%(count)s endorsements of %(quorum)s needed.")
                % {"count": counted, "quorum": occasion.endorsement_quorum}
            )
        if not occasion.accepts_late_submissions:
            deadline = deadline_passed_reason(occasion, now)
            if deadline:
                reasons.append(deadline)
    return reasons


# Endorsements: not a transition, but the same kinds of reasons.


def endorse_permission_reasons(person: Any, organization_id: int | None) -> list[str]:
    roles = roles_of(person)
    if not roles.representative_organization_ids:
        if roles.observer_organization_ids:
            return [_("Observers cannot endorse.")]
        return [_("Only the representative of a full member organisation can endorse.")]
    if organization_id is not None and organization_id not in roles.representative_organization_ids:
        return [_("You do not represent that organisation.")]
    return []


def endorse_condition_reasons(proposal: Proposal, organization_id: int) -> list[str]:
    if proposal.state != ProposalState.ENDORSEMENT:
        return [
            _("Only a proposal open for endorsement can be endorsed; this one is %(state)s.")
            % {"state": proposal.get_state_display().lower()}
        ]
    if any(e.organization_id == organization_id for e in active_endorsements(proposal)):
        return [_("Your organisation has already endorsed this proposal.")]
    return []


def endorse_confirmation_reasons(confirmed: bool) -> list[str]:
    """Endorsing in an organisation's name asks the representative to have confirmed who
    they are (password or two-factor code) in the last minutes."""
    if confirmed:
        return []
    return [
        _(
            "Endorsing in your organisation's name needs a recent confirmation of who you are: "
            "enter your password or a two-factor code."
        )
    ]


def endorsement_withdraw_permission_reasons(endorsement: Endorsement, person: Any) -> list[str]:
    roles = roles_of(person)
    if roles.secretariat or endorsement.organization_id in roles.representative_organization_ids:
        return []
    return [_("Only a representative of the endorsing organisation can withdraw its endorsement.")]


def endorsement_withdraw_condition_reasons(
    endorsement: Endorsement, proposal: Proposal
) -> list[str]:
    if endorsement.withdrawn_at is not None:
        return [_("This endorsement was already withdrawn.")]
    if proposal.state != ProposalState.ENDORSEMENT:
        return [
            _(
                "An endorsement can be withdrawn only until the proposal is submitted; it is %(state)s."
            )
            % {"state": proposal.get_state_display().lower()}
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
