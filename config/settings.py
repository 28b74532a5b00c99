"""Settings of the policy tracker: one module, driven by environment variables.

`.env.example` lists every variable. With none set, the project runs for development:
DEBUG on, SQLite in var/, Celery on a filesystem broker in var/broker/, email on the console.
"""

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import Env
from config.storage import file_storage

BASE_DIR = Path(__file__).resolve().parent.parent
# Local data (SQLite, the filesystem broker, collected static files). Settings only name it:
# manage.py makes it for SQLite, the Celery app makes the broker folders, collectstatic the rest.
VAR_DIR = BASE_DIR / "var"

env = Env()


# Core

DEBUG = env.bool("DEBUG", default=True)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off the project refuses to start without one: "
            "set SECRET_KEY to a random string of 50 or more characters, for example the output of "
            "python -c 'import secrets; print(secrets.token_urlsafe(64))'."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-it-in-production-0123456789"

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
_site = urlsplit(SITE_URL)
# Unset, production answers only to SITE_URL's host; development also to the local names and
# to Django's test client.
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS",
    default=[_site.hostname or "localhost"]
    + (["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []),
)
CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "config.admin_apps.VerifiedAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "django_prometheus",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "workflow",
    "proposals",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",  # first: times the whole stack
    "config.proxy.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "config.request_body.RequestBodyLimitMiddleware",  # before anything reads a body
    "config.request_guards.UnstorableTextGuardMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "proposals.web.two_factor.TwoFactorMiddleware",
    "proposals.web.middleware.PersonPreferencesMiddleware",
    "proposals.web.middleware.NotFoundPageMiddleware",  # the project's 404 page, in debug too
    "django.contrib.messages.middleware.MessageMiddleware",
    "proposals.web.session_timeout.IdleSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",  # last
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "proposals.web.session_timeout.session_timeout_context",
            ],
            # The pages' template tags live with the pages (proposals/web/), not in an app.
            "libraries": {
                "pages": "proposals.web.templatetags.pages",
                # The header's unread count, and the follow buttons.
                "notifications": "proposals.web.templatetags.notifications",
                # The files panel of a proposal's page, and sizes as the reader's language writes them.
                "attachments": "proposals.web.templatetags.attachments",
                # Dates, times and zone names as the reader's language writes them (pages, emails).
                "localized": "proposals.localized",
            },
        },
    },
]

# Database

DATABASE_URL = env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
_database = dj_database_url.parse(DATABASE_URL, conn_health_checks=True)
if _database["ENGINE"] == "django.db.backends.postgresql":
    _database["CONN_MAX_AGE"] = 60
    # PostgreSQL compiles a costly query before running it (JIT); for a request's queries the
    # compiling took longer than the running (640 ms of a 1.1 s query of the calendar feed at
    # 100k proposals, measured with EXPLAIN ANALYZE), so it is off for this application's sessions.
    _options = _database.setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
elif _database["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one file: writers queue instead of failing.
    _database["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
    }
DATABASES = {"default": _database}

# Authentication

AUTH_USER_MODEL = "proposals.Person"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
# Lock a username per client address: guessing from one place is stopped, and nobody elsewhere
# can lock a person out by failing on purpose (axes.W006 asks for ip_address to be part of it).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The client's address, as config.proxy resolved it from the trusted proxies (or the socket).
AXES_CLIENT_IP_CALLABLE = "config.proxy.client_ip_address"

# Reverse proxies in front of the site that append the client's address to X-Forwarded-For.
# 0 (the default): forwarded headers are ignored, and the socket's address is the client's.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(
        f"TRUSTED_PROXY_COUNT must be 0 or more (the number of reverse proxies in front of the "
        f"site); got {TRUSTED_PROXY_COUNT}."
    )

# Sessions end after SESSION_IDLE_MINUTES without a request, and SESSION_MAX_HOURS after login.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_MAX_HOURS = env.int("SESSION_MAX_HOURS", default=12)
for _name, _value in (
    ("SESSION_IDLE_MINUTES", SESSION_IDLE_MINUTES),
    ("SESSION_MAX_HOURS", SESSION_MAX_HOURS),
):
    if _value < 1:
        raise ImproperlyConfigured(f"{_name} must be 1 or more; got {_value}.")
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600

