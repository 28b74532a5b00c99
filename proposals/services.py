"""Every write on proposals and occasions that is not a transition: one transaction each."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals import rules
from proposals.audited import audited
from proposals.following import (
    followers_told_of_deadline_move,
    followers_told_of_revision,
    follows_automatic,
)
from proposals.lifecycle import ENDORSE, TRANSITIONS, WITHDRAW_ENDORSEMENT, changed_meanwhile
from proposals.markdown import markdown_to_html
from proposals.models import (
    Body,
    DeadlineChange,
    Endorsement,
    Language,
    Occasion,
    Organization,
    Person,
    Proposal,
    Revision,
    Theme,
    WebhookEvent,
    new_calendar_token,
)
from proposals.notices import quorum_notices
from proposals.notifications import webhook_events_write
from proposals.search import search_document_refresh
from proposals.security import security_event_record
from proposals.selectors import co_author_candidates, proposals_with_rule_data, roles_of
from workflow.audit import audit_record, changed_fields
from workflow.errors import RefusalKind, Refused
from workflow.services import STATE_NOT_SEEN as STATE_NOT_SEEN
from workflow.services import TransitionResult, action_log, deliveries_enqueue, transition_run

TEXT_FIELDS = ("title", "summary", "text")


def _co_authors_check(co_authors: list[Person]) -> None:
    """Refuse co-authors who are not drafters, naming each one."""
    if not co_authors:
        return
    drafter_ids = set(
        co_author_candidates()
        .filter(pk__in=[person.pk for person in co_authors])
        .values_list("pk", flat=True)
    )
    reasons = rules.co_author_reasons(co_authors, drafter_ids)
    if reasons:
        raise Refused(RefusalKind.INVALID, reasons, {"co_authors": reasons})


def _lock(proposal: Proposal) -> Proposal:
    return proposals_with_rule_data(Proposal.objects.select_for_update(of=("self",))).get(
        pk=proposal.pk
    )


def _seen_check(locked: Proposal, seen_version: int | None) -> None:
    """Refuse a write on a proposal whose version moved on since the actor saw it (checked
    after the conditions: if the write cannot be done anyway, their reasons say more)."""
    if seen_version is not None and locked.version != seen_version:
        raise Refused(RefusalKind.CONFLICT, [changed_meanwhile(locked)])


def _version_raise(locked: Proposal) -> None:
    """What the proposal shows changed: one more version (the row is locked)."""
    locked.version += 1
    locked.save(update_fields=["version"])


@audited("create", log="transition")
def proposal_create(
    *,
    author: Person,
    title: str,
    summary: str = "",
    text: str = "",
    lead_organization: Organization | None = None,
    target_body: Body | None = None,
    occasion: Occasion | None = None,
    themes: Iterable[Theme] = (),
    language: str | None = None,
    co_authors: Iterable[Person] = (),
) -> Proposal:
    """A new draft with its first revision; its lead is one of the author's organisations."""
    roles = roles_of(author)
    reasons = rules.create_reasons(author, lead_organization.pk if lead_organization else None)
    if reasons:
        raise Refused(RefusalKind.PERMISSION, reasons)
    co_authors = list(co_authors)
    _co_authors_check([person for person in co_authors if person.pk != author.pk])
    if lead_organization is None:
        lead_organization = Organization.objects.get(pk=min(roles.drafter_organization_ids))
    text_html = markdown_to_html(text)  # before the transaction: rendering holds no lock
    with transaction.atomic():
        now = timezone.now()
        proposal = Proposal.objects.create(
            title=title,
            summary=summary,
            text=text,
            text_html=text_html,
            lead_organization=lead_organization,
            created_by=author,
            target_body=target_body,
            occasion=occasion,
            language=language or author.language or Language.ENGLISH,
            created_at=now,
            updated_at=now,
            reached_draft_at=now,  # the creation's log row below
        )
        proposal.authors.add(author, *co_authors)
        proposal.contributors.add(author, *co_authors)
        follows_automatic(proposal=proposal, person_ids=[author.pk, *(p.pk for p in co_authors)])
        proposal.themes.set(list(themes))
        Revision.objects.create(
            proposal=proposal,
            number=1,
            title=title,
            summary=summary,
            text=text,
            author=author,
            created_at=now,
        )
        action_log(obj=proposal, action="create", actor=author, source="", now=now)
        search_document_refresh(proposal_ids=[proposal.pk])
    return proposal


