"""Routes of the calendar downloads (see proposals.calendar_views)."""

from __future__ import annotations

from django.urls import path

from proposals.calendars import views as calendar_views

urlpatterns = [
    path("calendar/<str:token>.ics", calendar_views.person_feed, name="calendar-feed"),
    path("occasions/<int:pk>.ics", calendar_views.occasion_download, name="occasion-ics"),
]
