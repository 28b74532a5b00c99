"""Who may call what: reference data is read by the group and written by the secretariat.

What may be done to a proposal is decided by the rules and services, not here."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.permissions import SAFE_METHODS, BasePermission

from proposals.selectors import roles_of


class ReadByGroupWriteBySecretariat(BasePermission):
    """People of the group read; the secretariat (and superusers) write."""

    message = ""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        roles = roles_of(user)
        if request.method in SAFE_METHODS:
            self.message = _("Only people of the group's organisations can read this.")
            return roles.in_group
        self.message = _("Only the secretariat can change the group's reference data.")
        return roles.secretariat_or_superuser


class SecretariatOnly(BasePermission):
    """The secretariat (and superusers) read the delivery log; nobody else."""

    message = gettext_lazy("Only the secretariat can read the delivery log.")

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        roles = roles_of(user)
        return roles.secretariat_or_superuser
