"""Target 4: reminders sent by one Celery worker to a local SMTP sink, beside the lower bound:
a loop that renders the same emails (the same templates, contexts, language and time zone:
`workflow.emails.delivery_message`) and sends them through Django's SMTP backend over one
connection to the same sink, with no database, broker or worker.

The reminders are those the scan writes for the due proposals, copied (new keys, same
recipients, templates and contexts) up to the number asked for. The loop renders the very rows
the worker then sends, in the same order. Beside the wall-clock times, the CPU time of the
worker's process and of the loop count the work each did, whatever else the machine ran.
"""

from __future__ import annotations

import os
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


def rows_to_render(ids: list[int]) -> list[Any]:
    """The deliveries of `ids` with their recipients, in the order the worker claims them."""
    from workflow.models import Delivery

    return list(Delivery.objects.filter(pk__in=ids).select_related("recipient").order_by("id"))


def messages_rendered(rows: list[Any]) -> list[tuple[str, list[str], bytes]]:
    """The emails of `rows`, as the SMTP backend sends them."""
    from django.conf import settings

    from workflow.emails import delivery_message

    rendered = []
    for row in rows:
        message = delivery_message(row)
        rendered.append(
            (
                message.from_email or settings.DEFAULT_FROM_EMAIL,
                list(message.recipients()),
                message.message().as_bytes(linesep="\r\n"),  # type: ignore[call-arg]
            )
        )
    return rendered


def process_cpu_seconds(pid: int) -> float | None:
    """User and system CPU seconds of a process so far (None where /proc is not there)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bound_loop(port: int, rows: list[Any]) -> dict[str, Any]:
    """The lower bound: render each email and send it through Django's SMTP backend over one
    connection, in a loop, without database, broker or worker. The backend's own steps
    (`EmailBackend._send`: the addresses checked, the MIME bytes built, `sendmail`) are
    written out so that the rendering, the MIME building and the SMTP exchange are timed
    apart."""
    from django.conf import settings
    from django.core.mail import get_connection
    from django.core.mail.message import sanitize_address

    from workflow.emails import delivery_message

    backend: Any = get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host="127.0.0.1",
        port=port,
        fail_silently=False,
    )
    render = build = send = 0.0
    cpu_started = time.process_time()
    started = time.perf_counter()
    backend.open()
    try:
        for row in rows:
            before = time.perf_counter()
            message = delivery_message(row)
            rendered = time.perf_counter()
            encoding = message.encoding or settings.DEFAULT_CHARSET
            sender = sanitize_address(message.from_email, encoding)
            recipients = [sanitize_address(address, encoding) for address in message.recipients()]
            data = message.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]
            built = time.perf_counter()
            backend.connection.sendmail(sender, recipients, data)
            render += rendered - before
            build += built - rendered
            send += time.perf_counter() - built
    finally:
        backend.close()
    elapsed = time.perf_counter() - started
    count = max(len(rows), 1)
    return {
        "seconds": elapsed,
        "cpu_ms_per_email": round((time.process_time() - cpu_started) / count * 1000, 3),
        "render_ms_per_email": round(render / count * 1000, 3),
        "mime_ms_per_email": round(build / count * 1000, 3),
        "smtp_ms_per_email": round(send / count * 1000, 3),
    }


def sending_only_loop(port: int, messages: list[tuple[str, list[str], bytes]], count: int) -> float:
    """Seconds to send `count` emails rendered beforehand with smtplib over one connection:
    what the SMTP exchange alone costs (not a bound: it leaves the rendering out)."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for number in range(count):
            sender, recipients, data = messages[number % len(messages)]
            connection.sendmail(sender, recipients, data)
    return time.perf_counter() - started


def drained(ids: list[int], timeout: float) -> tuple[float, dict[str, int]]:
    """Seconds from dispatching the ids to the worker until none of them waits any more."""
    from django.db.models import Count

    from workflow.delivery import deliveries_dispatch
    from workflow.models import Delivery

    # The copies' ids are one run of the sequence: the poll reads the waiting rows' index
    # by a range, not a list of 10,000 ids ten times a second beside the worker.
    waiting = Delivery.objects.filter(
        pk__range=(min(ids), max(ids)), status__in=["pending", "sending"]
    )
    started = time.perf_counter()
    deliveries_dispatch(ids)
    while True:
        time.sleep(0.1)
        if not waiting.exists() or time.perf_counter() - started > timeout:
            break
    elapsed = time.perf_counter() - started
    rows = Delivery.objects.filter(pk__in=ids)
    statuses = dict(rows.values_list("status").annotate(count=Count("id")).order_by())
    return elapsed, statuses


def run(config: dict[str, Any]) -> dict[str, Any]:
    from workflow.models import Delivery
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
    worker = processes.celery_worker()
    loops: list[dict[str, Any]] = []
    worker_times: list[float] = []
    worker_cpu: list[float] = []
    sending_only: list[float] = []
    statuses: dict[str, int] = {}
    with processes.started(sink, env=env, log=logs / "sink.log", ready="ready"):
        batches = [reminders_copied(count, run) for run in range(repeat)]
        warm_ids = reminders_copied(min(count, 200), repeat)
        warm_rows = rows_to_render(warm_ids)
        bound_loop(port, warm_rows)  # templates compiled and catalogues read, as in the worker
        messages = messages_rendered(warm_rows)
        with processes.started(
            worker, env=env, log=logs / "worker.log", ready="ready.", timeout=90
        ) as process:
            drained(warm_ids, timeout=config["mail_timeout"])  # the worker warmed up likewise
            for ids in batches:
                loops.append(bound_loop(port, rows_to_render(ids)))
                cpu_before = process_cpu_seconds(process.pid)
                elapsed, statuses = drained(ids, timeout=config["mail_timeout"])
                cpu_after = process_cpu_seconds(process.pid)
                worker_times.append(elapsed)
                if cpu_before is not None and cpu_after is not None:
                    worker_cpu.append(cpu_after - cpu_before)
                sending_only.append(sending_only_loop(port, messages, count))
        profile = sending_profile(port, reminders_copied(min(count, 200), repeat + 1))
    shutil.rmtree(logs, ignore_errors=True)
    redis_flush()
    reset()
    Delivery.objects.filter(key__startswith="bench-mail:").delete()
    loop = sorted(loops, key=lambda entry: entry["seconds"])[len(loops) // 2]
    system = statistics.median(worker_times)
    worker_cpu_ms = statistics.median(worker_cpu) / count * 1000 if worker_cpu else None
    return {
        "emails": count,
        "runs": repeat,
        "loop_seconds": round(loop["seconds"], 2),
        "worker_seconds": round(system, 2),
        "loop_per_second": round(count / loop["seconds"], 1),
        "worker_per_second": round(count / system, 1),
        "share_of_loop": round(loop["seconds"] / system, 3),
        "loop": {key: value for key, value in loop.items() if key != "seconds"},
        "worker_cpu_ms_per_email": round(worker_cpu_ms, 3) if worker_cpu_ms else None,
        "sending_only_per_second": round(count / statistics.median(sending_only), 1),
        "statuses_last_run": statuses,
        "email_bytes": round(statistics.mean(len(m[2]) for m in messages)),
        "batch_size": batch_size(),
        "profile": profile,
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
    "sanitize_address",
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


def batch_size() -> int | None:
    from workflow import delivery

    return getattr(delivery, "BATCH_SIZE", None)
