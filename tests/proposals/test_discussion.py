"""The discussion's services: comments, replies, anchors, mentions, edits, deletion, hiding, and
who is told of each (never someone who may not see the proposal)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from proposals.discussion import (
    comment_create,
    comment_delete,
    comment_edit,
    comment_hide,
    comment_outdated,
    mention_candidates,
    mentioned_usernames,
    paragraphs,
    threads_of,
)
from proposals.limits import DISCUSSION_COMMENT_MAX_LENGTH
from proposals.markdown import markdown_to_html
from proposals.models import Comment, CommentEdit, Follow, Mention, Proposal, ProposalState
from proposals.services import proposal_update
from tests.factories import Group, proposal_draft
from tests.proposals.api.helpers import fresh, proposal_in
from workflow.emails import delivery_message
from workflow.errors import RefusalKind, Refused
from workflow.models import AuditEvent, Delivery

pytestmark = pytest.mark.django_db

TEXT = "# Aims\n\nArticle 1 sets up the fund.\n\n  \nArticle 2 funds\ncooperatives.\n"


def in_review(group: Group) -> Proposal:
    return proposal_in(group, ProposalState.IN_REVIEW, text=TEXT)


def told(event: str) -> set[str]:
    return set(emails().filter(event=event).values_list("recipient__username", flat=True))


def emails() -> Any:
    return Delivery.objects.filter(channel=Delivery.Channel.EMAIL)


def refusal(call: Any) -> Refused:
    with pytest.raises(Refused) as caught:
        call()
    return caught.value


def test_paragraphs_are_the_blocks_of_the_source_between_blank_lines() -> None:
    assert paragraphs(TEXT) == [
        "# Aims",
        "Article 1 sets up the fund.",
        "Article 2 funds\ncooperatives.",
    ]
    assert paragraphs("") == []
    assert paragraphs("One.\r\n\r\nTwo.") == ["One.", "Two."]


def test_mentions_are_read_outside_code_and_email_addresses() -> None:
    html = markdown_to_html("Hi @claire, @rita. Mail sam@example.org; `@nobody`\n\n    @ines")
    assert mentioned_usernames(html) == ["claire", "rita"]


def test_a_comment_and_its_reply_make_one_thread(group: Group) -> None:
    proposal = in_review(group)
    first = comment_create(proposal=proposal, author=group.reviewer, body="Why **2**?")
    reply = comment_create(proposal=proposal, author=group.drafter, body="Because.", parent=first)
    assert first.body_html == "<p>Why <strong>2</strong>?</p>\n"
    [thread] = threads_of(proposal)
    assert (thread.comment, thread.replies) == (first, [reply])
    event = AuditEvent.objects.get(action="comment.created", object_id=str(reply.pk))
    assert event.actor == group.drafter and event.after["parent"] == first.pk


def test_the_markdown_of_a_comment_is_sanitised_as_the_text_is(group: Group) -> None:
    proposal = in_review(group)
    body = '<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror="a()">'
    comment = comment_create(proposal=proposal, author=group.reviewer, body=body)
    assert comment.body_html == markdown_to_html(body)
    assert "<script" not in comment.body_html and 'href="javascript' not in comment.body_html
    assert "<img" not in comment.body_html  # raw HTML is shown as text, never as markup


def test_a_reply_to_a_reply_is_refused_and_nothing_is_written(group: Group) -> None:
    proposal = in_review(group)
    first = comment_create(proposal=proposal, author=group.reviewer, body="Why?")
    reply = comment_create(proposal=proposal, author=group.drafter, body="Because.", parent=first)
    refused = refusal(
        lambda: comment_create(proposal=proposal, author=group.reviewer, body="No.", parent=reply)
    )
    assert refused.kind == RefusalKind.INVALID and refused.codes == ["reply_to_reply"]
    assert "one level deep" in refused.errors["parent"][0]
    assert Comment.objects.count() == 2


def test_a_comment_is_anchored_to_a_paragraph_and_outdated_when_the_text_changes(
    group: Group,
) -> None:
    proposal = proposal_draft(group, text=TEXT)
    revision = proposal.revisions.get(number=1)
    comment = comment_create(
        proposal=proposal,
        author=group.co_drafter,
        body="Which fund?",
        revision=revision,
        paragraph=2,
    )
    assert (comment.paragraph, comment.quoted) == (2, "Article 1 sets up the fund.")
    assert not comment_outdated(comment, fresh(proposal))
    proposal_update(proposal=fresh(proposal), editor=group.drafter, text="Rewritten.")
    assert comment_outdated(Comment.objects.get(pk=comment.pk), fresh(proposal))
    assert Comment.objects.get(pk=comment.pk).quoted == "Article 1 sets up the fund."


@pytest.mark.parametrize(
    ("paragraph", "code", "field"),
    [(4, "paragraph_unknown", "paragraph"), (0, "paragraph_unknown", "paragraph")],
)
def test_an_anchor_to_a_paragraph_that_does_not_exist_is_refused(
    group: Group, paragraph: int, code: str, field: str
) -> None:
    proposal = in_review(group)
    refused = refusal(
        lambda: comment_create(
            proposal=proposal,
            author=group.reviewer,
            body="Here.",
            revision=proposal.revisions.get(number=1),
            paragraph=paragraph,
        )
    )
    assert refused.codes == [code]
    assert refused.errors[field] == [
        f"Revision 1 has no paragraph {paragraph}: choose one from 1 to 3."
    ]
    assert not Comment.objects.exists()


def test_an_anchor_to_a_revision_of_another_proposal_is_refused(group: Group) -> None:
    proposal, other = in_review(group), in_review(group)
    refused = refusal(
        lambda: comment_create(
            proposal=proposal,
            author=group.reviewer,
            body="Here.",
            revision=other.revisions.get(number=1),
            paragraph=1,
        )
    )
    assert refused.codes == ["anchor_elsewhere"] and "revision" in refused.errors
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "comment_empty"),
        ("  \n ", "comment_empty"),
        ("x" * (DISCUSSION_COMMENT_MAX_LENGTH + 1), "comment_too_long"),
    ],
)
def test_an_empty_or_too_long_comment_is_refused(group: Group, body: str, code: str) -> None:
    proposal = in_review(group)
    refused = refusal(lambda: comment_create(proposal=proposal, author=group.reviewer, body=body))
    assert refused.codes == [code] and "body" in refused.errors
    assert not Comment.objects.exists()


def test_nobody_comments_on_a_proposal_they_cannot_see(group: Group) -> None:
    draft = proposal_draft(group)
    refused = refusal(
        lambda: comment_create(proposal=draft, author=group.representative_ma, body="Hello.")
    )
    assert refused.kind == RefusalKind.PERMISSION
    assert not Comment.objects.exists()


def test_a_mention_of_an_unknown_person_is_refused_naming_it(group: Group) -> None:
    proposal = in_review(group)
    deliveries = Delivery.objects.count()
    refused = refusal(
        lambda: comment_create(proposal=proposal, author=group.reviewer, body="@claire and @clara?")
    )
    assert refused.codes == ["mention_unknown"]
    assert refused.errors["body"] == [
        "Nobody here has the username @clara: check what follows the @."
    ]
    assert not Comment.objects.exists() and Delivery.objects.count() == deliveries


def test_mentioned_people_and_followers_are_told_once_each(group: Group) -> None:
    proposal = in_review(group)
    for person in (group.drafter, group.reviewer, group.representative_lu):
        Follow.objects.create(person=person, proposal=proposal)
    comment = comment_create(
        proposal=proposal, author=group.reviewer, body="@Claire, @ines: what about article 2?"
    )
    assert set(
        Mention.objects.filter(comment=comment).values_list("person__username", flat=True)
    ) == {
        "claire",
        "ines",
    }
    assert told("comment.mentioned") == {"claire", "ines"}
    assert told("comment.posted") == {"lena"}  # not the author, not those already mentioned
    pages = Delivery.objects.filter(channel=Delivery.Channel.PAGE, event__startswith="comment.")
    assert sorted(pages.values_list("recipient__username", flat=True)) == ["claire", "ines", "lena"]
    row = emails().get(event="comment.mentioned", recipient=group.drafter)
    assert row.context["path"] == f"/proposals/{proposal.pk}/#comment-{comment.pk}"


def test_the_author_of_the_comment_answered_is_told_of_the_reply(group: Group) -> None:
    proposal = in_review(group)
    first = comment_create(proposal=proposal, author=group.reviewer, body="Why?")
    comment_create(proposal=proposal, author=group.drafter, body="Because.", parent=first)
    assert told("comment.posted") == {"rita"}


def test_a_mention_in_a_draft_of_someone_who_may_not_see_it_tells_them_nothing(
    group: Group,
) -> None:
    """Youssef (Morocco) may not see France's draft: the mention is kept, and no row of any
    channel (email, page, digest) is written for him, now or when the comment is edited."""
    draft = proposal_draft(group)
    Follow.objects.create(person=group.representative_ma, proposal=draft)
    comment = comment_create(
        proposal=draft, author=group.drafter, body="@youssef should read this, and @pierre."
    )
    comment_edit(comment=comment, editor=group.drafter, body="@youssef, @pierre: read this.")
    assert Mention.objects.filter(comment=comment, person=group.representative_ma).exists()
    assert not Delivery.objects.filter(recipient=group.representative_ma).exists()
    assert told("comment.mentioned") == {"pierre"}


def test_an_edit_keeps_the_earlier_text_and_tells_only_the_newly_mentioned(group: Group) -> None:
    proposal = in_review(group)
    comment = comment_create(proposal=proposal, author=group.reviewer, body="Ask @claire.")
    edited = comment_edit(comment=comment, editor=group.reviewer, body="Ask @claire and @ines.")
    assert edited.edited_at is not None and edited.body_html.startswith("<p>Ask @claire and")
    assert list(CommentEdit.objects.values_list("body", flat=True)) == ["Ask @claire."]
    assert emails().filter(event="comment.mentioned").count() == 2
    assert told("comment.mentioned") == {"claire", "ines"}
    assert AuditEvent.objects.filter(action="comment.edited", actor=group.reviewer).count() == 1


def test_only_its_author_edits_or_deletes_a_comment(group: Group) -> None:
    proposal = in_review(group)
    comment = comment_create(proposal=proposal, author=group.reviewer, body="Mine.")
    for call in (
        lambda: comment_edit(comment=comment, editor=group.drafter, body="Theirs."),
        lambda: comment_delete(comment=comment, actor=group.secretariat),
    ):
        refused = refusal(call)
        assert refused.kind == RefusalKind.PERMISSION and refused.codes == ["not_comment_author"]
    assert Comment.objects.get().body == "Mine." and Comment.objects.get().deleted_at is None


def test_a_deleted_or_hidden_comment_no_longer_changes(group: Group) -> None:
    proposal = in_review(group)
    deleted = comment_delete(
        comment=comment_create(proposal=proposal, author=group.reviewer, body="Oops."),
        actor=group.reviewer,
    )
    hidden = comment_hide(
        comment=comment_create(proposal=proposal, author=group.reviewer, body="Rude."),
        actor=group.secretariat,
        reason="Insulting.",
    )
    assert refusal(
        lambda: comment_edit(comment=deleted, editor=group.reviewer, body="X")
    ).codes == ["comment_deleted"]
    assert refusal(lambda: comment_edit(comment=hidden, editor=group.reviewer, body="X")).codes == [
        "comment_hidden"
    ]
    assert refusal(lambda: comment_delete(comment=deleted, actor=group.reviewer)).kind == (
        RefusalKind.STATE
    )
    assert not CommentEdit.objects.exists()


def test_the_secretariat_hides_a_comment_with_a_reason_and_its_author_is_told(group: Group) -> None:
    proposal = in_review(group)
    comment = comment_create(proposal=proposal, author=group.reviewer, body="Rude words.")
    assert refusal(
        lambda: comment_hide(comment=comment, actor=group.drafter, reason="No.")
    ).codes == ["not_secretariat"]
    assert refusal(
        lambda: comment_hide(comment=comment, actor=group.secretariat, reason=" ")
    ).codes == ["reason_missing"]
    hidden = comment_hide(comment=comment, actor=group.secretariat, reason="Insulting.")
    assert (hidden.hidden_by, hidden.hidden_reason) == (group.secretariat, "Insulting.")
    event = AuditEvent.objects.get(action="comment.hidden")
    assert (event.actor, event.subject_id, event.after) == (
        group.secretariat,
        group.reviewer.pk,
        {"reason": "Insulting."},
    )
    row = emails().get(event="comment.hidden")
    assert row.recipient == group.reviewer and row.essential


def test_the_notices_read_in_the_readers_language_and_link_to_the_comment(group: Group) -> None:
    group.drafter.language = "fr"
    group.drafter.save(update_fields=["language"])
    proposal = in_review(group)
    comment = comment_create(proposal=proposal, author=group.reviewer, body="Et @claire ?")
    row = emails().get(event="comment.mentioned")
    message = delivery_message(row)
    # The engine folds every space of a subject, the no-break ones too, into one plain space.
    assert message.subject == f"Rita vous a mentionné dans « {proposal.title} »"
    assert f"/proposals/{proposal.pk}/#comment-{comment.pk}" in message.body
    assert "Et @claire ?" in message.body
    with translation.override("en"):
        hidden = comment_hide(comment=comment, actor=group.secretariat, reason="Off topic.")
    english = delivery_message(emails().get(event="comment.hidden"))
    html = str(english.alternatives[0][0])
    assert "Off topic." in english.body and hidden.hidden_reason in html


def test_completion_offers_only_people_who_may_see_the_proposal(group: Group) -> None:
    draft = proposal_draft(group)
    assert [p.username for p in mention_candidates(draft, "")] == [
        "claire",
        "marianne",
        "pierre",
        "sam",
    ]
    assert [p.username for p in mention_candidates(draft, "@Y")] == []
    assert [p.username for p in mention_candidates(in_review(group), "y")] == ["youssef"]
