"""Webhook endpoints in the admin: the secretariat registers them; writes go through the
audited services of proposals.webhooks. The secret is shown once, in a message, when the
endpoint is created or its secret renewed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from proposals import webhooks
from proposals.admin.writes import ServiceWritesAdmin, Writes
from proposals.models import WebhookEndpoint, WebhookEvent
from proposals.selectors import roles_of
from workflow.errors import Refused

FIELDS = ("name", "url", "organization", "events", "active")


def _create(*, actor: Any, request: HttpRequest, **values: Any) -> WebhookEndpoint:
    endpoint = webhooks.webhook_endpoint_create(actor=actor, request=request, **values)
    messages.warning(
        request,
        gettext(
            "The secret of “%(name)s” is %(secret)s. Copy it into the receiving system now: "
            "it is not shown again."
        )
        % {"name": endpoint.name, "secret": endpoint.secret},
    )
    return endpoint


def _update(
    *, actor: Any, request: HttpRequest, endpoint: WebhookEndpoint, changes: dict[str, Any]
) -> WebhookEndpoint:
    return webhooks.webhook_endpoint_update(
        endpoint=endpoint, actor=actor, request=request, **changes
    )


def _delete(*, actor: Any, request: HttpRequest, endpoint: WebhookEndpoint) -> None:
    webhooks.webhook_endpoint_delete(endpoint=endpoint, actor=actor, request=request)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        label=_("URL"),
        max_length=webhooks.URL_MAX_LENGTH,
        assume_scheme="https",
        help_text=_(
            "Where the events are posted (https). Its host must resolve to public addresses."
        ),
    )
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The kinds of event posted to this URL."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = list(FIELDS)

    def clean_url(self) -> str:
        url = str(self.cleaned_data.get("url") or "").strip()
        reasons = webhooks.webhook_url_reasons(url)
        if reasons:
            raise forms.ValidationError(reasons)
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ServiceWritesAdmin):
    """Endpoints of the organisations' systems; the delivery log shows what was posted."""

    writes = Writes(create=_create, update=_update, delete=_delete, name="endpoint", fields=FIELDS)

    form = WebhookEndpointForm
    list_display = ("name", "url", "organization", "active", "created_at", "secret_rotated_at")
    list_filter = ("active", "organization")
    list_select_related = ("organization",)
    search_fields = ("name", "url", "organization__name")
    readonly_fields = ("created_by", "created_at", "updated_at", "secret_rotated_at")
    actions = ["secret_renew"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._secretariat(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._secretariat(request) and super().has_view_permission(request, obj)

    def _secretariat(self, request: HttpRequest) -> bool:
        roles = roles_of(request.user)
        return roles.secretariat_or_superuser

    @admin.action(description=_("Renew the secret of the selected endpoints"))
    def secret_renew(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            try:
                secret = webhooks.webhook_endpoint_secret_renew(
                    endpoint=endpoint, actor=request.user, request=request
                )
            except Refused as refusal:
                for reason in refusal.reasons:
                    messages.error(request, reason)
                return
            messages.warning(
                request,
                gettext(
                    "The new secret of “%(name)s” is %(secret)s. Copy it into the receiving "
                    "system now: it is not shown again."
                )
                % {"name": endpoint.name, "secret": secret},
            )
