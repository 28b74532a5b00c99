"""Backups: a populated system backed up and restored into a fresh database holds the same rows
and files; a damaged backup is found out; a restore refuses an instance that holds data."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.db.utils import load_backend
from django.test import override_settings
from psycopg import sql

from proposals.backups import (
    BackupError,
    backed_up_models,
    backup_check,
    backup_make,
    backup_restore,
    storage_files,
)
from proposals.models import Attachment, Person, Proposal, ProposalState
from workflow.models import AuditEvent, Delivery, TransitionLog

RESTORED = "restored"
ATTACHMENT_BYTES = "Résumé of the proposal, with accents.\n".encode() * 100


def system_populate(files: Storage) -> None:
    """The demo group (proposals in every state, logs, deliveries, audit rows) and a stored
    file named by an attachment."""
    with override_settings(DEBUG=True):
        call_command("load_demo", stdout=StringIO())
    proposal = Proposal.objects.order_by("pk").first()
    assert proposal is not None
    name = files.save("attachments/1/resume.txt", ContentFile(ATTACHMENT_BYTES))
    Attachment.objects.create(
        proposal=proposal,
        title="Résumé",
        file=name,
        filename="resume.txt",
        content_type="text/plain",
        size=len(ATTACHMENT_BYTES),
        sha256=hashlib.sha256(ATTACHMENT_BYTES).hexdigest(),
        uploaded_by=proposal.created_by,
    )
    assert {p.state for p in Proposal.objects.all()} >= {
        ProposalState.DRAFT,
        ProposalState.IN_REVIEW,
        ProposalState.SUBMITTED,
    }
    assert TransitionLog.objects.exists() and AuditEvent.objects.exists()
    assert Delivery.objects.exists()


@contextmanager
def database_added(alias: str, settings: dict[str, Any]) -> Iterator[None]:
    """A second database for the length of a test, known to Django as `alias` (a connection
    made here, not a configured alias, which the test case would refuse)."""
    connections[alias] = load_backend(settings["ENGINE"]).DatabaseWrapper(settings, alias)
    try:
        yield
    finally:
        connections[alias].close()
        del connections[alias]


def sqlite_database(path: Path) -> dict[str, Any]:
    return {
        **connections.settings["default"],
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "OPTIONS": {},
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
    }


@contextmanager
def postgres_database_created() -> Iterator[dict[str, Any]]:
    """A new, empty PostgreSQL database beside the test database, dropped afterwards."""
    default = connections.settings["default"]
    name = f"{default['NAME']}_restored"
    params = {
        "dbname": "postgres",
        "user": default["USER"],
        "password": default["PASSWORD"],
        "host": default["HOST"],
        "port": default["PORT"] or 5432,
        "autocommit": True,
    }
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(**params) as admin:
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield {**default, "NAME": name, "CONN_MAX_AGE": 0}
    finally:
        with psycopg.connect(**params) as admin:
            admin.execute(drop)


def table_rows(alias: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the backup holds (all its columns, PostgreSQL's own too), in
    the order of the first column."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with connections[alias].cursor() as cursor:
        for model in backed_up_models():
            table = connections[alias].ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT * FROM {table} ORDER BY 1")  # noqa: S608 (a model's table)
            found[model._meta.label_lower] = [tuple(row) for row in cursor.fetchall()]
    return found


def model_rows(alias: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table as Django reads it (for comparing two kinds of database)."""
    return {
        model._meta.label_lower: list(
            model._base_manager.using(alias)
            .order_by("pk")
            .values_list(*[field.attname for field in model._meta.concrete_fields])
        )
        for model in backed_up_models()
    }


def files_of(storage: Storage) -> dict[str, bytes]:
    contents = {}
    for name in storage_files(storage):
        with storage.open(name, "rb") as stored:
            contents[name] = stored.read()
    return contents


