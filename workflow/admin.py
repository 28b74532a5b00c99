"""The engine's records in the admin, read-only: the transition log, the audit trail, the outbox
and people's notification preferences."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from workflow.models import AuditEvent, Delivery, NotificationPreference, TransitionLog


def object_link(content_type: Any, object_id: int | None) -> SafeString | str:
    """A link to the object's admin page, named by its kind and id (no query per row)."""
    if content_type is None or object_id is None:
        return "-"
    label = f"{content_type.name} #{object_id}"
    try:
        url = reverse(
            f"admin:{content_type.app_label}_{content_type.model}_change", args=[object_id]
        )
    except NoReverseMatch:
        return label
    return format_html('<a href="{}">{}</a>', url, label)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the engine writes; people read them and never add, change or delete one."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TransitionLog)
class TransitionLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "about", "transition", "source", "target", "actor", "comment")
    list_filter = ("transition", "target")
    search_fields = ("comment", "transition", "actor__username", "actor__last_name")
    list_select_related = ("actor", "content_type")
    date_hierarchy = "at"
    fields = (
        "at",
        "about",
        "transition",
        "source",
        "target",
        "actor",
        "comment",
        "data",
    )
    readonly_fields = fields

    @admin.display(description=_("about"))
    def about(self, entry: TransitionLog) -> SafeString | str:
        return object_link(entry.content_type, entry.object_id)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "recipient",
        "kind",
        "channel",
        "event",
        "about",
        "status",
        "attempts",
        "sent_at",
        "essential",
    )
    list_filter = ("status", "kind", "channel", "event", "essential", "template")
    search_fields = ("recipient__username", "recipient__email", "key", "template")
    list_select_related = ("recipient", "content_type")
    date_hierarchy = "created_at"
    fields = (
        "key",
        "kind",
        "channel",
        "event",
        "event_id",
        "recipient",
        "target_type",
        "target_id",
        "template",
        "about",
        "essential",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "claimed_at",
        "sent_at",
        "context",
    )
    readonly_fields = fields

    @admin.display(description=_("about"))
    def about(self, delivery: Delivery) -> SafeString | str:
        return object_link(delivery.content_type, delivery.object_id)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "action", "object_repr", "actor", "subject", "security", "ip_address")
    list_filter = ("security", "action", "object_type")
    search_fields = ("action", "object_repr", "actor__username", "subject__username")
    list_select_related = ("actor", "subject")
    date_hierarchy = "at"
    fields = (
        "at",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "actor",
        "subject",
        "security",
        "ip_address",
        "before",
        "after",
    )
    readonly_fields = fields


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    """People change their preferences themselves, through the service that audits it."""

    list_display = ("person", "event", "channel", "enabled", "updated_at")
    list_filter = ("channel", "enabled", "event")
    search_fields = ("person__username", "person__email", "event")
    list_select_related = ("person",)
    fields = ("person", "event", "channel", "enabled", "updated_at")
    readonly_fields = fields
