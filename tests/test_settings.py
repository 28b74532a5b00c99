import os
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
)


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
