"""Asking for a password reset: links built from SITE_URL, and a limit per client and per address.

Every request for an address counts, whether an account has it or not, so the throttle tells
nobody which addresses exist; the page that follows a request is the same in both cases.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.views import PasswordResetView
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from proposals.security import client_address, security_event_record
from proposals.throttle import throttle_count


def reset_throttled(request: HttpRequest, email: str) -> bool:
    """Whether this request goes over the hourly limit of its client or of its target address."""
    client = client_address(request) or "unknown"
    target = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    over_client = (
        throttle_count(f"password-reset:client:{client}") > settings.PASSWORD_RESET_LIMIT_PER_CLIENT
    )
    if over_client:
        return True
    return (
        throttle_count(f"password-reset:email:{target}") > settings.PASSWORD_RESET_LIMIT_PER_EMAIL
    )


class ThrottledPasswordResetView(PasswordResetView):
    """Django's reset request, with links to SITE_URL, a throttle, and a security event."""

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        email = form.cleaned_data["email"]
        if reset_throttled(self.request, email):
            form.add_error(
                None,
                _(
                    "Too many password reset requests in the last hour, from here or for this "
                    "address. Look for the email already sent, or try again in an hour."
                ),
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        with transaction.atomic():
            for person in form.get_users(email):
                security_event_record(
                    action="password.reset_requested",
                    subject=person,
                    request=self.request,
                    notify=False,
                )
        site = urlsplit(settings.SITE_URL)
        form.save(
            domain_override=site.netloc,
            use_https=site.scheme == "https",
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            request=self.request,
            html_email_template_name=self.html_email_template_name,
        )
        return HttpResponseRedirect(self.get_success_url())
