"""Pages in French and Spanish: words, dates, zones and numbers as each language writes them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from tests.factories import Group
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
