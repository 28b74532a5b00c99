"""Apps tell the engine about their deadlines and emails in a `reminders` module, found here."""

from __future__ import annotations

from django.utils.module_loading import autodiscover_modules

_discovered = False


def discover() -> None:
    """Import the `reminders` module of every installed app, once."""
    global _discovered
    if not _discovered:
        autodiscover_modules("reminders")
        _discovered = True
