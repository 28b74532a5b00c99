"""Liveness and readiness: what a load balancer or an orchestrator asks of the web process."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from workflow import health
from workflow.models import Heartbeat
from workflow.reminders import reminders_scan


def test_liveness_answers_without_touching_the_database(client: Client) -> None:
    # No db fixture: pytest-django fails any query made here.
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


@pytest.mark.django_db
def test_readiness_is_200_right_after_a_reminder_scan(client: Client) -> None:
    reminders_scan()
    response = client.get("/health/ready")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ready"
    assert response.json()["failed"] == []
    assert set(response.json()["checks"]) == {"database", "broker", "reminder_scan"}


@pytest.mark.django_db
def test_readiness_is_503_when_the_last_scan_is_older_than_the_threshold(
    client: Client, settings: Any
) -> None:
    settings.READINESS_SCAN_MAX_AGE = 300
    with time_machine.travel(timezone.now(), tick=False) as clock:
        reminders_scan()
        clock.shift(dt.timedelta(seconds=299))
        assert client.get("/health/ready").status_code == 200
        clock.shift(dt.timedelta(seconds=2))
        response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["reminder_scan"]
    assert "301 s ago, more than 300 s" in body["checks"]["reminder_scan"]["detail"]
    assert body["checks"]["database"] == {"ok": True}


@pytest.mark.django_db
def test_readiness_is_503_before_any_scan_completed(client: Client) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["reminder_scan"] == {
        "ok": False,
        "detail": "no reminder scan has completed yet",
    }


@pytest.mark.django_db
def test_each_scan_moves_the_heartbeat_forward_in_one_row() -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        reminders_scan()
        first = Heartbeat.objects.get(job=health.REMINDER_SCAN).completed_at
        clock.shift(dt.timedelta(minutes=1))
        reminders_scan()
    assert Heartbeat.objects.count() == 1
    assert Heartbeat.objects.get().completed_at - first == dt.timedelta(minutes=1)


@pytest.mark.django_db
def test_readiness_names_an_unreachable_redis_without_its_address(
    client: Client, settings: Any
) -> None:
    reminders_scan()
    settings.REDIS_URL = "redis://:s3cret@127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    assert response.json()["checks"]["broker"]["detail"] == "Redis does not answer PING"
    assert "s3cret" not in response.content.decode()
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.django_db
def test_readiness_fails_when_the_filesystem_broker_folder_cannot_be_written(
    client: Client, settings: Any, tmp_path: Path
) -> None:
    reminders_scan()
    settings.REDIS_URL = ""
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(not_a_folder / "queue")}
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]

    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}
    assert client.get("/health/ready").status_code == 200
    assert list(tmp_path.iterdir()) == [not_a_folder]  # the probe file is gone


@pytest.mark.django_db
def test_readiness_reports_a_database_that_does_not_answer(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Unreachable:
        def cursor(self) -> None:
            raise OperationalError("connection refused by db.internal:5432 user=policy")

    monkeypatch.setattr(health, "connection", Unreachable())
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert "database" in response.json()["failed"]
    assert response.json()["checks"]["database"]["detail"] == "the database does not answer"
    assert "db.internal" not in response.content.decode()


def test_health_endpoints_refuse_writes(client: Client) -> None:
    assert client.post("/health/live").status_code == 405


@pytest.mark.django_db
def test_readiness_is_200_on_a_fresh_machine_whose_broker_folder_is_not_made_yet(
    client: Client, settings: Any, tmp_path: Any
) -> None:
    settings.REDIS_URL = ""
    queue = tmp_path / "broker" / "queue"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "data_folder_in": str(queue),
    }
    reminders_scan()
    response = client.get("/health/ready")
    assert response.status_code == 200, response.json()
    assert queue.is_dir()
