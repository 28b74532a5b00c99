"""The discussion on the proposal's page: one story in order, forms that work without
JavaScript, refusals in the reader's language, and the completion of mentions."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from proposals.discussion import comment_create, comment_delete, comment_edit, comment_hide
from proposals.models import Comment, Person, Proposal
from proposals.services import proposal_update
from tests.factories import Group, proposal_draft
from tests.proposals.web.helpers import fresh, in_review, run, signed_in

pytestmark = pytest.mark.django_db

TEXT = "First paragraph.\n\nSecond paragraph, about the fund.\n\nThird one."


def page(person: Person, proposal: Proposal, query: str = "") -> str:
    response = signed_in(person).get(
        reverse("proposals:proposal_detail", args=[proposal.pk]) + query
    )
    assert response.status_code == 200
    return response.content.decode()


def story(html: str) -> str:
    """The text of the story, tags and spaces folded."""
    start = html.index('id="story"')
    return " ".join(re.sub(r"<[^>]+>", " ", html[start : html.index("</ol>\n\n", start)]).split())


def speaks(person: Person, language: str) -> Person:
    person.language = language
    person.save(update_fields=["language"])
    return person


def test_the_page_tells_comments_reviews_transitions_and_revisions_in_order(group: Group) -> None:
    proposal = in_review(group, text=TEXT)
    first = comment_create(proposal=proposal, author=group.reviewer, body="Why the *fund*?")
    comment_create(proposal=proposal, author=group.drafter, body="It pays for it.", parent=first)
    run(proposal, "request_changes", group.reviewer, comment="Say more on the fund.")
    proposal_update(proposal=fresh(proposal), editor=group.drafter, text=TEXT + "\n\nMore.")
    comment_create(proposal=proposal, author=group.drafter, body="Done.")
    told = story(page(group.secretariat, proposal))
    order = [
        "Submit for review — Claire: Draft → In review",
        f"Rita #{first.pk} Why the fund ?",
        "It pays for it.",
        "Request changes — Rita, revision 1: In review → Draft Say more on the fund.",
        "Revision 2",
        "Done.",
    ]
    positions = [told.index(part) for part in order]
    assert positions == sorted(positions), told


def test_a_comment_posted_without_javascript_lands_on_its_anchor(group: Group) -> None:
    proposal = in_review(group, text=TEXT)
    client = signed_in(group.reviewer)
    response = client.post(
        reverse("proposals:comment_create", args=[proposal.pk]),
        {"body": "What does **article 2** cover, @claire?", "revision": "1", "paragraph": ""},
    )
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/proposals/{proposal.pk}/#comment-{comment.pk}"
    html = page(group.observer, proposal)
    assert f'id="comment-{comment.pk}"' in html
    assert "What does <strong>article 2</strong> cover, @claire?" in html


def test_a_paragraph_is_chosen_by_a_link_and_the_comment_quotes_it(group: Group) -> None:
    proposal = in_review(group, text=TEXT)
    html = page(group.reviewer, proposal, "?paragraph=2")
    assert 'href="?paragraph=2#new-comment"' in html
    assert '<option value="2" selected>' in html
    assert (
        '<blockquote class="quoted" id="comment-quoted">Second paragraph, about the fund.' in html
    )
    signed_in(group.reviewer).post(
        reverse("proposals:comment_create", args=[proposal.pk]),
        {"body": "Which fund?", "revision": "1", "paragraph": "2"},
    )
    comment = Comment.objects.get()
    assert comment.revision is not None
    assert (comment.revision.number, comment.paragraph, comment.quoted) == (
        1,
        2,
        "Second paragraph, about the fund.",
    )
    assert "About paragraph 2:" in story(page(group.drafter, proposal))
    run(proposal, "request_changes", group.reviewer, comment="Rewrite it.")
    proposal_update(proposal=fresh(proposal), editor=group.drafter, text="All new.")
    told = story(page(group.drafter, proposal))
    assert "outdated About paragraph 2 of revision 1, which the text has changed since:" in told
    assert "Second paragraph, about the fund. Which fund?" in told


def test_bad_input_is_shown_on_the_form_and_changes_nothing(group: Group) -> None:
    proposal = in_review(group, text=TEXT)
    first = comment_create(proposal=proposal, author=group.reviewer, body="Why?")
    reply = comment_create(proposal=proposal, author=group.drafter, body="So.", parent=first)
    client = signed_in(group.reviewer)
    url = reverse("proposals:comment_create", args=[proposal.pk])
    for data, message in (
        ({"body": "No.", "parent": str(reply.pk)}, "Replies go one level deep"),
        ({"body": "Hi @nobody_here"}, "Nobody here has the username @nobody_here"),
        ({"body": "", "paragraph": ""}, "This field is required."),
        ({"body": "Here.", "revision": "1", "paragraph": "9"}, "Select a valid choice."),
    ):
        response = client.post(url, data)
        assert response.status_code == 400
        assert message in response.content.decode()
    assert Comment.objects.count() == 2


def test_its_author_edits_a_comment_and_readers_see_that_it_was_edited(group: Group) -> None:
    proposal = in_review(group)
    comment = comment_create(proposal=proposal, author=group.reviewer, body="First text.")
    response = signed_in(group.reviewer).post(
        reverse("proposals:comment_edit", args=[proposal.pk, comment.pk]), {"body": "Better text."}
    )
    assert response.status_code == 302
    html = page(group.drafter, proposal)
    assert "Better text." in html and "edited" in html
    assert "<blockquote>First text.</blockquote>" in html  # the history, in <details>
    assert f'id="edit-body-{comment.pk}"' not in html  # only its author gets the form


def test_editing_someone_elses_comment_is_refused_and_an_unseen_one_is_not_found(
    group: Group,
) -> None:
    proposal = in_review(group)
    comment = comment_create(proposal=proposal, author=group.reviewer, body="Mine.")
    url = reverse("proposals:comment_edit", args=[proposal.pk, comment.pk])
    refused = signed_in(group.drafter).post(url, {"body": "Theirs."})
    assert refused.status_code == 403
    assert "Only its author can edit a comment." in refused.content.decode()
    draft = proposal_draft(group)
    theirs = comment_create(proposal=draft, author=group.drafter, body="Ours.")
    unseen = reverse("proposals:comment_edit", args=[draft.pk, theirs.pk])
    assert signed_in(group.representative_ma).post(unseen, {"body": "X"}).status_code == 404
    assert set(Comment.objects.values_list("body", flat=True)) == {"Mine.", "Ours."}


def test_deleted_and_hidden_comments_keep_their_place_without_their_text(group: Group) -> None:
    proposal = in_review(group)
    deleted = comment_create(proposal=proposal, author=group.drafter, body="Oops, wrong text.")
    hidden = comment_create(proposal=proposal, author=group.reviewer, body="Rude words.")
    signed_in(group.drafter).post(
        reverse("proposals:comment_delete", args=[proposal.pk, deleted.pk])
    )
    response = signed_in(group.secretariat).post(
        reverse("proposals:comment_hide", args=[proposal.pk, hidden.pk]), {"reason": "Insulting."}
    )
    assert response.status_code == 302
    html = page(group.observer, proposal)
    assert "Oops, wrong text." not in html and "Rude words." not in html
    assert "This comment was deleted by its author." in html
    assert "Hidden by the secretariat: Insulting." in html
    again = signed_in(group.drafter).post(
        reverse("proposals:comment_edit", args=[proposal.pk, deleted.pk]), {"body": "Back."}
    )
    assert again.status_code == 409


def test_only_the_secretariat_is_offered_to_hide_and_may_hide(group: Group) -> None:
    proposal = in_review(group)
    comment = comment_create(proposal=proposal, author=group.reviewer, body="Fine words.")
    assert f'id="hide-reason-{comment.pk}"' in page(group.secretariat, proposal)
    assert f'id="hide-reason-{comment.pk}"' not in page(group.drafter, proposal)
    url = reverse("proposals:comment_hide", args=[proposal.pk, comment.pk])
    assert signed_in(group.drafter).post(url, {"reason": "No."}).status_code == 403
    empty = signed_in(group.secretariat).post(url, {"reason": ""})
    assert empty.status_code == 400 and "Say why the comment is hidden." in empty.content.decode()
    assert Comment.objects.get().hidden_at is None


def test_the_thread_speaks_french(group: Group) -> None:
    proposal = in_review(group)
    first = comment_create(proposal=proposal, author=group.reviewer, body="Pourquoi ?")
    comment_hide(comment=first, actor=group.secretariat, reason="Hors sujet.")
    mine = comment_create(proposal=proposal, author=group.drafter, body="Voilà.")
    comment_edit(comment=mine, editor=group.drafter, body="Voilà tout.")
    html = page(speaks(group.drafter, "fr"), proposal)
    assert "Discussion et historique" in html
    assert "Masqué par le secrétariat\u202f: Hors sujet." in html
    assert "modifié le" in html and ">Répondre<" in html and "Publier le commentaire" in html
    assert "Ajouter un commentaire" in html


def test_the_thread_speaks_spanish(group: Group) -> None:
    proposal = in_review(group)
    first = comment_create(proposal=proposal, author=group.reviewer, body="¿Por qué?")
    comment_delete(
        comment=comment_create(proposal=proposal, author=group.drafter, body="Nada."),
        actor=group.drafter,
    )
    comment_hide(comment=first, actor=group.secretariat, reason="Fuera de tema.")
    html = page(speaks(group.observer, "es"), proposal)
    assert "Discusión e historial" in html
    assert "Ocultado por la secretaría: Fuera de tema." in html
    assert "Este comentario fue eliminado por su autor." in html
    assert "Publicar el comentario" in html


def test_completion_lists_only_people_who_may_see_the_proposal(group: Group) -> None:
    draft = proposal_draft(group)
    url = reverse("proposals:mention_candidates", args=[draft.pk])
    answer = signed_in(group.drafter).get(url, {"q": "p"})
    pierre = group.co_drafter.get_full_name()
    assert answer.json() == {"people": [{"username": "pierre", "name": pierre}]}
    assert signed_in(group.drafter).get(url, {"q": "you"}).json() == {"people": []}
    assert signed_in(group.representative_ma).get(url, {"q": "p"}).status_code == 404


def test_the_page_runs_no_inline_script_and_labels_every_field(group: Group) -> None:
    proposal = in_review(group, text=TEXT)
    comment_create(proposal=proposal, author=group.reviewer, body="Why?")
    html = page(group.reviewer, proposal)
    section = html[html.index('id="discussion"') :]
    assert re.findall(r"<script(?![^>]*\bsrc=)", section) == []
    assert '<script src="/static/proposals/mentions.js" defer></script>' in section
    for field_id in re.findall(r'<(?:textarea|select)[^>]*\bid="([^"]+)"', section):
        assert f'for="{field_id}"' in section, field_id
