from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    """The engine: transitions, the append-only log, the outbox and reminders."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "workflow"
    verbose_name = _("Workflow")

    def ready(self) -> None:
        # Every process knows the engine's tasks, so the outbox can hand them ids by name.
        from workflow import tasks  # noqa: F401
