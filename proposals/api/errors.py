"""Every refusal of the API answers {"detail", "reasons"} (plus field errors), with a status
that says what kind of no it is."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from workflow.errors import RefusalKind, Refused, UnknownTransition

REFUSAL_STATUS = {
    RefusalKind.PERMISSION: status.HTTP_403_FORBIDDEN,
    RefusalKind.STATE: status.HTTP_409_CONFLICT,
    RefusalKind.CONDITION: status.HTTP_409_CONFLICT,
    RefusalKind.CONFLICT: status.HTTP_409_CONFLICT,
    RefusalKind.INVALID: status.HTTP_400_BAD_REQUEST,
}


class RefusalSerializer(serializers.Serializer):
    """Why a request was refused; an input error also maps each field to its messages."""

    detail = serializers.CharField(help_text="What went wrong, in one or more sentences.")
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="Each reason, as a sentence a person understands."
    )


def refusal_body(
    reasons: list[str], detail: str | None = None, errors: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = dict(errors or {})
    body["detail"] = detail or " ".join(reasons)
    body["reasons"] = list(reasons)
    return body


def field_messages(errors: Any, prefix: str = "") -> list[str]:
    """Field errors of any depth, flattened into "field: message" sentences."""
    if isinstance(errors, dict):
        messages: list[str] = []
        for name, value in errors.items():
            label = "" if name in ("non_field_errors", "detail") else str(name)
            path = f"{prefix}.{label}" if prefix and label else (prefix or label)
            messages.extend(field_messages(value, path))
        return messages
    if isinstance(errors, list):
        messages = []
        for index, value in enumerate(errors):
            if isinstance(value, dict | list):
                messages.extend(field_messages(value, f"{prefix}[{index}]" if prefix else ""))
            else:
                messages.extend(field_messages(value, prefix))
        return messages
    return [f"{prefix}: {errors}" if prefix else str(errors)]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Refusals of the services and DRF's own errors, in one shape."""
    if isinstance(exc, Refused):
        errors = {name: list(messages) for name, messages in exc.errors.items()}
        return Response(refusal_body(exc.reasons, errors=errors), status=REFUSAL_STATUS[exc.kind])
    if isinstance(exc, UnknownTransition):
        reason = _("There is no action named “%(name)s”.") % {"name": exc.args[0]}
        return Response(refusal_body([reason]), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, ProtectedError | RestrictedError):
        reason = _("This is still used elsewhere (by proposals, people or occasions), so it stays.")
        return Response(refusal_body([reason]), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found: it does not exist or you cannot see it."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        data = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        response.data = refusal_body(
            field_messages(data), detail=_("The input is not valid."), errors=data
        )
    elif isinstance(response.data, dict) and "detail" in response.data:
        detail = str(response.data["detail"])
        response.data = refusal_body([detail], detail=detail)
    return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """An unknown address under /api/ is a JSON 404 like any other refusal of the API."""
    if request.path.startswith("/api/"):
        reason = _("Not found: there is no such address in the API.")
        return JsonResponse(refusal_body([reason]), status=404)
    return defaults.page_not_found(request, exception)