@audited("proposal.edited")
def proposal_update(
    *,
    proposal: Proposal,
    editor: Person,
    expected_revision: int | None = None,
    seen_version: int | None = None,
    themes: Iterable[Theme] | None = None,
    co_authors: Iterable[Person] | None = None,
    **fields: Any,
) -> Proposal:
    """Save an edit of a draft; a change of title, summary or text is a new revision. An edit
    that changes nothing writes nothing: the proposal keeps its version.

    With `expected_revision`, an edit made on an older revision is refused rather than
    silently overwriting someone else's newer text; with `seen_version`, so is an edit of a
    proposal whose version moved on since the editor read it.
    """
    allowed = {"title", "summary", "text", "target_body", "occasion", "language"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"Cannot edit {', '.join(sorted(unknown))}.")
    if co_authors is not None:
        co_authors = list(co_authors)
        already = {*_creator_kept(proposal), editor.pk}
        _co_authors_check([person for person in co_authors if person.pk not in already])
    # Rendered before the row lock is taken, so that no one waits on it while it renders.
    text_html = markdown_to_html(fields["text"]) if "text" in fields else None
    with transaction.atomic():
        locked = _lock(proposal)
        reasons = rules.edit_permission_reasons(locked, editor)
        if reasons:
            raise Refused(RefusalKind.PERMISSION, reasons)
        reasons = rules.edit_state_reasons(locked)
        if reasons:
            raise Refused(RefusalKind.STATE, reasons)
        if expected_revision is not None and expected_revision != locked.revision:
            raise Refused(
                RefusalKind.CONFLICT,
                [
                    _(
                        "Someone saved revision %(number)s while you were editing revision "
                        "%(expected)s. Compare the two versions, then keep yours, merge them or "
                        "take theirs."
                    )
                    % {"number": locked.revision, "expected": expected_revision}
                ],
            )
        _seen_check(locked, seen_version)
        text_changed = any(
            name in fields and fields[name] != getattr(locked, name) for name in TEXT_FIELDS
        )
        before = _edit_facts(locked)
        if themes is not None:
            themes = list(themes)
        if not _edit_changes(locked, editor, fields, themes, co_authors, before):
            return proposals_with_rule_data().get(pk=locked.pk)  # nothing written, same version
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.version += 1
        update_fields = [*fields, "revision", "updated_at", "version"]
        if text_html is not None:
            locked.text_html = text_html
            update_fields.append("text_html")
        now = timezone.now()
        locked.updated_at = now
        if text_changed:
            locked.revision += 1
            Revision.objects.create(
                proposal=locked,
                number=locked.revision,
                title=locked.title,
                summary=locked.summary,
                text=locked.text,
                author=editor,
                created_at=now,
            )
        locked.save(update_fields=update_fields)
        if text_changed:
            webhook_events_write(
                proposals=[locked],
                event=WebhookEvent.REVISION,
                details={"revision": locked.revision},
                occurred_at=now,
            )
        if themes is not None:
            locked.themes.set(list(themes))
        author_ids = rules.author_ids(locked)
        if co_authors is not None:
            author_ids = {*_creator_kept(locked), editor.pk, *(p.pk for p in co_authors)}
            locked.authors.set(author_ids)
        # Whoever is or was an author, or wrote a revision, may never review this proposal.
        locked.contributors.add(editor.pk, *author_ids)
        follows_automatic(proposal=locked, person_ids=author_ids)
        if text_changed:
            followers_told_of_revision(locked, editor, now)
        search_document_refresh(proposal_ids=[locked.pk])
        changed_before, changed_after = changed_fields(
            before,
            {
                **_edit_facts(locked),
                "themes": sorted(t.pk for t in themes) if themes is not None else before["themes"],
                "authors": sorted(author_ids),
            },
        )
        if changed_after:
            audit_record(
                action="proposal.edited",
                actor=editor,
                obj=locked,
                before=changed_before,
                after=changed_after,
                now=now,
            )
    return proposals_with_rule_data().get(pk=locked.pk)


def _creator_kept(proposal: Proposal) -> set[int]:
    """The creator stays an author through every edit, unless they no longer are one (they
    left the group and handed the proposal over: proposals.departures)."""
    return {proposal.created_by_id} & rules.author_ids(proposal)


def _edit_changes(
    proposal: Proposal,
    editor: Person,
    fields: dict[str, Any],
    themes: list[Theme] | None,
    co_authors: list[Person] | None,
    before: dict[str, Any],
) -> bool:
    """Whether an edit changes anything of the proposal: a field, its themes or its authors."""
    if any(getattr(proposal, name) != value for name, value in fields.items()):
        return True
    if themes is not None and sorted(theme.pk for theme in themes) != before["themes"]:
        return True
    if co_authors is not None:
        authors = {*_creator_kept(proposal), editor.pk, *(person.pk for person in co_authors)}
        return sorted(authors) != before["authors"]
    return False


