"""The secretariat's back office: django.contrib.admin finds this package and registers its
model admins (members, people, presidencies, bodies, occasions, proposals, reminder rules,
webhook endpoints, invitations)."""

from proposals.admin import invitations, registry, reminders, webhooks

__all__ = ["invitations", "registry", "reminders", "webhooks"]
