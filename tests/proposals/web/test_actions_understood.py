"""Actions people understand (issue 12, points 3 to 6 and 10): Endorse explained like every
action, Approve confirmed with an optional comment, a request for changes in sight, counts in
plural forms with who acts next, and writing a proposal without losing one's text."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse

from proposals.models import Person, Proposal, ProposalState, Review
from proposals.services import endorsement_create, proposal_update
from tests.factories import Group, OccasionFactory, proposal_draft
from tests.proposals.api.helpers import client_for
from tests.proposals.web.helpers import (
    endorsed,
    fresh,
    in_endorsement,
    in_review,
    run,
    signed_in,
)

pytestmark = pytest.mark.django_db


def detail_url(proposal: Proposal) -> str:
    return reverse("proposals:proposal_detail", args=[proposal.pk])


def action_url(proposal: Proposal, name: str) -> str:
    return reverse("proposals:proposal_transition", args=[proposal.pk, name])


def edit_url(proposal: Proposal) -> str:
    return reverse("proposals:proposal_edit", args=[proposal.pk])


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def speaking(person: Person, language: str) -> Person:
    Person.objects.filter(pk=person.pk).update(language=language)
    return Person.objects.get(pk=person.pk)


def unavailable_of(html: str) -> str:
    return html.split('<details class="unavailable">')[1].split("</details>")[0]


def actions_panel_of(html: str) -> str:
    return html.split('aria-labelledby="actions-heading"')[1].split("</section>")[0]


# 3. Endorse is an action like the others


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "<strong>Endorse</strong>: Observers cannot endorse."),
        (  # French typography: a narrow no-break space before the colon
            "fr",
            "<strong>Soutenir</strong>\u202f: Les observateurs ne peuvent pas apporter leur soutien.",
        ),
        ("es", "<strong>Respaldar</strong>: Los observadores no pueden respaldar propuestas."),
    ],
)
def test_the_observer_sees_endorse_refused_with_its_reason(
    group: Group, language: str, expected: str
) -> None:
    proposal = in_endorsement(group)
    html = signed_in(speaking(group.observer, language)).get(detail_url(proposal)).content.decode()
    assert expected in unavailable_of(html)


def test_a_drafter_who_represents_nobody_sees_why_endorsing_is_not_theirs(group: Group) -> None:
    html = signed_in(group.co_drafter).get(detail_url(in_endorsement(group))).content.decode()
    assert (
        "<strong>Endorse</strong>: Only the representative of a full member organisation can "
        "endorse." in unavailable_of(html)
    )


def test_a_representative_reads_why_a_draft_cannot_be_endorsed_yet(group: Group) -> None:
    html = signed_in(group.representative_ma).get(detail_url(in_review(group))).content.decode()
    assert (
        "<strong>Endorse</strong>: Only a proposal open for endorsement can be endorsed; this "
        "one is in review." in unavailable_of(html)
    )


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Observers cannot endorse."),
        ("fr", "Les observateurs ne peuvent pas apporter leur soutien."),
        ("es", "Los observadores no pueden respaldar propuestas."),
    ],
)
def test_endorse_reached_by_its_url_returns_to_the_proposal_with_the_reason(
    group: Group, language: str, message: str
) -> None:
    proposal = in_endorsement(group)
    client = signed_in(speaking(group.observer, language))
    url = reverse("proposals:proposal_endorse", args=[proposal.pk])
    for response in (client.get(url, follow=True), client.post(url, follow=True)):
        assert response.redirect_chain == [(detail_url(proposal), 302)]
        assert messages_of(response) == [message]


# 4. Approve is confirmed, with an optional comment


def test_approve_is_a_link_to_a_confirmation_page_with_an_optional_comment(group: Group) -> None:
    proposal = in_review(group)
    client = signed_in(group.reviewer)
    html = client.get(detail_url(proposal)).content.decode()
    assert f'href="{action_url(proposal, "approve")}?version=' in html
    assert f'action="{action_url(proposal, "approve")}"' not in html  # no one-click form

    page = client.get(action_url(proposal, "approve")).content.decode()
    assert "Your approval is recorded for the current revision." in page
    assert "0 approvals of 1 needed." in page
    comment = re.search(r'<textarea name="comment"[^>]*>', page)
    assert comment is not None and "required" not in comment.group(0)
    assert "Optional: what you checked, or a note for the authors." in page
    assert fresh(proposal).state == ProposalState.IN_REVIEW  # opening the page does nothing


def test_approving_with_a_comment_records_it_and_without_one_works_too(group: Group) -> None:
    with_comment, without = in_review(group), in_review(group)
    client = signed_in(group.reviewer)
    client.post(action_url(with_comment, "approve"), {"comment": "The figures are right."})
    client.post(action_url(without, "approve"), {"comment": ""})
    assert Review.objects.get(proposal=with_comment).comment == "The figures are right."
    assert Review.objects.get(proposal=without).comment == ""
    assert fresh(with_comment).state == fresh(without).state == ProposalState.ENDORSEMENT


def test_the_api_takes_the_same_optional_comment_on_approve(group: Group) -> None:
    proposal = in_review(group)
    client = client_for(group.reviewer)
    response = client.post(
        f"/api/proposals/{proposal.pk}/transitions/approve/", {"comment": "Fine."}, format="json"
    )
    assert response.status_code == 200
    assert Review.objects.get(proposal=proposal).comment == "Fine."
    other = in_review(group)
    response = client.post(f"/api/proposals/{other.pk}/transitions/approve/", {}, format="json")
    assert response.status_code == 200


# 5. Changes requested: in sight, on the dashboard, and what is needed


def sent_back(group: Group, **kwargs: Any) -> Proposal:
    return run(
        in_review(group, **kwargs), "request_changes", group.reviewer, comment="Cite the law."
    )


def test_the_request_for_changes_heads_the_proposal_page(group: Group) -> None:
    proposal = sent_back(group)
    html = signed_in(group.drafter).get(detail_url(proposal)).content.decode()
    request = html.split('class="changes-request"')[1].split("</section>")[0]
    assert "Changes requested by Rita" in request
    assert "On revision 1" in request
    assert "Cite the law." in request
    assert html.index('class="changes-request"') < html.index('id="actions-heading"')


def test_the_edit_page_shows_the_request_for_changes(group: Group) -> None:
    html = signed_in(group.drafter).get(edit_url(sent_back(group))).content.decode()
    assert "Changes requested by Rita" in html
    assert "Cite the law." in html
    assert html.index("Cite the law.") < html.index('<form method="post" class="proposal-form"')


def test_the_request_for_changes_leaves_once_the_proposal_is_back_in_review(group: Group) -> None:
    proposal = sent_back(group)
    proposal_update(proposal=fresh(proposal), editor=group.drafter, text="With the law cited.")
    proposal = run(proposal, "submit_for_review", group.drafter)
    html = signed_in(group.drafter).get(detail_url(proposal)).content.decode()
    assert 'class="changes-request"' not in html


def test_the_dashboard_marks_a_draft_sent_back_with_who_asked(group: Group) -> None:
    sent_back(group, title="Sent back")
    proposal_draft(group, title="Fresh draft")
    html = signed_in(group.drafter).get(reverse("proposals:home")).content.decode()
    drafts = html.split('id="drafts-heading"')[1].split("</section>")[0]
    rows = {
        title: row
        for row in drafts.split("<tr>")[2:]
        for title in ("Sent back", "Fresh draft")
        if f">{title}</a>" in row
    }
    assert "Changes requested by Rita" in rows["Sent back"]
    assert "Changes requested" not in rows["Fresh draft"]


def edit_form(proposal: Proposal, **changes: Any) -> dict[str, Any]:
    data = {
        "title": proposal.title,
        "summary": proposal.summary,
        "text": proposal.text,
        "target_body": proposal.target_body_id or "",
        "occasion": proposal.occasion_id or "",
        "language": proposal.language,
        "expected_revision": proposal.revision,
    }
    data.update(changes)
    return data


def test_saving_with_no_change_says_nothing_changed_and_writes_nothing(group: Group) -> None:
    proposal = fresh(sent_back(group))
    response = signed_in(group.drafter).post(edit_url(proposal), edit_form(proposal), follow=True)
    assert messages_of(response) == ["Nothing changed."]
    after = fresh(proposal)
    assert (after.version, after.revision) == (proposal.version, proposal.revision)


def test_saving_a_change_still_says_saved(group: Group) -> None:
    proposal = fresh(proposal_draft(group))
    response = signed_in(group.drafter).post(
        edit_url(proposal), edit_form(proposal, language="fr"), follow=True
    )
    assert messages_of(response) == ["Saved."]


def test_the_blocked_submit_button_says_what_is_needed_after_changes_were_requested(
    group: Group,
) -> None:
    html = signed_in(group.drafter).get(detail_url(sent_back(group))).content.decode()
    why = html.split('id="why-submit_for_review"')[1].split("</ul>")[0]
    assert (
        "Changes were requested on revision 1: change its title, summary or text (saving makes "
        "revision 2), then submit it again." in why
    )


# 6. Counts in plural forms, the quorum, one's own endorsement, who acts next


def test_endorsement_counts_use_plural_forms(group: Group) -> None:
    proposal = in_endorsement(group)
    endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    html = signed_in(group.drafter).get(detail_url(proposal)).content.decode()
    assert "1 endorsement of 2 needed." in html
    assert "endorsements of 2 needed" not in html


def test_a_reached_quorum_says_the_secretariat_will_submit(group: Group) -> None:
    proposal = endorsed(group)
    endorsement_create(proposal=fresh(proposal), person=group.representative_lu)
    html = signed_in(group.drafter).get(detail_url(proposal)).content.decode()
    assert "Quorum reached: 3 endorsements, 2 needed." in html
    assert "Quorum reached: the secretariat will submit." in html
    assert "3 of 2" not in html


def test_a_proposal_past_its_quorum_no_longer_awaits_a_representative(group: Group) -> None:
    endorsed(group, title="Quorum reached")
    in_endorsement(group, title="Still collecting")
    html = signed_in(group.representative_lu).get(reverse("proposals:home")).content.decode()
    section = html.split("Awaiting my organisation")[1].split("</section>")[0]
    assert "Still collecting" in section
    assert "Quorum reached" not in section


def test_after_endorsing_the_page_says_so_with_the_withdraw_action(group: Group) -> None:
    proposal = in_endorsement(group)
    endorsement = endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    html = signed_in(group.representative_ma).get(detail_url(proposal)).content.decode()
    panel = actions_panel_of(html)
    assert "You endorsed for Morocco on" in panel
    withdraw = reverse("proposals:endorsement_withdraw", args=[proposal.pk, endorsement.pk])
    assert f'href="{withdraw}?version=' in panel
    assert "There is nothing you can do on this proposal now." not in html
    assert 'id="why-endorse"' not in html  # no blocked Endorse button above one's own


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda g: proposal_draft(g),
            "Next: the authors (Claire) complete the draft and submit it for review.",
        ),
        (
            lambda g: run(in_review(g), "request_changes", g.reviewer, comment="More."),
            "Next: the authors (Claire) make the changes requested and submit it again.",
        ),
        (
            lambda g: in_review(g),
            "Next: 1 more approval is needed, from the reviewers: Ines, Rita.",
        ),
        (
            lambda g: in_endorsement(g),
            "Next: 2 more endorsements are needed, from these members: France (Marianne), "
            "Luxembourg (Lena), Morocco (Youssef).",
        ),
        (lambda g: endorsed(g), "Quorum reached: the secretariat will submit."),
        (
            lambda g: run(endorsed(g), "submit", g.secretariat),
            "Next: the secretariat records what the body decided.",
        ),
    ],
)
def test_the_page_says_who_acts_next(group: Group, make: Any, expected: str) -> None:
    proposal = make(group)
    html = signed_in(group.secretariat).get(detail_url(proposal)).content.decode()
    assert f'<p class="next-step" id="next-step">{expected}</p>' in html


def test_after_a_transition_the_page_names_who_acts_next(group: Group) -> None:
    proposal = in_review(group, occasion=OccasionFactory.create(required_approvals=3))
    run(proposal, "approve", group.second_reviewer)  # one reviewer already decided
    response = signed_in(group.drafter).get(detail_url(proposal))
    assert (
        "Next: 2 more approvals are needed, from the reviewers: Rita." in response.content.decode()
    )
    one = endorsed(group, group.representative_ma)
    response = signed_in(group.representative_ma).get(detail_url(one))
    assert "from one of these members: France (Marianne), Luxembourg (Lena)." in (
        response.content.decode()
    )


# 10. Writing a proposal


def test_the_language_of_the_text_defaults_to_the_authors_language(group: Group) -> None:
    client = signed_in(speaking(group.drafter, "fr"))
    html = client.get(reverse("proposals:proposal_create")).content.decode()
    assert '<option value="fr" selected>' in html


def test_the_preview_sits_right_under_the_text_box(group: Group) -> None:
    html = signed_in(group.drafter).get(reverse("proposals:proposal_create")).content.decode()
    text, preview = html.index('id="id_text"'), html.index('id="preview"')
    assert text < html.index('name="preview"') < preview < html.index('id="id_lead_organization"')


def test_a_preview_clears_the_text_errors_shown_before(group: Group) -> None:
    response = signed_in(group.drafter).post(
        reverse("proposals:markdown_preview"), {"text": "*hi*"}, headers={"HX-Request": "true"}
    )
    assert '<div id="text-errors" hx-swap-oob="true"></div>' in response.content.decode()


def test_the_co_author_choice_says_how_to_choose(group: Group) -> None:
    html = signed_in(group.drafter).get(reverse("proposals:proposal_create")).content.decode()
    assert "Choose several with Ctrl-click (⌘-click on a Mac)" in html


def test_the_occasion_choice_shows_each_deadline_in_the_persons_zone(group: Group) -> None:
    OccasionFactory.create(
        name="Habitat IV",
        submission_deadline=dt.datetime(2099, 3, 10, 22, 30, tzinfo=dt.UTC),
        timezone="Asia/Tokyo",
    )
    Person.objects.filter(pk=group.drafter.pk).update(timezone="America/New_York")
    client = signed_in(Person.objects.get(pk=group.drafter.pk))
    html = client.get(reverse("proposals:proposal_create")).content.decode()
    (label,) = re.findall(r"<option value=\"\d+\">(Habitat IV[^<]*)</option>", html)
    assert label == "Habitat IV — deadline 10 Mar 2099, 18:30 (New York time)"


@pytest.mark.parametrize(
    ("language", "when", "zone"),
    [("fr", "10 mars 2099, 18:30", "heure de New York"), ("es", "10 mar 2099", "Nueva York")],
)
def test_the_occasion_deadline_reads_as_the_language_writes_it(
    group: Group, language: str, when: str, zone: str
) -> None:
    OccasionFactory.create(
        name="Habitat IV", submission_deadline=dt.datetime(2099, 3, 10, 22, 30, tzinfo=dt.UTC)
    )
    Person.objects.filter(pk=group.drafter.pk).update(
        timezone="America/New_York", language=language
    )
    client = signed_in(Person.objects.get(pk=group.drafter.pk))
    html = client.get(reverse("proposals:proposal_create")).content.decode()
    (label,) = re.findall(r"<option value=\"\d+\">(Habitat IV[^<]*)</option>", html)
    assert when in label and zone in label


def conflicted(group: Group) -> tuple[Proposal, Any, str]:
    proposal = fresh(proposal_draft(group, text="Line one.\nThe common line."))
    mine = edit_form(proposal, text="Line one, mine.\nThe common line.")
    proposal_update(  # meanwhile, from another tab
        proposal=fresh(proposal), editor=group.drafter, text="Line one, theirs.\nThe common line."
    )
    client = signed_in(group.drafter)
    response = client.post(edit_url(proposal), mine)
    assert response.status_code == 409
    return proposal, client, response.content.decode()


def test_an_edit_conflict_shows_both_versions_as_a_diff_and_the_three_choices(
    group: Group,
) -> None:
    proposal, _client, html = conflicted(group)
    conflict = html.split('class="edit-conflict"')[1].split("</section>")[0]
    assert "Claire saved revision 2 while you were editing revision 1" in conflict
    assert "<del>theirs</del>" in conflict
    assert "<ins>mine</ins>" in conflict
    for choice in ("Keep yours", "Merge by hand", "Take theirs"):
        assert choice in conflict
    assert f'href="{edit_url(proposal)}"' in conflict  # take theirs: the saved revision
    assert "Line one, theirs." in conflict  # their text, to copy from


def test_an_edit_conflict_keeps_the_typed_text_and_the_header_agrees_on_the_version(
    group: Group,
) -> None:
    proposal, client, html = conflicted(group)
    textarea = html.split('name="text"')[1].split("</textarea>")[0]
    assert "Line one, mine." in textarea
    assert '<input type="hidden" name="expected_revision" value="2"' in html
    assert "You are editing revision 2." in html
    assert "You are editing revision 1." not in html


def test_after_a_conflict_saving_keeps_ones_version_over_the_other(group: Group) -> None:
    proposal, client, html = conflicted(group)
    expected = re.search(r'name="expected_revision" value="(\d+)"', html)
    assert expected is not None
    merged = edit_form(
        fresh(proposal),
        text="Line one, mine and theirs.\nThe common line.",
        expected_revision=expected.group(1),
    )
    response = client.post(edit_url(proposal), merged, follow=True)
    assert messages_of(response) == ["Saved as revision 3."]
    assert fresh(proposal).text == "Line one, mine and theirs.\nThe common line."


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Only an author of this proposal or the secretariat can withdraw it."),
        ("fr", "Seul un auteur de cette proposition ou le secrétariat peut la retirer."),
        ("es", "Solo un autor de esta propuesta o la secretaría pueden retirarla."),
    ],
)
def test_an_actions_page_reached_by_url_when_refused_returns_to_the_proposal(
    group: Group, language: str, message: str
) -> None:
    proposal = in_review(group)
    client = signed_in(speaking(group.observer, language))
    response = client.get(action_url(proposal, "withdraw"), follow=True)
    assert response.redirect_chain == [(detail_url(proposal), 302)]
    assert messages_of(response) == [message]