def _edit_facts(proposal: Proposal) -> dict[str, Any]:
    """What an edit may change, as the audit trail keeps it (the text by its revision number)."""
    return {
        "revision": proposal.revision,
        "target_body": proposal.target_body_id,
        "occasion": proposal.occasion_id,
        "language": proposal.language,
        "themes": sorted(theme.pk for theme in proposal.themes.all()),
        "authors": sorted(rules.author_ids(proposal)),
    }


def endorsement_check(
    *, proposal: Proposal, person: Person, organization: Organization | None = None
) -> int:
    """The organisation that would endorse, or the refusal, read without a lock: faces ask it
    before they ask the representative to confirm who they are."""
    roles = roles_of(person)
    organization_id = organization.pk if organization else None
    reasons = ENDORSE.permission_reasons(proposal, person, organization_id=organization_id)
    if reasons:
        raise Refused(RefusalKind.PERMISSION, reasons)
    if organization_id is None:
        if len(roles.representative_organization_ids) > 1:
            raise Refused(
                RefusalKind.INVALID,
                [_("You represent several organisations: say which one endorses.")],
                {"organization": [_("Choose the organisation that endorses.")]},
            )
        (organization_id,) = roles.representative_organization_ids
    reasons = ENDORSE.condition_reasons(
        proposal, person, timezone.now(), organization_id=organization_id
    )
    if reasons:
        raise Refused(RefusalKind.CONDITION, reasons)
    return organization_id


def _endorsement_webhooks(proposal: Proposal, action: str, organization: Organization) -> None:
    webhook_events_write(
        proposals=[proposal],
        event=WebhookEvent.ENDORSEMENT,
        details={
            "action": action,
            "organization_id": organization.pk,
            "organization": str(organization),
        },
    )


@audited("endorse", log="transition")
def endorsement_create(
    *,
    proposal: Proposal,
    person: Person,
    organization: Organization | None = None,
    seen_version: int | None = None,
) -> Endorsement:
    """The person's organisation signs the proposal; the secretariat learns of a reached quorum.

    With `seen_version`, the version of the proposal the person acted on, an endorsement of a
    proposal that changed since is refused as a conflict."""
    organization_id = endorsement_check(proposal=proposal, person=person, organization=organization)
    with transaction.atomic():
        locked = _lock(proposal)
        if locked.state != proposal.state:
            raise Refused(RefusalKind.CONFLICT, [changed_meanwhile(locked)])
        reasons = ENDORSE.condition_reasons(
            locked, person, timezone.now(), organization_id=organization_id
        )
        if reasons:
            raise Refused(RefusalKind.CONDITION, reasons)
        _seen_check(locked, seen_version)
        before = rules.endorsements_counted(locked)
        try:
            with transaction.atomic():
                endorsement = Endorsement.objects.create(
                    proposal=locked, organization_id=organization_id, endorsed_by=person
                )
        except IntegrityError:
            raise Refused(
                RefusalKind.CONFLICT, [_("Your organisation has already endorsed this proposal.")]
            ) from None
        _version_raise(locked)
        follows_automatic(proposal=locked, person_ids=[person.pk])
        action_log(
            obj=locked, action="endorse", actor=person, data={"organization": organization_id}
        )
        _endorsement_webhooks(locked, "endorse", endorsement.organization)
        quorum = rules.endorsement_quorum(locked)
        if before < quorum <= before + 1 and endorsement.organization.is_full_member:
            deliveries_enqueue(
                quorum_notices(locked, person),
                key_prefix=f"quorum{locked.pk}-{endorsement.pk}",
                about=locked,
            )
    return endorsement


