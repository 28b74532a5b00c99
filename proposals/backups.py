"""Backups of the database and the stored files, checked by a manifest, restored into an
empty instance.

A backup is a folder (on a disk, or under an S3 prefix) named `backup-<UTC time>`:
`tables/<app>.<model>.jsonl` holds every row of one table, one JSON list of its columns a line,
ordered by id; `files/<name>` holds each file of the default storage under its own name;
`manifest.json`, written last, names the versions, the migrations applied, and the rows, size
and SHA-256 of every part, so that a backup can be checked without restoring it.

Every table is read in one transaction: on PostgreSQL REPEATABLE READ and READ ONLY (one
snapshot, writers never wait); on SQLite a transaction that holds the write lock while it
reads. The same format is written from both, read by the same code, and needs no pg_dump: it
works where only Python and the database are (a fresh machine on SQLite), across PostgreSQL
client and server versions, and restores into tables made by the migrations of the code that
reads it. The files are copied after the rows are read: a file stored meanwhile may be in the
backup without its row, never the reverse (files are stored before the row that names them).

Sessions are left out (everyone signs in again after a restore); secrets that live in the
environment (SECRET_KEY, passwords of services, tokens of the storage) are never in a backup.
The backup does hold personal data, password hashes and two-factor secrets: keep it as safe as
the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import platform
import posixpath
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from uuid import UUID

import django
from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connections, models, transaction
from django.db.migrations.exceptions import IrreversibleError
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.duration import duration_iso_string

FORMAT = 1
MANIFEST = "manifest.json"
TABLES = "tables"
FILES = "files"
NAME_PREFIX = "backup-"
# Rows a session does not need after a restore.
LEFT_OUT_APPS = frozenset({"sessions"})
# Tables the migrations themselves fill (content types and permissions after `migrate`, the
# sustainable development goals by a data migration): an empty instance has these rows, and a
# restore replaces them with the backup's (in this order: permissions name content types).
MIGRATION_FILLED = ("auth.permission", "contenttypes.contenttype", "proposals.theme")
INSERT_BATCH = 500
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or a restore that cannot be done, with what to do about it."""


@dataclass
class BackupSummary:
    """Where a backup was written and what it holds."""

    location: str
    tables: int
    rows: int
    files: int
    problems: list[str] = field(default_factory=list)


def backed_up_models() -> list[type[models.Model]]:
    """Every table of the database, by model label: managed, not a proxy, sessions left out."""
    found: dict[str, type[models.Model]] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.app_label in LEFT_OUT_APPS:
            continue
        found.setdefault(meta.db_table, model)
    return sorted(found.values(), key=lambda model: model._meta.label_lower)


def backup_storage(location: str) -> Storage:
    """The storage a location names: `s3://bucket/prefix` (through django-storages, with the
    BACKUP_S3_* settings, or boto3's own AWS_* environment where they are unset), or a folder."""
    if location.startswith("s3://"):
        from storages.backends.s3 import S3Storage  # type: ignore[import-untyped]

        bucket, _slash, prefix = location.removeprefix("s3://").partition("/")
        if not bucket:
            raise BackupError(f"{location}: name a bucket, as in s3://bucket/prefix.")
        return S3Storage(
            bucket_name=bucket,
            location=prefix.strip("/"),
            endpoint_url=settings.BACKUP_S3_ENDPOINT_URL or None,
            region_name=settings.BACKUP_S3_REGION or None,
            access_key=settings.BACKUP_S3_ACCESS_KEY_ID or None,
            secret_key=settings.BACKUP_S3_SECRET_ACCESS_KEY or None,
            default_acl=None,
            file_overwrite=False,
        )
    if "://" in location:
        raise BackupError(f"{location}: give a folder or an s3://bucket/prefix location.")
    return FileSystemStorage(location=str(Path(location).expanduser().resolve()))


def backup_location_split(location: str) -> tuple[Storage, str]:
    """A backup's own location as the storage above it and the backup's folder name."""
    parent, _slash, name = location.rstrip("/").rpartition("/")
    if not name.startswith(NAME_PREFIX) or not parent:
        raise BackupError(
            f"{location}: give the backup's own folder, whose name starts with {NAME_PREFIX} "
            "(the backup command prints it)."
        )
    return backup_storage(parent), name


