"""Event kinds: how the engine names what happened (proposal.approved, reminder.submit).

A kind is dotted lowercase words chosen by the app that raises the event; deliveries carry
it, and people's notification preferences are kept per kind.
"""

from __future__ import annotations

import re
import uuid

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

EVENT_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
"""An event kind: dotted lowercase words, such as proposal.review_requested."""

EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "workflow.delivery.event")
"""The namespace of event ids derived from a name (a reminder's occurrence)."""

event_validator = RegexValidator(
    EVENT_PATTERN, _("An event kind is dotted lowercase words, such as proposal.approved.")
)


def event_name_valid(name: object) -> bool:
    """True when `name` is spelled as an event kind (proposal.approved, reminder.submit)."""
    return isinstance(name, str) and len(name) <= 100 and bool(EVENT_PATTERN.match(name))


def event_id_named(name: str) -> uuid.UUID:
    """The event id that the same name always gives (UUID5 in the engine's namespace)."""
    return uuid.uuid5(EVENT_NAMESPACE, name)
