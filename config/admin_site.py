"""The admin site: only people whose session a second factor verified may use it.

`config.admin_apps.VerifiedAdminConfig` (in INSTALLED_APPS) makes it `admin.site`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django_otp.admin import OTPAdminSite


class VerifiedAdminSite(OTPAdminSite):
    """django-otp's admin site under the usual name, so that `admin:` URLs and every
    `admin.site.register` keep working. It logs people in through the site's own pages
    (password, then the code of their app)."""

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse(
            "admin:index", current_app=self.name
        )
        return redirect_to_login(next_url, login_url=reverse("login"))
