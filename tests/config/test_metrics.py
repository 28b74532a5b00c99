"""/metrics: request latency from django-prometheus and the outbox's gauges, behind a token."""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from proposals.models import Person
from workflow.models import Delivery
from workflow.reminders import reminders_scan

BASE_DIR = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-tests"


@pytest.fixture
def scraper(client: Client, settings: Any) -> Client:
    settings.METRICS_TOKEN = TOKEN
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Each sample of a Prometheus exposition, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client: Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


def status(value: str) -> frozenset[tuple[str, str]]:
    return frozenset({("status", value)})


NONE: frozenset[tuple[str, str]] = frozenset()


def deliveries(status: str, count: int, *, created_at: dt.datetime | None = None) -> None:
    for _ in range(count):
        index = Delivery.objects.count()
        person, _created = Person.objects.get_or_create(
            username="reader", defaults={"email": "reader@example.org"}
        )
        Delivery.objects.create(
            key=f"metrics-test:{index}",
            kind=Delivery.Kind.NOTIFICATION,
            recipient=person,
            template="proposals/email/submitted",
            status=status,
            created_at=created_at or timezone.now(),
        )


def test_metrics_are_off_while_no_token_is_set(client: Client, settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_metrics_refuse_a_request_without_the_token(
    client: Client, settings: Any, header: str | None
) -> None:
    settings.METRICS_TOKEN = TOKEN
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"policy_tracker" not in response.content


@pytest.mark.django_db
def test_the_outbox_gauges_follow_the_deliveries(scraper: Client) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        before = scrape(scraper)
        assert before["policy_tracker_outbox_waiting_deliveries", status("pending")] == 0
        assert before["policy_tracker_outbox_oldest_waiting_age_seconds", status("pending")] == 0
        assert before["policy_tracker_outbox_failed_deliveries", NONE] == 0

        deliveries("pending", 2, created_at=timezone.now() - dt.timedelta(minutes=20))
        deliveries("pending", 1)
        deliveries("digest", 1, created_at=timezone.now() - dt.timedelta(hours=3))
        deliveries("sent", 4)
        deliveries("failed", 1)
        after = scrape(scraper)
        assert after["policy_tracker_outbox_waiting_deliveries", status("pending")] == 3
        assert after["policy_tracker_outbox_waiting_deliveries", status("digest")] == 1
        assert after["policy_tracker_outbox_waiting_deliveries", status("sending")] == 0
        assert after["policy_tracker_outbox_oldest_waiting_age_seconds", status("pending")] == 1200
        assert (
            after["policy_tracker_outbox_oldest_waiting_age_seconds", status("digest")] == 3 * 3600
        )
        assert after["policy_tracker_outbox_failed_deliveries", NONE] == 1

        clock.shift(dt.timedelta(minutes=1))
        deliveries("failed", 2)
        later = scrape(scraper)
        assert later["policy_tracker_outbox_failed_deliveries", NONE] == 3
        assert later["policy_tracker_outbox_oldest_waiting_age_seconds", status("pending")] == 1260
        assert later["policy_tracker_metrics_database_up", NONE] == 1


@pytest.mark.django_db
def test_the_scan_lag_is_infinite_before_any_scan_and_grows_after_one(scraper: Client) -> None:
    assert math.isinf(scrape(scraper)["policy_tracker_reminder_scan_age_seconds", NONE])
    with time_machine.travel(timezone.now(), tick=False) as clock:
        reminders_scan()
        clock.shift(dt.timedelta(seconds=90))
        assert scrape(scraper)["policy_tracker_reminder_scan_age_seconds", NONE] == 90


@pytest.mark.django_db
def test_request_latency_is_counted_per_view(scraper: Client) -> None:
    key = (
        "django_http_requests_latency_seconds_by_view_method_count",
        frozenset({("view", "health-live"), ("method", "GET")}),
    )
    before = scrape(scraper).get(key, 0)
    for _ in range(3):
        scraper.get("/health/live")
    after = scrape(scraper)
    assert after[key] == before + 3
    assert any(
        name == "django_http_requests_latency_including_middlewares_seconds_bucket"
        for name, _labels in after
    )


@pytest.mark.django_db
def test_a_scrape_runs_the_same_three_queries_however_many_deliveries(
    scraper: Client, django_assert_num_queries: Any
) -> None:
    deliveries("pending", 30)
    deliveries("failed", 30)
    with django_assert_num_queries(3):
        scraper.get("/metrics")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)  # noqa: S310 (http://127.0.0.1 only)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def per_process_samples(path: Path) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The samples one gunicorn worker wrote to its own file of the multiprocess folder."""
    alone = Path(tempfile.mkdtemp(dir=path.parent.parent, prefix=f"alone-{path.stem}-"))
    shutil.copy(path, alone / path.name)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(alone))
    return samples(generate_latest(registry).decode())


def test_gunicorn_workers_share_their_request_metrics(tmp_path: Path) -> None:
    """Under gunicorn (two workers, DEBUG off) every scrape counts the requests of both."""
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    (metrics_dir).mkdir()
    (metrics_dir / "counter_12345.db").write_bytes(b"stale file of an earlier run")
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "SITE_URL", "ALLOWED_HOSTS"}
    }
    environment.update(
        DEBUG="0",
        SECRET_KEY="gunicorn-metrics-test-key-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=environment,
        check=True,
        capture_output=True,
        timeout=300,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=BASE_DIR,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if http_get(f"{base}/health/live")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
            time.sleep(0.2)
        assert not (metrics_dir / "counter_12345.db").exists()

        while len(list(metrics_dir.glob("histogram_*.db"))) < 2:  # both workers booted
            assert time.monotonic() < deadline, "the second worker did not start within 60 s"
            time.sleep(0.2)

        key = (
            "django_http_requests_latency_seconds_by_view_method_count",
            frozenset({("view", "health-live"), ("method", "GET")}),
        )

        def served_by_each() -> list[float]:
            files = metrics_dir.glob("histogram_*.db")
            return [per_process_samples(path).get(key, 0.0) for path in files]

        requests, deadline = 0, time.monotonic() + 60
        while min(served_by_each()) == 0:  # the kernel may hand a whole batch to one worker
            assert time.monotonic() < deadline, f"one worker served nothing: {served_by_each()}"
            with ThreadPoolExecutor(
                max_workers=6
            ) as pool:  # a busy worker leaves some to the other
                answers = list(pool.map(lambda _: http_get(f"{base}/health/live"), range(30)))
            assert set(answers) == {(200, '{"status": "alive"}')}
            requests += 30
        assert len(served_by_each()) == 2
        counts = set()
        for _ in range(6):  # scrapes land on either worker; each sees the sum of both
            code, text = http_get(f"{base}/metrics", TOKEN)
            assert code == 200
            counts.add(samples(text)[key])
            assert samples(text)["policy_tracker_metrics_database_up", NONE] == 1
        assert counts == {requests + 1}  # and the first request that waited for the start
        assert http_get(f"{base}/metrics")[0] == 401
    finally:
        server.terminate()
        server.wait(timeout=30)
