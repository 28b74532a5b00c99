"""Invitations in the admin: the secretariat reads them, resends and revokes them through the
audited services of proposals.invitations; new ones are sent from the pages (/invitations/new/),
where the email's language and the roles are chosen."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from proposals import invitations
from proposals.models import Invitation
from workflow.errors import Refused


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Who was invited, where, with which roles, and where each invitation stands."""

    list_display = (
        "email",
        "organization",
        "roles_shown",
        "status_shown",
        "sent_at",
        "expires_at",
        "invited_by",
        "person",
    )
    list_filter = ("organization", "language")
    search_fields = ("email", "first_name", "last_name")
    list_select_related = ("organization", "invited_by", "person")
    exclude = ("digest",)
    actions = ["resend", "revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("Roles"))
    def roles_shown(self, invitation: Invitation) -> str:
        return invitations.roles_text(invitation.roles)

    @admin.display(description=_("Status"))
    def status_shown(self, invitation: Invitation) -> str:
        return str(invitations.STATUS_LABELS[invitations.invitation_status(invitation)])

    def _each(
        self, request: HttpRequest, queryset: QuerySet[Invitation], write: Any, done: str
    ) -> None:
        count = 0
        for invitation in queryset:
            try:
                write(actor=request.user, invitation=invitation, request=request)
            except Refused as refused:
                for reason in refused.reasons:
                    messages.error(request, f"{invitation.email}: {reason}")
            else:
                count += 1
        if count:
            messages.success(request, done % {"count": count})

    @admin.action(description=_("Resend the selected invitations (a new link each)"))
    def resend(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        self._each(
            request,
            queryset,
            invitations.invitation_resend,
            gettext("Invitations sent again: %(count)s."),
        )

    @admin.action(description=_("Revoke the selected invitations"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        self._each(
            request,
            queryset,
            invitations.invitation_revoke,
            gettext("Invitations revoked: %(count)s."),
        )