def restore_command(location: str, *, database_url: str, files: Path, **env: str) -> str:
    """`manage.py restore` as an operator runs it: its own process, the instance restored into
    named by its environment (so the migrations write where they should)."""
    result = subprocess.run(
        [sys.executable, "manage.py", "restore", location],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": database_url, "FILES_ROOT": str(files), **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise CommandError(result.stderr.strip().splitlines()[-1])
    return result.stdout


def postgres_url(database: dict[str, Any]) -> str:
    user = quote(database["USER"]) + (
        f":{quote(database['PASSWORD'])}" if database["PASSWORD"] else ""
    )
    return f"postgres://{user}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"


def test_a_populated_system_restores_into_a_fresh_postgresql_database_with_equal_content(
    postgres: None, tmp_path: Path
) -> None:
    files = FileSystemStorage(location=tmp_path / "files")
    system_populate(files)
    summary = backup_make(str(tmp_path / "backups"), files=files)
    assert backup_check(summary.location).problems == []
    restored_files_root = tmp_path / "restored-files"
    restored_files = FileSystemStorage(location=restored_files_root)

    with postgres_database_created() as database:
        out = restore_command(
            summary.location, database_url=postgres_url(database), files=restored_files_root
        )
        assert f"{summary.rows} rows" in out and summary.rows > 500
        with database_added(RESTORED, database):
            before, after = table_rows("default"), table_rows(RESTORED)
            assert after.keys() == before.keys()
            for label in before:
                assert after[label] == before[label], label
            assert files_of(restored_files) == files_of(files)
            assert files_of(restored_files)["attachments/1/resume.txt"] == ATTACHMENT_BYTES

            # The append-only tables came back with their ids and times, still append-only.
            with connections[RESTORED].cursor() as cursor, pytest.raises(Exception, match="append"):
                cursor.execute("UPDATE workflow_auditevent SET action = 'changed'")
            # The sequences follow the largest restored id.
            last_id = max(row[0] for row in before["proposals.person"])
            person = Person.objects.db_manager(RESTORED).create_user(username="newcomer")
            assert person.pk > last_id
            event = AuditEvent(action="test.written")
            event.save(using=RESTORED)
            assert event.pk > max(row[0] for row in before["workflow.auditevent"])
        # Only what the migrations write may be in the instance restored into.
        with pytest.raises(CommandError, match="not empty: it has rows in"):
            restore_command(
                summary.location,
                database_url=postgres_url(database),
                files=tmp_path / "other-files",
            )


def test_a_backup_goes_to_an_s3_store_and_comes_back_into_a_fresh_sqlite_database(
    transactional_db: None, tmp_path: Path
) -> None:
    moto_server = pytest.importorskip("moto.server")
    import boto3

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        keys = {"aws_access_key_id": "backup", "aws_secret_access_key": "backup-secret"}
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys).create_bucket(
            Bucket="group-backups"
        )
        with override_settings(
            BACKUP_S3_ENDPOINT_URL=endpoint,
            BACKUP_S3_REGION="us-east-1",
            BACKUP_S3_ACCESS_KEY_ID=keys["aws_access_key_id"],
            BACKUP_S3_SECRET_ACCESS_KEY=keys["aws_secret_access_key"],
        ):
            files = FileSystemStorage(location=tmp_path / "files")
            system_populate(files)
            summary = backup_make("s3://group-backups/nightly", files=files)
            assert summary.location.startswith("s3://group-backups/nightly/backup-")
            out = StringIO()
            call_command("backup_check", summary.location, stdout=out)
            assert "is whole" in out.getvalue()

            restored_files = FileSystemStorage(location=tmp_path / "restored-files")
            restored_database = tmp_path / "restored.sqlite3"
            restore_command(
                summary.location,
                database_url=f"sqlite:///{restored_database}",
                files=tmp_path / "restored-files",
                BACKUP_S3_ENDPOINT_URL=endpoint,
                BACKUP_S3_REGION="us-east-1",
                BACKUP_S3_ACCESS_KEY_ID=keys["aws_access_key_id"],
                BACKUP_S3_SECRET_ACCESS_KEY=keys["aws_secret_access_key"],
            )
            with database_added(RESTORED, sqlite_database(restored_database)):
                before, after = model_rows("default"), model_rows(RESTORED)
                for label in before:
                    assert after[label] == before[label], label
            assert files_of(restored_files) == files_of(files)

            # A changed byte in the store is found by the check, and the restore refuses it.
            client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys)
            key = summary.location.removeprefix("s3://group-backups/")
            client.put_object(
                Bucket="group-backups",
                Key=f"{key}/files/attachments/1/resume.txt",
                Body=ATTACHMENT_BYTES[:-1] + b"!",
            )
            with pytest.raises(CommandError, match="resume.txt differs"):
                call_command("backup_check", summary.location, stdout=StringIO())
            with pytest.raises(BackupError, match="does not match its manifest"):
                backup_restore(summary.location, using="default", files=restored_files)
    finally:
        server.stop()


