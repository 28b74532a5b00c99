"""Signing in over the API: a login token for a username, password and (for a person with
two-factor authentication) the current code; and each person's own named tokens for scripts."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib.auth import authenticate, user_logged_in, user_login_failed
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from proposals.accounts import (
    api_token_create,
    api_token_revoke,
    api_tokens_active,
    second_factor_check,
    totp_device_of,
    two_factor_required,
)
from proposals.api.authentication import ApiTokenAuthentication
from proposals.api.errors import error_response, refusals
from proposals.api.parsers import BoundedJSONParser
from proposals.api.serializers import ModelSerializer, TextField
from proposals.api.views import ApiConventions, ApiViewSet, requester
from proposals.models import ApiToken


@extend_schema_serializer(component_name="Login")
class TokenRequestSerializer(serializers.Serializer):
    username = TextField(max_length=150)
    password = TextField(max_length=4096, trim_whitespace=False)
    otp = TextField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text=(
            "For a person with two-factor authentication: the current code of their "
            "authenticator app, or one of their recovery codes."
        ),
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")
    expires_at = serializers.DateTimeField()


class ApiTokenSerializer(ModelSerializer):
    """One of the person's tokens; its secret appears once, in the answer that creates it."""

    expires_at = serializers.DateTimeField(
        help_text="When it stops working: a year from now at most."
    )

    class Meta:
        model = ApiToken
        fields = ["id", "name", "kind", "prefix", "created_at", "expires_at", "last_used_at"]
        read_only_fields = ["id", "kind", "prefix", "created_at", "last_used_at"]


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text="The secret, shown this once: keep it now."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


def login_failed(request: HttpRequest, username: str) -> None:
    """Count a failed second factor like a wrong password (django-axes locks after five)."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


def locked_out_response(request: HttpRequest) -> Response:
    """django-axes' lockout, answered in the API's shape with a 429."""
    setattr(request, "axes_locked_out", False)  # noqa: B010
    cool_off = settings.AXES_COOLOFF_TIME
    minutes = max(1, int(cool_off.total_seconds() // 60)) if cool_off else 0
    reason = (
        _(
            "Too many failed logins for this account: it is locked for %(minutes)s "
            "minutes. Try again later."
        )
        % {"minutes": minutes}
        if minutes
        else _("Too many failed logins: this account is locked. Ask the secretariat.")
    )
    response = error_response([reason], status.HTTP_429_TOO_MANY_REQUESTS, code="locked_out")
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


@extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, **refusals(400, 401, 403, 429)},
        auth=[],
        description=(
            "A login token, valid for API_LOGIN_TOKEN_HOURS (10 hours unless configured), for "
            "a username, a password and, for a person with two-factor authentication, `otp`. "
            "Wrong credentials answer 401 (`authentication_failed`). Five failed logins in a "
            "row lock the account for a while (429, `locked_out`)."
        ),
    ),
    delete=extend_schema(
        tags=["auth"],
        request=None,
        responses={204: OpenApiResponse(description="Revoked."), **refusals(401)},
        description="Revoke the token this request is sent with (log out).",
    ),
)
class TokenObtainView(ApiConventions, APIView):
    """A login token for a username and password (and code); DELETE revokes the token used."""

    parser_classes: list[type[BaseParser]] = [BoundedJSONParser]

    def _logging_in(self) -> bool:
        return getattr(self.request, "method", None) == "POST"

    def get_authenticators(self) -> list[BaseAuthentication]:
        return [] if self._logging_in() else [ApiTokenAuthentication()]

    def get_permissions(self) -> list[BasePermission]:
        return [AllowAny()] if self._logging_in() else [IsAuthenticated()]

    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        http_request = request._request
        username = serializer.validated_data["username"]
        user = authenticate(
            request=http_request, username=username, password=serializer.validated_data["password"]
        )
        if getattr(http_request, "axes_locked_out", False):
            return locked_out_response(http_request)
        if user is None or not user.is_active:
            reason = _("The username or the password is wrong.")
            refused = error_response(
                [reason], status.HTTP_401_UNAUTHORIZED, code="authentication_failed"
            )
            refused["WWW-Authenticate"] = "Token"
            return refused
        if totp_device_of(user) is not None:
            code = serializer.validated_data.get("otp", "")
            if second_factor_check(user, code, http_request) is None:
                login_failed(http_request, username)
                if getattr(http_request, "axes_locked_out", False):
                    return locked_out_response(http_request)
                reason = (
                    _(
                        "The code is wrong or was used already: send the current code of your "
                        "authenticator app (or wait for the next one), or a recovery code."
                    )
                    if code
                    else _(
                        "This account uses two-factor authentication: send `otp`, the current "
                        "code of your authenticator app, or one of your recovery codes."
                    )
                )
                return error_response(
                    [reason],
                    status.HTTP_400_BAD_REQUEST,
                    errors={"otp": [reason]},
                    reason_codes=["invalid" if code else "required"],
                )
        elif two_factor_required(user):
            reason = _(
                "Your account must use two-factor authentication: set up an authenticator app "
                "in the pages (My settings, Two-factor authentication), then ask for a token "
                "with its code."
            )
            return error_response([reason], status.HTTP_403_FORBIDDEN)
        user_logged_in.send(sender=type(user), request=http_request, user=user)
        token, key = api_token_create(
            person=user,
            kind=ApiToken.Kind.LOGIN,
            name=_("Login from the API"),
            request=http_request,
        )
        return Response({"token": key, "expires_at": token.expires_at})

    def delete(self, request: Request) -> Response:
        token = cast(ApiToken, request.auth)
        api_token_revoke(token=token, actor=request.user, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        tags=["auth"],
        summary="My working tokens",
        responses={200: ApiTokenSerializer(many=True), **refusals(400, 401, 404)},
    ),
    create=extend_schema(
        tags=["auth"],
        summary="A named token for a script",
        request=ApiTokenSerializer,
        responses={201: ApiTokenCreatedSerializer, **refusals(400, 401)},
        description="The answer holds the secret (`token`), shown this once.",
    ),
    destroy=extend_schema(
        tags=["auth"],
        summary="Revoke one of my tokens",
        responses={204: OpenApiResponse(description="Revoked."), **refusals(401, 404)},
    ),
)
class ApiTokenViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, ApiViewSet
):
    """The requester's own tokens: list, create for a script, revoke. Nobody sees another's."""

    serializer_class = ApiTokenSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[ApiToken]:
        return api_tokens_active(requester(self.request))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ApiTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token, key = api_token_create(
                person=requester(request),
                kind=ApiToken.Kind.SCRIPT,
                name=serializer.validated_data["name"],
                expires_at=serializer.validated_data["expires_at"],
                request=request._request,
            )
        except DjangoValidationError as error:
            raise ValidationError({"expires_at": error.messages}) from None
        token.token = key  # type: ignore[attr-defined]
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiToken) -> None:
        api_token_revoke(
            token=instance, actor=requester(self.request), request=self.request._request
        )
