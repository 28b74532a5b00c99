"""Every refusal of the API answers one shape, the schema's `Error`: `detail` (one or more
sentences), `reasons` (each a sentence a person understands), `code` (what kind of no, stable
and the same in every language) and `reason_codes` (each reason's own stable code, in the order
of `reasons`); an input error also maps each field to its messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import ProtectedError, RestrictedError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from workflow.errors import RefusalKind, Refused, UnknownTransition

ERROR_CODES: dict[str, str] = {
    "validation_error": "The input is not valid: each field error is given.",
    "parse_error": "The body is not JSON this API can read.",
    "not_authenticated": "No credentials were sent.",
    "authentication_failed": "The credentials sent are wrong, expired or revoked.",
    "permission_denied": "This person may never do this.",
    "not_found": "It does not exist, or this person cannot see it.",
    "method_not_allowed": "This address does not answer this HTTP method.",
    "not_acceptable": "None of the media types in Accept can be answered.",
    "transition_refused": "Not now: the proposal's state or an unmet condition forbids it.",
    "conflict": "Someone changed it meanwhile, or something with the same value exists.",
    "in_use": "It is still used elsewhere, so it cannot be deleted.",
    "precondition_failed": "If-Match names a version that is no longer the current one.",
    "precondition_required": "This write must name the version it was made on.",
    "request_too_large": "The request body is larger than this API accepts.",
    "unsupported_media_type": "The body's Content-Type is not one this API reads.",
    "throttled": "Too many requests: wait for the seconds in Retry-After.",
    "locked_out": "Too many failed logins: the account is locked for a while.",
}
"""The error's top-level `code`, with what it means."""

REASON_CODES: dict[str, str] = {
    # The domain's reasons (proposals.rules, proposals.lifecycle, proposals.notifications).
    "not_author": "Only an author of the proposal may do this.",
    "not_secretariat": "Only the secretariat may do this.",
    "secretariat_only": "Only the secretariat manages this (webhook endpoints).",
    "not_author_nor_secretariat": "Only an author or the secretariat may do this.",
    "not_reviewer": "Only reviewers named by the secretariat may review.",
    "own_proposal": "Nobody reviews a proposal they wrote.",
    "title_missing": "The proposal needs a title.",
    "text_missing": "The proposal needs a text.",
    "body_missing": "The proposal needs the body it is addressed to.",
    "occasion_missing": "The proposal needs the occasion it is timed to.",
    "deadline_passed": "The occasion's submission deadline has passed.",
    "changes_requested": "Changes were requested on the current revision: edit it first.",
    "already_reviewed": "This reviewer already reviewed the current revision.",
    "quorum_not_reached": "Not enough full members endorsed the proposal yet.",
    "observer": "Observers do not endorse.",
    "not_representative": "Only the representative of a full member organisation endorses.",
    "other_organization": "The person does not represent that organisation.",
    "already_endorsed": "The organisation already endorses this proposal.",
    "already_withdrawn": "The endorsement was already withdrawn.",
    "confirmation_needed": "Confirm who you are (password or two-factor code) first.",
    "state": "Not from the state the proposal is in.",
    "changed_meanwhile": "The proposal changed since the version the client acted on.",
    "notification_unknown": "No optional notification has that name.",
    "notification_not_boolean": "Each notification is turned on or off with true or false.",
    "notification_mode_refused": "That kind of notice cannot reach you that way.",
    "notification_filter_invalid": "The unread filter is true or false.",
    # Attachments (proposals.attachments).
    "file_empty": "The file sent is empty.",
    "file_too_large": "The file is larger than ATTACHMENT_MAX_BYTES.",
    "file_type": "The file's content is not PDF, ODT, DOCX, XLSX, PNG or JPEG.",
    "file_name_mismatch": "The file's name ends otherwise than its content's type.",
    "malware": "ClamAV found malware in the file.",
    "scanner_unavailable": "The malware scanner gave no verdict: try again later.",
    "revision_unknown": "The proposal has no such revision.",
    "already_removed": "The file was already removed.",
    # The dossier (proposals.dossiers).
    "dossier_not_ready": "The dossier is being rendered: try again in a minute.",
    # The discussion (proposals.discussion).
    "comment_empty": "The comment has no text.",
    "comment_too_long": "The comment is longer than DISCUSSION_COMMENT_MAX_LENGTH.",
    "comment_elsewhere": "The comment answered is on another proposal.",
    "reply_to_reply": "Replies go one level deep: a reply cannot be answered.",
    "anchor_on_reply": "Only the first comment of a thread is anchored to a paragraph.",
    "anchor_incomplete": "An anchor names both a revision and a paragraph.",
    "anchor_elsewhere": "The revision belongs to another proposal.",
    "paragraph_unknown": "The revision has no paragraph of that number.",
    "mention_unknown": "An @username names nobody.",
    "not_comment_author": "Only its author edits or deletes a comment.",
    "comment_deleted": "The comment was deleted.",
    "comment_hidden": "The secretariat hid the comment.",
    "reason_missing": "A reason is required.",
    "reason_too_long": "The reason is too long.",
    # A field of the input (DRF's codes of field errors).
    "required": "A required field is missing.",
    "null": "A field that takes a value was given null.",
    "blank": "A field that takes text was given a blank one.",
    "invalid": "A value has the wrong type or form.",
    "max_length": "A text or list is too long.",
    "min_length": "A text or list is too short.",
    "max_value": "A number is too large.",
    "min_value": "A number is too small.",
    "invalid_choice": "A value is not one of the choices.",
    "not_a_list": "A list was expected.",
    "empty": "A list must not be empty.",
    "does_not_exist": "No object has that id.",
    "incorrect_type": "An id of the wrong type.",
    "date": "A date was given where a date and time is expected.",
    "datetime": "A date and time was given where a date is expected.",
    "naive": "A date and time lacks its offset from UTC.",
    "overflow": "A date and time is out of range.",
    "make_aware": "A date and time does not exist in that time zone.",
    "unique": "Another object already has that value.",
    "nul_character": "A text holds a NUL character.",
    "surrogate_characters_not_allowed": "A text holds half of a UTF-16 pair.",
    "max_string_length": "A number is given with too many digits.",
    # A refusal with no more precise reason carries the error's own code.
    **ERROR_CODES,
}
"""Each reason's code in `reason_codes`, with what it means."""

