"""Reading a proposal's story: reviews, revisions and their diff, and the history."""

from __future__ import annotations

import pytest

from proposals.diff import revisions_diff, text_diff
from proposals.models import Revision
from proposals.services import proposal_update
from tests.factories import Group, proposal_draft
from tests.proposals.api.helpers import client_for, fresh, proposal_in, run

pytestmark = pytest.mark.django_db


def test_text_diff_gives_unified_lines() -> None:
    lines = text_diff("a\nb\nc", "a\nB\nc", old_label="r1", new_label="r2")
    assert lines == ["--- r1", "+++ r2", "@@ -1,3 +1,3 @@", " a", "-b", "+B", " c"]
    assert text_diff("same", "same", old_label="r1", new_label="r2") == []


def test_revisions_diff_covers_title_summary_and_text(group: Group) -> None:
    proposal = proposal_draft(group, title="Old", text="one")
    proposal_update(proposal=proposal, editor=group.drafter, title="New", text="two")
    old, new = Revision.objects.filter(proposal=proposal).order_by("number")
    diff = revisions_diff(old, new)
    assert set(diff) == {"title", "summary", "text"}
    assert "-Old" in diff["title"] and "+New" in diff["title"]
    assert diff["summary"] == []


def test_revisions_are_listed_and_read_one_by_one(group: Group) -> None:
    proposal = proposal_draft(group, text="one")
    proposal_update(proposal=proposal, editor=group.drafter, text="two")
    client = client_for(group.drafter)
    listed = client.get(f"/api/proposals/{proposal.pk}/revisions/").json()["results"]
    assert [(r["number"], r["text"], r["author"]) for r in listed] == [
        (1, "one", "claire"),
        (2, "two", "claire"),
    ]
    assert client.get(f"/api/proposals/{proposal.pk}/revisions/2/").json()["text"] == "two"
    assert client.get(f"/api/proposals/{proposal.pk}/revisions/3/").status_code == 404


def test_the_diff_between_two_revisions_is_given_per_field(group: Group) -> None:
    proposal = proposal_draft(group, text="line 1\nline 2")
    for text in ("line 1\nline two", "line one\nline two"):
        proposal = proposal_update(proposal=proposal, editor=group.drafter, text=text)
    client = client_for(group.drafter)
    diff = client.get(f"/api/proposals/{proposal.pk}/revisions/diff/?from=1&to=3").json()
    assert (diff["from"], diff["to"]) == (1, 3)
    assert diff["fields"]["text"] == [
        "--- text (revision 1)",
        "+++ text (revision 3)",
        "@@ -1,2 +1,2 @@",
        "-line 1",
        "-line 2",
        "+line one",
        "+line two",
    ]
    assert diff["fields"]["title"] == []
    by_default = client.get(f"/api/proposals/{proposal.pk}/revisions/diff/").json()
    assert (by_default["from"], by_default["to"]) == (2, 3)


@pytest.mark.parametrize("query", ["from=1&to=9", "from=0&to=1", "from=x&to=1", "to=-1"])
def test_a_diff_of_revisions_that_do_not_exist_is_a_400(group: Group, query: str) -> None:
    proposal = proposal_draft(group)
    response = client_for(group.drafter).get(
        f"/api/proposals/{proposal.pk}/revisions/diff/?{query}"
    )
    assert response.status_code == 400
    assert response.json()["reasons"]


def test_reviews_say_who_decided_what_on_which_revision(group: Group) -> None:
    proposal = proposal_in(group, "in_review")
    run(proposal, "request_changes", group.reviewer, "Shorten article 2.")
    reviews = client_for(group.drafter).get(f"/api/proposals/{proposal.pk}/reviews/").json()
    assert [
        (r["revision"], r["reviewer"], r["decision"], r["comment"]) for r in reviews["results"]
    ] == [(1, "rita", "request_changes", "Shorten article 2.")]


def test_the_history_lists_every_action_oldest_first(group: Group) -> None:
    proposal = proposal_in(group, "in_review")
    proposal = run(fresh(proposal), "request_changes", group.reviewer, "Shorten it.")
    history = client_for(group.drafter).get(f"/api/proposals/{proposal.pk}/history/").json()
    rows = [
        (h["transition"], h["source"], h["target"], h["actor"], h["comment"])
        for h in history["results"]
    ]
    assert rows == [
        ("submit_for_review", "draft", "in_review", "claire", ""),
        ("request_changes", "in_review", "draft", "rita", "Shorten it."),
    ]
    assert all(h["at"] for h in history["results"])
