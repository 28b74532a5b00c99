"""The pages: what each person sees, what the buttons do, and how refusals are shown."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from proposals.models import Endorsement, Occasion, Person, Proposal, ProposalState, Revision
from proposals.services import endorsement_create, proposal_update
from tests.factories import Group, OccasionFactory, proposal_draft
from tests.proposals.web.helpers import (
    endorsed,
    fresh,
    in_endorsement,
    in_review,
    run,
    signed_in,
)
from workflow.models import Delivery

pytestmark = pytest.mark.django_db


def detail_url(proposal: Proposal) -> str:
    return reverse("proposals:proposal_detail", args=[proposal.pk])


def action_url(proposal: Proposal, name: str) -> str:
    return reverse("proposals:proposal_transition", args=[proposal.pk, name])


def csv_rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# Signing in, headers, languages


def test_pages_ask_an_anonymous_visitor_to_log_in(client: Client) -> None:
    response = client.get(reverse("proposals:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_login_page_has_labelled_fields_and_a_password_reset_link(client: Client) -> None:
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert reverse("password_reset") in html


def test_a_person_logs_in_with_a_password_and_lands_on_the_dashboard(group: Group) -> None:
    client = Client()
    response = client.post(
        reverse("login"), {"username": "claire", "password": "demo"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert b"<h1>Dashboard</h1>" in response.content


def test_password_reset_sends_an_email_with_a_link(
    group: Group, mailoutbox: Any, settings: Any
) -> None:
    # A cache of its own: the reset throttle's counts must not carry over from earlier runs.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    response = Client().post(reverse("password_reset"), {"email": "claire@example.org"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/accounts/reset/" in mailoutbox[0].body


def test_pages_allow_only_the_sites_own_scripts_and_styles(group: Group) -> None:
    response = signed_in(group.drafter).get(reverse("proposals:home"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert b"<script>" not in response.content
    assert b" style=" not in response.content


def test_a_form_posted_without_its_csrf_token_is_refused(group: Group) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(group.drafter)
    response = client.post(action_url(proposal_draft(group), "submit_for_review"))
    assert response.status_code == 403


def test_the_persons_saved_language_is_used_when_they_chose_none(group: Group) -> None:
    Person.objects.filter(pk=group.drafter.pk).update(language="fr")
    response = signed_in(Person.objects.get(pk=group.drafter.pk)).get(reverse("proposals:home"))
    assert response["Content-Language"] == "fr"
    assert b'<html lang="fr">' in response.content


def test_the_language_chosen_with_the_switcher_wins_over_the_saved_one(group: Group) -> None:
    Person.objects.filter(pk=group.drafter.pk).update(language="fr")
    client = signed_in(Person.objects.get(pk=group.drafter.pk))
    client.post(reverse("set_language"), {"language": "es", "next": "/"})
    response = client.get(reverse("proposals:home"))
    assert response["Content-Language"] == "es"


def test_times_are_shown_in_the_persons_time_zone(group: Group) -> None:
    Occasion.objects.filter(pk=group.occasion.pk).update(
        submission_deadline=dt.datetime(2099, 3, 10, 22, 30, tzinfo=dt.UTC), timezone="Asia/Tokyo"
    )
    Person.objects.filter(pk=group.drafter.pk).update(timezone="America/New_York")
    client = signed_in(Person.objects.get(pk=group.drafter.pk))
    html = client.get(detail_url(proposal_draft(group))).content.decode()
    # Zones are named by their city in the reader's language, never by their IANA identifier.
    assert "10 Mar 2099, 18:30</time> (New York time)" in html
    assert "11 Mar 2099, 07:30 (Tokyo time)" in html


# Dashboard


def test_the_dashboard_shows_a_drafter_their_drafts(group: Group) -> None:
    proposal_draft(group, title="My own draft")
    proposal_draft(group, title="Someone else's draft", created_by=group.co_drafter)
    html = signed_in(group.drafter).get(reverse("proposals:home")).content.decode()
    assert "My drafts" in html
    assert "My own draft" in html
    assert "Someone else&#x27;s draft" not in html


def test_the_dashboard_shows_a_reviewer_what_awaits_their_review(group: Group) -> None:
    in_review(group, title="Needs a reviewer")
    reviewed = in_review(group, title="Reviewed already")
    run(reviewed, "approve", group.second_reviewer)
    response = signed_in(group.second_reviewer).get(reverse("proposals:home"))
    html = response.content.decode()
    section = html.split("Awaiting my review")[1].split("</section>")[0]
    assert "Needs a reviewer" in section
    assert "Reviewed already" not in section


def test_the_dashboard_shows_a_representative_what_awaits_their_endorsement(group: Group) -> None:
    in_endorsement(group, title="Open to sign")
    signed = in_endorsement(group, title="Signed by Morocco")
    endorsement_create(proposal=fresh(signed), person=group.representative_ma)
    html = signed_in(group.representative_ma).get(reverse("proposals:home")).content.decode()
    section = html.split("Awaiting my organisation")[1].split("</section>")[0]
    assert "Open to sign" in section
    assert "Signed by Morocco" not in section


def test_the_dashboard_shows_the_secretariat_what_is_ready_to_submit(group: Group) -> None:
    endorsed(group, title="Quorum reached")
    in_endorsement(group, title="Still collecting")
    html = signed_in(group.secretariat).get(reverse("proposals:home")).content.decode()
    section = html.split("Ready to submit")[1].split("</section>")[0]
    assert "Quorum reached" in section
    assert "Quorum reached: 2 endorsements, 2 needed." in section
    assert "Still collecting" not in section


def test_the_dashboard_shows_the_first_twenty_by_deadline_and_links_to_all(group: Group) -> None:
    later = OccasionFactory(
        name="Later summit", submission_deadline=timezone.now() + dt.timedelta(days=90)
    )
    for number in range(2):
        proposal_draft(group, title=f"Later draft {number}", occasion=later)
    for number in range(20):
        proposal_draft(group, title=f"Sooner draft {number}")
    html = signed_in(group.drafter).get(reverse("proposals:home")).content.decode()
    section = html.split('id="drafts-heading"')[1].split("</section>")[0]
    assert '<span class="count">22</span>' in section
    assert section.count("Sooner draft") == 20
    assert "Later draft" not in section
    link = f'href="{reverse("proposals:proposal_list")}?state=draft"'
    assert f'<a {link} aria-describedby="drafts-heading">All 22</a>' in section


def test_the_dashboard_links_to_the_list_only_when_a_section_is_cut(group: Group) -> None:
    proposal_draft(group)
    html = signed_in(group.drafter).get(reverse("proposals:home")).content.decode()
    assert '<span class="count">1</span>' in html
    assert "?state=draft" not in html


def test_the_dashboard_counts_days_left_and_marks_overdue_deadlines(group: Group) -> None:
    soon = OccasionFactory(
        name="Soon summit", submission_deadline=timezone.now() + dt.timedelta(days=5, hours=1)
    )
    late = OccasionFactory(
        name="Late summit", submission_deadline=timezone.now() - dt.timedelta(days=3, hours=1)
    )
    proposal_draft(group, occasion=soon)
    proposal_draft(group, occasion=late)
    html = signed_in(group.drafter).get(reverse("proposals:home")).content.decode()
    deadlines = html.split("Upcoming deadlines")[1]
    assert "Soon summit" in deadlines
    assert "5 days left" in deadlines
    assert "Late summit" in deadlines
    assert "overdue by 3 days" in deadlines


# The list and its CSV


def test_the_list_filters_by_state_and_search(group: Group) -> None:
    in_review(group, title="Cooperative banks")
    in_review(group, title="Fair trade")
    proposal_draft(group, title="Cooperative schools")
    client = signed_in(group.drafter)
    html = client.get(
        reverse("proposals:proposal_list"), {"state": "in_review", "search": "cooperative"}
    ).content.decode()
    assert "Cooperative banks" in html
    assert "Fair trade" not in html
    assert "Cooperative schools" not in html
    assert "1 proposal" in html


def test_the_list_filters_by_deadline_days(group: Group) -> None:
    near = OccasionFactory(submission_deadline=dt.datetime(2099, 5, 1, 12, tzinfo=dt.UTC))
    far = OccasionFactory(submission_deadline=dt.datetime(2099, 9, 1, 12, tzinfo=dt.UTC))
    proposal_draft(group, title="Near one", occasion=near)
    proposal_draft(group, title="Far one", occasion=far)
    html = (
        signed_in(group.drafter)
        .get(
            reverse("proposals:proposal_list"),
            {"deadline_after": "2099-04-01", "deadline_before": "2099-05-01"},
        )
        .content.decode()
    )
    assert "Near one" in html
    assert "Far one" not in html


def test_a_filter_value_that_is_not_understood_is_shown_not_a_server_error(group: Group) -> None:
    response = signed_in(group.drafter).get(
        reverse("proposals:proposal_list"), {"occasion": "nope", "deadline_after": "soon"}
    )
    assert response.status_code == 200
    assert b'class="error"' in response.content


def test_the_csv_export_holds_the_filtered_rows_the_person_may_see(group: Group) -> None:
    in_review(group, title="Visible in review")
    proposal_draft(group, title="Draft of France")
    proposal_draft(
        group,
        title="Draft of Morocco",
        lead_organization=group.morocco,
        created_by=group.representative_ma,
    )
    client = signed_in(group.drafter)
    response = client.get(reverse("proposals:proposal_list_csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    titles = {row[1] for row in rows[1:]}
    assert titles == {"Visible in review", "Draft of France"}
    filtered = client.get(reverse("proposals:proposal_list_csv"), {"state": "draft"})
    rows = csv_rows(filtered)
    assert [row[1] for row in rows[1:]] == ["Draft of France"]


# A proposal


def test_the_text_is_rendered_from_markdown_without_scripts(group: Group) -> None:
    proposal = proposal_draft(group, text="# Heading\n\n**strong** <script>alert(1)</script>")
    html = signed_in(group.drafter).get(detail_url(proposal)).content.decode()
    assert "<h3>Heading</h3>" in html
    assert "<strong>strong</strong>" in html
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, "raw HTML is shown as text"


def test_a_draft_is_not_found_by_someone_who_may_not_see_it(group: Group) -> None:
    proposal = proposal_draft(group)
    assert signed_in(group.representative_ma).get(detail_url(proposal)).status_code == 404


def test_the_author_sees_the_actions_they_can_take_as_buttons(group: Group) -> None:
    html = signed_in(group.drafter).get(detail_url(proposal_draft(group))).content.decode()
    assert ">Submit for review</button>" in html
    assert ">Withdraw</a>" in html
    assert ">Edit</a>" in html


def test_an_action_that_cannot_run_now_is_shown_disabled_with_its_reasons(group: Group) -> None:
    proposal = proposal_draft(group, text="", target_body=None)
    html = signed_in(group.drafter).get(detail_url(proposal)).content.decode()
    blocked = html.split('class="blocked-list"')[1].split("</ul>\n  {% endif %}")[0]
    assert 'disabled aria-describedby="why-submit_for_review">Submit for review</button>' in blocked
    assert "The proposal needs a text." in blocked
    assert "Choose the body the proposal is addressed to." in blocked


def test_actions_that_are_never_the_persons_are_explained_apart(group: Group) -> None:
    html = signed_in(group.drafter).get(detail_url(in_endorsement(group))).content.decode()
    unavailable = html.split('<details class="unavailable">')[1].split("</details>")[0]
    assert "Submit to body" in unavailable
    assert "Only the secretariat can submit a proposal to its body." in unavailable


def test_a_representative_sees_the_endorse_button_and_the_quorum(group: Group) -> None:
    proposal = in_endorsement(group)
    html = signed_in(group.representative_ma).get(detail_url(proposal)).content.decode()
    assert ">Endorse</a>" in html
    assert "0 endorsements of 2 needed." in html


def test_an_observer_sees_no_endorse_button_but_endorse_refused_with_its_reason(
    group: Group,
) -> None:
    proposal = in_endorsement(group)
    html = signed_in(group.observer).get(detail_url(proposal)).content.decode()
    assert ">Endorse</a>" not in html
    assert ">Endorse</button>" not in html
    unavailable = html.split('<details class="unavailable">')[1].split("</details>")[0]
    assert "<strong>Endorse</strong>: Observers cannot endorse." in unavailable


def test_the_page_shows_reviews_revisions_and_the_history(group: Group) -> None:
    proposal = run(in_review(group), "request_changes", group.reviewer, comment="Cite the law.")
    proposal_update(proposal=fresh(proposal), editor=group.drafter, text="Better text")
    html = signed_in(group.drafter).get(detail_url(proposal)).content.decode()
    assert "Changes requested</strong> — Rita, revision 1" in html
    assert "Cite the law." in html
    assert "Revision 2 by Claire" in html
    assert "<strong>Request changes</strong>" in html
    assert "In review → Draft" in html


def test_two_revisions_are_compared_word_by_word(group: Group) -> None:
    proposal = proposal_draft(group, text="One line.\nThe old word here.")
    proposal_update(
        proposal=fresh(proposal), editor=group.drafter, text="One line.\nThe new word here."
    )
    response = signed_in(group.drafter).get(
        reverse("proposals:proposal_diff", args=[proposal.pk]), {"from": 1, "to": 2}
    )
    html = response.content.decode()
    assert "<del>old</del>" in html
    assert "<ins>new</ins>" in html


def test_comparing_a_revision_that_does_not_exist_is_not_found(group: Group) -> None:
    proposal = proposal_draft(group)
    response = signed_in(group.drafter).get(
        reverse("proposals:proposal_diff", args=[proposal.pk]), {"from": 1, "to": 9}
    )
    assert response.status_code == 404


# Actions


def test_submitting_for_review_moves_the_proposal_and_says_so(group: Group) -> None:
    proposal = proposal_draft(group)
    response = signed_in(group.drafter).post(action_url(proposal, "submit_for_review"), follow=True)
    assert fresh(proposal).state == ProposalState.IN_REVIEW
    assert messages_of(response) == ["Done: Submit for review. The proposal is now in review."]


def test_a_refused_action_shows_its_reasons_instead_of_failing(group: Group) -> None:
    proposal = proposal_draft(group)
    response = signed_in(group.co_drafter).post(
        action_url(proposal, "submit_for_review"), follow=True
    )
    assert response.status_code == 200
    assert messages_of(response) == ["Only an author of this proposal can submit it for review."]
    assert fresh(proposal).state == ProposalState.DRAFT


def test_an_action_on_a_proposal_that_moved_meanwhile_is_refused_with_the_reason(
    group: Group,
) -> None:
    proposal = in_review(group)
    run(proposal, "withdraw", group.drafter)
    response = signed_in(group.reviewer).post(action_url(proposal, "approve"), follow=True)
    assert messages_of(response) == [
        "“Approve” is possible only when the proposal is in review; it is withdrawn."
    ]


def test_requesting_changes_needs_a_comment(group: Group) -> None:
    proposal = in_review(group)
    client = signed_in(group.reviewer)
    page = client.get(action_url(proposal, "request_changes"))
    assert b'<label for="id_comment">Comment' in page.content
    response = client.post(action_url(proposal, "request_changes"), {"comment": ""})
    assert response.status_code == 400
    assert "Say what should change: a comment is required." in response.content.decode()
    client.post(action_url(proposal, "request_changes"), {"comment": "Add figures."})
    assert fresh(proposal).state == ProposalState.DRAFT


def test_the_secretariat_submits_and_records_the_outcome(group: Group) -> None:
    proposal = endorsed(group)
    client = signed_in(group.secretariat)
    client.post(action_url(proposal, "submit"), {"reference": "A/81/1"})
    assert fresh(proposal).state == ProposalState.SUBMITTED
    response = client.post(
        action_url(proposal, "record_outcome"),
        {"outcome": "adopted_in_part", "decided_on": timezone.localdate().isoformat()},
        follow=True,
    )
    assert fresh(proposal).state == ProposalState.CLOSED
    html = response.content.decode()
    assert "A/81/1" in html
    assert "Adopted in part" in html


def test_an_outcome_dated_in_the_future_is_refused_on_the_form(group: Group) -> None:
    proposal = run(endorsed(group), "submit", group.secretariat)
    response = signed_in(group.secretariat).post(
        action_url(proposal, "record_outcome"),
        {"outcome": "adopted", "decided_on": "2999-01-01"},
    )
    assert response.status_code == 400
    assert "The decision date cannot be in the future." in response.content.decode()
    assert fresh(proposal).state == ProposalState.SUBMITTED


def test_an_unknown_action_is_not_found(group: Group) -> None:
    proposal = proposal_draft(group)
    assert signed_in(group.drafter).post(action_url(proposal, "explode")).status_code == 404


# Endorsements


def test_endorsing_asks_for_confirmation_first(group: Group) -> None:
    proposal = in_endorsement(group)
    client = signed_in(group.representative_ma)
    page = client.get(reverse("proposals:proposal_endorse", args=[proposal.pk]))
    assert b"<h1>Endorse this proposal</h1>" in page.content
    assert not Endorsement.objects.exists()
    response = client.post(
        reverse("proposals:proposal_endorse", args=[proposal.pk]),
        {"organization": group.morocco.pk},
        follow=True,
    )
    assert messages_of(response) == ["Morocco endorses this proposal."]
    assert Endorsement.objects.get().organization == group.morocco


def test_the_confirmation_comes_as_a_fragment_for_htmx(group: Group) -> None:
    proposal = in_endorsement(group)
    response = signed_in(group.representative_ma).get(
        reverse("proposals:proposal_endorse", args=[proposal.pk]), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.startswith("<form")
    assert "<html" not in html


def test_an_observer_who_tries_to_endorse_is_told_why(group: Group) -> None:
    proposal = in_endorsement(group)
    response = signed_in(group.observer).post(
        reverse("proposals:proposal_endorse", args=[proposal.pk]), follow=True
    )
    assert response.redirect_chain == [(detail_url(proposal), 302)]
    assert messages_of(response) == ["Observers cannot endorse."]


def test_endorsing_twice_shows_the_reason(group: Group) -> None:
    proposal = in_endorsement(group)
    endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    response = signed_in(group.representative_ma).post(
        reverse("proposals:proposal_endorse", args=[proposal.pk]),
        {"organization": group.morocco.pk},
        follow=True,
    )
    assert messages_of(response) == ["Your organisation has already endorsed this proposal."]


def test_withdrawing_an_endorsement_asks_then_keeps_it_in_the_history(group: Group) -> None:
    proposal = in_endorsement(group)
    endorsement = endorsement_create(proposal=fresh(proposal), person=group.representative_ma)
    client = signed_in(group.representative_ma)
    url = reverse("proposals:endorsement_withdraw", args=[proposal.pk, endorsement.pk])
    page = client.get(url)
    assert b">Withdraw endorsement</button>" in page.content
    response = client.post(url, follow=True)
    assert messages_of(response) == ["The endorsement of Morocco is withdrawn."]
    endorsement.refresh_from_db()
    assert endorsement.withdrawn_at is not None
    assert "withdrawn on" in response.content.decode()


# Writing


def test_a_drafter_writes_a_proposal_with_labelled_fields(group: Group) -> None:
    client = signed_in(group.drafter)
    html = client.get(reverse("proposals:proposal_create")).content.decode()
    for label in ("Title", "Summary", "Text", "Target body", "Occasion"):
        assert f">{label}" in html
    assert "<legend>Themes</legend>" in html
    response = client.post(
        reverse("proposals:proposal_create"),
        {
            "title": "Cooperative banks",
            "text": "Let them lend.",
            "lead_organization": group.france.pk,
            "target_body": group.body.pk,
            "occasion": group.occasion.pk,
            "themes": [8],
            "language": "en",
        },
    )
    proposal = Proposal.objects.get(title="Cooperative banks")
    assert response["Location"] == detail_url(proposal)
    assert [t.number for t in proposal.themes.all()] == [8]


def test_the_preview_button_shows_the_text_without_saving(group: Group) -> None:
    response = signed_in(group.drafter).post(
        reverse("proposals:proposal_create"),
        {
            "title": "T",
            "text": "**bold**",
            "lead_organization": group.france.pk,
            "language": "en",
            "preview": "1",
        },
    )
    assert b"<strong>bold</strong>" in response.content
    assert not Proposal.objects.exists()


def test_the_preview_endpoint_returns_the_rendered_fragment(group: Group) -> None:
    response = signed_in(group.drafter).post(
        reverse("proposals:markdown_preview"), {"text": "*hi* <script>x()</script>"}
    )
    html = response.content.decode()
    assert "<em>hi</em>" in html
    assert "<script>" not in html


def test_someone_who_drafts_for_no_organisation_is_told_why_they_cannot_write(
    group: Group,
) -> None:
    response = signed_in(group.outsider).get(reverse("proposals:proposal_create"))
    assert response.status_code == 403
    assert "Only drafters of a member or observer organisation" in response.content.decode()


def test_an_edit_makes_a_new_revision(group: Group) -> None:
    proposal = proposal_draft(group)
    client = signed_in(group.drafter)
    page = client.get(reverse("proposals:proposal_edit", args=[proposal.pk]))
    assert b'name="expected_revision" value="1"' in page.content
    client.post(
        reverse("proposals:proposal_edit", args=[proposal.pk]),
        {"title": proposal.title, "text": "New text", "language": "en", "expected_revision": 1},
    )
    assert fresh(proposal).revision == 2
    assert Revision.objects.filter(proposal=proposal).count() == 2


def test_an_edit_of_an_older_revision_is_refused_and_keeps_the_typed_text(group: Group) -> None:
    proposal = proposal_draft(group)
    proposal_update(proposal=fresh(proposal), editor=group.drafter, text="Someone else's text")
    response = signed_in(group.drafter).post(
        reverse("proposals:proposal_edit", args=[proposal.pk]),
        {"title": proposal.title, "text": "My text", "language": "en", "expected_revision": 1},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Claire saved revision 2 while you were editing revision 1" in html
    assert "My text" in html


def test_a_proposal_in_review_cannot_be_edited(group: Group) -> None:
    proposal = in_review(group)
    response = signed_in(group.drafter).get(reverse("proposals:proposal_edit", args=[proposal.pk]))
    assert response.status_code == 403
    assert "Only a draft can be edited; this proposal is in review." in response.content.decode()


# Occasions, the group, settings, deliveries, the workflow


def test_occasions_show_both_time_zones_the_ical_links_and_proposals_by_state(
    group: Group,
) -> None:
    in_review(group)
    proposal_draft(group)
    client = signed_in(group.drafter)
    html = client.get(reverse("proposals:occasion_list")).content.decode()
    assert "UNGA 81" in html
    assert "(New York time)" in html
    assert f"/calendar/{group.drafter.calendar_token}.ics" in html
    assert "In review</span> 1" in html
    detail = client.get(reverse("proposals:occasion_detail", args=[group.occasion.pk]))
    assert f"/occasions/{group.occasion.pk}.ics" in detail.content.decode()


def test_the_month_calendar_places_the_deadline_on_its_day(group: Group) -> None:
    Occasion.objects.filter(pk=group.occasion.pk).update(
        submission_deadline=dt.datetime(2099, 2, 14, 12, tzinfo=dt.UTC),
        starts_on=dt.date(2099, 2, 20),
        ends_on=dt.date(2099, 2, 21),
    )
    html = (
        signed_in(group.drafter)
        .get(reverse("proposals:occasion_list"), {"month": "2099-02"})
        .content.decode()
    )
    assert "February 2099" in html
    calendar = html.split('<table class="calendar">')[1].split("</table>")[0]
    assert calendar.count("Deadline: UNGA 81") == 1
    assert calendar.count(">UNGA 81</a>") == 2
    assert (
        signed_in(group.drafter)
        .get(reverse("proposals:occasion_list"), {"month": "2099-99"})
        .status_code
        == 200
    )


def test_the_group_page_shows_members_by_kind_the_presidency_and_the_secretariat(
    group: Group,
) -> None:
    html = signed_in(group.observer).get(reverse("proposals:group")).content.decode()
    assert "France chairs the group" in html
    assert "Mont-Blanc Meetings" in html
    assert '<h2 id="kind-1">State</h2>' in html
    assert "Observer</h3>" in html
    assert "1 Jan 2013" in html


def test_settings_save_the_language_and_switch_to_it(group: Group) -> None:
    client = signed_in(group.drafter)
    response = client.post(
        reverse("proposals:settings"),
        {"language": "fr", "timezone": "Europe/Paris", "daily_digest": "on"},
    )
    person = Person.objects.get(pk=group.drafter.pk)
    assert (person.language, person.timezone, person.daily_digest) == ("fr", "Europe/Paris", True)
    assert person.optional_notifications is False
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"


def test_a_new_calendar_link_replaces_the_old_one(group: Group) -> None:
    old = group.drafter.calendar_token
    signed_in(group.drafter).post(reverse("proposals:calendar_token_renew"))
    assert Person.objects.get(pk=group.drafter.pk).calendar_token != old


def test_the_delivery_log_is_for_the_secretariat_only(group: Group) -> None:
    in_review(group)
    assert signed_in(group.drafter).get(reverse("proposals:delivery_log")).status_code == 403
    response = signed_in(group.secretariat).get(reverse("proposals:delivery_log"))
    assert response.status_code == 200
    assert "A proposal awaits review" in response.content.decode()
    filtered = signed_in(group.secretariat).get(
        reverse("proposals:delivery_log"), {"status": Delivery.Status.SENT}
    )
    assert "0 deliveries" in filtered.content.decode()


def test_the_workflow_page_draws_every_state_and_transition(group: Group) -> None:
    html = signed_in(group.drafter).get(reverse("proposals:workflow")).content.decode()
    assert "<svg" in html
    for state in ProposalState:
        assert f'class="node node-{state.value}"' in html
    for label in (
        "Submit for review",
        "Approve",
        "Request changes",
        "Submit to body",
        "Record outcome",
        "Withdraw",
    ):
        assert f">{label}</text>" in html
    assert "An author of the proposal, or the secretariat." in html


def test_a_drafter_adds_a_co_author_who_may_then_edit(group: Group) -> None:
    signed_in(group.drafter).post(
        reverse("proposals:proposal_create"),
        {
            "title": "Written together",
            "text": "Draft.",
            "lead_organization": group.france.pk,
            "language": "en",
            "co_authors": [group.co_drafter.pk],
        },
    )
    proposal = Proposal.objects.get(title="Written together")
    assert set(proposal.authors.all()) == {group.drafter, group.co_drafter}
    page = signed_in(group.co_drafter).get(reverse("proposals:proposal_edit", args=[proposal.pk]))
    assert page.status_code == 200
    assert f'<option value="{group.co_drafter.pk}" selected>' in page.content.decode()
    signed_in(group.co_drafter).post(
        reverse("proposals:proposal_edit", args=[proposal.pk]),
        {
            "title": "Written together",
            "text": "Draft, improved.",
            "language": "en",
            "co_authors": [group.co_drafter.pk],
            "expected_revision": 1,
        },
    )
    assert fresh(proposal).revision == 2
    assert set(proposal.authors.all()) == {group.drafter, group.co_drafter}


def test_only_drafters_of_the_group_can_be_co_authors(group: Group) -> None:
    response = signed_in(group.drafter).post(
        reverse("proposals:proposal_create"),
        {
            "title": "Alone",
            "lead_organization": group.france.pk,
            "language": "en",
            "co_authors": [group.reviewer.pk],
        },
    )
    assert response.status_code == 400
    assert not Proposal.objects.filter(title="Alone").exists()


def test_endorsing_asks_for_the_password_when_the_last_confirmation_is_old(group: Group) -> None:
    import datetime as dt

    from django.utils import timezone

    from proposals.accounts import SESSION_CONFIRMED_AT

    proposal = in_endorsement(group)
    client = signed_in(group.representative_ma)
    session = client.session
    session[SESSION_CONFIRMED_AT] = (timezone.now() - dt.timedelta(minutes=16)).isoformat()
    session.save()
    endorse = reverse("proposals:proposal_endorse", args=[proposal.pk])
    page = client.get(endorse)
    assert b'name="password"' in page.content
    missing = client.post(endorse, {"organization": group.morocco.pk})
    assert missing.status_code == 400
    wrong = client.post(endorse, {"organization": group.morocco.pk, "password": "guess"})
    assert wrong.status_code == 400
    assert "The password or the code is wrong." in wrong.content.decode()
    assert not Endorsement.objects.exists()
    done = client.post(endorse, {"organization": group.morocco.pk, "password": "demo"}, follow=True)
    assert messages_of(done) == ["Morocco endorses this proposal."]
    assert b'name="password"' not in client.get(endorse).content


def test_previews_share_a_budget_of_characters_per_minute(group: Group, settings: Any) -> None:
    from proposals.web.views import proposals as views

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "previews",
        }
    }
    client = signed_in(group.drafter)
    text = "word " * 16_000  # 80 000 characters, quick to render
    url = reverse("proposals:markdown_preview")
    allowed = views.PREVIEW_CHARACTERS_PER_MINUTE // len(text)
    for _ in range(allowed):
        assert client.post(url, {"text": text}).status_code == 200
    refused = client.post(url, {"text": text})
    assert refused.status_code == 429
    assert "wait a moment" in refused.content.decode()
    assert signed_in(group.co_drafter).post(url, {"text": "*fine*"}).status_code == 200
