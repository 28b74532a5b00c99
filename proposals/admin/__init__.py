"""The secretariat's back office: django.contrib.admin finds this package and registers its
model admins (members, people, presidencies, bodies, occasions, proposals, reminder rules,
webhook endpoints)."""

from proposals.admin import registry, reminders, webhooks

__all__ = ["registry", "reminders", "webhooks"]