def storage_files(storage: Storage, folder: str = "") -> Iterator[str]:
    """Every file name in the storage, under `folder`, in a stable order."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield posixpath.join(folder, name) if folder else name
    for name in sorted(folders):
        yield from storage_files(storage, posixpath.join(folder, name) if folder else name)


def _cell(value: Any) -> Any:
    """A column's value as JSON that the field reads back with `to_python`."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return duration_iso_string(value)
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, memoryview | bytes):
        import base64

        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return list(model._meta.concrete_fields)


def _spooled() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=8 * CHUNK)  # noqa: SIM115 (closed by caller)


def _hashed_copy(source: IO[bytes]) -> tuple[IO[bytes], str, int]:
    """A temporary copy of a file, its SHA-256 and its size."""
    digest, size, copy = hashlib.sha256(), 0, _spooled()
    for chunk in iter(lambda: source.read(CHUNK), b""):
        digest.update(chunk)
        size += len(chunk)
        copy.write(chunk)
    copy.seek(0)
    return copy, digest.hexdigest(), size


def _save(storage: Storage, name: str, content: IO[bytes]) -> None:
    saved = storage.save(name, File(content, name=posixpath.basename(name)))
    if saved != name:
        raise BackupError(f"{name} was stored as {saved}: the place was not empty.")


def _database_version(alias: str) -> str:
    connection = connections[alias]
    if connection.vendor == "postgresql":
        number = connection.pg_version  # type: ignore[attr-defined]
        return f"PostgreSQL {number // 10000}.{number % 10000}"
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    return connection.vendor


def _application_version() -> str:
    try:
        return importlib.metadata.version("policy-tracker")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _applied_migrations(alias: str) -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app_label, name in sorted(MigrationRecorder(connections[alias]).applied_migrations()):
        applied.setdefault(app_label, []).append(name)
    return applied


def _snapshot_begin(alias: str) -> None:
    """Make the transaction just begun read one snapshot of the whole database."""
    connection = connections[alias]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


