from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class ProposalsConfig(AppConfig):
    """The domain: organisations, people, bodies, occasions and proposals."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "proposals"
    verbose_name = _("Proposals")

    def ready(self) -> None:
        from proposals import (
            calendar_generation,  # noqa: F401  (watches the writes to what calendar feeds show)
            calendar_import,  # noqa: F401  (registers the failed feed's email)
            invitations,  # noqa: F401  (registers the invitation email)
            lifecycle,  # noqa: F401  (registers the proposal workflow policy)
            security,  # noqa: F401  (registers the account emails)
        )
        from proposals.forecast import reminders  # noqa: F401  (registers the forecast's emails)
        from proposals.search import sqlite_functions_register

        connection_created.connect(sqlite_functions_register)
