"""Target 4: reminders sent by one Celery worker to a local SMTP sink, beside a bare smtplib
loop sending the same emails, rendered beforehand, over one connection to the same sink.

The reminders are those the scan writes for the due proposals, copied (new keys, same
recipients, templates and contexts) up to the number asked for.
"""

from __future__ import annotations

import shutil
import smtplib
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import db, processes
from bench.scan import reset
from bench.transitions import redis_flush


def reminders_copied(count: int, run: int) -> list[int]:
    """`count` pending reminders for people who want single emails; returns their ids."""
    from django.utils import timezone

    from workflow.models import Delivery

    models = list(
        Delivery.objects.filter(
            kind=Delivery.Kind.REMINDER,
            status=Delivery.Status.PENDING,
            recipient__daily_digest=False,
            key__startswith="reminder:",
        ).order_by("id")
    )
    if not models:
        raise RuntimeError("the scan wrote no reminder to copy")
    now = timezone.now()
    copies = []
    for number in range(count):
        model = models[number % len(models)]
        copies.append(
            Delivery(
                key=f"bench-mail:{run}:{number}",
                kind=model.kind,
                channel=model.channel,
                event=model.event,
                recipient_id=model.recipient_id,
                template=model.template,
                context=model.context,
                essential=model.essential,
                content_type_id=model.content_type_id,
                object_id=model.object_id,
                topic=model.topic,
                stage=model.stage,
                due_at=model.due_at,
                created_at=now,
                queued_at=now,
            )
        )
    created = Delivery.objects.bulk_create(copies, batch_size=2000)
    return [row.pk for row in created]


def messages_rendered(ids: list[int], sample: int = 200) -> list[tuple[str, list[str], bytes]]:
    """The emails of the first `sample` deliveries, as the SMTP backend would send them."""
    from django.conf import settings

    from workflow.emails import delivery_message
    from workflow.models import Delivery

    rendered = []
    for row in Delivery.objects.filter(pk__in=ids[:sample]).select_related("recipient"):
        message = delivery_message(row)
        rendered.append(
            (
                message.from_email or settings.DEFAULT_FROM_EMAIL,
                list(message.recipients()),
                message.message().as_bytes(linesep="\r\n"),  # type: ignore[call-arg]
            )
        )
    return rendered


