"""The Celery app: `celery -A config worker` and `celery -A config beat`."""

import os
from pathlib import Path
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The transport options that name the folders of kombu's filesystem transport.
FILESYSTEM_BROKER_FOLDERS = (
    "data_folder_in",
    "data_folder_out",
    "processed_folder",
    "control_folder",
)


@app.on_after_configure.connect
def filesystem_broker_folders_create(sender: Celery, **kwargs: Any) -> None:
    """Make the folders of the filesystem broker, which kombu expects to exist.

    Runs once per process, when the app first reads its configuration (a worker or beat
    starting, or the first task sent), not when the settings are imported.
    """
    if not str(sender.conf.broker_url or "").startswith("filesystem://"):
        return
    options = sender.conf.broker_transport_options or {}
    for option in FILESYSTEM_BROKER_FOLDERS:
        if options.get(option):
            Path(options[option]).mkdir(parents=True, exist_ok=True)
