"""The files panel of a proposal's page (proposals/_attachments.html): `{% attachments_panel
proposal as panel %}` reads the files in one query; `size|file_size` writes a size as the
reader's language does."""

from __future__ import annotations

from typing import Any

from django import template

from proposals.attachments import (
    attachment_downloadable,
    attachment_permission_reasons,
    attachment_state_reasons,
    attachments_of,
    file_size_text,
)
from proposals.malware import scanner_configured
from proposals.web.views.attachments import attachment_form_for

register = template.Library()

register.filter("file_size", file_size_text)


@register.simple_tag(takes_context=True)
def attachments_panel(context: template.Context, proposal: Any) -> dict[str, Any]:
    """The files and, for the authors and the secretariat while the proposal is open, the
    form to add one."""
    person = context["request"].user
    may_write = not attachment_permission_reasons(proposal, person)
    frozen = bool(attachment_state_reasons(proposal))
    may_change = may_write and not frozen
    return {
        "rows": [
            {"attachment": attachment, "downloadable": attachment_downloadable(attachment, person)}
            for attachment in attachments_of(proposal)
        ],
        "may_change": may_change,
        "frozen": frozen,
        "form": attachment_form_for(proposal) if may_change else None,
        "scanned": scanner_configured(),
    }