ERROR_CODE_CHOICES = list(ERROR_CODES.items())
REASON_CODE_CHOICES = list(REASON_CODES.items())

STATUS_CODES: dict[int, str] = {
    400: "validation_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "request_too_large",
    415: "unsupported_media_type",
    428: "precondition_required",
    429: "throttled",
}
"""The code of an error whose cause says no more precise one, by HTTP status."""

REFUSAL_STATUS = {
    RefusalKind.PERMISSION: status.HTTP_403_FORBIDDEN,
    RefusalKind.STATE: status.HTTP_409_CONFLICT,
    RefusalKind.CONDITION: status.HTTP_409_CONFLICT,
    RefusalKind.CONFLICT: status.HTTP_409_CONFLICT,
    RefusalKind.INVALID: status.HTTP_400_BAD_REQUEST,
}

REFUSAL_CODES = {
    RefusalKind.PERMISSION: "permission_denied",
    RefusalKind.STATE: "transition_refused",
    RefusalKind.CONDITION: "transition_refused",
    RefusalKind.CONFLICT: "conflict",
    RefusalKind.INVALID: "validation_error",
}

ERROR_DESCRIPTIONS = {
    400: "The input is not valid: each field error is given.",
    401: "No valid credentials: send `Authorization: Token <token>` or a session cookie.",
    403: "This person may never do this.",
    404: "It does not exist, or this person cannot see it.",
    409: "Not now: the state forbids it, a condition is unmet, or someone changed it meanwhile.",
    412: "The proposal changed since the version named in If-Match.",
    429: "Too many requests or failed logins: wait for the seconds in Retry-After.",
}


class ErrorSerializer(serializers.Serializer):
    """Why a request was refused; an input error also maps each field to its messages."""

    detail = serializers.CharField(help_text="What went wrong, in one or more sentences.")
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="Each reason, as a sentence a person understands."
    )
    code = serializers.ChoiceField(
        choices=ERROR_CODE_CHOICES, help_text="What kind of no, the same in every language."
    )
    reason_codes = serializers.ListField(
        child=serializers.ChoiceField(choices=REASON_CODE_CHOICES),
        help_text="Each reason's stable code, in the order of `reasons`.",
    )


# The name kept for the modules that document their refusals with it.
RefusalSerializer = ErrorSerializer


def refusals(*statuses: int) -> dict[Any, OpenApiResponse]:
    """Documented refusal responses, each the `Error` shape (plus field errors on 400)."""
    return {
        (code, "application/json"): OpenApiResponse(
            ErrorSerializer, description=ERROR_DESCRIPTIONS[code]
        )
        for code in statuses
    }


def known_reason_code(code: str | None, fallback: str) -> str:
    return code if code in REASON_CODES else fallback


