"""Rows that a slow builder writes, recorded once per test process and copied into later tests.

`rows_once(key, build)` runs `build()` in the test's transaction the first time, and records
the rows it added to every table. In a later test it inserts copies of those rows (same primary
keys, same values) instead of running `build()` again: a few INSERTs in place of the builder's
thousands of queries. The copies are used only while the tables hold what they held before the
first build (a transactional test empties them and writes the migrations' rows again), on the
same day, and within ten minutes of the recording (a test that travels in time builds for real);
otherwise `build()` runs again and its rows are recorded anew.

A builder that changes or deletes a row that was there before it is never recorded: it always
runs for real.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, transaction
from django.utils import timezone

FRESH_FOR = dt.timedelta(minutes=10)

Rows = dict[Any, tuple[Any, ...]]


@dataclass(frozen=True)
class _Recording:
    tables: tuple[tuple[str, str], ...]  # the fingerprint of the tables before the build
    day: dt.date
    at: dt.datetime
    rows: tuple[tuple[type[models.Model], tuple[tuple[Any, ...], ...]], ...]


_recordings: dict[str, _Recording] = {}


def rows_once(key: str, build: Callable[[], Any], using: str = DEFAULT_DB_ALIAS) -> None:
    """Write the rows of `build()`: for real the first time, as copies afterwards (see above)."""
    fingerprint = _fingerprint(using)
    recording = _recordings.get(key)
    now = timezone.now()
    if (
        recording is not None
        and recording.tables == fingerprint
        and recording.day == timezone.localdate(now)
        and abs(now - recording.at) < FRESH_FOR
        and _copy(recording, using)
    ):
        return
    before = {model: _rows(model, using) for model in _models()}
    build()
    rows = []
    for model, earlier in before.items():
        later = _rows(model, using)
        if any(later.get(pk) != values for pk, values in earlier.items()):
            _recordings.pop(key, None)  # it changed or deleted a row: never copied
            return
        added = tuple(values for pk, values in later.items() if pk not in earlier)
        if added:
            rows.append((model, added))
    _recordings[key] = _Recording(
        tables=fingerprint, day=timezone.localdate(now), at=now, rows=tuple(rows)
    )


@functools.cache
def _models() -> list[type[models.Model]]:
    """Every table Django manages, parents before children (foreign keys are checked at the
    end of the transaction anyway, on SQLite and PostgreSQL alike)."""
    tables = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and not model._meta.swapped
    ]
    ordered: list[type[models.Model]] = []
    waiting = list(tables)
    while waiting:
        ready = [
            model
            for model in waiting
            if all(parent in ordered or parent is model for parent in _parents(model, tables))
        ]
        if not ready:  # a cycle: the deferred constraints accept any order
            ordered.extend(waiting)
            break
        ordered.extend(ready)
        waiting = [model for model in waiting if model not in ready]
    return ordered


def _parents(model: type[models.Model], tables: list[type[models.Model]]) -> set[Any]:
    return {
        field.related_model
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model in tables
    }


def _columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return list(model._meta.local_concrete_fields)


def _rows(model: type[models.Model], using: str) -> Rows:
    names = [field.attname for field in _columns(model)]
    pk = names.index(model._meta.pk.attname) if model._meta.pk.attname in names else None
    rows: Rows = {}
    for values in model._base_manager.using(using).values_list(*names):
        rows[values[pk] if pk is not None else values] = values
    return rows


def _fingerprint(using: str) -> tuple[tuple[str, str], ...]:
    """The count and the greatest key of every table, in one query."""
    connection = connections[using]
    quote = connection.ops.quote_name
    parts, labels = [], []
    for model in _models():
        table = quote(model._meta.db_table)
        column = quote(model._meta.pk.column or model._meta.pk.attname)
        parts.append(f"SELECT CAST(%s AS TEXT), COUNT(*), CAST(MAX({column}) AS TEXT) FROM {table}")  # noqa: S608 (quoted names of the models' tables)
        labels.append(model._meta.label)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), labels)
        found = {label: f"{count}:{greatest}" for label, count, greatest in cursor.fetchall()}
    return tuple(sorted(found.items()))


def _copy(recording: _Recording, using: str) -> bool:
    """Insert the recorded rows; False (and nothing written) when the database refuses them."""
    connection = connections[using]
    try:
        with transaction.atomic(using=using):
            for model, rows in recording.rows:
                fields = _columns(model)
                names = [field.attname for field in fields]
                objects = [model(**dict(zip(names, values, strict=True))) for values in rows]
                size = max(connection.ops.bulk_batch_size(fields, objects), 1)
                manager = model._base_manager.using(using)
                for start in range(0, len(objects), size):
                    manager._insert(objects[start : start + size], fields=fields, raw=True)  # type: ignore[attr-defined]
    except DatabaseError:
        return False
    return True
