"""Routes of the delivery log, the reminder rules, the webhook endpoints and the calendar link,
under /api/."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from proposals.api import reminders, webhooks

router = SimpleRouter()
router.register("deliveries", reminders.DeliveryViewSet, basename="delivery")
router.register("reminder-rules", reminders.ReminderRuleViewSet, basename="reminder-rule")
router.register("webhooks", webhooks.WebhookEndpointViewSet, basename="webhook")

urlpatterns = [
    path(
        "calendar-link/",
        reminders.CalendarLinkViewSet.as_view({"get": "retrieve", "post": "create"}),
        name="calendar-link",
    ),
    *router.urls,
]
