"""Template helpers of the pages: roles, deadlines, states."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from proposals.models import OPEN_STATES
from proposals.search import snippet_parts
from proposals.selectors import PersonRoles, roles_of

register = template.Library()


@register.simple_tag(takes_context=True)
def person_roles(context: template.Context) -> PersonRoles:
    """The signed-in person's roles (read once per request)."""
    request = context.get("request")
    return roles_of(getattr(request, "user", None))


@register.inclusion_tag("proposals/_deadline.html")
def deadline_status(deadline: datetime | None, now: datetime | None = None) -> dict[str, Any]:
    """Days left before the deadline, or how long ago it passed."""
    if deadline is None:
        return {"deadline": None}
    now = now or timezone.now()
    seconds = (deadline - now).total_seconds()
    days = int(abs(seconds) // 86400)
    return {
        "deadline": deadline,
        "overdue": seconds < 0,
        "days": days,
        "today": seconds >= 0 and days == 0,
    }


@register.inclusion_tag("proposals/_state.html")
def state_badge(proposal: Any) -> dict[str, Any]:
    return {"state": proposal.state, "label": proposal.get_state_display()}


@register.inclusion_tag("proposals/_sort_header.html", takes_context=True)
def sort_header(context: template.Context, key: str, label: str) -> dict[str, Any]:
    """A column heading that sorts the list by `key`, then reverses it; aria-sort says how
    the list is sorted now."""
    request = context["request"]
    current = request.GET.get("sort", "")
    direction = {key: "ascending", f"-{key}": "descending"}.get(current, "")
    query = request.GET.copy()
    query.pop("page", None)
    query["sort"] = f"-{key}" if direction == "ascending" else key
    return {"label": label, "direction": direction, "query": query.urlencode()}


@register.simple_tag
def search_snippet(snippet: str, words: str = "") -> str:
    """A passage of a proposal found by a search, the words found in <mark>."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html("<mark>{}</mark>", text) if found else text,)
            for text, found in snippet_parts(snippet, words)
        ),
    )


@register.filter
def is_open(proposal: Any) -> bool:
    """True while the proposal is in draft, in review or open for endorsement."""
    return proposal.state in OPEN_STATES
