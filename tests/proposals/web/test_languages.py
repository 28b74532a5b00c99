"""Pages in French and Spanish: words, dates, zones and numbers as each language writes them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from proposals.models import Body, Occasion, Person
from proposals.rules import deadline_passed_reason
from tests.factories import Group, proposal_draft
from tests.proposals.web.helpers import signed_in


def page_in(person: Any, language: str, url: str, **params: Any) -> str:
    """The page as the person reads it in the language."""
    person.language = language
    person.save(update_fields=["language"])
    response = signed_in(person).get(url, params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("fr", ["En brouillon", "Retirée", "Retirer", "Approuver"]),
        ("es", ["En borrador", "Retirada", "Retirar", "Aprobar"]),
    ],
)
def test_the_workflow_diagram_has_whole_labels_and_coordinates_as_markup_numbers(
    group: Group, language: str, labels: list[str]
) -> None:
    html = page_in(group.drafter, language, reverse("proposals:workflow"))
    svg = html[html.index("<svg") : html.index("</svg>")]
    coordinates = re.findall(r' (?:x|y|width|height|viewBox)="([^"]*)"', svg)
    assert coordinates
    # A decimal comma makes "360,0" a list of two x positions: one letter, the rest far left.
    assert all(re.fullmatch(r"[0-9. -]+", value) for value in coordinates), coordinates
    withdrawn = re.search(r'node-withdrawn">\s*<rect x="([^"]+)" y="([^"]+)"', svg)
    assert withdrawn and "," not in withdrawn.group(2)
    for label in labels:
        assert f">{label}</text>" in svg


@pytest.mark.parametrize(
    ("language", "deadline_for_reader", "deadline_there", "dates"),
    [
        (
            "en",
            "10 Jun 2099, 18:30</time> (New York time)",
            "11 Jun 2099, 07:30 (Tokyo time)",
            "12 Jul 2099",
        ),
        (
            "fr",
            "10 juin 2099, 18:30</time> (heure de New York)",
            "11 juin 2099, 07:30",
            "12 juil. 2099",
        ),
        (
            "es",
            "10 jun 2099, 18:30</time> (hora de Nueva York)",
            "11 jun 2099, 7:30",
            "12 jul 2099",
        ),
    ],
)
def test_dates_and_zones_read_as_the_language_writes_them(
    group: Group, language: str, deadline_for_reader: str, deadline_there: str, dates: str
) -> None:
    Occasion.objects.filter(pk=group.occasion.pk).update(
        submission_deadline=dt.datetime(2099, 6, 10, 22, 30, tzinfo=dt.UTC),
        timezone="Asia/Tokyo",
        starts_on=dt.date(2099, 7, 12),
        ends_on=dt.date(2099, 7, 14),
    )
    Person.objects.filter(pk=group.drafter.pk).update(timezone="America/New_York")
    drafter = Person.objects.get(pk=group.drafter.pk)
    html = page_in(
        drafter, language, reverse("proposals:occasion_detail", args=[group.occasion.pk])
    )
    assert deadline_for_reader.split("</time>")[0] in html
    assert deadline_there in html
    assert dates in html
    assert "America/New_York" not in html and "Asia/Tokyo" not in html
    detail = page_in(
        drafter, language, reverse("proposals:proposal_detail", args=[proposal_draft(group).pk])
    )
    assert deadline_for_reader in detail
    assert deadline_there in detail
    for wrong in ("Jui ", "Déc ", "Dic "):
        assert wrong not in detail


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "passed on 29 Nov 2026 at 23:59 (Belém time)"),
        ("fr", "29 nov. 2026"),
        ("es", "29 nov 2026"),
    ],
)
def test_a_refusal_names_the_passed_deadline_as_the_language_writes_dates(
    group: Group, language: str, expected: str
) -> None:
    occasion = group.occasion
    occasion.location = "Belém, Brazil"
    occasion.timezone = "America/Belem"
    occasion.submission_deadline = dt.datetime(2026, 11, 30, 2, 59, tzinfo=dt.UTC)
    with translation.override(language):
        reason = deadline_passed_reason(occasion, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    assert reason is not None and expected in reason
    assert "Nov 2026" not in reason or language == "en"


def test_the_time_zone_setting_is_grouped_by_region_with_cities_in_the_language(
    group: Group,
) -> None:
    html = page_in(group.drafter, "es", reverse("proposals:settings"))
    select = html[
        html.index('<select name="timezone"') : html.index(
            "</select>", html.index('<select name="timezone"')
        )
    ]
    assert "data-zone-filter=" in select
    assert '<optgroup label="' in select
    assert '<option value="America/New_York">Nueva York (Estados Unidos)</option>' in select
    assert '<option value="America/Guayaquil">Guayaquil (Ecuador)</option>' in select
    assert ">America/Guayaquil<" not in select
    options = select.count("<option ")
    assert 300 < options < 450  # the canonical zones, not every alias of the database
    assert "proposals/zone-filter" in html


def test_a_zone_picked_from_the_grouped_list_is_saved(group: Group) -> None:
    client = signed_in(group.drafter)
    response = client.post(
        reverse("proposals:settings"),
        {"language": "es", "timezone": "America/Guayaquil"},
    )
    assert response.status_code == 302
    group.drafter.refresh_from_db()
    assert group.drafter.timezone == "America/Guayaquil"


@pytest.mark.parametrize(
    ("language", "names"),
    [
        ("fr", ["Maroc", "Équateur", "Colombie", "Québec"]),
        ("es", ["Marruecos", "Ecuador", "Colombia", "Québec"]),
        ("en", ["Morocco", "Ecuador", "Colombia", "Québec"]),
    ],
)
def test_the_demo_names_states_in_the_readers_language_and_national_bodies_in_their_own(
    demo_loaded: None, language: str, names: list[str]
) -> None:
    claire = Person.objects.get(username="claire")
    html = page_in(claire, language, reverse("proposals:group"))
    for name in names:
        assert name in html
    assert Occasion.objects.filter(
        name="Consultation sur le projet de loi relatif à l'économie sociale et solidaire"
    ).exists()
    assert {"Assemblée nationale", "Asamblea Nacional del Ecuador"} <= set(
        Body.objects.values_list("name", flat=True)
    )


@pytest.mark.parametrize(
    ("language", "month"), [("en", "July 2099"), ("fr", "Juillet 2099"), ("es", "Julio de 2099")]
)
def test_the_calendar_names_its_month_as_the_language_does(
    group: Group, language: str, month: str
) -> None:
    html = page_in(group.drafter, language, reverse("proposals:occasion_list"), month="2099-07")
    assert f'<h2 id="calendar-heading">{month}</h2>' in html


def test_no_number_in_markup_is_written_with_a_decimal_comma(group: Group) -> None:
    """Attributes (coordinates, sizes, values, data-*) hold numbers for machines, in every
    language: a French page never writes one as "360,0"."""
    proposal = proposal_draft(group)
    urls = [
        reverse("proposals:home"),
        reverse("proposals:proposal_list"),
        reverse("proposals:proposal_detail", args=[proposal.pk]),
        reverse("proposals:occasion_list"),
        reverse("proposals:occasion_detail", args=[group.occasion.pk]),
        reverse("proposals:group"),
        reverse("proposals:workflow"),
        reverse("proposals:settings"),
    ]
    for language in ("fr", "es"):
        for url in urls:
            html = page_in(group.drafter, language, url)
            localized = re.findall(r'\s[\w:-]+="-?\d+,\d+"', html)
            assert localized == [], (language, url, localized)
