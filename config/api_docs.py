"""The API's Swagger UI, served under the site's Content-Security-Policy.

The split view serves Swagger UI's start-up script as a file of its own (same path, `?script`)
and the page's styles come from a static file, so the page needs no inline script or style.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI with no inline script or style."""

    template_name = "api/swagger_ui.html"

    def perform_content_negotiation(self, request: Any, force: bool = False) -> Any:
        """The page exists only as HTML: any Accept header gets it, never a 406.

        A 406 raised here, before the requester is authenticated, would render its error page
        with a context that authenticates lazily and can raise outside DRF's handler (a 500).
        """
        return super().perform_content_negotiation(request, force=True)
