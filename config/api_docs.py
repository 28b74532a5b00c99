"""The API's schema, kept once rendered, and its Swagger UI, served under the site's
Content-Security-Policy.

The split view serves Swagger UI's start-up script as a file of its own (same path, `?script`)
and the page's styles come from a static file, so the page needs no inline script or style.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.utils import translation
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView, SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI with no inline script or style."""

    template_name = "api/swagger_ui.html"

    def perform_content_negotiation(self, request: Any, force: bool = False) -> Any:
        """The page exists only as HTML: any Accept header gets it, never a 406.

        A 406 raised here, before the requester is authenticated, would render its error page
        with a context that authenticates lazily and can raise outside DRF's handler (a 500).
        """
        return super().perform_content_negotiation(request, force=True)


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, generated and rendered once per process for each language and format.

    The schema depends only on the code, the settings and the language of its texts, never on who
    asks (it is public and lists every operation), so the bytes of a first answer serve every later
    one. A change of settings (as tests make) empties the store.
    """

    rendered: ClassVar[dict[tuple[str, ...], tuple[bytes, dict[str, str]]]] = {}

    @extend_schema(**SCHEMA_KWARGS)
    def get(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        key = (
            translation.get_language() or "",
            request.GET.get("lang", ""),
            request.GET.get("version", ""),
            request.accepted_media_type,
        )
        if key not in self.rendered:
            response = super().get(request, *args, **kwargs)
            response.accepted_renderer = request.accepted_renderer
            response.accepted_media_type = request.accepted_media_type
            response.renderer_context = self.get_renderer_context()
            response.render()
            headers = {name: response[name] for name in ("Content-Type", "Content-Disposition")}
            self.rendered[key] = (response.content, headers)
        content, headers = self.rendered[key]
        return HttpResponse(content, headers=headers)


@receiver(setting_changed)
def schema_forget(**kwargs: Any) -> None:
    """Settings changed (in tests): the next request generates the schema again."""
    SchemaView.rendered.clear()
