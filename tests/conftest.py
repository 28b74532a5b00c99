from __future__ import annotations

import copy
import os
import tempfile
from io import StringIO
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.test.utils import override_settings

from tests.factories import Group, group_setup
from tests.snapshots import rows_once

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
REDIS_DATABASES = 16  # Redis's default number of databases: 0 to 15

# Tests that take seconds each, longest first. Under pytest-xdist they are handed out first
# (within pytest-django's order: database tests, then transactional ones, then the others; those
# that use no database go to the very front), so that no worker starts a long test while the
# other has nothing left to do, and gunicorn's workers do not share the CPU with Chromium.
RUN_FIRST = (
    "test_every_route_answers_hostile_input_without_5xx_or_a_change_of_data",
    "test_a_proposal_goes_from_draft_to_outcome_in_the_browser",
    "test_every_operation_answers_as_the_schema_says_for_each_role",
    "test_the_api_answers_as_its_schema_says_and_never_with_a_5xx",
    "test_a_worker_killed_in_the_middle_of_a_batch_loses_no_webhook",
    "test_a_generated_client_drives_a_proposal_from_draft_to_outcome",
    "test_every_demo_person_lists_every_proposal_they_see_through_the_generated_client",
    "test_an_edit_conflict_between_two_tabs_keeps_the_typed_text",
    "test_a_worker_killed_in_the_middle_of_a_batch_loses_nothing",
    "test_with_the_broker_down_transitions_and_moves_succeed_and_everything_goes_out_later",
    "test_gunicorn_workers_share_their_request_metrics",
    "test_the_dashboard_runs_a_constant_number_of_queries",
    "test_the_admin_and_the_api_docs_load_under_the_content_security_policy",
    "test_the_api_docs_render_the_operations_with_no_csp_violation",
    "test_production_settings_pass_the_deploy_checks_without_a_warning",
    "test_manage_py_makes_the_folder_of_the_sqlite_database",
    "test_typed_text_survives_a_session_that_ends_and_a_new_login",
    "test_the_secretariat_and_the_superuser_open_every_page_of_the_domain",
)
DATABASE_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}


def skip_or_fail(reason: str) -> None:
    """Skip a test whose service is missing, or fail when CI requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def worker_index() -> int:
    """0 in a serial run; n in pytest-xdist's worker gw<n>."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0


def redis_url_of_worker(url: str, index: int) -> str:
    """The Redis URL with the database number raised by the worker's index: worker gw1 of a
    run on redis://host:6379/5 uses database 6, so no worker sees another's cache or queue."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    number = base + index
    if number >= REDIS_DATABASES:
        raise pytest.UsageError(
            f"REDIS_URL {url} with worker {index} needs Redis database {number}, and Redis has "
            f"0 to {REDIS_DATABASES - 1}: start from a lower database or run fewer workers."
        )
    return urlunsplit(parts._replace(path=f"/{number}"))


def pytest_configure(config: pytest.Config) -> None:
    """Settings for the whole run, and a Redis database of its own for each xdist worker.

    pytest-django gives each worker its own test database (test_<name>_gw<n>); the worker's
    cache, Celery broker and the processes it starts (a Celery worker, gunicorn) get a Redis
    database of their own here. Live servers and SMTP sinks pick free ports, so they need
    nothing more. pytest-django loads the settings before this conftest, so they are changed
    in place.
    """
    from django.conf import settings

    changes: dict[str, Any] = {
        # Hashing demo passwords with PBKDF2 would dominate the suite's time.
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        # The suite's clients send far more requests than a person does: the API's throttles
        # stay on (counted over a second) but never refuse them; tests/proposals/api/
        # test_throttle.py sets its own rates.
        "API_THROTTLE_READ_RATE": "1000000/second",
        "API_THROTTLE_WRITE_RATE": "1000000/second",
        # Stored files (attachments) go to a folder of the run's own, never to var/files.
        "STORAGES": {
            **settings.STORAGES,
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": tempfile.mkdtemp(prefix="policy-tracker-files-")},
            },
        },
    }
    index = worker_index()
    redis_url = getattr(settings, "REDIS_URL", "")
    if redis_url and index:
        redis_url = redis_url_of_worker(redis_url, index)
        os.environ["REDIS_URL"] = redis_url
        caches = copy.deepcopy(settings.CACHES)
        if "redis" in caches["default"]["BACKEND"].lower():
            caches["default"]["LOCATION"] = redis_url
        changes.update(REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url, CACHES=caches)
    override_settings(**changes).enable()  # for the life of the process
    if "CELERY_BROKER_URL" in changes:
        from config.celery import app

        app.conf.update(broker_url=redis_url)


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> Any:
    """Under pytest-xdist, the long tests of RUN_FIRST first: sorted before pytest-django's own
    (stable) sort by kind of database use, and those that use no database moved after it."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return (yield)
    rank = {name: position for position, name in enumerate(RUN_FIRST)}

    def name(item: pytest.Item) -> str:
        return str(getattr(item, "originalname", item.name))

    def uses_database(item: pytest.Item) -> bool:
        fixtures = set(getattr(item, "fixturenames", ()))
        return bool(item.get_closest_marker("django_db") or fixtures & DATABASE_FIXTURES)

    items.sort(key=lambda item: rank.get(name(item), len(rank)))
    result = yield
    items.sort(key=lambda item: name(item) not in rank or uses_database(item))
    return result


