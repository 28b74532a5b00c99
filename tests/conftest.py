from __future__ import annotations

import os
from typing import Any

import pytest

from tests.factories import Group, group_setup

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip a test whose service is missing, or fail when CI requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def group(db: None) -> Group:
    return group_setup()


@pytest.fixture
def postgres(transactional_db: None) -> None:
    """Tests of row locks and triggers need PostgreSQL; set DATABASE_URL to run them."""
    from django.db import connection

    if connection.vendor != "postgresql":
        skip_or_fail("this test needs PostgreSQL (set DATABASE_URL=postgres://...)")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Hashing demo passwords with PBKDF2 would dominate the suite's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def language_and_zone_reset() -> Any:
    """A test that activates a language or a time zone (directly or through a view) leaves
    the next test in the defaults."""
    yield
    from django.utils import timezone, translation

    translation.deactivate()
    timezone.deactivate()