def _table_write(model: type[models.Model], alias: str, out: IO[bytes]) -> tuple[int, str]:
    """Every row of the model's table as JSON lines, ordered by id; its count and SHA-256."""
    columns = _columns(model)
    digest, count = hashlib.sha256(), 0
    rows = (
        model._base_manager.using(alias)
        .order_by("pk")
        .values_list(*[column.attname for column in columns])
    )
    for row in rows.iterator(chunk_size=2000):
        values = [
            value if isinstance(column, models.JSONField) else _cell(value)
            for column, value in zip(columns, row, strict=True)
        ]
        line = (json.dumps(values, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        digest.update(line)
        out.write(line)
        count += 1
    out.seek(0)
    return count, digest.hexdigest()


def backup_make(
    location: str,
    *,
    using: str = "default",
    files: Storage | None = None,
    now: dt.datetime | None = None,
) -> BackupSummary:
    """Write a backup of the database and the stored files under `location`; return where."""
    connection = connections[using]
    if connection.in_atomic_block:
        raise BackupError("A backup reads in a transaction of its own: run it outside any other.")
    files = files if files is not None else storages["default"]
    target = backup_storage(location)
    made_at = (now or timezone.now()).astimezone(dt.UTC)
    name = NAME_PREFIX + made_at.strftime("%Y%m%dT%H%M%SZ")
    if target.exists(posixpath.join(name, MANIFEST)):
        raise BackupError(f"{location}/{name} already holds a backup: wait a second and retry.")
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "made_at": made_at.isoformat(),
        "versions": {
            "application": _application_version(),
            "django": django.get_version(),
            "python": platform.python_version(),
            "database": _database_version(using),
        },
        "database_vendor": connection.vendor,
        "tables": {},
        "files": {},
    }
    rows_total = 0
    with transaction.atomic(using=using):
        _snapshot_begin(using)
        manifest["migrations"] = _applied_migrations(using)
        for model in backed_up_models():
            with _spooled() as out:
                count, sha256 = _table_write(model, using, out)
                label = model._meta.label_lower
                _save(target, f"{name}/{TABLES}/{label}.jsonl", out)
            manifest["tables"][label] = {
                "table": model._meta.db_table,
                "columns": [column.column for column in _columns(model)],
                "rows": count,
                "sha256": sha256,
            }
            rows_total += count
    for stored in storage_files(files):
        with files.open(stored, "rb") as source:
            copy, sha256, size = _hashed_copy(source)
        with copy:
            _save(target, f"{name}/{FILES}/{stored}", copy)
        manifest["files"][stored] = {"size": size, "sha256": sha256}
    text = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
    with _spooled() as out:
        out.write(text)
        out.seek(0)
        _save(target, f"{name}/{MANIFEST}", out)
    return BackupSummary(
        location=f"{location.rstrip('/')}/{name}",
        tables=len(manifest["tables"]),
        rows=rows_total,
        files=len(manifest["files"]),
    )


def manifest_read(storage: Storage, name: str) -> dict[str, Any]:
    path = posixpath.join(name, MANIFEST)
    if not storage.exists(path):
        raise BackupError(
            f"{name} has no {MANIFEST}: it is not a backup, or one that did not finish."
        )
    with storage.open(path, "rb") as manifest_file:
        try:
            manifest = json.loads(manifest_file.read())
        except ValueError as error:
            raise BackupError(f"{name}/{MANIFEST} is not readable JSON ({error}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(
            f"{name} is in a format this version does not read "
            f"(format {manifest.get('format') if isinstance(manifest, dict) else '?'}; "
            f"this version reads format {FORMAT})."
        )
    return manifest


def _sha256_of(storage: Storage, path: str) -> tuple[str, int, int]:
    """The SHA-256, size and number of lines of a stored file."""
    digest, size, lines = hashlib.sha256(), 0, 0
    with storage.open(path, "rb") as stored:
        for chunk in iter(lambda: stored.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
    return digest.hexdigest(), size, lines


def backup_check(location: str) -> BackupSummary:
    """Read a whole backup against its manifest: what is missing or differs, in `problems`."""
    storage, name = backup_location_split(location)
    manifest = manifest_read(storage, name)
    problems: list[str] = []
    rows = 0
    for label, table in manifest["tables"].items():
        path = f"{name}/{TABLES}/{label}.jsonl"
        if not storage.exists(path):
            problems.append(f"{path} is missing.")
            continue
        sha256, _size, lines = _sha256_of(storage, path)
        if lines != table["rows"]:
            problems.append(f"{path} has {lines} rows; the manifest says {table['rows']}.")
        elif sha256 != table["sha256"]:
            problems.append(f"{path} differs from what was written (SHA-256).")
        rows += table["rows"]
    for stored, facts in manifest["files"].items():
        path = f"{name}/{FILES}/{stored}"
        if not storage.exists(path):
            problems.append(f"{path} is missing.")
            continue
        sha256, size, _lines = _sha256_of(storage, path)
        if (sha256, size) != (facts["sha256"], facts["size"]):
            problems.append(f"{path} differs from what was written (size or SHA-256).")
    return BackupSummary(
        location=location,
        tables=len(manifest["tables"]),
        rows=rows,
        files=len(manifest["files"]),
        problems=problems,
    )


def _tables_with_rows(using: str) -> list[str]:
    """The tables of the instance that hold rows the migrations did not write."""
    existing = set(connections[using].introspection.table_names())
    return [
        model._meta.label_lower
        for model in backed_up_models()
        if model._meta.db_table in existing
        and model._meta.label_lower not in MIGRATION_FILLED
        and model._base_manager.using(using).exists()
    ]


def _migration_targets(manifest: dict[str, Any], using: str) -> list[tuple[str, str]]:
    """The last migration of each app the backup was made at, all known to this code."""
    executor = MigrationExecutor(connections[using])
    graph = executor.loader.graph
    applied = {(app, name) for app, names in manifest["migrations"].items() for name in names}
    unknown = sorted(f"{app}.{name}" for app, name in applied if (app, name) not in graph.nodes)
    if unknown:
        raise BackupError(
            "This backup was made by a version with migrations this code does not have "
            f"({', '.join(unknown[:5])}): restore it with that version or a later one."
        )
    return sorted(
        node
        for node in applied
        if not any(
            child.key in applied and child.key[0] == node[0]
            for child in graph.node_map[node].children
        )
    )


def _database_migrate_to(targets: list[tuple[str, str]], using: str) -> None:
    executor = MigrationExecutor(connections[using])
    try:
        executor.migrate(targets, plan=executor.migration_plan(targets))
    except IrreversibleError as error:
        raise BackupError(
            f"The database is migrated past this backup and cannot go back ({error}): "
            "restore into a new database (createdb, then restore)."
        ) from None


def _rows_insert(
    storage: Storage, name: str, label: str, table: dict[str, Any], using: str
) -> None:
    model = apps.get_model(label)
    connection = connections[using]
    by_column = {column.column: column for column in _columns(model)}
    missing = [column for column in table["columns"] if column not in by_column]
    if missing:
        raise BackupError(f"{label}: the columns {', '.join(missing)} are not in this version.")
    columns = [by_column[column] for column in table["columns"]]
    quote = connection.ops.quote_name
    statement = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (quoted names)
        quote(model._meta.db_table),
        ", ".join(quote(str(column.column)) for column in columns),
        ", ".join(["%s"] * len(columns)),
    )

    def prepared(line: bytes) -> list[Any]:
        values = json.loads(line)
        return [
            column.get_db_prep_save(
                value if isinstance(column, models.JSONField) else column.to_python(value),
                connection,
            )
            for column, value in zip(columns, values, strict=True)
        ]

    batch: list[list[Any]] = []
    with (
        connection.cursor() as cursor,
        storage.open(f"{name}/{TABLES}/{label}.jsonl", "rb") as rows,
    ):
        for line in rows:
            batch.append(prepared(line))
            if len(batch) == INSERT_BATCH:
                cursor.executemany(statement, batch)
                batch = []
        if batch:
            cursor.executemany(statement, batch)


def backup_restore(
    location: str, *, using: str = "default", files: Storage | None = None
) -> BackupSummary:
    """Restore a checked backup into an empty instance: the migrations it was made at, then
    every row as it was (ids, times, the append-only tables too), the sequences after the
    largest id, the files, then the migrations this code has beyond it. Nothing is left of a
    restore that fails."""
    files = files if files is not None else storages["default"]
    checked = backup_check(location)
    if checked.problems:
        raise BackupError(
            "The backup does not match its manifest: " + " ".join(checked.problems[:5])
        )
    storage, name = backup_location_split(location)
    manifest = manifest_read(storage, name)
    unknown = [label for label in manifest["tables"] if label not in _known_labels()]
    if unknown:
        raise BackupError(f"Tables of the backup unknown to this version: {', '.join(unknown)}.")
    with_rows = _tables_with_rows(using)
    if with_rows:
        raise BackupError(
            "This instance is not empty: it has rows in "
            f"{', '.join(with_rows[:8])}{' ...' if len(with_rows) > 8 else ''}. "
            "Restore into a new, empty database (createdb, then restore): a restore never "
            "merges into data in use."
        )
    stored = next(storage_files(files), None)
    if stored is not None:
        raise BackupError(
            f"The storage of files is not empty (it holds {stored}): restore into an empty one."
        )
    targets = _migration_targets(manifest, using)
    _database_migrate_to(targets, using)
    written: list[str] = []
    try:
        for stored_name in manifest["files"]:
            with storage.open(f"{name}/{FILES}/{stored_name}", "rb") as source:
                copy, _sha256, _size = _hashed_copy(source)
            with copy:
                _save(files, stored_name, copy)
            written.append(stored_name)
        _database_load(storage, name, manifest, using)
    except BaseException:
        for stored_name in written:
            files.delete(stored_name)
        raise
    call_command("migrate", database=using, interactive=False, verbosity=0)
    return checked


def _known_labels() -> set[str]:
    return {model._meta.label_lower for model in backed_up_models()}


def _database_load(storage: Storage, name: str, manifest: dict[str, Any], using: str) -> None:
    """Every row of the backup in one transaction; the rows the migrations wrote give way."""
    from django.contrib.contenttypes.models import ContentType

    connection = connections[using]
    quote = connection.ops.quote_name
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            for label in MIGRATION_FILLED:
                cursor.execute(f"DELETE FROM {quote(apps.get_model(label)._meta.db_table)}")  # noqa: S608
        for label, table in manifest["tables"].items():
            _rows_insert(storage, name, label, table, using)
        restored = [apps.get_model(label) for label in manifest["tables"]]
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), restored):
                cursor.execute(statement)
    ContentType.objects.clear_cache()
