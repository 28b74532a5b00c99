"""The smaller points of the pages (issue 12): withdrawing said final, an outcome chosen on
purpose with a bounded note and named in the history, French punctuation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from proposals.limits import NOTE_MAX_LENGTH
from proposals.markdown import markdown_to_html
from proposals.models import Proposal, ProposalState
from tests.factories import Group, proposal_draft
from tests.proposals.api.helpers import client_for
from tests.proposals.web.helpers import endorsed, fresh, run, signed_in

pytestmark = pytest.mark.django_db


def action_url(proposal: Proposal, name: str) -> str:
    return reverse("proposals:proposal_transition", args=[proposal.pk, name])


def submitted(group: Group) -> Proposal:
    return run(endorsed(group), "submit", group.secretariat)


def test_the_withdraw_page_says_that_withdrawing_is_final(group: Group) -> None:
    page = signed_in(group.drafter).get(action_url(proposal_draft(group), "withdraw"))
    assert "Withdrawing is final" in page.content.decode()


def test_the_outcome_has_no_default_and_must_be_chosen(group: Group) -> None:
    proposal = submitted(group)
    client = signed_in(group.secretariat)
    html = client.get(action_url(proposal, "record_outcome")).content.decode()
    radios = re.findall(r'<input type="radio" name="outcome"[^>]*>', html)
    assert len(radios) == 4
    assert not any("checked" in radio for radio in radios)
    assert "<legend>Outcome" in html
    response = client.post(action_url(proposal, "record_outcome"), {"note": "No choice."})
    assert response.status_code == 400
    assert "Choose the outcome" in response.content.decode()
    assert fresh(proposal).state == ProposalState.SUBMITTED


def test_the_outcome_note_is_a_text_area_with_a_limit_the_api_shares(group: Group) -> None:
    assert NOTE_MAX_LENGTH == 2_000
    proposal = submitted(group)
    client = signed_in(group.secretariat)
    html = client.get(action_url(proposal, "record_outcome")).content.decode()
    assert re.search(rf'<textarea name="note"[^>]*maxlength="{NOTE_MAX_LENGTH}"', html)
    too_long = client.post(
        action_url(proposal, "record_outcome"),
        {"outcome": "adopted", "note": "x" * (NOTE_MAX_LENGTH + 1)},
    )
    assert too_long.status_code == 400
    api = client_for(group.secretariat).post(
        f"/api/proposals/{proposal.pk}/transitions/record_outcome/",
        {"outcome": "adopted", "note": "x" * (NOTE_MAX_LENGTH + 1)},
        format="json",
    )
    assert api.status_code == 400, api.json()
    assert "note" in api.json()
    assert fresh(proposal).state == ProposalState.SUBMITTED


def test_the_history_names_the_recorded_outcome(group: Group) -> None:
    proposal = submitted(group)
    client = signed_in(group.secretariat)
    client.post(action_url(proposal, "record_outcome"), {"outcome": "adopted_in_part"})
    html = client.get(reverse("proposals:proposal_detail", args=[proposal.pk])).content.decode()
    history = html[html.index('id="history-heading"') :]
    assert "<strong>Record outcome</strong>: Adopted in part" in history


def test_french_pages_put_a_narrow_no_break_space_before_colons(group: Group) -> None:
    group.drafter.language = "fr"
    group.drafter.save(update_fields=["language"])
    html = signed_in(group.drafter).get(reverse("proposals:workflow")).content.decode()
    desc = html[html.index('<desc id="diagram-desc">') : html.index("</desc>")]
    assert "Retirer\u202f: " in desc
    assert re.search(r"\w: ", desc) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# Context\n\ntext\n\n## Detail\n\nmore", ["h3", "h4"]),
        ("## Context\n\ntext\n\n#### Detail\n\nmore", ["h3", "h4"]),
        ("### Only one level\n\ntext", ["h3"]),
    ],
)
def test_the_texts_headings_nest_under_the_pages_own(
    group: Group, text: str, expected: list[str]
) -> None:
    proposal = proposal_draft(group, text=text, text_html=markdown_to_html(text))
    html = signed_in(group.drafter).get(reverse("proposals:proposal_detail", args=[proposal.pk]))
    rendered = html.content.decode().split('<div class="rendered">')[1].split("</div>")[0]
    assert re.findall(r"<(h[1-6])>", rendered) == expected


def test_a_hidden_proposal_is_the_projects_404_page_in_debug_mode_too(
    group: Group, settings: Any
) -> None:
    settings.DEBUG = True
    hidden = proposal_draft(group)
    response = signed_in(group.outsider).get(reverse("proposals:proposal_detail", args=[hidden.pk]))
    assert response.status_code == 404
    html = response.content.decode()
    assert "There is nothing here, or you may not see it." in html
    assert "URLconf" not in html and "Using the URLconf" not in html
