# One image for web, worker and beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=config.settings

RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 app

WORKDIR /app
COPY . /app

# The code runs from /app (PYTHONPATH), so BASE_DIR is /app and var/ lives there.
RUN pip install . \
    && export DEBUG=0 SECRET_KEY=build-time-only-collectstatic-key-not-used-at-run-time-0123456789 \
    && python manage.py collectstatic --noinput \
    && if find . -path ./var -prune -o -type d -name locale -print | grep -q .; then \
           python manage.py compilemessages --ignore=var; \
       fi \
    && mkdir -p /app/var/files \
    && chown -R app:app /app/var

USER app
EXPOSE 8000

# config/gunicorn.py: WEB_CONCURRENCY workers (default 3) on 0.0.0.0:8000, sharing their
# Prometheus metrics through PROMETHEUS_MULTIPROC_DIR, which it sets for gunicorn only.
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi"]
