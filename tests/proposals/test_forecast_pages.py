"""The forecast where people decide: the proposal page, the dashboard and the API, in English,
French and Spanish, in a constant number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from proposals.forecast.history import Cast, history_generate
from proposals.models import Proposal
from tests.factories import Group, api_token_key, proposal_draft
from tests.proposals.web.helpers import in_review, signed_in

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def with_history(group: Group) -> None:
    history_generate(
        cast=Cast(author=group.drafter, organization=group.france, body=group.body),
        seed=5,
        end=timezone.now() - 20 * DAY,
        occasions_per_kind=3,
        proposals_per_occasion=10,
    )


def at_risk(group: Group) -> Proposal:
    group.occasion.submission_deadline = timezone.now() + dt.timedelta(days=2, hours=6)
    group.occasion.save()
    return in_review(group, title="Cooperatives in the SDGs")


def language(person: object, code: str) -> None:
    person.language = code  # type: ignore[attr-defined]
    person.save()  # type: ignore[attr-defined]


def test_the_proposal_page_says_which_step_puts_it_at_risk_in_each_language(group: Group) -> None:
    with_history(group)
    proposal = at_risk(group)
    url = reverse("proposals:proposal_detail", args=[proposal.pk])

    page = signed_in(group.drafter).get(url).content.decode()
    assert "At risk: review usually takes" in page
    assert "2 days are left." in page
    assert "chance of submission in time" in page

    language(group.drafter, "fr")
    page = signed_in(group.drafter).get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Risque de retard" in page
    assert "il reste 2\u00a0jours" in page or "il reste 2 jours" in page

    language(group.drafter, "es")
    page = signed_in(group.drafter).get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "En riesgo: la revisión suele durar" in page
    assert "quedan 2 días" in page


def test_without_history_the_page_says_so(group: Group) -> None:
    proposal = proposal_draft(group)
    page = signed_in(group.drafter).get(reverse("proposals:proposal_detail", args=[proposal.pk]))
    assert "Not enough history yet to tell whether it will be submitted in time." in (
        page.content.decode()
    )


def test_the_dashboard_lists_the_proposals_at_risk_first(group: Group) -> None:
    with_history(group)
    proposal = at_risk(group)
    page = signed_in(group.reviewer).get(reverse("proposals:home")).content.decode()
    heading = page.index("At risk of missing their deadline")
    assert heading < page.index("Awaiting my review")
    assert page.index(proposal.title) > heading


def test_the_api_gives_the_forecast_on_the_detail_and_the_list(
    group: Group, client: object, django_assert_max_num_queries: object
) -> None:
    with_history(group)
    proposal = at_risk(group)
    headers = {"HTTP_AUTHORIZATION": f"Token {api_token_key(group.drafter)}"}
    detail = client.get(f"/api/proposals/{proposal.pk}/", **headers).json()  # type: ignore[attr-defined]
    forecast = detail["forecast"]
    assert set(forecast) == {
        "probability",
        "expected_submission",
        "weighing_step",
        "typical_days",
        "days_left",
        "at_risk",
        "reason",
    }
    assert forecast["at_risk"] is True and forecast["weighing_step"] == "in_review"
    assert 0 <= forecast["probability"] < 0.5 and forecast["days_left"] == 2
    assert forecast["reason"] is None
    dt.date.fromisoformat(forecast["expected_submission"])

    rows = client.get("/api/proposals/", **headers).json()["results"]  # type: ignore[attr-defined]
    by_id = {row["id"]: row["forecast"] for row in rows}
    assert by_id[proposal.pk] == forecast
    closed = Proposal.objects.exclude(state__in=["draft", "in_review", "endorsement"]).first()
    assert closed is not None and by_id.get(closed.pk, None) is None


def test_the_api_list_reads_the_forecasts_in_a_constant_number_of_queries(
    group: Group, client: object
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with_history(group)
    headers = {"HTTP_AUTHORIZATION": f"Token {api_token_key(group.drafter)}"}

    def count() -> int:
        client.get("/api/proposals/", **headers)  # type: ignore[attr-defined]
        with CaptureQueriesContext(connection) as captured:
            client.get("/api/proposals/", **headers)  # type: ignore[attr-defined]
        return len(captured)

    proposal_draft(group)
    one = count()
    for _ in range(4):
        in_review(group)
    assert count() == one
