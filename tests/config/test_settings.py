import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import Env

BASE_DIR = Path(__file__).resolve().parents[2]
SMTP = "django.core.mail.backends.smtp.EmailBackend"

# Variables that would change what a production configuration looks like (the browser tests
# set DJANGO_ALLOW_ASYNC_UNSAFE in this process, which no deployment may carry).
PRODUCTION_OVERRIDES = (
    "SECRET_KEY",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "DEBUG",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "TRUSTED_PROXY_COUNT",
    "SESSION_IDLE_MINUTES",
    "SESSION_MAX_HOURS",
)
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(48)}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in PRODUCTION_OVERRIDES}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def settings_under(*names: str, **env: str) -> dict[str, Any]:
    """The values of the settings `names` when the settings load in a fresh process with `env`."""
    environment = {k: v for k, v in os.environ.items() if k not in PRODUCTION_OVERRIDES}
    environment.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    code = (
        "import json, sys; from django.conf import settings; "
        "print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *names],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    values: dict[str, Any] = json.loads(result.stdout)
    return values


def test_production_settings_pass_the_deploy_checks_without_a_warning() -> None:
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="policy.example.org",
        SITE_URL="https://policy.example.org",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_settings_refuse_to_load_with_debug_off_and_no_secret_key() -> None:
    result = run_manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("console://", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        ("locmem://", {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}),
        (
            "smtp://mailpit:1025",
            {
                "EMAIL_BACKEND": SMTP,
                "EMAIL_HOST": "mailpit",
                "EMAIL_PORT": 1025,
                "EMAIL_HOST_USER": "",
                "EMAIL_HOST_PASSWORD": "",
                "EMAIL_USE_TLS": False,
                "EMAIL_USE_SSL": False,
            },
        ),
        (
            "smtp+tls://alerts%40example.org:p%40ss%3Aw%2Frd@smtp.example.org:2587",
            {
                "EMAIL_BACKEND": SMTP,
                "EMAIL_HOST": "smtp.example.org",
                "EMAIL_PORT": 2587,
                "EMAIL_HOST_USER": "alerts@example.org",
                "EMAIL_HOST_PASSWORD": "p@ss:w/rd",
                "EMAIL_USE_TLS": True,
                "EMAIL_USE_SSL": False,
            },
        ),
        (
            "smtp+ssl://user:pass%2Bword@smtp.example.org:465",
            {
                "EMAIL_BACKEND": SMTP,
                "EMAIL_HOST": "smtp.example.org",
                "EMAIL_PORT": 465,
                "EMAIL_HOST_USER": "user",
                "EMAIL_HOST_PASSWORD": "pass+word",
                "EMAIL_USE_TLS": False,
                "EMAIL_USE_SSL": True,
            },
        ),
        ("smtp+tls://smtp.example.org", {"EMAIL_PORT": 587, "EMAIL_USE_TLS": True}),
        ("smtp+ssl://smtp.example.org", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True}),
        ("smtp://localhost", {"EMAIL_PORT": 25, "EMAIL_USE_TLS": False}),
    ],
)
def test_email_url_sets_the_email_settings(url: str, expected: dict[str, Any]) -> None:
    settings = Env.email_url_config(url)
    assert {key: settings[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://mail.example.org", "EMAIL_URL scheme 'ftp' is not supported; use one of console"),
        ("consolemail://", "EMAIL_URL scheme 'consolemail' is not supported"),
        ("mailpit:1025", "EMAIL_URL scheme 'mailpit' is not supported"),
        ("smtp://", "EMAIL_URL names no host"),
        ("smtp://mailpit:smtp", "EMAIL_URL has a port that is not a number"),
        ("smtp+tls://mailpit:99999", "EMAIL_URL has a port that is not a number"),
    ],
)
def test_email_url_that_is_not_understood_is_refused(url: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        Env.email_url_config(url)


def test_email_url_comes_from_the_environment_and_defaults_to_the_console(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EMAIL_URL", raising=False)
    console = Env().email_url("EMAIL_URL", default="console://")
    assert console["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    monkeypatch.setenv("EMAIL_URL", " smtp+ssl://mail.example.org ")
    ssl = Env().email_url("EMAIL_URL", default="console://")
    assert (ssl["EMAIL_HOST"], ssl["EMAIL_PORT"], ssl["EMAIL_USE_SSL"]) == (
        "mail.example.org",
        465,
        True,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        (" on ", True),
        ("0", False),
        ("FALSE", False),
        ("no", False),
        ("off", False),
    ],
)
def test_a_boolean_is_read_from_its_documented_words(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("SECURE_SSL_REDIRECT", value)
    assert Env().bool("SECURE_SSL_REDIRECT", default=not expected) is expected


@pytest.mark.parametrize("value", ["ture", "2", "enabled", "y"])
def test_a_boolean_in_other_words_is_refused_with_the_allowed_ones(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SECURE_SSL_REDIRECT", value)
    expected = f"SECURE_SSL_REDIRECT must be one of 1/0, true/false, yes/no, on/off; got {value!r}."
    with pytest.raises(ImproperlyConfigured, match=re.escape(expected)):
        Env().bool("SECURE_SSL_REDIRECT", default=True)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_an_unset_or_blank_variable_takes_its_default(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("SESSION_MAX_HOURS", raising=False)
    else:
        monkeypatch.setenv("SESSION_MAX_HOURS", value)
    env = Env()
    assert env.int("SESSION_MAX_HOURS", default=12) == 12
    assert env.bool("SESSION_MAX_HOURS", default=True) is True
    assert env.str("SESSION_MAX_HOURS", default="x") == "x"
    assert env.list("SESSION_MAX_HOURS", default=["a"]) == ["a"]


def test_an_integer_is_read_and_anything_else_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESSION_MAX_HOURS", " 8 ")
    assert Env().int("SESSION_MAX_HOURS", default=12) == 8
    monkeypatch.setenv("SESSION_MAX_HOURS", "8h")
    with pytest.raises(
        ImproperlyConfigured, match=re.escape("SESSION_MAX_HOURS must be an integer; got '8h'.")
    ):
        Env().int("SESSION_MAX_HOURS", default=12)


def test_a_list_is_split_on_commas_without_blanks_or_padding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALLOWED_HOSTS", " policy.example.org, www.policy.example.org ,, ")
    assert Env().list("ALLOWED_HOSTS", default=[]) == [
        "policy.example.org",
        "www.policy.example.org",
    ]


def test_a_value_is_taken_literally_not_as_a_reference_to_another_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOME", "/home/someone")
    monkeypatch.setenv("METRICS_TOKEN", "$HOME")
    assert Env().str("METRICS_TOKEN", default="") == "$HOME"


def test_a_bad_value_stops_the_settings_with_a_message_naming_the_variable() -> None:
    result = run_manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be one of 1/0, true/false, yes/no, on/off; got 'maybe'." in result.stderr


def test_the_settings_take_the_email_settings_from_email_url() -> None:
    values = settings_under(
        "EMAIL_BACKEND",
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD",
        "EMAIL_USE_SSL",
        EMAIL_URL="smtp+ssl://alerts%40example.org:s%3Acret@smtp.example.org",
    )
    assert values == {
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": "smtp.example.org",
        "EMAIL_PORT": 465,
        "EMAIL_HOST_USER": "alerts@example.org",
        "EMAIL_HOST_PASSWORD": "s:cret",
        "EMAIL_USE_SSL": True,
    }


def test_production_allows_only_the_site_urls_host_when_allowed_hosts_is_unset() -> None:
    values = settings_under("ALLOWED_HOSTS", SITE_URL="https://policy.example.org", **PRODUCTION)
    assert values["ALLOWED_HOSTS"] == ["policy.example.org"]


def test_production_allows_only_the_configured_hosts() -> None:
    values = settings_under(
        "ALLOWED_HOSTS",
        ALLOWED_HOSTS="policy.example.org,www.policy.example.org",
        SITE_URL="https://policy.example.org",
        **PRODUCTION,
    )
    assert values["ALLOWED_HOSTS"] == ["policy.example.org", "www.policy.example.org"]


def test_development_allows_the_local_hosts_and_the_test_client() -> None:
    values = settings_under("ALLOWED_HOSTS", DEBUG="1")
    assert {"localhost", "127.0.0.1", "[::1]", "testserver"} <= set(values["ALLOWED_HOSTS"])


def test_the_forwarded_protocol_is_trusted_only_behind_a_declared_proxy() -> None:
    alone = settings_under("SECURE_PROXY_SSL_HEADER", "TRUSTED_PROXY_COUNT", **PRODUCTION)
    assert alone == {"SECURE_PROXY_SSL_HEADER": None, "TRUSTED_PROXY_COUNT": 0}
    proxied = settings_under(
        "SECURE_PROXY_SSL_HEADER", "TRUSTED_PROXY_COUNT", TRUSTED_PROXY_COUNT="1", **PRODUCTION
    )
    assert proxied == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "TRUSTED_PROXY_COUNT": 1,
    }


def test_a_negative_proxy_count_is_refused_with_a_clear_message() -> None:
    result = run_manage("check", TRUSTED_PROXY_COUNT="-1")
    assert result.returncode != 0
    assert "TRUSTED_PROXY_COUNT must be 0 or more" in result.stderr


def test_sessions_end_after_thirty_idle_minutes_and_twelve_hours_by_default() -> None:
    values = settings_under("SESSION_IDLE_MINUTES", "SESSION_COOKIE_AGE", **PRODUCTION)
    assert values == {"SESSION_IDLE_MINUTES": 30, "SESSION_COOKIE_AGE": 12 * 3600}


def test_session_lengths_are_configurable() -> None:
    values = settings_under(
        "SESSION_IDLE_MINUTES",
        "SESSION_COOKIE_AGE",
        SESSION_IDLE_MINUTES="10",
        SESSION_MAX_HOURS="2",
        **PRODUCTION,
    )
    assert values == {"SESSION_IDLE_MINUTES": 10, "SESSION_COOKIE_AGE": 2 * 3600}


@pytest.mark.parametrize("name", ["SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS"])
def test_a_session_length_below_one_is_refused_with_a_clear_message(name: str) -> None:
    result = run_manage("check", **{name: "0"})
    assert result.returncode != 0
    assert f"{name} must be 1 or more" in result.stderr


def settings_variables() -> set[str]:
    """The environment variables config/settings.py reads."""
    source = (BASE_DIR / "config" / "settings.py").read_text()
    pattern = r"""(?:\benv\.\w+|os\.environ\.get)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    return set(re.findall(pattern, source))


def test_the_readme_and_env_example_document_every_variable_the_settings_read() -> None:
    names = settings_variables()
    assert {
        "DEBUG",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "TRUSTED_PROXY_COUNT",
        "SESSION_IDLE_MINUTES",
        "DATABASE_URL",
        "EMAIL_URL",
    } <= names
    readme = (BASE_DIR / "README.md").read_text()
    example = (BASE_DIR / ".env.example").read_text()
    assert sorted(name for name in names if f"| `{name}` |" not in readme) == []
    assert sorted(name for name in names if f"# {name}=" not in example) == []


def project_copy_without_var(destination: Path) -> Path:
    """A copy of the project's config package and manage.py, with no var/ folder."""
    shutil.copytree(
        BASE_DIR / "config", destination / "config", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(BASE_DIR / "manage.py", destination / "manage.py")
    return destination


def run_in_copy(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run python with `args` in `copy` (its config package first on the path), SQLite and no Redis."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION_OVERRIDES and k not in {"DATABASE_URL", "REDIS_URL"}
    }
    environment.update(DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run(
        [sys.executable, *args],
        cwd=copy,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_loading_the_settings_and_the_apps_creates_no_directory(tmp_path: Path) -> None:
    copy = project_copy_without_var(tmp_path)
    code = (
        "import django, config.settings as s; "
        "assert s.BASE_DIR.resolve() == __import__('pathlib').Path.cwd().resolve(), s.BASE_DIR; "
        "django.setup(); print(s.CELERY_BROKER_URL, s.DATABASES['default']['NAME'])"
    )
    result = run_in_copy(copy, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("filesystem://"), result.stdout
    assert str(copy / "var" / "db.sqlite3") in result.stdout
    assert not (copy / "var").exists()


def test_the_celery_app_makes_the_filesystem_broker_folders_when_it_is_configured(
    tmp_path: Path,
) -> None:
    copy = project_copy_without_var(tmp_path)
    result = run_in_copy(copy, "-c", "from config.celery import app; print(app.conf.broker_url)")
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (copy / "var" / "broker").iterdir()) == [
        "control",
        "processed",
        "queue",
    ]


def test_manage_py_makes_the_folder_of_the_sqlite_database(tmp_path: Path) -> None:
    copy = project_copy_without_var(tmp_path)
    result = run_in_copy(copy, "manage.py", "check")
    assert result.returncode == 0, result.stderr
    assert (copy / "var").is_dir()
    assert not (copy / "var" / "broker").exists()
