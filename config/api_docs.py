"""The API's Swagger UI, served under the site's Content-Security-Policy.

The split view serves Swagger UI's start-up script as a file of its own (same path, `?script`)
and the page's styles come from a static file, so the page needs no inline script or style.
"""

from __future__ import annotations

from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI with no inline script or style."""

    template_name = "api/swagger_ui.html"
