"""How the API knows who calls: a hashed, expiring token, or a session verified by a second
factor where the person has or needs one."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from proposals.accounts import (
    AUTHORIZATION_SCHEME,
    TokenRefused,
    api_token_from_header,
    session_two_factor_missing,
)


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <token>`: the request acts as the token's person; an unknown,
    expired or revoked token is a 401 that says which."""

    keyword = AUTHORIZATION_SCHEME

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        try:
            token = api_token_from_header(get_authorization_header(request))
        except TokenRefused as refusal:
            raise AuthenticationFailed(refusal.reason) from None
        return None if token is None else (token.person, token)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class VerifiedSessionAuthentication(SessionAuthentication):
    """The session of a signed-in person, once their second factor is verified (for those who
    have one or must have one)."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        missing = session_two_factor_missing(request._request)
        if missing == "verify":
            raise AuthenticationFailed(
                _("Type the code of your authenticator app in the pages first, or use a token.")
            )
        if missing == "enrol":
            raise AuthenticationFailed(
                _(
                    "Your account must use two-factor authentication: set up an authenticator "
                    "app in the pages (My settings) first."
                )
            )
        return result


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the schema documents the token: `Authorization: Token <token>`."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=ApiTokenAuthentication.keyword
        )


class VerifiedSessionScheme(OpenApiAuthenticationExtension):
    """The session cookie, as for DRF's session authentication."""

    target_class = VerifiedSessionAuthentication
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