# API tokens: those given by POST /api/auth/token/ last this many hours; the tokens a person
# makes for scripts last until the date they choose, a year at most.
API_LOGIN_TOKEN_HOURS = env.int("API_LOGIN_TOKEN_HOURS", default=10)

# Invitations: a link sent by the secretariat works once, for this many days after it was sent.
INVITATION_LIFETIME_DAYS = env.int("INVITATION_LIFETIME_DAYS", default=14)

# Two-factor authentication (django-otp): the name authenticator apps show beside the code.
OTP_TOTP_ISSUER = "Policy tracker"

# The most bytes of a request body (JSON or form), a bit above the longest text it may carry
# (100 000 characters, at most 12 bytes each once escaped); more is answered 413. A route that
# takes more, such as an upload, declares it with config.request_body.request_body_limit.
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=2 * 1024 * 1024)
if REQUEST_BODY_MAX_BYTES < 1024 * 1024:
    raise ImproperlyConfigured(
        f"REQUEST_BODY_MAX_BYTES must be 1048576 (1 MiB) or more, or proposals of the longest "
        f"text cannot be sent; got {REQUEST_BODY_MAX_BYTES}."
    )
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_BYTES

# Attachments (proposals/attachments.py): the largest file, and ClamAV's daemon when one scans
# them (tcp://host:port or the path of its Unix socket; unset: files are not scanned).
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=20 * 1024 * 1024)
CLAMAV_URL = env.str("CLAMAV_URL", default="")
CLAMAV_TIMEOUT_SECONDS = env.int("CLAMAV_TIMEOUT_SECONDS", default=30)

# Password reset requests allowed per hour from one client address, and for one email address.
PASSWORD_RESET_LIMIT_PER_CLIENT = env.int("PASSWORD_RESET_LIMIT_PER_CLIENT", default=5)
PASSWORD_RESET_LIMIT_PER_EMAIL = env.int("PASSWORD_RESET_LIMIT_PER_EMAIL", default=3)

# Cache and Celery

REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL: str
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any]
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A task not acknowledged within the visibility timeout is given to another worker; no
    # retry or schedule waits that long. A broker that does not answer fails fast: the outbox
    # rows wait in the database for the sweep, and the request that wrote them succeeds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 5}
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "policy-tracker",
        }
    }
else:
    # config/celery.py makes these folders when the app is first configured.
    _broker_queue = VAR_DIR / "broker" / "queue"
    _broker_processed = VAR_DIR / "broker" / "processed"
    _broker_control = VAR_DIR / "broker" / "control"
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_queue),
        "data_folder_out": str(_broker_queue),
        "processed_folder": str(_broker_processed),
        "control_folder": str(_broker_control),
        "store_processed": False,
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}

# Static schedule (celery -A config beat). The scan and the sweep are safe to run twice at once;
# no task is scheduled further ahead than the broker's visibility timeout.
# The hour of the morning, in each reader's time zone, when the daily digest leaves.
DIGEST_HOUR = env.int("DIGEST_HOUR", default=7)
if not 0 <= DIGEST_HOUR <= 23:
    raise ImproperlyConfigured(f"DIGEST_HOUR must be an hour from 0 to 23; got {DIGEST_HOUR}.")

# The at-risk forecast (proposals/forecast, docs/forecast.md): a proposal whose chance of being
# submitted before its deadline falls below this is at risk (pages, one extra reminder, the
# secretariat's weekly list).
FORECAST_AT_RISK_BELOW = env.float("FORECAST_AT_RISK_BELOW", default=0.5)
if not 0 < FORECAST_AT_RISK_BELOW <= 1:
    raise ImproperlyConfigured(
        f"FORECAST_AT_RISK_BELOW must be a probability above 0, at most 1; got "
        f"{FORECAST_AT_RISK_BELOW}."
    )

CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "reminders-scan": {
        "task": "workflow.reminders_scan",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "deliveries-sweep": {
        "task": "workflow.deliveries_sweep",
        "schedule": 120.0,
        "options": {"expires": 110},
    },
    # Every quarter of an hour: each person's digest leaves soon after DIGEST_HOUR o'clock in
    # their own time zone (zones are whole, half or quarter hours from UTC).
    "digests-send": {
        "task": "workflow.digests_send",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 14 * 60},
    },
    # Every hour: the departures whose day came are carried out (proposals.departures).
    "departures-due": {
        "task": "proposals.departures_due",
        "schedule": crontab(minute=5),
        "options": {"expires": 55 * 60},
    },
    # Every hour: the log's rows written since the last seal are chained (workflow.integrity).
    "log-seal": {
        "task": "workflow.log_seal",
        "schedule": crontab(minute=35),
        "options": {"expires": 55 * 60},
    },
    # Every five minutes: dossiers still missing are rendered (proposals/dossiers/store.py).
    "dossiers-sweep": {
        "task": "proposals.dossiers_sweep",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Every hour: each active calendar feed of a body is read (proposals.calendar_import).
    "calendar-feeds-read": {
        "task": "proposals.calendar_feeds_read",
        "schedule": crontab(minute=45),
        "options": {"expires": 55 * 60},
    },
    # Every day: what is past its retention period is purged (proposals.retention).
    "retention-purge": {
        "task": "proposals.retention_purge",
        "schedule": crontab(hour=3, minute=20),
        "options": {"expires": 12 * 3600},
    },
    # Every day: the forecast's at-risk reminders and the secretariat's weekly list
    # (proposals.forecast.reminders; each written once, by its key).
    "forecast-reminders": {
        "task": "proposals.forecast_reminders",
        "schedule": crontab(hour=6, minute=10),
        "options": {"expires": 12 * 3600},
    },
}

# Personal data (docs/personal-data.md): days before what is done with is purged.
DELIVERY_RETENTION_DAYS = env.int("DELIVERY_RETENTION_DAYS", default=180)
PAGE_NOTIFICATION_RETENTION_DAYS = env.int("PAGE_NOTIFICATION_RETENTION_DAYS", default=365)
SECURITY_EVENT_RETENTION_DAYS = env.int("SECURITY_EVENT_RETENTION_DAYS", default=365)
for _name, _value in (
    ("DELIVERY_RETENTION_DAYS", DELIVERY_RETENTION_DAYS),
    ("PAGE_NOTIFICATION_RETENTION_DAYS", PAGE_NOTIFICATION_RETENTION_DAYS),
    ("SECURITY_EVENT_RETENTION_DAYS", SECURITY_EVENT_RETENTION_DAYS),
):
    if _value < 1:
        raise ImproperlyConfigured(f"{_name} must be 1 day or more; got {_value}.")
# The key of the log's digests (workflow/digests.py); empty: derived from SECRET_KEY, so the
# log verifies only as long as SECRET_KEY stays the same. Never stored in the database.
LOG_INTEGRITY_KEY = env.str("LOG_INTEGRITY_KEY", default="")

# Bodies' calendar feeds (proposals/calendar_import): the URL guard is the webhooks' one
# (WEBHOOK_ALLOW_PRIVATE_TARGETS); a feed larger than this is not read.
CALENDAR_FEED_MAX_BYTES = env.int("CALENDAR_FEED_MAX_BYTES", default=5 * 1024 * 1024)
CALENDAR_FEED_TIMEOUT_SECONDS = env.int("CALENDAR_FEED_TIMEOUT_SECONDS", default=10)
for _name, _value in (
    ("CALENDAR_FEED_MAX_BYTES", CALENDAR_FEED_MAX_BYTES),
    ("CALENDAR_FEED_TIMEOUT_SECONDS", CALENDAR_FEED_TIMEOUT_SECONDS),
):
    if _value < 1:
        raise ImproperlyConfigured(f"{_name} must be 1 or more; got {_value}.")

# Email

_email = env.email_url("EMAIL_URL", default="console://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"]
EMAIL_PORT = _email["EMAIL_PORT"]
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Policy tracker <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Webhooks (workflow/webhooks.py): endpoints registered by the secretariat.

# Refused in production: URLs whose host resolves to a private, loopback or link-local address.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=5)
# The wait after a failed try, doubled after each failure (at most 10 minutes).
WEBHOOK_RETRY_SECONDS = env.int("WEBHOOK_RETRY_SECONDS", default=30)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
for _name, _value, _least in (
    ("WEBHOOK_TIMEOUT_SECONDS", WEBHOOK_TIMEOUT_SECONDS, 1),
    ("WEBHOOK_RETRY_SECONDS", WEBHOOK_RETRY_SECONDS, 0),
    ("WEBHOOK_MAX_ATTEMPTS", WEBHOOK_MAX_ATTEMPTS, 1),
):
    if _value < _least:
        raise ImproperlyConfigured(f"{_name} must be {_least} or more; got {_value}.")

