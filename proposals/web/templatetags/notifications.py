"""The header's count of unread notifications, and whether the person follows what a page
shows."""

from __future__ import annotations

from typing import Any

from django import template

from proposals.following import is_following as follows
from proposals.notification_centre import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context: template.Context) -> int:
    """The signed-in person's unread notifications: one query, kept on the request so that a
    page that shows it twice (or the centre itself) reads it once."""
    request = context.get("request")
    person = getattr(request, "user", None)
    if request is None or person is None or not person.is_authenticated:
        return 0
    if not hasattr(request, "unread_notifications"):
        request.unread_notifications = unread_count(person)
    return int(request.unread_notifications)


@register.simple_tag(takes_context=True)
def is_following(context: template.Context, proposal: Any = None, occasion: Any = None) -> bool:
    """Whether the signed-in person follows the proposal (or the occasion); one query."""
    request = context.get("request")
    person = getattr(request, "user", None)
    if person is None or not person.is_authenticated or (proposal or occasion) is None:
        return False
    return follows(person, proposal=proposal or None, occasion=None if proposal else occasion)
