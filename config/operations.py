"""Endpoints for operators: liveness, readiness and Prometheus metrics.

/health/live and /health/ready need no authentication and show no address or secret.
/metrics answers only when METRICS_TOKEN is set, to requests bearing that token.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from workflow.health import readiness_checks
from workflow.metrics import OutboxCollector


@require_safe
@never_cache
def health_live(request: HttpRequest) -> JsonResponse:
    """The process answers; nothing else is checked."""
    return JsonResponse({"status": "alive"})


@require_safe
@never_cache
def health_ready(request: HttpRequest) -> JsonResponse:
    """200 when the database, the broker and the reminder scan are fine; 503 naming what is not."""
    checks = readiness_checks()
    ready = all(check.ok for check in checks)
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {
            check.name: {"ok": check.ok, **({"detail": check.detail} if check.detail else {})}
            for check in checks
        },
        "failed": [check.name for check in checks if not check.ok],
    }
    return JsonResponse(body, status=200 if ready else 503)


def metrics_registry() -> CollectorRegistry:
    """The request metrics of every gunicorn worker (or of this process) and the outbox gauges."""
    registry = CollectorRegistry()
    if settings.PROMETHEUS_MULTIPROC_DIR:
        multiprocess.MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        registry.register(REGISTRY)
    registry.register(OutboxCollector())
    return registry


@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """The Prometheus exposition, for a scraper that sends `Authorization: Bearer METRICS_TOKEN`."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    supplied = request.headers.get("Authorization", "")
    if not hmac.compare_digest(supplied.encode(), f"Bearer {token}".encode()):
        response = HttpResponse(
            _("Send the header Authorization: Bearer followed by the METRICS_TOKEN."),
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)
