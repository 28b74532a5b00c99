from django.contrib import admin
from django.urls import include, path, re_path

from config import operations
from config.api_docs import ApiDocsView, SchemaView
from proposals.api.errors import unknown_api_path
from proposals.web.password_reset import ThrottledPasswordResetView
from proposals.web.views import account as account_views

urlpatterns = [
    path("health/live", operations.health_live, name="health-live"),
    path("health/ready", operations.health_ready, name="health-ready"),
    path("metrics", operations.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/", include("proposals.api.urls")),
    path("api/", include("proposals.api.reminder_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/password_reset/", ThrottledPasswordResetView.as_view(), name="password_reset"),
    path("accounts/login/", account_views.SignInView.as_view(), name="login"),
    path("accounts/verify/", account_views.otp_verify, name="otp_verify"),
    path(
        "accounts/password_change/",
        account_views.PasswordChangeRevokingView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        account_views.PasswordResetConfirmRevokingView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("proposals.calendars.urls")),
    path("", include("proposals.web.urls")),
    # Last: an address under /api/ that no route above takes is a JSON 404, in debug mode too.
    re_path(r"^api/", unknown_api_path),
]

# An unknown address under /api/ answers in the API's JSON shape; elsewhere, Django's page.
handler404 = "proposals.api.errors.page_not_found"
