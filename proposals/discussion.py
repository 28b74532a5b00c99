"""A proposal's discussion: comments in Markdown, replies one level deep, anchors on a paragraph of
a revision, @username mentions, edits with their history, deletion by the author and hiding by
the secretariat. Every write is one transaction with its audit row; notices leave through the
outbox.

Who is told what:

- `comment.mentioned`: each person named with @username who may see the proposal (other than
  the author). A mention of someone who may not see it (a draft of another organisation) is
  kept as a `Mention` but tells them nothing, now or later: a mention never reveals a draft.
  An unknown username is refused, so that a typo is not silently lost.
- `comment.posted`: the proposal's followers, and the author of the comment replied to, if they
  may see it, except the author and whoever was just told by a mention.
- `comment.hidden`: the author of a comment the secretariat hid, with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Lower
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from proposals import rules
from proposals.audited import audited
from proposals.following import proposal_follower_ids
from proposals.limits import DISCUSSION_COMMENT_MAX_LENGTH, NOTE_MAX_LENGTH
from proposals.markdown import markdown_to_html
from proposals.models import Comment, CommentEdit, Mention, Person, Proposal, Revision
from proposals.notices import notice_context
from proposals.selectors import people_who_may_view, roles_of
from workflow.audit import audit_record
from workflow.errors import Reason, RefusalKind, Refused
from workflow.policy import Notice
from workflow.services import deliveries_enqueue

EMAIL_PREFIX = "proposals/email/"
EXCERPT_LENGTH = 300  # characters of a comment quoted in a notice
CANDIDATES_LIMIT = 10  # people offered by the completion of a mention
BLANK_LINE = re.compile(r"\n[ \t]*\n")
# "@claire" after a space, a bracket or the start: not the "@" of an e-mail address. A username
# may hold letters, digits and . + - _ ; a final dot ends the sentence, not the name.
MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]*[\w+-])")
CODE = re.compile(r"<(pre|code)\b[^>]*>.*?</\1>", re.DOTALL)


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a Markdown text, numbered from 1 by their place in the list: the blocks
    of its source separated by blank lines, each stripped, empty ones left out."""
    blocks = BLANK_LINE.split((text or "").replace("\r\n", "\n").replace("\r", "\n"))
    return [block.strip() for block in blocks if block.strip()]


def mentioned_usernames(body_html: str) -> list[str]:
    """The usernames named with @ in a comment, in order, each once; code is not read."""
    text = strip_tags(CODE.sub(" ", body_html))
    seen: dict[str, str] = {}
    for name in MENTION.findall(text):
        seen.setdefault(name.lower(), name)
    return list(seen.values())


def comment_path(comment: Comment) -> str:
    """The comment's place on the proposal's page."""
    try:
        page = reverse("proposals:proposal_detail", args=[comment.proposal_id])
    except NoReverseMatch:
        page = f"/proposals/{comment.proposal_id}/"
    return f"{page}#comment-{comment.pk}"


# Checks


def _invalid(field: str, code: str, message: str) -> Refused:
    return Refused(RefusalKind.INVALID, [Reason(code, message)], {field: [message]})