# Internationalisation

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("es", _("Spanish")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# Static files

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    # Stored files: var/files, or an S3-compatible store (config/storage.py); never served.
    "default": file_storage(env, VAR_DIR),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Backups to s3://bucket/prefix (manage.py backup): the store's address and keys; unset, boto3's
# own AWS_* variables and files. A folder needs none of them.
BACKUP_S3_ENDPOINT_URL = env.str("BACKUP_S3_ENDPOINT_URL", default="")
BACKUP_S3_REGION = env.str("BACKUP_S3_REGION", default="")
BACKUP_S3_ACCESS_KEY_ID = env.str("BACKUP_S3_ACCESS_KEY_ID", default="")
BACKUP_S3_SECRET_ACCESS_KEY = env.str("BACKUP_S3_SECRET_ACCESS_KEY", default="")

# API

# Requests one signed-in person may make, as <number>/<second|minute|hour|day>; empty: no limit.
API_THROTTLE_READ_RATE = env.str("API_THROTTLE_READ_RATE", default="600/minute")
API_THROTTLE_WRITE_RATE = env.str("API_THROTTLE_WRITE_RATE", default="120/minute")
for _name, _rate in (
    ("API_THROTTLE_READ_RATE", API_THROTTLE_READ_RATE),
    ("API_THROTTLE_WRITE_RATE", API_THROTTLE_WRITE_RATE),
):
    if _rate and not re.fullmatch(r"[1-9][0-9]*/(second|minute|hour|day)", _rate):
        raise ImproperlyConfigured(
            f"{_name} must be a number of requests and a period, such as 600/minute "
            f"(second, minute, hour or day); got {_rate!r}."
        )

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "proposals.api.authentication.VerifiedSessionAuthentication",
        "proposals.api.authentication.ApiTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["proposals.api.parsers.BoundedJSONParser"],
    # Requests per signed-in person, reads and writes apart (API_THROTTLE_*_RATE above).
    "DEFAULT_THROTTLE_CLASSES": [
        "proposals.api.throttles.PersonReadThrottle",
        "proposals.api.throttles.PersonWriteThrottle",
    ],
    "DEFAULT_SCHEMA_CLASS": "proposals.api.schema.ContractSchema",
    # The API reads dates and times in ISO 8601 only, whatever the language of the request.
    "DATE_INPUT_FORMATS": ["iso-8601"],
    "DATETIME_INPUT_FORMATS": ["iso-8601"],
    "DEFAULT_PAGINATION_CLASS": "proposals.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Policy tracker API",
    "DESCRIPTION": "Proposals to national and international bodies, from draft to outcome.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request bodies hold only the fields a client may write (no id, state, created_at...).
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "proposals.api.schema.contract_postprocess",
        "proposals.api.throttles.throttled_responses_declared",
    ],
    # Two models have a `kind`: name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "OrganizationKindEnum": "proposals.models.Organization.Kind",
        "OccasionKindEnum": "proposals.models.Occasion.Kind",
        "ApiTokenKindEnum": "proposals.models.ApiToken.Kind",
        "ErrorCodeEnum": "proposals.api.errors.ERROR_CODE_CHOICES",
        "ReasonCodeEnum": "proposals.api.errors.REASON_CODE_CHOICES",
        "OutcomeEnum": "proposals.models.OutcomeResult",
        "CommentStatusEnum": "proposals.api.discussion.COMMENT_STATUS_CHOICES",
        "TimezoneEnum": "proposals.api.serializers.TIME_ZONE_CHOICES",
    },
}

# Content-Security-Policy (django-csp): pages run only the site's own scripts and styles,
# Swagger UI (/api/docs/) included: config.api_docs serves it with no inline script or style.

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# Security (with DEBUG off)

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Probes and the metrics scraper talk to the app directly, inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
    if TRUSTED_PROXY_COUNT:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

# Operations: /health/live, /health/ready and /metrics (config/operations.py)

# Readiness fails when the reminder scan (beat queues it every minute) last completed longer
# ago than this many seconds.
READINESS_SCAN_MAX_AGE = env.int("READINESS_SCAN_MAX_AGE", default=300)
# /metrics answers only when this is set, to `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Under gunicorn: the folder where its workers share their metrics (see config/gunicorn.py).
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")

# Logging

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"level": LOG_LEVEL},
        "axes": {"level": "INFO"},
    },
}
