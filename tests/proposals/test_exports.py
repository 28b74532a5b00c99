"""Exports for people (the pages' CSV and XLSX, in the reader's language and zone) and for
machines (the API's CSV: ids and ISO times)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from proposals.models import Proposal
from tests.factories import Group, OccasionFactory, proposal_draft
from tests.proposals.api.helpers import client_for
from tests.proposals.web.helpers import in_review, signed_in

pytestmark = pytest.mark.django_db

BOM = "\ufeff".encode()
DEADLINE = dt.datetime(2099, 5, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)


def french_reader(group: Group) -> Any:
    person = group.drafter
    person.language = "fr"
    person.timezone = "Europe/Paris"
    person.first_name, person.last_name = "Claire", "Dupré"
    person.save(update_fields=["language", "timezone", "first_name", "last_name"])
    return person


def a_proposal_in_review(group: Group) -> Proposal:
    occasion = OccasionFactory(name="Sommet de Paris", submission_deadline=DEADLINE)
    proposal = in_review(group, title="Économie circulaire", occasion=occasion)
    proposal.themes.set([8])
    return proposal


def content_of(response: Any) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return bytes(response.content)


def test_the_page_csv_is_in_the_readers_language_zone_and_names(group: Group) -> None:
    reader = french_reader(group)
    proposal = a_proposal_in_review(group)
    response = signed_in(reader).get(reverse("proposals:proposal_list_csv"))
    body = content_of(response)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert body.startswith(BOM), "Excel reads UTF-8 only after a byte-order mark"
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    header, row = rows[0], rows[1]
    assert header[:3] == ["Numéro", "Titre", "État"]
    assert "Date limite (heure de Paris)" in header
    cells = dict(zip(header, row, strict=True))
    assert cells["Numéro"] == str(proposal.pk)
    assert cells["Titre"] == "Économie circulaire"
    assert cells["État"] == "En relecture"
    assert cells["Organisation porteuse"] == "France"
    assert cells["Auteurs"] == "Claire Dupré"
    assert cells["Langue"] == "Anglais"
    assert cells["Date limite (heure de Paris)"] == "2099-05-01 14:00"
    assert cells["Thèmes"].startswith("8. ")
    assert "." not in cells["Date de mise à jour (heure de Paris)"].split(" ")[-1]


def test_an_english_reader_gets_commas_and_english_labels(group: Group) -> None:
    a_proposal_in_review(group)
    body = content_of(signed_in(group.reviewer).get(reverse("proposals:proposal_list_csv")))

    header = next(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert header[:3] == ["Number", "Title", "State"]
    assert "Deadline (UTC)" in header


def test_the_xlsx_export_has_typed_columns_in_the_readers_language(group: Group) -> None:
    reader = french_reader(group)
    proposal = a_proposal_in_review(group)
    response = signed_in(reader).get(reverse("proposals:proposal_list_xlsx"))

    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "proposals.xlsx" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(content_of(response))).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert row["Numéro"] == proposal.pk
    assert row["Version"] == 1
    assert row["État"] == "En relecture"
    assert row["Date limite (heure de Paris)"] == dt.datetime(2099, 5, 1, 14, 0)
    assert isinstance(row["Date de création (heure de Paris)"], dt.datetime)


def test_the_exports_run_a_constant_number_of_queries(group: Group) -> None:
    client = signed_in(group.drafter)
    a_proposal_in_review(group)

    def queries(name: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            content_of(client.get(reverse(name)))
        return len(captured)

    client.get(reverse("proposals:home"))  # the first request of a session writes it
    few = {
        name: queries(name)
        for name in ("proposals:proposal_list_csv", "proposals:proposal_list_xlsx")
    }
    for _ in range(4):
        proposal_draft(group).themes.set([1, 2])
    for name, count in few.items():
        assert queries(name) == count


def test_the_api_csv_stays_for_machines(group: Group) -> None:
    french_reader(group)
    proposal = a_proposal_in_review(group)
    body = content_of(client_for(group.drafter).get("/api/proposals/?format=csv"))

    assert not body.startswith(BOM)
    rows = list(csv.reader(io.StringIO(body.decode())))
    cells = dict(zip(rows[0], rows[1], strict=True))
    assert cells["id"] == str(proposal.pk)
    assert cells["state"] == "in_review"
    assert cells["authors"] == group.drafter.username
    assert cells["themes"] == "8"
    assert cells["deadline"].startswith("2099-05-01T")
