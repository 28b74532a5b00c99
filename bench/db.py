"""The benchmark's PostgreSQL databases and Redis database: where they are, made afresh."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/policy_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
NAME_PREFIX = "policy_bench"


def database_url(suffix: str = "") -> str:
    """DATABASE_URL's server with a database named policy_bench<suffix>.

    A DATABASE_URL naming another database (the one of development or of the tests) keeps
    its server and credentials but not its name: the benchmark drops what it creates.
    """
    parts = urlsplit(os.environ.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        parts = urlsplit(DEFAULT_DATABASE_URL)
    name = parts.path.lstrip("/")
    if not name.startswith(NAME_PREFIX):
        name = NAME_PREFIX
    return urlunsplit(parts._replace(path="/" + name + suffix))


def redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL", "").strip() or DEFAULT_REDIS_URL


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def connect(url: str, **kwargs: object) -> psycopg.Connection:
    """A psycopg connection to the database of `url`, with the session settings the
    application's connections have (config/settings.py: no JIT compiling)."""
    kwargs.setdefault("options", "-c jit=off")
    return psycopg.connect(_libpq_url(url), **kwargs)  # type: ignore[arg-type]


def _libpq_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


def server_reachable(url: str) -> str | None:
    """None when the server of `url` answers, else why not."""
    maintenance = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    try:
        with connect(maintenance, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0] if str(error).strip() else repr(error)


def database_recreate(url: str) -> None:
    """Drop (if it exists) and create the database of `url`; only policy_bench* names."""
    name = database_name(url)
    if not name.startswith(NAME_PREFIX):
        raise ValueError(f"refusing to drop {name!r}: benchmark databases are named {NAME_PREFIX}*")
    maintenance = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_drop(url: str) -> None:
    name = database_name(url)
    if not name.startswith(NAME_PREFIX):
        raise ValueError(f"refusing to drop {name!r}")
    maintenance = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def process_env(url: str, **extra: str) -> dict[str, str]:
    """The environment of a benchmark process working on the database of `url`."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=url,
        REDIS_URL=redis_url(),
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    env.pop("EMAIL_URL", None)
    env.update(extra)
    return env


def migrate(url: str) -> None:
    """Create the schema of the project in the database of `url`."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=process_env(url),
        check=True,
    )
