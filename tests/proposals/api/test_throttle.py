"""Throttles of the API per person: reads and writes each have a rate from the settings; a
request over it is a 429 in the usual error shape with Retry-After; the counts are shared by
every process through the cache (Redis when REDIS_URL is set)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from rest_framework.test import APIClient

from proposals.api.throttles import PersonReadThrottle, PersonWriteThrottle
from proposals.models import Person, Proposal
from tests.config.test_settings import BASE_DIR, run_manage
from tests.conftest import skip_or_fail
from tests.factories import Group, proposal_draft
from tests.proposals.api.helpers import client_for

pytestmark = pytest.mark.django_db

READS = 3
WRITES = 2


def counts_forgotten(*people: Person) -> None:
    for person in people:
        for throttle in (PersonReadThrottle, PersonWriteThrottle):
            cache.delete(throttle.cache_format % {"scope": throttle.scope, "ident": person.pk})


@pytest.fixture
def low_rates(settings: object, group: Group) -> Iterator[None]:
    settings.API_THROTTLE_READ_RATE = f"{READS}/minute"  # type: ignore[attr-defined]
    settings.API_THROTTLE_WRITE_RATE = f"{WRITES}/hour"  # type: ignore[attr-defined]
    everyone = list(Person.objects.all())
    counts_forgotten(*everyone)
    yield
    counts_forgotten(*everyone)


def test_a_person_over_the_read_rate_gets_a_429_with_retry_after_in_the_error_shape(
    group: Group, low_rates: None
) -> None:
    client = client_for(group.drafter)
    for _ in range(READS):
        assert client.get("/api/proposals/").status_code == 200

    response = client.get("/api/proposals/")

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    body = response.json()
    assert body["code"] == "throttled"
    assert body["reasons"] and body["detail"]
    assert body["reason_codes"] == ["throttled"]


def test_the_count_is_per_person_and_writes_count_apart_from_reads(
    group: Group, low_rates: None
) -> None:
    drafter = client_for(group.drafter)
    for _ in range(READS):
        drafter.get("/api/bodies/")
    assert drafter.get("/api/bodies/").status_code == 429

    assert client_for(group.reviewer).get("/api/bodies/").status_code == 200
    created = drafter.post("/api/proposals/", {"title": "Still allowed"}, format="json")
    assert created.status_code == 201, created.json()


def test_a_write_over_the_write_rate_is_refused_and_not_done(group: Group, low_rates: None) -> None:
    client = client_for(group.drafter)
    for number in range(WRITES):
        response = client.post("/api/proposals/", {"title": f"P{number}"}, format="json")
        assert response.status_code == 201
    before = Proposal.objects.count()

    refused = client.post("/api/proposals/", {"title": "One too many"}, format="json")

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 60  # the write rate is per hour here
    assert Proposal.objects.count() == before


def test_anonymous_requests_are_a_401_and_are_not_counted(group: Group, low_rates: None) -> None:
    anonymous = APIClient()
    for _ in range(READS + 2):
        assert anonymous.get("/api/proposals/").status_code == 401


def test_the_429_speaks_the_persons_language(group: Group, low_rates: None) -> None:
    group.drafter.language = "fr"
    group.drafter.save(update_fields=["language"])
    client = client_for(group.drafter)
    for _ in range(READS):
        client.get("/api/bodies/")

    response = client.get("/api/bodies/")

    assert response.status_code == 429
    english = "Request was throttled"
    assert english not in response.json()["detail"]


def test_a_conditional_read_counts_like_any_read(group: Group, low_rates: None) -> None:
    proposal = proposal_draft(group)
    client = client_for(group.drafter)
    etag = client.get(f"/api/proposals/{proposal.pk}/")["ETag"]
    for _ in range(READS - 1):
        client.get(f"/api/proposals/{proposal.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert client.get(f"/api/proposals/{proposal.pk}/").status_code == 429


def test_every_process_counts_the_same_requests_through_redis(
    group: Group, settings: object
) -> None:
    """The requests made here use up the rate; a throttle in another Python process, reading
    the same Redis, refuses the next one."""
    redis_url = getattr(django_settings, "REDIS_URL", "")
    if not redis_url or "redis" not in django_settings.CACHES["default"]["BACKEND"].lower():
        skip_or_fail("this test needs Redis as the cache (set REDIS_URL=redis://...)")
    settings.API_THROTTLE_READ_RATE = f"{READS}/minute"  # type: ignore[attr-defined]
    counts_forgotten(group.drafter)
    client = client_for(group.drafter)
    for _ in range(READS):
        assert client.get("/api/bodies/").status_code == 200
    code = textwrap.dedent(
        f"""
        import django
        django.setup()
        from types import SimpleNamespace
        from proposals.api.throttles import PersonReadThrottle
        request = SimpleNamespace(
            method="GET", user=SimpleNamespace(pk={group.drafter.pk}, is_authenticated=True),
            META={{}},
        )
        print("allowed" if PersonReadThrottle().allow_request(request, None) else "refused")
        """
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REDIS_URL": redis_url,
        "API_THROTTLE_READ_RATE": f"{READS}/minute",
    }
    try:
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=BASE_DIR,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.stdout.strip() == "refused", result.stderr
    finally:
        counts_forgotten(group.drafter)


@pytest.mark.parametrize("rate", ["600", "ten/minute", "0/minute", "5/fortnight"])
def test_the_settings_refuse_a_rate_they_cannot_read(rate: str) -> None:
    result = run_manage("check", API_THROTTLE_WRITE_RATE=rate)
    assert result.returncode != 0
    assert "API_THROTTLE_WRITE_RATE must be a number of requests and a period" in result.stderr


def test_the_schema_declares_the_429_with_retry_after_on_every_operation(group: Group) -> None:
    schema = client_for(group.drafter).get("/api/schema/?format=json").json()
    operations = [
        operation
        for path_item in schema["paths"].values()
        for operation in path_item.values()
        if isinstance(operation, dict) and "responses" in operation
    ]
    assert len(operations) > 20
    for operation in operations:
        throttled = operation["responses"]["429"]
        assert "Retry-After" in throttled["headers"]
        assert throttled["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
