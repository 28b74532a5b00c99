"""Every action on a proposal, declared once: its label and help, who may run it, when, the
input it takes, its effects and the notices it sends.

The state changes themselves (from which states, to which) are the `@transition` methods of
`Proposal` in models.py, read from the state machine, never typed again here. The pages, the
API, the admin, the workflow page and the benchmarks read these declarations; the engine
(`workflow.services.transition_run`) reaches them through `ProposalPolicy` below.

Adding a transition: a `@transition` method on the model, one `Action` here, its test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cached_property
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy

from proposals import rules
from proposals.dossiers.store import dossier_waits_for, submission_dossier_record
from proposals.following import followers_told_of_transition, follows_automatic
from proposals.limits import (
    COMMENT_MAX_LENGTH,
    LINK_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    REFERENCE_MAX_LENGTH,
)
from proposals.models import (
    MILESTONE_FIELDS,
    Body,
    Endorsement,
    Outcome,
    OutcomeResult,
    Proposal,
    ProposalState,
    Review,
    Revision,
    Submission,
    WebhookEvent,
)
from proposals.notices import Audience, audience_of
from proposals.notifications import (
    webhook_events_write,
    webhook_readers_annotate,
    webhook_readers_of,
)
from proposals.search import search_document_refresh
from proposals.selectors import (
    prefetched_append,
    proposals_visible_to,
    proposals_with_rule_facts,
    representatives_active,
    reviewers_active,
    roles_of,
    rule_facts_kept,
)
from workflow import policy as workflow_policy
from workflow.errors import Reason, RefusalKind
from workflow.models import TransitionLog
from workflow.policy import Notice
from workflow.services import TransitionOption, transition_options, transition_targets

# The input of each action: the one declaration of its fields. The service cleans the input
# with it, the pages show it, and the API's schema and validation derive from it.


class CommentForm(forms.Form):
    """The input of an action that takes only an optional comment."""

    comment = forms.CharField(
        label=gettext_lazy("Comment"), max_length=COMMENT_MAX_LENGTH, required=False
    )


class ApproveForm(forms.Form):
    """Approving: an optional comment, which the authors read with the approval."""

    comment = forms.CharField(
        label=gettext_lazy("Comment"),
        max_length=COMMENT_MAX_LENGTH,
        required=False,
        help_text=gettext_lazy("Optional: what you checked, or a note for the authors."),
    )


class RequestChangesForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("Comment"),
        max_length=COMMENT_MAX_LENGTH,
        error_messages={"required": gettext_lazy("Say what should change: a comment is required.")},
    )


class SubmitForm(CommentForm):
    reference = forms.CharField(
        label=gettext_lazy("Body's reference or receipt"),
        max_length=REFERENCE_MAX_LENGTH,
        required=False,
    )


class RecordOutcomeForm(CommentForm):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        choices=OutcomeResult.choices,
        # Radio buttons with none ticked: the outcome is a deliberate choice, never a default.
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy(
                "Choose the outcome: adopted, adopted in part, not adopted or no response."
            ),
            "invalid_choice": gettext_lazy(
                "%(value)s is not an outcome; choose adopted, adopted_in_part, not_adopted or no_response."
            ),
        },
    )
    decided_on = forms.DateField(label=gettext_lazy("Decided on"), required=False)
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=NOTE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=ngettext_lazy(
            "At most %(count)s character.", "At most %(count)s characters.", "count"
        )
        % {"count": NOTE_MAX_LENGTH},
    )
    link = forms.URLField(
        label=gettext_lazy("Link"),
        max_length=LINK_MAX_LENGTH,
        required=False,
        assume_scheme="https",
    )

    def clean_decided_on(self) -> date:
        decided_on = self.cleaned_data.get("decided_on") or timezone.localdate()
        if decided_on > timezone.localdate():
            raise forms.ValidationError(_("The decision date cannot be in the future."))
        return decided_on


# Effects: what an action writes besides the state, and whom it tells.


@dataclass(frozen=True)
class ActionRun:
    """One run of an action: the proposal (locked), who acts, and their cleaned input."""

    proposal: Proposal
    actor: Any
    comment: str
    arguments: dict[str, Any]
    heard: dict[tuple[bool, bool], Audience] = field(default_factory=dict, compare=False)
    """The audiences read for this run, by the groups they hold (reviewers, representatives)."""

    def audience(self, *, reviewers: bool = False, representatives: bool = False) -> Audience:
        """Whom this run may tell (`notices.audience_of`), read once for every notice of the
        run: again only if a group not read yet is asked."""
        for (has_reviewers, has_representatives), audience in self.heard.items():
            if has_reviewers >= reviewers and has_representatives >= representatives:
                return audience
        audience = audience_of(self.proposal, reviewers=reviewers, representatives=representatives)
        self.heard[(reviewers, representatives)] = audience
        return audience


def no_writes(run: ActionRun) -> dict[str, Any]:
    return {}


def no_notices(run: ActionRun, log: TransitionLog) -> list[Notice]:
    return []


def review_record(run: ActionRun, decision: str) -> None:
    """The review of the current revision, added to the proposal's reviews as the rules read
    them (the lock read them, with the revision's id)."""
    proposal = run.proposal
    revision_id = getattr(proposal, "facts_revision_id", None)
    if revision_id is None:
        revision_id = proposal.revisions.values_list("id", flat=True).get(number=proposal.revision)
    review = Review.objects.create(
        proposal=proposal,
        revision_id=revision_id,
        reviewer=run.actor,
        decision=decision,
        comment=run.comment,
    )
    review.revision = Revision.from_db(  # what the rules read of it; the rest is deferred
        None, ["id", "proposal_id", "number"], [revision_id, proposal.pk, proposal.revision]
    )
    prefetched_append(proposal, "reviews", review)
    follows_automatic(proposal=proposal, person_ids=[run.actor.pk])


def approval_record(run: ActionRun) -> dict[str, Any]:
    """The approval is recorded; the approvals of this revision (read under the row lock, this
    one included) decide where it goes."""
    review_record(run, Review.Decision.APPROVE)
    approvals = rules.approvals_of_current_revision(run.proposal)
    occasion = run.proposal.occasion
    required = occasion.required_approvals if occasion else 1
    return {"approvals": approvals, "required": required}


def changes_request_record(run: ActionRun) -> dict[str, Any]:
    review_record(run, Review.Decision.REQUEST_CHANGES)
    return {}


def outcome_argument(run: ActionRun) -> dict[str, Any]:
    return {"outcome": run.arguments["outcome"]}


def reviewers_told(run: ActionRun, log: TransitionLog) -> list[Notice]:
    """Reviewers who never wrote the proposal are asked to review it."""
    audience = run.audience(reviewers=True)
    reviewers = audience.reviewer_ids() - rules.contributor_ids(run.proposal)
    return audience.notices(run.proposal, "review_requested", reviewers, run.actor, essential=True)


def authors_told_of_changes(run: ActionRun, log: TransitionLog) -> list[Notice]:
    authors = rules.author_ids(run.proposal)
    return run.audience().notices(
        run.proposal, "changes_requested", authors, run.actor, run.comment, essential=True
    )


def endorsement_opened_told(run: ActionRun, log: TransitionLog) -> list[Notice]:
    """Once open for endorsement, the authors hear of it and the representatives are asked."""
    proposal = run.proposal
    if proposal.state != ProposalState.ENDORSEMENT:
        return []
    audience = run.audience(representatives=True)
    authors = rules.author_ids(proposal)
    return audience.notices(
        proposal, "approved", authors, run.actor, essential=False
    ) + audience.notices(
        proposal, "endorsement_opened", audience.representative_ids(), run.actor, essential=True
    )


def submission_record(run: ActionRun, log: TransitionLog) -> list[Notice]:
    """The submission, with everything its dossier says (rendered after commit); the authors'
    "submitted" email waits for the dossier and carries it."""
    proposal = run.proposal
    submission = Submission.objects.create(
        proposal=proposal,
        body=cast(Body, proposal.target_body),  # ready_for_review asked for a body
        submitted_by=run.actor,
        submitted_at=log.at,
        reference=run.arguments.get("reference", ""),
    )
    proposal.submission = submission
    submission_dossier_record(
        submission, proposal=proposal, revision=proposal.revisions.get(number=proposal.revision)
    )
    search_document_refresh(proposal_ids=[proposal.pk])
    authors = rules.author_ids(proposal)
    waits_for = dossier_waits_for(submission.pk)
    return [
        replace(
            notice,
            context={**notice.context, "dossier_number": submission.number},
            waits_for=waits_for,
        )
        for notice in run.audience().notices(
            proposal, "submitted", authors, run.actor, essential=False
        )
    ]


def outcome_record(run: ActionRun, log: TransitionLog) -> list[Notice]:
    proposal = run.proposal
    proposal.outcome_record = Outcome.objects.create(
        proposal=proposal,
        result=run.arguments["outcome"],
        decided_on=run.arguments["decided_on"],
        note=run.arguments.get("note", ""),
        link=run.arguments.get("link", ""),
        recorded_by=run.actor,
        recorded_at=log.at,
    )
    authors = rules.author_ids(proposal)
    return run.audience().notices(proposal, "outcome_recorded", authors, run.actor, essential=False)


def authors_told_of_withdrawal(run: ActionRun, log: TransitionLog) -> list[Notice]:
    authors = rules.author_ids(run.proposal)
    return run.audience().notices(
        run.proposal, "withdrawn", authors, run.actor, run.comment, essential=False
    )


# The declarations.


@dataclass(frozen=True)
class Action:
    """One action on a proposal, as every face and the engine know it."""

    name: str
    label: str | Promise
    help_text: str | Promise
    """Who may run it and when, in one sentence for the workflow page."""
    who: Sequence[rules.Permission] = ()
    when: Sequence[rules.Condition] = ()
    input: type[forms.Form] = CommentForm
    own_page: bool = False
    """The action asks for more than a click (a comment, a reference, an outcome)."""
    confirmation: str | Promise = ""
    """What its page says the action does, above the form where the person confirms."""
    before: Callable[[ActionRun], dict[str, Any]] = no_writes
    """Writes before the state changes; returns the arguments of the model's method."""
    changes: tuple[str, ...] = ()
    """Fields the model's method changes besides the state."""
    after: Callable[[ActionRun, TransitionLog], list[Notice]] = no_notices
    """Writes after the state changed; returns the notices to queue."""

    def permission_reasons(self, proposal: Proposal, person: Any, **concerned: Any) -> list[Reason]:
        """Why this person may never do it; `concerned` names what else it is about (the
        organisation that endorses, the endorsement withdrawn)."""
        return [reason for check in self.who for reason in check(proposal, person, **concerned)]

    def condition_reasons(
        self, proposal: Proposal, person: Any, now: datetime, **concerned: Any
    ) -> list[Reason]:
        """Why it cannot be done now."""
        return [
            reason for check in self.when for reason in check(proposal, person, now, **concerned)
        ]

    @cached_property
    def sources(self) -> list[str]:
        """The states it runs from, as the state machine declares them."""
        found: list[str] = []
        for source, name, _target in transition_edges():
            if name == self.name and source not in found:
                found.append(source)
        return found


SUBMIT_FOR_REVIEW = Action(
    name="submit_for_review",
    label=gettext_lazy("Submit for review"),
    help_text=gettext_lazy(
        "An author of the proposal, once it has a title, a text, a target body and an occasion "
        "whose deadline has not passed."
    ),
    who=[
        rules.must_be_author(
            gettext_lazy("Only an author of this proposal can submit it for review.")
        )
    ],
    when=[rules.ready_for_review],
    after=reviewers_told,
)

APPROVE = Action(
    name="approve",
    label=gettext_lazy("Approve"),
    help_text=gettext_lazy(
        "A reviewer who did not write it. The proposal opens for endorsement once the occasion's "
        "required number of reviewers have approved its current revision."
    ),
    who=[rules.independent_reviewer],
    when=[rules.not_reviewed_yet],
    input=ApproveForm,
    own_page=True,
    confirmation=gettext_lazy(
        "Your approval is recorded for the current revision. The proposal opens for "
        "endorsement once the occasion's required number of reviewers have approved it."
    ),
    before=approval_record,
    after=endorsement_opened_told,
)

REQUEST_CHANGES = Action(
    name="request_changes",
    label=gettext_lazy("Request changes"),
    help_text=gettext_lazy("A reviewer who did not write it, with a comment."),
    who=[rules.independent_reviewer],
    when=[rules.not_reviewed_yet],
    input=RequestChangesForm,
    own_page=True,
    before=changes_request_record,
    after=authors_told_of_changes,
)

SUBMIT = Action(
    name="submit",
    label=gettext_lazy("Submit to body"),
    help_text=gettext_lazy(
        "The secretariat, once enough full members endorsed it, and before the deadline unless "
        "the occasion accepts late submissions."
    ),
    who=[
        rules.must_be_secretariat(
            gettext_lazy("Only the secretariat can submit a proposal to its body.")
        )
    ],
    when=[rules.ready_to_submit],
    input=SubmitForm,
    own_page=True,
    after=submission_record,
)

RECORD_OUTCOME = Action(
    name="record_outcome",
    label=gettext_lazy("Record outcome"),
    help_text=gettext_lazy("The secretariat, when the body has decided."),
    who=[rules.must_be_secretariat(gettext_lazy("Only the secretariat can record an outcome."))],
    input=RecordOutcomeForm,
    own_page=True,
    before=outcome_argument,
    changes=("outcome",),
    after=outcome_record,
)

WITHDRAW = Action(
    name="withdraw",
    label=gettext_lazy("Withdraw"),
    help_text=gettext_lazy("An author of the proposal, or the secretariat."),
    who=[
        rules.must_be_author_or_secretariat(
            gettext_lazy("Only an author of this proposal or the secretariat can withdraw it.")
        )
    ],
    own_page=True,
    confirmation=gettext_lazy(
        "Withdrawing is final: the proposal leaves the workflow for good and cannot be reopened, "
        "reviewed, endorsed or submitted any more. Its history stays readable."
    ),
    after=authors_told_of_withdrawal,
)

# Actions that are not state changes, declared the same way; their services
# (proposals.services.endorsement_create, endorsement_withdraw) ask these declarations.
# Their predicates take the organisation or the endorsement concerned as a keyword.

ENDORSE = Action(
    name="endorse",
    label=gettext_lazy("Endorse"),
    help_text=gettext_lazy(
        "The representative of a full member organisation, once per organisation, while the "
        "proposal is open for endorsement, after confirming who they are."
    ),
    who=[rules.representative],
    when=[rules.open_for_endorsement_by],
)

WITHDRAW_ENDORSEMENT = Action(
    name="withdraw_endorsement",
    label=gettext_lazy("Withdraw the endorsement"),
    help_text=gettext_lazy(
        "A representative of the endorsing organisation, or the secretariat, until the proposal "
        "is submitted."
    ),
    who=[rules.endorsing_representative],
    when=[rules.endorsement_withdrawable],
)

TRANSITIONS: dict[str, Action] = {
    action.name: action
    for action in (SUBMIT_FOR_REVIEW, APPROVE, REQUEST_CHANGES, SUBMIT, RECORD_OUTCOME, WITHDRAW)
}
"""The state changes of a proposal, in the order of its lifecycle."""


def transition_edges() -> list[tuple[str, str, str]]:
    """Every (source, transition, target) of the proposal's state machine."""
    return transition_targets(Proposal)


def transition_options_for(
    proposal: Proposal, person: Any, now: datetime | None = None
) -> list[TransitionOption]:
    """Every transition of the proposal: whether this person can run it now, and if not why."""
    return transition_options(obj=proposal, actor=person, now=now)


def transitions_allowed(
    proposals: Iterable[Proposal], person: Any, now: datetime | None = None
) -> dict[int, list[str]]:
    """For a page of proposals read with `selectors.proposals_with_rule_data`, the transitions
    this person can run now on each, by the same declarations as `transition_options_for`,
    fed by the prefetched facts: no query per proposal."""
    now = now or timezone.now()
    return {
        proposal.pk: [
            name
            for name, action in TRANSITIONS.items()
            if proposal.state in action.sources
            and not action.permission_reasons(proposal, person)
            and not action.condition_reasons(proposal, person, now)
        ]
        for proposal in proposals
    }


def endorse_option(
    proposal: Proposal, person: Any, now: datetime | None = None
) -> TransitionOption:
    """Endorsing as this person sees it now, like a transition: allowed when one at least of the
    organisations they represent may endorse; else why not (never theirs: a permission; the
    proposal not open for endorsement: its state; already endorsed: a condition)."""
    now = now or timezone.now()
    refusal = ENDORSE.permission_reasons(proposal, person)
    kind = RefusalKind.PERMISSION
    if not refusal:
        kind = (
            RefusalKind.STATE
            if proposal.state != ProposalState.ENDORSEMENT
            else RefusalKind.CONDITION
        )
        for organization_id in sorted(roles_of(person).representative_organization_ids):
            reasons = ENDORSE.condition_reasons(
                proposal, person, now, organization_id=organization_id
            )
            if not reasons:
                refusal = []
                break
            refusal.extend(reason for reason in reasons if reason not in refusal)
    return TransitionOption(
        name=ENDORSE.name,
        label=str(ENDORSE.label),
        target=proposal.state,
        allowed=not refusal,
        kind=kind if refusal else None,
        reasons=list(refusal),
    )


def endorsements_of(proposal: Proposal, person: Any) -> list[Endorsement]:
    """The endorsements in force that this person signed or may withdraw as the representative
    of the endorsing organisation (from the prefetched endorsements)."""
    represented = roles_of(person).representative_organization_ids
    return [
        endorsement
        for endorsement in rules.active_endorsements(proposal)
        if endorsement.organization_id in represented
        or (person is not None and endorsement.endorsed_by_id == person.pk)
    ]


@dataclass(frozen=True)
class NextStep:
    """Who acts next on a proposal, and what they do, in one sentence.

    `who` is "authors", "reviewers", "representatives" or "secretariat"; `people` are the
    persons named (the authors, the reviewers who have not decided, the representatives of the
    full members that have not endorsed), `organizations` the members still missing, and
    `missing` how many more approvals or endorsements are needed."""

    who: str
    sentence: str
    people: tuple[Any, ...] = ()
    organizations: tuple[Any, ...] = ()
    missing: int = 0


def _names(items: Iterable[Any]) -> str:
    return ", ".join(str(item) for item in items)


def next_step(proposal: Proposal) -> NextStep | None:
    """Who acts next on a proposal read with `selectors.proposals_with_rule_data`: its authors
    in draft; the reviewers who have not decided on the current revision in review; the
    representatives still missing, or the secretariat once the quorum is reached, in
    endorsement; the secretariat once submitted; nobody once closed or withdrawn.
    One query at most (the reviewers, or the representatives)."""
    state = proposal.state
    if state == ProposalState.DRAFT:
        authors = tuple(sorted(proposal.authors.all(), key=str))
        if rules.changes_request(proposal) is not None:
            sentence = _(
                "Next: the authors (%(names)s) make the changes requested and submit it again."
            )
        else:
            sentence = _(
                "Next: the authors (%(names)s) complete the draft and submit it for review."
            )
        return NextStep("authors", sentence % {"names": _names(authors)}, people=authors)
    if state == ProposalState.IN_REVIEW:
        required = proposal.occasion.required_approvals if proposal.occasion else 1
        missing = max(required - rules.approvals_of_current_revision(proposal), 1)
        decided = {review.reviewer_id for review in rules.current_reviews(proposal)}
        excluded = rules.contributor_ids(proposal) | decided
        reviewers = tuple(person for person in reviewers_active() if person.pk not in excluded)
        if not reviewers:
            return NextStep(
                "secretariat",
                ngettext(
                    "Next: %(count)s more approval is needed, and no reviewer is left to give "
                    "it: the secretariat reviews it or names a reviewer.",
                    "Next: %(count)s more approvals are needed, and no reviewer is left to give "
                    "them: the secretariat reviews it or names reviewers.",
                    missing,
                )
                % {"count": missing},
                missing=missing,
            )
        return NextStep(
            "reviewers",
            ngettext(
                "Next: %(count)s more approval is needed, from the reviewers: %(names)s.",
                "Next: %(count)s more approvals are needed, from the reviewers: %(names)s.",
                missing,
            )
            % {"count": missing, "names": _names(reviewers)},
            people=reviewers,
            missing=missing,
        )
    if state == ProposalState.ENDORSEMENT:
        if rules.quorum_reached(proposal):
            return NextStep("secretariat", _("Quorum reached: the secretariat will submit."))
        missing = rules.endorsement_quorum(proposal) - rules.endorsements_counted(proposal)
        endorsed = {e.organization_id for e in rules.active_endorsements(proposal)}
        memberships = [m for m in representatives_active() if m.organization_id not in endorsed]
        organizations: dict[int, Any] = {}
        people: dict[int, list[Any]] = {}
        for membership in memberships:
            organizations.setdefault(membership.organization_id, membership.organization)
            people.setdefault(membership.organization_id, []).append(membership.person)
        if not organizations:
            return NextStep(
                "secretariat",
                ngettext(
                    "Next: %(count)s more endorsement is needed, and no full member is left to "
                    "give it: the secretariat decides what to do.",
                    "Next: %(count)s more endorsements are needed, and no full member is left to "
                    "give them: the secretariat decides what to do.",
                    missing,
                )
                % {"count": missing},
                missing=missing,
            )
        missing_members = ", ".join(
            _("%(organization)s (%(people)s)")
            % {"organization": organization, "people": _names(people[pk])}
            for pk, organization in organizations.items()
        )
        return NextStep(
            "representatives",
            ngettext(
                "Next: %(count)s more endorsement is needed, from one of these members: "
                "%(members)s.",
                "Next: %(count)s more endorsements are needed, from these members: %(members)s.",
                missing,
            )
            % {"count": missing, "members": missing_members},
            people=tuple(m.person for m in memberships),
            organizations=tuple(organizations.values()),
            missing=missing,
        )
    if state == ProposalState.SUBMITTED:
        return NextStep("secretariat", _("Next: the secretariat records what the body decided."))
    return None


STATE_PHRASES: dict[str, str | Promise] = {
    ProposalState.DRAFT: gettext_lazy("in draft"),
    ProposalState.IN_REVIEW: gettext_lazy("in review"),
    ProposalState.ENDORSEMENT: gettext_lazy("open for endorsement"),
    ProposalState.SUBMITTED: gettext_lazy("submitted"),
    ProposalState.CLOSED: gettext_lazy("closed"),
    ProposalState.WITHDRAWN: gettext_lazy("withdrawn"),
}
"""Each state as the end of "possible only when the proposal is …"."""


def states_phrase(states: Sequence[str]) -> str:
    """ "in draft, in review or open for endorsement"."""
    phrases = [str(STATE_PHRASES.get(state, state)) for state in states]
    if len(phrases) < 2:
        return "".join(phrases)
    return _("%(states)s or %(last)s") % {"states": ", ".join(phrases[:-1]), "last": phrases[-1]}


def changed_meanwhile(proposal: Proposal) -> Reason:
    """Why a write is refused when the proposal (as locked now) changed after the actor saw it:
    its version or its state is not the one they acted on."""
    return Reason(
        "changed_meanwhile",
        _(
            "Someone changed this proposal while you were acting: it is now %(state)s. "
            "Reload it and try again."
        )
        % {"state": str(proposal.get_state_display()).lower()},
    )


class ProposalPolicy(workflow_policy.WorkflowPolicy):
    """The engine's view of the declarations above."""

    version_field = "version"

    def conflict_reason(self, obj: Any) -> str:
        return changed_meanwhile(obj)

    def label(self, name: str) -> str:
        return str(TRANSITIONS[name].label) if name in TRANSITIONS else name

    def validate(
        self, obj: Any, name: str, comment: str, arguments: dict[str, Any]
    ) -> tuple[dict[str, list[str]], dict[str, Any]]:
        form = TRANSITIONS[name].input(data={"comment": comment, **arguments})
        if not form.is_valid():
            return {field: [str(e) for e in errors] for field, errors in form.errors.items()}, {}
        return {}, {k: v for k, v in form.cleaned_data.items() if k != "comment"}

    def permission_reasons(self, obj: Any, name: str, actor: Any) -> list[str]:
        return list(TRANSITIONS[name].permission_reasons(obj, actor))

    def state_label(self, obj: Any) -> str:
        return str(obj.get_state_display()).lower()

    def state_reason(self, obj: Any, name: str) -> str:
        return Reason(
            "state",
            _("“%(action)s” is possible only when the proposal is %(sources)s; it is %(state)s.")
            % {
                "action": self.label(name),
                "sources": states_phrase(TRANSITIONS[name].sources),
                "state": self.state_label(obj),
            },
        )

    def condition_reasons(
        self, obj: Any, name: str, actor: Any, arguments: dict[str, Any], now: datetime
    ) -> list[str]:
        return list(TRANSITIONS[name].condition_reasons(obj, actor, now))

    def lock(self, obj: Any, *, visible_to: Any = None) -> Proposal:
        """The proposal locked, with what the rules read, in one query (with its visibility
        to `visible_to`, if given)."""
        locked = Proposal.objects.select_for_update(of=("self",))
        if visible_to is not None:
            locked = proposals_visible_to(visible_to, locked)
        locked = webhook_readers_annotate(proposals_with_rule_facts(locked))
        return rule_facts_kept(locked.get(pk=obj.pk))

    def prepare(
        self, obj: Any, name: str, actor: Any, comment: str, arguments: dict[str, Any]
    ) -> dict[str, Any]:
        obj.updated_at = timezone.now()
        return TRANSITIONS[name].before(ActionRun(obj, actor, comment, arguments))

    def update_fields(self, name: str) -> list[str]:
        return ["updated_at", *TRANSITIONS[name].changes]

    def entered(self, obj: Any, state: str, at: datetime) -> list[str]:
        """The proposal's milestone for `state` (MILESTONE_FIELDS), kept when first reached:
        the earliest log row into the state, which the forecast reads from the row."""
        name = MILESTONE_FIELDS.get(state)
        if name is None:
            return []
        reached = getattr(obj, name)
        if reached is not None and reached <= at:
            return []
        setattr(obj, name, at)
        return [name]

    def finish(
        self,
        obj: Any,
        name: str,
        actor: Any,
        comment: str,
        arguments: dict[str, Any],
        log: TransitionLog,
    ) -> list[Notice]:
        run = ActionRun(obj, actor, comment, arguments)
        notices = TRANSITIONS[name].after(run, log)
        notices += followers_told_of_transition(
            obj,
            name,
            actor,
            comment,
            told={notice.recipient_id for notice in notices},
            audience=run.audience(),
        )
        readers = webhook_readers_of(obj) if hasattr(obj, "webhook_endpoints") else None
        webhook_events_write(
            proposals=[obj],
            event=WebhookEvent.TRANSITION,
            details={"transition": name, "from": log.source, "to": log.target},
            occurred_at=log.at,
            readers=readers,
        )
        if name == RECORD_OUTCOME.name:
            webhook_events_write(
                readers=readers,
                proposals=[obj],
                event=WebhookEvent.OUTCOME,
                details={
                    "outcome": arguments["outcome"],
                    "decided_on": arguments["decided_on"].isoformat(),
                },
                occurred_at=log.at,
            )
        return notices


workflow_policy.register(Proposal, ProposalPolicy())