def test_the_check_names_what_is_missing_or_changed_in_a_backup_on_disk(
    transactional_db: None, tmp_path: Path
) -> None:
    files_root = tmp_path / "files"
    FileSystemStorage(location=files_root).save("attachments/2/note.txt", ContentFile(b"note"))
    Person.objects.create_user(username="someone")
    stored_files = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(files_root)},
        },
        "staticfiles": settings.STORAGES["staticfiles"],
    }
    out = StringIO()
    with override_settings(STORAGES=stored_files):
        call_command("backup", str(tmp_path / "backups"), stdout=out)
    location = out.getvalue().strip().splitlines()[-1]
    summary = backup_check(location)
    assert summary.problems == [] and summary.files == 1
    folder = Path(summary.location)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"]["proposals.person"]["rows"] == 1
    assert (
        manifest["files"]["attachments/2/note.txt"]["sha256"] == hashlib.sha256(b"note").hexdigest()
    )
    assert set(manifest["migrations"]) >= {"proposals", "workflow"}
    assert manifest["versions"]["database"]

    (folder / "tables" / "proposals.person.jsonl").write_text("")
    (folder / "files" / "attachments" / "2" / "note.txt").unlink()
    problems = backup_check(summary.location).problems
    assert any("proposals.person.jsonl has 0 rows" in problem for problem in problems)
    assert any("note.txt is missing" in problem for problem in problems)

    out = StringIO()
    with pytest.raises(CommandError, match="is damaged"):
        call_command("restore", summary.location, "--check", stdout=out)
    with pytest.raises(CommandError, match="has no manifest.json"):
        call_command("backup_check", str(tmp_path / "backup-20000101T000000Z"))
    with pytest.raises(CommandError, match="backup's own folder"):
        call_command("backup_check", str(tmp_path))


def test_a_restore_refuses_an_instance_with_data_and_changes_nothing(
    transactional_db: None, tmp_path: Path
) -> None:
    files = FileSystemStorage(location=tmp_path / "files")
    Person.objects.create_user(username="someone")
    summary = backup_make(str(tmp_path), files=files)
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError, match=r"not empty: it has rows in .*proposals\.person"):
        call_command("restore", summary.location, stdout=StringIO())
    assert Person.objects.count() == 1 and AuditEvent.objects.count() == events


def test_a_backup_runs_in_a_transaction_of_its_own(db: None, tmp_path: Path) -> None:
    assert connection.in_atomic_block  # the test's own transaction
    with pytest.raises(BackupError, match="transaction of its own"):
        backup_make(str(tmp_path))


def test_every_table_is_backed_up_but_sessions(db: None) -> None:
    labels = {model._meta.label_lower for model in backed_up_models()}
    assert {"proposals.person", "workflow.transitionlog", "workflow.auditevent"} <= labels
    assert "proposals.proposal_themes" in labels  # the tables of many-to-many fields too
    assert not any(label.startswith("sessions.") for label in labels)
