"""Browser tests: Playwright for Python driving Debian's Chromium against the live server."""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import skip_or_fail

# Playwright's sync API runs an event loop in the test's thread; the test still reads and
# writes the database there, which Django allows only when told so.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (Debian's, never a downloaded build)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[test]')")
    executable = chromium_path()
    if not (os.path.exists(executable) or shutil.which(executable)):
        skip_or_fail(
            f"Chromium is not at {executable} (apt-get install chromium, or set CHROMIUM_PATH)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the journey saves its screenshots: docs/screenshots/ with UPDATE_SCREENSHOTS=1.

    Otherwise a temporary folder, so that a test run leaves the committed pictures alone.
    """
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


@pytest.fixture(autouse=True)
def sustainable_development_goals(request: Any) -> None:
    """The themes the migrations wrote, written again where an earlier live-server test emptied
    the tables (a transactional test ends by flushing them)."""
    if "transactional_db" not in request.fixturenames and "live_server" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    goals = importlib.import_module("proposals.migrations.0002_sustainable_development_goals")
    goals.add_goals(apps, None)
