"""The secretariat's back office: django.contrib.admin finds this package and registers its
model admins (members, people, presidencies, bodies, occasions, proposals, reminder rules)."""

from proposals.admin import registry, reminders

__all__ = ["registry", "reminders"]
