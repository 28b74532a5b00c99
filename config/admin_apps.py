"""The admin application, whose default site asks for a session verified by a second factor."""

from django.contrib.admin.apps import AdminConfig


class VerifiedAdminConfig(AdminConfig):
    """django.contrib.admin with `VerifiedAdminSite` as `admin.site`."""

    default_site = "config.admin_site.VerifiedAdminSite"
