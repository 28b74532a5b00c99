"""Routes of the delivery log, the reminder rules, the webhook endpoints, the calendar link and
the bodies' calendar feeds, under /api/."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from proposals.api import feeds, reminders, webhooks

router = SimpleRouter()
router.register("deliveries", reminders.DeliveryViewSet, basename="delivery")
router.register("reminder-rules", reminders.ReminderRuleViewSet, basename="reminder-rule")
router.register("webhooks", webhooks.WebhookEndpointViewSet, basename="webhook")

urlpatterns = [
    path(
        "bodies/<int:body_id>/feeds/",
        feeds.CalendarFeedViewSet.as_view({"get": "list", "post": "create"}),
        name="body-feed-list",
    ),
    path(
        "bodies/<int:body_id>/feeds/<int:pk>/",
        feeds.CalendarFeedViewSet.as_view(
            {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
        ),
        name="body-feed-detail",
    ),
    path(
        "calendar-link/",
        reminders.CalendarLinkViewSet.as_view({"get": "retrieve", "post": "create"}),
        name="calendar-link",
    ),
    *router.urls,
]
