#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path


def sqlite_folder_create() -> None:
    """Make the folder of the SQLite database file (var/ by default) so `migrate` can create it."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        database = settings.DATABASES["default"]
    except ImproperlyConfigured:
        return  # execute_from_command_line reports it
    name = str(database.get("NAME") or "")
    in_memory = name in ("", ":memory:") or name.startswith("file:")
    if database.get("ENGINE") == "django.db.backends.sqlite3" and not in_memory:
        Path(name).parent.mkdir(parents=True, exist_ok=True)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    sqlite_folder_create()
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
