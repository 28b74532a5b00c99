"""What an app tells the engine about its workflow: who may run what, when, and who to tell.

The engine knows nothing of the app's models; an app registers one policy per model
(from its AppConfig.ready) and the transition service asks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import gettext as _

from workflow.events import event_name_valid
from workflow.preferences import RecipientSettings

if TYPE_CHECKING:
    from workflow.models import TransitionLog


@dataclass(frozen=True)
class Notice:
    """A message to queue in the outbox for one person.

    `event` is the kind of what happened, a dotted name the app chooses (proposal.approved,
    reminder.submit, account.email_changed): people turn kinds off by it, unless the
    notice is `essential` (it asks them to act) or a security notice.
    """

    recipient_id: int
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    essential: bool = False
    address: str = ""
    event: str = field(kw_only=True)
    waits_for: str = field(default="", kw_only=True)
    """The name of something it carries that is not ready yet (a document being rendered): its
    email is written held and leaves once the app calls `workflow.outbox.outbox_release` with
    that name; its in-page copy shows at once."""
    settings: RecipientSettings | None = field(default=None, kw_only=True, compare=False)
    """The recipient's standing and choices, when the app read them with the recipients: the
    outbox then reads them no more."""

    def __post_init__(self) -> None:
        if not event_name_valid(self.event):
            raise ValueError(
                f"A notice's event is a dotted kind (proposal.approved): {self.event!r}"
            )


class WorkflowPolicy:
    """Rules of one model's workflow; every method may be overridden, the defaults allow all."""

    state_field = "state"
    version_field: str | None = None
    """A positive integer field that every write changing what the object shows raises by
    one; with it, a caller can say which version the actor acted on (`seen_version`)."""

    def label(self, name: str) -> str:
        """The transition's name as a person reads it."""
        return name.replace("_", " ").capitalize()

    def validate(
        self, obj: Any, name: str, comment: str, arguments: dict[str, Any]
    ) -> tuple[dict[str, list[str]], dict[str, Any]]:
        """Field errors of the input, and the cleaned arguments."""
        return {}, dict(arguments)

    def permission_reasons(self, obj: Any, name: str, actor: Any) -> list[str]:
        """Why this person may never run this transition on this object; empty if they may."""
        return []

    def state_reason(self, obj: Any, name: str) -> str:
        """Why the transition cannot run from the object's current state."""
        return _("This cannot be done while it is %(state)s.") % {"state": self.state_label(obj)}

    def conflict_reason(self, obj: Any) -> str:
        """Why a transition is refused when the object changed after the actor saw it."""
        return _(
            "Someone changed this while you were acting: it is now %(state)s. "
            "Reload it and try again."
        ) % {"state": self.state_label(obj)}

    def state_label(self, obj: Any) -> str:
        display = getattr(obj, f"get_{self.state_field}_display", None)
        return str(display()) if display else str(getattr(obj, self.state_field))

    def condition_reasons(
        self, obj: Any, name: str, actor: Any, arguments: dict[str, Any], now: datetime
    ) -> list[str]:
        """Why the transition cannot run now; empty if it can."""
        return []

    def prepare(
        self, obj: Any, name: str, actor: Any, comment: str, arguments: dict[str, Any]
    ) -> dict[str, Any]:
        """Writes that come before the transition; returns the transition method's arguments."""
        return {}

    def update_fields(self, name: str) -> list[str]:
        """Fields the transition changes besides the state field."""
        return []

    def entered(self, obj: Any, state: str, at: datetime) -> list[str]:
        """Writes on the object for its entering `state` at `at` (the log row's moment), saved
        in the transition's own UPDATE; returns the fields written."""
        return []

    def finish(
        self,
        obj: Any,
        name: str,
        actor: Any,
        comment: str,
        arguments: dict[str, Any],
        log: TransitionLog,
    ) -> list[Notice]:
        """Writes that follow the transition; returns the notices to queue."""
        return []

    def lock(self, obj: models.Model, *, visible_to: Any = None) -> Any:
        """The object re-read from the database with its row locked; with `visible_to`, only
        if that person may see it (else the model's DoesNotExist, as if it did not exist)."""
        return type(obj)._default_manager.select_for_update().get(pk=obj.pk)


_policies: dict[type[models.Model], WorkflowPolicy] = {}


def register(model: type[models.Model], policy: WorkflowPolicy) -> None:
    _policies[model] = policy


def policy_for(obj: models.Model | type[models.Model]) -> WorkflowPolicy:
    model = obj if isinstance(obj, type) else type(obj)
    try:
        return _policies[model]
    except KeyError:
        raise LookupError(f"No workflow policy is registered for {model.__name__}.") from None
