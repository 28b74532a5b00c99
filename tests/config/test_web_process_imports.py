"""A web process holds only the libraries of the requests it serves.

The PDF libraries (reportlab and Pillow for a dossier, pypdf for an occasion's bundle), the
spreadsheet one (openpyxl, for a workbook) and the QR code one (segno, for setting up a second
factor) are imported by the rare request that needs them, not by the URL configuration or the
app's start: each is megabytes in every gunicorn worker that imports it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from tests.factories import Group, api_token_key, client_signed_in, proposal_draft

BASE_DIR = Path(__file__).resolve().parents[2]
LAZY = ("reportlab", "PIL", "pypdf", "openpyxl", "segno")
LIST = "/api/proposals/?state=in_review&state=endorsement&page_size=50"

SERVE = """
import json, sys

from config.wsgi import application  # the app as gunicorn loads it
from django.test import Client

client = Client()
statuses = {}
for kind, method, path, headers in json.loads(sys.argv[1]):
    if method == "POST":
        response = client.post(path, data={}, content_type="application/json", headers=headers)
    else:
        response = client.get(path, headers=headers)
    statuses[kind] = response.status_code
print(json.dumps({"statuses": statuses, "imported": sorted(
    name for name in json.loads(sys.argv[2]) if name in sys.modules
)}))
"""


def database_url_for_a_process(tmp_path: Path) -> str:
    """The test database as another process reaches it: PostgreSQL's by its name, SQLite's (in
    memory) copied to a file."""
    connection = connections["default"]
    if connection.vendor == "postgresql":
        config = connection.settings_dict
        user = quote(config["USER"] or "")
        password = f":{quote(config['PASSWORD'])}" if config["PASSWORD"] else ""
        host = config["HOST"] or "localhost"
        port = f":{config['PORT']}" if config["PORT"] else ""
        return f"postgres://{user}{password}@{host}{port}/{config['NAME']}"
    copy = tmp_path / "db.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(copy) as target:
        connection.connection.backup(target)
    target.close()
    return f"sqlite:///{copy}"


def served_by_a_fresh_process(
    requests: list[tuple[str, str, str, dict[str, str]]], tmp_path: Path
) -> dict[str, Any]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}
    }
    environment.update(
        DATABASE_URL=database_url_for_a_process(tmp_path), DJANGO_SETTINGS_MODULE="config.settings"
    )
    finished = subprocess.run(
        [sys.executable, "-c", SERVE, json.dumps(requests), json.dumps(LAZY)],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return dict(json.loads(finished.stdout.strip().splitlines()[-1]))


@pytest.mark.django_db(transaction=True)
def test_a_web_process_serving_each_kind_of_request_imports_no_pdf_or_spreadsheet_library(
    group: Group, tmp_path: Path
) -> None:
    """One request of each kind of the benchmark's load mix: the API's list and detail, a
    proposal's page, a transition through the API, a calendar feed, the notifications."""
    shown = proposal_draft(group)
    draft = proposal_draft(group)
    token = api_token_key(group.drafter)
    api = {"Authorization": f"Token {token}", "Accept": "application/json"}
    signed_in = client_signed_in(Client(), group.drafter)
    cookie = settings.SESSION_COOKIE_NAME
    page = {"Cookie": f"{cookie}={signed_in.cookies[cookie].value}"}
    requests = [
        ("list", "GET", LIST, api),
        ("detail", "GET", f"/api/proposals/{shown.pk}/", api),
        ("page", "GET", f"/proposals/{shown.pk}/", page),
        (
            "transition",
            "POST",
            f"/api/proposals/{draft.pk}/transitions/submit_for_review/",
            api,
        ),
        ("calendar", "GET", f"/calendar/{group.drafter.calendar_token}.ics", {}),
        ("notifications", "GET", "/api/notifications/", api),
    ]

    served = served_by_a_fresh_process(requests, tmp_path)

    assert served["statuses"] == {kind: 200 for kind, *_ in requests}
    assert served["imported"] == []