def _body_check(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise _invalid("body", "comment_empty", _("Write the comment: it is empty."))
    if len(body) > DISCUSSION_COMMENT_MAX_LENGTH:
        raise _invalid(
            "body",
            "comment_too_long",
            _("A comment holds at most %(limit)d characters; this one has %(count)d.")
            % {"limit": DISCUSSION_COMMENT_MAX_LENGTH, "count": len(body)},
        )
    return body


def _view_check(proposal: Proposal, person: Any) -> None:
    if not rules.may_view(proposal, person):
        raise Refused(
            RefusalKind.PERMISSION,
            [Reason("not_found", _("Not found: it does not exist or you cannot see it."))],
        )


def _parent_check(proposal: Proposal, parent: Comment | None) -> None:
    if parent is None:
        return
    if parent.proposal_id != proposal.pk:
        raise _invalid(
            "parent", "comment_elsewhere", _("The comment you answer is not on this proposal.")
        )
    if parent.parent_id is not None:
        raise _invalid(
            "parent",
            "reply_to_reply",
            _("Replies go one level deep: answer the first comment of the thread instead."),
        )


def _anchor(
    proposal: Proposal, revision: Revision | None, paragraph: int | None, parent: Comment | None
) -> str:
    """The text of the paragraph the comment is about, or "" for a comment on the whole text."""
    if revision is None and paragraph is None:
        return ""
    if parent is not None:
        raise _invalid(
            "paragraph",
            "anchor_on_reply",
            _("A reply belongs to its thread: anchor the first comment, not the reply."),
        )
    if revision is None or paragraph is None:
        field = "revision" if revision is None else "paragraph"
        raise _invalid(
            field, "anchor_incomplete", _("An anchor names both a revision and a paragraph.")
        )
    if revision.proposal_id != proposal.pk:
        raise _invalid(
            "revision", "anchor_elsewhere", _("That revision belongs to another proposal.")
        )
    blocks = paragraphs(revision.text)
    if not blocks:
        raise _invalid(
            "paragraph",
            "paragraph_unknown",
            _("Revision %(number)d has no text: comment on the whole proposal instead.")
            % {"number": revision.number},
        )
    if not 1 <= paragraph <= len(blocks):
        raise _invalid(
            "paragraph",
            "paragraph_unknown",
            _("Revision %(number)d has no paragraph %(paragraph)d: choose one from 1 to %(count)d.")
            % {"number": revision.number, "count": len(blocks), "paragraph": paragraph},
        )
    return blocks[paragraph - 1]


def _mentioned_people(body_html: str) -> list[Person]:
    """The people named in the comment; an unknown username is refused, naming it."""
    names = mentioned_usernames(body_html)
    if not names:
        return []
    found = {
        person.username.lower(): person
        for person in Person.objects.annotate(lowered=Lower("username")).filter(
            lowered__in=[name.lower() for name in names]
        )
    }
    unknown = [name for name in names if name.lower() not in found]
    if unknown:
        message = _("Nobody here has the username %(names)s: check what follows the @.") % {
            "names": ", ".join(f"@{name}" for name in unknown)
        }
        raise _invalid("body", "mention_unknown", message)
    return [found[name.lower()] for name in names]


def _author_check(comment: Comment, person: Any, refusal: str) -> None:
    if comment.author_id != getattr(person, "pk", None):
        raise Refused(RefusalKind.PERMISSION, [Reason("not_comment_author", refusal)])


def _gone_check(comment: Comment, *, hidden_too: bool) -> None:
    if comment.deleted_at is not None:
        raise Refused(
            RefusalKind.STATE,
            [Reason("comment_deleted", _("This comment was deleted: it can no longer change."))],
        )
    if hidden_too and comment.hidden_at is not None:
        raise Refused(
            RefusalKind.STATE,
            [
                Reason(
                    "comment_hidden",
                    _("The secretariat hid this comment: it can no longer change."),
                )
            ],
        )


# Notices


def _excerpt(body: str) -> str:
    body = " ".join(body.split())
    return body if len(body) <= EXCERPT_LENGTH else body[: EXCERPT_LENGTH - 1] + "…"


def _notices(
    comment: Comment, event: str, recipients: set[int], actor: Any, *, essential: bool, **more: Any
) -> list[Notice]:
    """One notice per active person told, the actor aside (how news reaches each person, by
    email, in the pages or not at all, the outbox decides by their choices)."""
    people = Person.objects.filter(pk__in=recipients - {getattr(actor, "pk", None)}, is_active=True)
    told = sorted(people.values_list("pk", flat=True))
    if not told:
        return []
    context = {
        **notice_context(comment.proposal, event, actor),
        "comment_id": comment.pk,
        "anchor": f"comment-{comment.pk}",
        "path": comment_path(comment),
        "excerpt": _excerpt(comment.body),
        "is_reply": comment.parent_id is not None,
        **more,
    }
    return [
        Notice(
            recipient_id=person_id,
            template=f"{EMAIL_PREFIX}{event}",
            context=context,
            essential=essential,
            event=f"comment.{event.removeprefix('comment_')}",
        )
        for person_id in told
    ]


def _mentions_tell(comment: Comment, people: list[Person], actor: Any) -> set[int]:
    """Tell the newly mentioned people who may see the proposal; the ids told."""
    allowed = people_who_may_view(comment.proposal, {person.pk for person in people})
    notices = _notices(comment, "comment_mentioned", allowed, actor, essential=False)
    deliveries_enqueue(notices, key_prefix=f"comment{comment.pk}-mention", about=comment.proposal)
    return {notice.recipient_id for notice in notices}


# Writes


@audited("comment.created")
def comment_create(
    *,
    proposal: Proposal,
    author: Person,
    body: str,
    parent: Comment | None = None,
    revision: Revision | None = None,
    paragraph: int | None = None,
    request: Any = None,
) -> Comment:
    """A comment on the proposal, a reply to one of its comments, or a comment on one paragraph
    of one of its revisions; mentioned people and followers are told."""
    _view_check(proposal, author)
    body = _body_check(body)
    _parent_check(proposal, parent)
    quoted = _anchor(proposal, revision, paragraph, parent)
    body_html = markdown_to_html(body)
    mentioned = _mentioned_people(body_html)
    with transaction.atomic():
        now = timezone.now()
        comment = Comment.objects.create(
            proposal=proposal,
            author=author,
            parent=parent,
            body=body,
            body_html=body_html,
            revision=revision,
            paragraph=paragraph if revision is not None else None,
            quoted=quoted,
            created_at=now,
        )
        Mention.objects.bulk_create([Mention(comment=comment, person=p) for p in mentioned])
        audit_record(
            action="comment.created",
            actor=author,
            obj=comment,
            after={
                "proposal": proposal.pk,
                "parent": parent.pk if parent else None,
                "revision": revision.number if revision else None,
                "paragraph": comment.paragraph,
                "mentions": sorted(person.pk for person in mentioned),
            },
            request=request,
            now=now,
        )
        told = _mentions_tell(comment, mentioned, author)
        followers = proposal_follower_ids(proposal)
        if parent is not None:
            followers |= people_who_may_view(proposal, {parent.author_id})
        deliveries_enqueue(
            _notices(comment, "comment_posted", followers - told, author, essential=False),
            key_prefix=f"comment{comment.pk}-posted",
            about=proposal,
        )
    return comment


def _locked(comment: Comment) -> Comment:
    return (
        Comment.objects.select_for_update(of=("self",))
        .select_related("proposal", "author")
        .get(pk=comment.pk)
    )


@audited("comment.edited")
def comment_edit(*, comment: Comment, editor: Person, body: str, request: Any = None) -> Comment:
    """Its author rewrites the comment; the text it had is kept as an edit. People mentioned
    for the first time are told."""
    _author_check(comment, editor, _("Only its author can edit a comment."))
    body = _body_check(body)
    body_html = markdown_to_html(body)
    mentioned = _mentioned_people(body_html)
    with transaction.atomic():
        locked = _locked(comment)
        _author_check(locked, editor, _("Only its author can edit a comment."))
        _gone_check(locked, hidden_too=True)
        _view_check(locked.proposal, editor)
        if body == locked.body:
            return locked
        now = timezone.now()
        edit = CommentEdit.objects.create(comment=locked, body=locked.body, replaced_at=now)
        locked.body, locked.body_html, locked.edited_at = body, body_html, now
        locked.save(update_fields=["body", "body_html", "edited_at"])
        before = set(locked.mentions.values_list("person_id", flat=True))
        wanted = {person.pk for person in mentioned}
        locked.mentions.exclude(person_id__in=wanted).delete()
        new = [person for person in mentioned if person.pk not in before]
        Mention.objects.bulk_create([Mention(comment=locked, person=p) for p in new])
        audit_record(
            action="comment.edited",
            actor=editor,
            obj=locked,
            before={"edit": edit.pk, "mentions": sorted(before)},
            after={"mentions": sorted(wanted)},
            request=request,
            now=now,
        )
        _mentions_tell(locked, new, editor)
    return locked


@audited("comment.deleted")
def comment_delete(*, comment: Comment, actor: Person, request: Any = None) -> Comment:
    """Its author deletes the comment: the thread shows that a comment was deleted there, its
    text is no longer shown (its edits are kept for the audit)."""
    _author_check(comment, actor, _("Only its author can delete a comment."))
    with transaction.atomic():
        locked = _locked(comment)
        _gone_check(locked, hidden_too=False)
        _view_check(locked.proposal, actor)
        locked.deleted_at = timezone.now()
        locked.save(update_fields=["deleted_at"])
        audit_record(
            action="comment.deleted",
            actor=actor,
            obj=locked,
            request=request,
            now=locked.deleted_at,
        )
    return locked


@audited("comment.hidden")
def comment_hide(*, comment: Comment, actor: Person, reason: str, request: Any = None) -> Comment:
    """The secretariat hides a comment, saying why; the page shows the reason instead of the
    text, and its author is told."""
    roles = roles_of(actor)
    if not roles.secretariat_or_superuser:
        raise Refused(
            RefusalKind.PERMISSION,
            [Reason("not_secretariat", _("Only the secretariat can hide a comment."))],
        )
    reason = (reason or "").strip()
    if not reason:
        raise _invalid("reason", "reason_missing", _("Say why the comment is hidden."))
    if len(reason) > NOTE_MAX_LENGTH:
        raise _invalid(
            "reason",
            "reason_too_long",
            _("Say why in at most %(limit)d characters.") % {"limit": NOTE_MAX_LENGTH},
        )
    with transaction.atomic():
        locked = _locked(comment)
        _gone_check(locked, hidden_too=True)
        now = timezone.now()
        locked.hidden_at, locked.hidden_by, locked.hidden_reason = now, actor, reason
        locked.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
        audit_record(
            action="comment.hidden",
            actor=actor,
            obj=locked,
            subject=locked.author,
            after={"reason": reason},
            request=request,
            now=now,
        )
        deliveries_enqueue(
            _notices(
                locked,
                "comment_hidden",
                people_who_may_view(locked.proposal, {locked.author_id}),
                actor,
                essential=True,
                reason=reason,
            ),
            key_prefix=f"comment{locked.pk}-hidden",
            about=locked.proposal,
        )
    return locked


# Reads


def comments_of(proposal: Proposal) -> QuerySet[Comment]:
    """The proposal's comments and replies, oldest first, with what a thread shows (three
    queries whatever their number: the comments, their edits, their mentions)."""
    return (
        Comment.objects.filter(proposal=proposal)
        .select_related("author", "hidden_by", "revision", "parent")
        .prefetch_related(
            Prefetch("edits", queryset=CommentEdit.objects.order_by("replaced_at", "id")),
            Prefetch("mentions", queryset=Mention.objects.select_related("person")),
        )
        .order_by("created_at", "id")
    )


@dataclass
class Thread:
    """A comment and its replies, oldest first."""

    comment: Comment
    replies: list[Comment]

    @property
    def at(self) -> Any:
        return self.comment.created_at


def threads_of(proposal: Proposal) -> list[Thread]:
    """The proposal's discussion, thread by thread, in the order they began."""
    threads: dict[int, Thread] = {}
    replies: list[Comment] = []
    for comment in comments_of(proposal):
        if comment.parent_id is None:
            threads[comment.pk] = Thread(comment, [])
        else:
            replies.append(comment)
    for reply in replies:
        if reply.parent_id in threads:
            threads[reply.parent_id].replies.append(reply)
    return list(threads.values())


def comment_outdated(comment: Comment, proposal: Proposal) -> bool:
    """An anchored comment is outdated once the proposal's text has a newer revision."""
    return comment.revision is not None and comment.revision.number != proposal.revision


def mention_candidates(
    proposal: Proposal, prefix: str, limit: int = CANDIDATES_LIMIT
) -> list[Person]:
    """Active people who may see the proposal whose username begins with `prefix`, by username:
    who a comment may mention and be heard."""
    prefix = prefix.strip().lstrip("@")
    ids = Person.objects.filter(is_active=True, username__istartswith=prefix).values_list(
        "pk", flat=True
    )
    allowed = people_who_may_view(proposal, ids)
    return list(Person.objects.filter(pk__in=allowed).order_by("username")[:limit])
