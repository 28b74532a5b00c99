"""Target 2: transitions through the API on distinct proposals, beside a raw UPDATE of the state
plus an INSERT of the log row in one transaction, on other distinct proposals of the same kind.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench import db
from bench.pages import profile_top, query_count

TRANSITION = "submit_for_review"

BOUND_UPDATE = (
    "UPDATE proposals_proposal SET state = 'in_review', updated_at = now(), "
    # The forecast's milestone, kept on the row the first time (proposals.models).
    "reached_in_review_at = coalesce(reached_in_review_at, now()) "
    "WHERE id = %(id)s AND state = 'draft'"
)
BOUND_INSERT = (
    "INSERT INTO workflow_transitionlog "
    "(content_type_id, object_id, transition, source, target, actor_id, at, comment, data, "
    "digest) "
    "VALUES (%(type)s, %(id)s, 'submit_for_review', 'draft', 'in_review', %(actor)s, %(at)s, '', "
    "'{}', %(digest)s)"
)


def log_row_digest(proposal_type: int, proposal_id: int, author: int, at: Any) -> str:
    """The digest the log row carries, computed as the system computes it (workflow.digests)."""
    from workflow.digests import object_digest
    from workflow.models import TransitionLog

    row = TransitionLog(
        content_type_id=proposal_type,
        object_id=proposal_id,
        transition=TRANSITION,
        source="draft",
        target="in_review",
        actor_id=author,
        at=at,
        comment="",
        data={},
    )
    return object_digest(row.integrity_name, row, row.integrity_fields)


def redis_flush() -> None:
    """Empty the benchmark's Redis database of the tasks the transitions queued."""
    import redis

    redis.Redis.from_url(db.redis_url()).flushdb()


def run(config: dict[str, Any]) -> dict[str, Any]:
    from django.contrib.contenttypes.models import ContentType
    from django.test import Client
    from django.utils import timezone

    from bench.accounts import api_token_key
    from proposals.models import Person, Proposal

    runs = config["repeat_transitions"]
    per_run = config["transitions_per_run"]
    needed = 2 * runs * per_run + 8
    drafts = list(
        Proposal.objects.filter(state="draft", occasion__submission_deadline__gt=timezone.now())
        .order_by("id")
        .values_list("id", "created_by_id")[:needed]
    )
    if len(drafts) < needed:
        raise RuntimeError(f"{needed} drafts needed, {len(drafts)} found: generate more proposals")
    tokens = {
        author.pk: api_token_key(author)
        for author in Person.objects.filter(pk__in={author for _p, author in drafts})
    }
    proposal_type = ContentType.objects.get_for_model(Proposal).pk
    client = Client()
    raw = db.connect(config["database_url"])

    def through_api(proposal_id: int, author: int) -> None:
        response = client.post(
            f"/api/proposals/{proposal_id}/transitions/{TRANSITION}/",
            data={},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {tokens[author]}",
        )
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")

    def raw_sql(proposal_id: int, author: int) -> None:
        at = timezone.now()
        digest = log_row_digest(proposal_type, proposal_id, author, at)
        with raw.transaction(), raw.cursor() as cursor:
            params = {
                "id": proposal_id,
                "type": proposal_type,
                "actor": author,
                "at": at,
                "digest": digest,
            }
            cursor.execute(BOUND_UPDATE, params)
            cursor.execute(BOUND_INSERT, params)

    # Warm up both paths on proposals outside the measured ones.
    warm = drafts[-8:]
    through_api(*warm[0])
    raw_sql(*warm[1])
    queries = query_count(lambda: through_api(*warm[2]))
    profile = profile_top(lambda: through_api(*warm.pop(3)), runs=3)

    pool = drafts[: 2 * runs * per_run]
    system_rates: list[float] = []
    bound_rates: list[float] = []
    system_each: list[float] = []
    bound_each: list[float] = []
    for number in range(runs):
        chunk = pool[number * 2 * per_run : (number + 1) * 2 * per_run]
        system_time = bound_time = 0.0
        # In turns, one through the API and one in raw SQL, each on its own proposal.
        for index in range(per_run):
            started = time.perf_counter()
            through_api(*chunk[2 * index])
            middle = time.perf_counter()
            raw_sql(*chunk[2 * index + 1])
            ended = time.perf_counter()
            system_time += middle - started
            bound_time += ended - middle
            system_each.append(middle - started)
            bound_each.append(ended - middle)
        system_rates.append(per_run / system_time)
        bound_rates.append(per_run / bound_time)
    raw.close()
    redis_flush()
    system_rate = statistics.median(system_rates)
    bound_rate = statistics.median(bound_rates)
    return {
        "transition": TRANSITION,
        "runs": runs,
        "per_run": per_run,
        "system_per_second": round(system_rate, 1),
        "bound_per_second": round(bound_rate, 1),
        "ratio": round(bound_rate / system_rate, 2),
        "system_ms": round(statistics.median(system_each) * 1000, 2),
        "bound_ms": round(statistics.median(bound_each) * 1000, 3),
        "queries": queries,
        "profile": profile,
    }