def refusal_body(
    reasons: Sequence[str],
    detail: str | None = None,
    errors: dict[str, Any] | None = None,
    *,
    code: str | None = None,
    status: int | None = None,
    reason_codes: Sequence[str | None] | None = None,
) -> dict[str, Any]:
    """The `Error` body. `code` defaults to the one of the `status`; each reason's code is the
    one it carries (a workflow.errors.Reason), else the one given, else the error's code."""
    if code not in ERROR_CODES:
        code = STATUS_CODES.get(status or 400, "validation_error")
    given = list(reason_codes) if reason_codes is not None else [None] * len(reasons)
    body: dict[str, Any] = dict(errors or {})
    body["detail"] = detail or " ".join(str(reason) for reason in reasons)
    body["reasons"] = [str(reason) for reason in reasons]
    body["code"] = code
    body["reason_codes"] = [
        known_reason_code(getattr(reason, "code", None) or given_code, code)
        for reason, given_code in zip(reasons, given, strict=True)
    ]
    return body


def error_response(reasons: Sequence[str], status: int, **kwargs: Any) -> Response:
    """A DRF response in the `Error` shape."""
    return Response(refusal_body(reasons, status=status, **kwargs), status=status)


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


def field_codes(errors: Any) -> list[str]:
    """The code of each message of `errors`, in the order of field_messages(errors)."""
    if isinstance(errors, dict):
        return [code for value in errors.values() for code in field_codes(value)]
    if isinstance(errors, list):
        return [code for value in errors for code in field_codes(value)]
    return [str(getattr(errors, "code", None) or "invalid")]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Refusals of the services and DRF's own errors, in one shape."""
    if isinstance(exc, Refused):
        errors = {name: list(messages) for name, messages in exc.errors.items()}
        kind_code = REFUSAL_CODES[exc.kind]
        return error_response(
            exc.reasons,
            REFUSAL_STATUS[exc.kind],
            errors=errors,
            code=kind_code,
            reason_codes=[None if code == "refused" else code for code in exc.codes],
        )
    if isinstance(exc, UnknownTransition):
        reason = _("There is no action named “%(name)s”.") % {"name": exc.args[0]}
        return error_response([reason], status.HTTP_404_NOT_FOUND)
    if isinstance(exc, ProtectedError | RestrictedError):
        reason = _("This is still used elsewhere (by proposals, people or occasions), so it stays.")
        return error_response([reason], status.HTTP_409_CONFLICT, code="in_use")
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
        codes = field_codes(data)
        if codes and set(codes) == {"unique"}:
            response.status_code = status.HTTP_409_CONFLICT
            response.data = refusal_body(
                field_messages(data),
                detail=_("Something with the same value already exists."),
                errors=data,
                code="conflict",
                reason_codes=codes,
            )
            return response
        response.data = refusal_body(
            field_messages(data),
            detail=_("The input is not valid."),
            errors=data,
            code="validation_error",
            reason_codes=codes,
        )
    elif isinstance(response.data, dict) and "detail" in response.data:
        detail = response.data["detail"]
        code = str(getattr(detail, "code", "") or "")
        response.data = refusal_body(
            [str(detail)], detail=str(detail), code=code, status=response.status_code
        )
    return response


def error_code_ensured(response: Any) -> Any:
    """A refusal built in the `{detail, reasons}` shape by hand gains its `code` and
    `reason_codes` (from its status) on its way out."""
    data = getattr(response, "data", None)
    if (
        getattr(response, "status_code", 200) >= 400
        and isinstance(data, dict)
        and "reasons" in data
        and ("code" not in data or "reason_codes" not in data)
    ):
        rebuilt = refusal_body(
            data["reasons"],
            detail=data.get("detail"),
            errors={k: v for k, v in data.items() if k not in ("detail", "reasons")},
            code=data.get("code"),
            status=response.status_code,
        )
        response.data = rebuilt
    return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """An unknown address under /api/ is a JSON 404 like any other refusal of the API."""
    if request.path.startswith("/api/"):
        reason = _("Not found: there is no such address in the API.")
        return JsonResponse(refusal_body([reason], status=404), status=404)
    return defaults.page_not_found(request, exception)


@csrf_exempt
def unknown_api_path(request: HttpRequest) -> HttpResponse:
    """Every address under /api/ that no route takes, in debug mode too: a JSON 404, or the
    redirection to the same address with its slash when that one exists (GET and HEAD)."""
    path = request.path_info
    if settings.APPEND_SLASH and not path.endswith("/"):
        try:
            match = resolve(path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not unknown_api_path:
            if request.method in ("GET", "HEAD"):
                return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
            reason = _("This address ends with a slash: send the request to %(path)s.") % {
                "path": path + "/"
            }
            return JsonResponse(refusal_body([reason], status=404), status=404)
    reason = _("Not found: there is no such address in the API.")
    return JsonResponse(refusal_body([reason], status=404), status=404)
