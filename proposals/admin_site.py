"""The admin site: only people whose session a second factor verified may use it."""

from __future__ import annotations

from django_otp.admin import OTPAdminSite


class VerifiedAdminSite(OTPAdminSite):
    """django-otp's admin site under the usual name, so that `admin:` URLs and every
    `admin.site.register` keep working; its login form asks for the code too."""

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
