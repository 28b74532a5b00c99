"""The project's settings as in production (DEBUG off), for the benchmark's processes.

Only what a benchmark on loopback needs differs: plain HTTP without redirects or secure
cookies, static files without a manifest (no collectstatic into the work tree), quieter logs.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "x" * 40)
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# The in-process phases send as one person far more than a person does: the per-person
# throttles still count every request (their cache work is measured) but never refuse one.
# The load phase's server keeps the production rates (BENCH_PRODUCTION_THROTTLES=1): its
# requests are spread over many people.
# (Set here rather than in the environment, which the load phase's server inherits.)
UNTHROTTLED = {
    name: "1000000/second"
    for name in ("API_THROTTLE_READ_RATE", "API_THROTTLE_WRITE_RATE")
    if name not in os.environ and os.environ.get("BENCH_PRODUCTION_THROTTLES") != "1"
}

from config.settings import *  # noqa: E402, F403
from config.settings import LOGGING, STORAGES  # noqa: E402

globals().update(UNTHROTTLED)

STATIC_ROOT = Path(tempfile.gettempdir()) / "policy-bench-static"
STATIC_ROOT.mkdir(exist_ok=True)
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {**LOGGING, "loggers": {"django": {"level": "WARNING"}, "axes": {"level": "WARNING"}}}