def bare_loop(port: int, messages: list[tuple[str, list[str], bytes]], count: int) -> float:
    """Seconds to send `count` emails with smtplib over one connection."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for number in range(count):
            sender, recipients, data = messages[number % len(messages)]
            connection.sendmail(sender, recipients, data)
    return time.perf_counter() - started


def rendering_loop(port: int, ids: list[int], count: int) -> dict[str, float]:
    """Seconds to render and send `count` emails in a loop over one connection, without the
    database or a worker; with the rendering and the MIME building timed apart."""
    from workflow.emails import delivery_message
    from workflow.models import Delivery

    rows = list(Delivery.objects.filter(pk__in=ids[:200]).select_related("recipient"))
    render = build = 0.0
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for number in range(count):
            before = time.perf_counter()
            message = delivery_message(rows[number % len(rows)])
            rendered = time.perf_counter()
            data = message.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]
            built = time.perf_counter()
            connection.sendmail(message.from_email, list(message.recipients()), data)
            render += rendered - before
            build += built - rendered
    elapsed = time.perf_counter() - started
    return {
        "emails": count,
        "per_second": round(count / elapsed, 1),
        "render_ms_per_email": round(render / count * 1000, 3),
        "mime_ms_per_email": round(build / count * 1000, 3),
    }


def drained(ids: list[int], timeout: float) -> tuple[float, dict[str, int]]:
    """Seconds from dispatching the ids to the worker until none of them waits any more."""
    from django.db.models import Count

    from workflow.delivery import deliveries_dispatch
    from workflow.models import Delivery

    started = time.perf_counter()
    deliveries_dispatch(ids)
    rows = Delivery.objects.filter(pk__in=ids)
    while True:
        time.sleep(0.1)
        waiting = rows.filter(status__in=["pending", "sending"]).count()
        if waiting == 0 or time.perf_counter() - started > timeout:
            break
    elapsed = time.perf_counter() - started
    statuses = dict(rows.values_list("status").annotate(count=Count("id")).order_by())
    return elapsed, statuses


def run(config: dict[str, Any]) -> dict[str, Any]:
    from workflow.reminders import reminders_scan

    count = config["mail_count"]
    repeat = config["repeat_mail"]
    reset()
    reminders_scan()
    redis_flush()  # the scan queued its own reminders: only the copies are sent
    port = processes.free_port()
    logs = Path(tempfile.mkdtemp(prefix="policy-bench-mail-"))
    env = db.process_env(config["database_url"], EMAIL_URL=f"smtp://127.0.0.1:{port}")
    sink = processes.python("-m", "bench.sink", str(port))
    worker = [
        processes.venv_tool("celery"),
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-l",
        "info",
    ]
    bare_times: list[float] = []
    worker_times: list[float] = []
    statuses: dict[str, int] = {}
    with processes.started(sink, env=env, log=logs / "sink.log", ready="ready"):
        batches = [reminders_copied(count, run) for run in range(repeat)]
        messages = messages_rendered(batches[0])
        bare_loop(port, messages, min(count, 200))  # warm up
        rendering = rendering_loop(port, batches[0], max(1, min(count, 2000)))
        with processes.started(
            worker, env=env, log=logs / "worker.log", ready="ready.", timeout=90
        ):
            for ids in batches:
                bare_times.append(bare_loop(port, messages, count))
                elapsed, statuses = drained(ids, timeout=config["mail_timeout"])
                worker_times.append(elapsed)
        profile = sending_profile(port, reminders_copied(min(count, 200), repeat))
        what_if = None
        if config.get("mail_what_if"):
            what_if = asynchronous_commit_run(
                config, worker, env, logs, reminders_copied(count, repeat + 1)
            )
    shutil.rmtree(logs, ignore_errors=True)
    redis_flush()
    reset()
    from workflow.models import Delivery

    Delivery.objects.filter(key__startswith="bench-mail:").delete()
    bare = statistics.median(bare_times)
    system = statistics.median(worker_times)
    return {
        "emails": count,
        "runs": repeat,
        "bare_seconds": round(bare, 2),
        "worker_seconds": round(system, 2),
        "bare_per_second": round(count / bare, 1),
        "worker_per_second": round(count / system, 1),
        "share_of_bare": round(bare / system, 3),
        "statuses_last_run": statuses,
        "email_bytes": round(statistics.mean(len(m[2]) for m in messages)),
        "batch_size": batch_size(),
        "profile": profile,
        "rendering_loop": rendering,
        "share_of_rendering_loop": round(count / system / rendering["per_second"], 3),
        "what_if_asynchronous_commit": what_if,
    }


SENDING_STEPS = (
    "deliveries_send",
    "deliveries_claim",
    "superseded_ids",
    "delivery_message",
    "delivery_context",
    "render_to_string",
    "send_messages",
    "_send",
    "as_bytes",
    "_mark_sent",
    "execute",
)


def sending_profile(port: int, ids: list[int]) -> list[dict[str, Any]]:
    """Where the worker's time goes: `deliveries_send` run here, per batch, under cProfile."""
    from django.test import override_settings

    from bench.pages import profile_top
    from workflow.delivery import BATCH_SIZE, deliveries_send

    batches = [ids[start : start + BATCH_SIZE] for start in range(0, len(ids), BATCH_SIZE)]
    runs = len(batches)
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
    ):
        profile = profile_top(
            lambda: deliveries_send(batches.pop()), runs=runs, focus=SENDING_STEPS
        )
    for entry in profile:
        per_batch = entry.pop("cumulative_ms_per_run")
        entry["cumulative_ms_per_run"] = round(per_batch * runs / max(len(ids), 1), 3)
    return profile


def asynchronous_commit_run(
    config: dict[str, Any], worker: list[str], env: dict[str, str], logs: Path, ids: list[int]
) -> dict[str, Any]:
    """The same sending with the database's commits not waiting for the disk
    (synchronous_commit off for the worker's sessions): what one commit per email costs."""
    from psycopg import sql

    name = db.database_name(config["database_url"])
    statement = "ALTER DATABASE {} SET synchronous_commit = off"
    with db.connect(config["database_url"], autocommit=True) as connection:
        connection.execute(sql.SQL(statement).format(sql.Identifier(name)))
    try:
        with processes.started(
            worker, env=env, log=logs / "worker-async.log", ready="ready.", timeout=90
        ):
            elapsed, statuses = drained(ids, timeout=config["mail_timeout"])
    finally:
        with db.connect(config["database_url"], autocommit=True) as connection:
            connection.execute(
                sql.SQL("ALTER DATABASE {} RESET synchronous_commit").format(sql.Identifier(name))
            )
    return {
        "worker_seconds": round(elapsed, 2),
        "worker_per_second": round(len(ids) / elapsed, 1),
        "statuses": statuses,
    }


def batch_size() -> int | None:
    from workflow import delivery

    return getattr(delivery, "BATCH_SIZE", None)