@audited("withdraw_endorsement", log="transition")
def endorsement_withdraw(
    *, endorsement: Endorsement, person: Person, seen_version: int | None = None
) -> Endorsement:
    """The endorsement stops counting; its row stays as history. With `seen_version`, a
    withdrawal from a proposal that changed since the person saw it is refused as a conflict."""
    reasons = WITHDRAW_ENDORSEMENT.permission_reasons(
        endorsement.proposal, person, endorsement=endorsement
    )
    if reasons:
        raise Refused(RefusalKind.PERMISSION, reasons)
    with transaction.atomic():
        locked_proposal = _lock(endorsement.proposal)
        locked = Endorsement.objects.select_for_update().get(pk=endorsement.pk)
        reasons = WITHDRAW_ENDORSEMENT.condition_reasons(
            locked_proposal, person, timezone.now(), endorsement=locked
        )
        if reasons:
            raise Refused(RefusalKind.CONDITION, reasons)
        _seen_check(locked_proposal, seen_version)
        locked.withdrawn_at = timezone.now()
        locked.withdrawn_by = person
        locked.save(update_fields=["withdrawn_at", "withdrawn_by"])
        _version_raise(locked_proposal)
        action_log(
            obj=locked_proposal,
            action="withdraw_endorsement",
            actor=person,
            data={"organization": locked.organization_id},
        )
        _endorsement_webhooks(locked_proposal, "withdraw_endorsement", locked.organization)
    return locked


@audited("occasion.deadline_moved")
def occasion_move_deadline(
    *, occasion: Occasion, new_deadline: datetime, actor: Person | None, reason: str = ""
) -> Occasion:
    """Record the move and start a new deadline version, which has reminders of its own."""
    if actor is not None and not roles_of(actor).secretariat and not actor.is_superuser:
        raise Refused(RefusalKind.PERMISSION, [_("Only the secretariat can move a deadline.")])
    if timezone.is_naive(new_deadline):
        raise Refused(
            RefusalKind.INVALID,
            [_("Give the new deadline with its time zone.")],
            {"submission_deadline": [_("Give the new deadline with its time zone.")]},
        )
    with transaction.atomic():
        locked = Occasion.objects.select_for_update().get(pk=occasion.pk)
        if locked.submission_deadline == new_deadline:
            return locked
        change = DeadlineChange.objects.create(
            occasion=locked,
            old_deadline=locked.submission_deadline,
            new_deadline=new_deadline,
            version=locked.deadline_version + 1,
            changed_by=actor,
            reason=reason,
        )
        locked_previous = locked.submission_deadline
        audit_record(
            action="occasion.deadline_moved",
            actor=actor,
            obj=locked,
            before={"submission_deadline": locked.submission_deadline},
            after={"submission_deadline": new_deadline, "reason": reason},
        )
        locked.submission_deadline = new_deadline
        locked.deadline_version += 1
        locked.save(update_fields=["submission_deadline", "deadline_version"])
        # Its proposals show the deadline: each is one version further.
        Proposal.objects.filter(occasion=locked).update(version=F("version") + 1)
        followers_told_of_deadline_move(change, actor)
        webhook_events_write(
            proposals=Proposal.objects.filter(occasion=locked).order_by("pk"),
            event=WebhookEvent.DEADLINE_MOVED,
            details={
                "occasion_id": locked.pk,
                "deadline": new_deadline.isoformat(),
                "previous_deadline": locked_previous.isoformat(),
            },
        )
    return locked


@audited("person.calendar_link_renewed")
def calendar_token_regenerate(*, person: Person, actor: Any = None) -> str:
    """Give the person a new secret calendar link; the old link stops working at once. The
    actor is the person, unless someone else renews it (a departure)."""
    with transaction.atomic():
        person.calendar_token = new_calendar_token()
        person.save(update_fields=["calendar_token"])
        security_event_record(
            action="person.calendar_link_renewed",
            subject=person,
            actor=person if actor is None else actor,
            notify=False,
        )
    return person.calendar_token


@audited(*TRANSITIONS, log="transition")
def proposal_transition_run(
    *,
    proposal: Proposal,
    name: str,
    actor: Any,
    comment: str = "",
    arguments: dict[str, Any] | None = None,
    now: datetime | None = None,
    seen_version: int | None = None,
    seen_state: str | None = None,
    only_if_visible: bool = False,
) -> TransitionResult:
    """Run one of the transitions the lifecycle declares, through the engine: row lock, checks
    that explain refusals, the state change, its log row and its notices, in one transaction.

    `seen_version` (and `seen_state`, by default the state of `proposal`) say what the actor
    acted on: if the proposal moved on since, the transition is refused as a conflict. With
    `only_if_visible`, a proposal the actor may not see is Proposal.DoesNotExist, read in the
    row lock's query: a face that has not read the proposal passes `Proposal(pk=...)` and
    `seen_state=STATE_NOT_SEEN`. The proposal returned holds what the rules read, the
    transition's writes included: faces answer with it without reading it again."""
    return transition_run(
        obj=proposal,
        name=name,
        actor=actor,
        comment=comment,
        arguments=arguments,
        now=now,
        seen_version=seen_version,
        seen_state=seen_state,
        only_if_visible=only_if_visible,
    )
