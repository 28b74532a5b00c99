"""The admin application, whose default site asks for a session verified by a second factor."""

from django.contrib.admin.apps import AdminConfig


class VerifiedAdminConfig(AdminConfig):
    """django.contrib.admin with `proposals.admin_site.VerifiedAdminSite` as `admin.site`."""

    default_site = "proposals.admin_site.VerifiedAdminSite"