def serialized_rollback_fix(item: pytest.Item, *, before: bool) -> None:
    """Around a test with serialized rollback: the tables hold what the migrations wrote, with
    the keys they wrote it under, before the test and after it.

    The test's setup writes those rows back (keys included), and its teardown empties the tables
    without writing the content types and permissions again. A transactional test that ran
    earlier in the process ended with a flush that wrote the content types again under new keys,
    so the setup's copy collided with them; and the tests after it found no content types. Which
    tests come before and after depends on the order pytest-xdist gives a worker.
    """
    if "django_db_serialized_rollback" not in getattr(item, "fixturenames", ()):
        return
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connections
    from pytest_django.plugin import blocking_manager_key

    for alias in connections:
        connection = connections[alias]
        contents = getattr(connection, "_test_serialized_contents", None)
        if contents is None:  # no test database yet, or one that is not serialized
            continue
        with item.config.stash[blocking_manager_key].unblock():
            if before:
                call_command(
                    "flush",
                    database=alias,
                    interactive=False,
                    inhibit_post_migrate=True,
                    verbosity=0,
                )
            else:
                connection.creation.deserialize_db_from_string(contents)
    ContentType.objects.clear_cache()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    serialized_rollback_fix(item, before=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    result = yield
    if nextitem is not None:  # after the last test, the test database is gone
        serialized_rollback_fix(item, before=False)
    return result


@pytest.fixture
def group(db: None) -> Group:
    return group_setup()


@pytest.fixture
def demo_loaded(db: None) -> None:
    """The demo of `manage.py load_demo`: loaded for real by the first test of the process that
    asks for it, then copied row for row into the next ones (tests/snapshots.py)."""
    from django.core.management import call_command

    def load() -> None:
        call_command("load_demo", stdout=StringIO())

    with override_settings(DEBUG=True):
        rows_once("load_demo", load)


@pytest.fixture
def postgres(transactional_db: None) -> None:
    """Tests of row locks and triggers need PostgreSQL; set DATABASE_URL to run them."""
    from django.db import connection

    if connection.vendor != "postgresql":
        skip_or_fail("this test needs PostgreSQL (set DATABASE_URL=postgres://...)")


@pytest.fixture(autouse=True)
def forecast_learns_afresh() -> None:
    """The forecast learns its step durations once an hour in a process: each test, which
    writes its own history, learns from that history."""
    from proposals.forecast import durations_forget

    durations_forget()


@pytest.fixture(autouse=True)
def language_and_zone_reset() -> Any:
    """A test that activates a language or a time zone (directly or through a view) leaves
    the next test in the defaults."""
    yield
    from django.utils import timezone, translation

    translation.deactivate()
    timezone.deactivate()
