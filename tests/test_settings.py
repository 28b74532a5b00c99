import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import email_settings

BASE_DIR = Path(__file__).resolve().parent.parent
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
        ("smtp+tls://smtp.example.org", {"EMAIL_PORT": 587, "EMAIL_USE_TLS": True}),
        ("smtp+ssl://smtp.example.org", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True}),
        ("smtp://localhost", {"EMAIL_PORT": 25, "EMAIL_USE_TLS": False}),
    ],
)
def test_email_url_sets_the_email_settings(url: str, expected: dict[str, Any]) -> None:
    settings = email_settings(url)
    assert {key: settings[key] for key in expected} == expected


@pytest.mark.parametrize(
    "url", ["ftp://mail.example.org", "smtp://", "mailpit:1025", "smtp://mailpit:smtp"]
)
def test_email_url_that_is_not_understood_is_refused(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        email_settings(url)


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
    pattern = r"""(?:env_bool|env_int|env_list|os\.environ\.get)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    return set(re.findall(pattern, source))


def test_the_readme_and_env_example_document_every_variable_the_settings_read() -> None:
    names = settings_variables()
    assert {"DEBUG", "ALLOWED_HOSTS", "TRUSTED_PROXY_COUNT", "SESSION_IDLE_MINUTES"} <= names
    readme = (BASE_DIR / "README.md").read_text()
    example = (BASE_DIR / ".env.example").read_text()
    assert sorted(name for name in names if f"| `{name}` |" not in readme) == []
    assert sorted(name for name in names if f"# {name}=" not in example) == []
