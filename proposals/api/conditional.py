"""Conditional requests on a proposal: its representation carries an ETag, `If-None-Match`
answers 304 Not Modified when nothing changed, and `If-Match` refuses a write made on an older
version with 412 Precondition Failed.

The ETag is `"v<version>-<language>-<digest>"`: the proposal's version (raised by every write
that changes what it shows: edits, reviews, endorsements, transitions, deadline moves), the
language of the answer, and a digest of the answer itself, which also changes with what the
requester may do now (the `transitions` a deadline or a role change opens or closes). It is
computed from the row and the answer already at hand: no query.

`If-Match` is checked on the version alone: a tag read in another language, or before a
deadline passed, still names the version the client acted on.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from workflow.errors import RefusalKind, Refused

VARY = ("Authorization", "Accept-Language")
ENTITY_TAG = r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"'
ENTITY_TAG_LIST = re.compile(rf"\s*{ENTITY_TAG}(?:\s*,\s*{ENTITY_TAG})*\s*")
PROPOSAL_TAG = re.compile(r'"v(\d{1,10})-[^"]*"')
# The same rule for the schema (ECMA regex): *, or quoted tags separated by commas.
ENTITY_TAGS_PATTERN = r'^\s*(\*|(W/)?"[\x21\x23-\x7e]*"(\s*,\s*(W/)?"[\x21\x23-\x7e]*")*)\s*$'


class PreconditionFailed(exceptions.APIException):
    """A write whose If-Match names a version the proposal no longer has."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = gettext_lazy(
        "Someone changed this proposal since the version named in If-Match. "
        "Read it again and send its new ETag."
    )


def proposal_etag(version: int, data: Any) -> str:
    """The ETag of a proposal's representation: its version, the language of the answer and a
    digest of the answer."""
    encoded = json.dumps(data, cls=JSONEncoder, sort_keys=True, ensure_ascii=False).encode()
    digest = hashlib.sha256(encoded).hexdigest()[:16]
    language = translation.get_language() or "und"
    return f'"v{version}-{language}-{digest}"'


def entity_tags(header: str, *, name: str) -> list[str]:
    """The entity tags of an If-Match or If-None-Match header (["*"] for any); a header that is
    not a list of quoted tags is a 400 that names it."""
    if header.strip() == "*":
        return ["*"]
    if not ENTITY_TAG_LIST.fullmatch(header):
        raise serializers.ValidationError(
            {
                name: [
                    _(
                        "Give %(header)s as one or more ETags in double quotes, separated by "
                        'commas (such as "v3-en-0123456789abcdef"), or as *.'
                    )
                    % {"header": name}
                ]
            }
        )
    return re.findall(ENTITY_TAG, header)


def none_match(request: Request, etag: str) -> bool:
    """Whether the request's If-None-Match names this ETag (a weak comparison) or is *."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    tags = entity_tags(header, name="If-None-Match")
    return "*" in tags or etag in {tag.removeprefix("W/") for tag in tags}


def if_match_version(request: Request, current_version: int) -> int | None:
    """The version the request's If-Match names, which must be the proposal's current one (else
    412): None without If-Match or with *, so that no version is checked."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = entity_tags(header, name="If-Match")
    if "*" in tags:
        return None
    versions = {int(match[1]) for tag in tags if (match := PROPOSAL_TAG.fullmatch(tag))}
    if current_version not in versions:
        raise PreconditionFailed()
    return current_version


@contextmanager
def precondition_kept(request: Request) -> Iterator[None]:
    """Within a write sent with If-Match, a proposal that changed between the check and the row
    lock is a 412 as well, not a 409."""
    try:
        yield
    except Refused as refusal:
        if (
            "If-Match" in request.headers
            and refusal.kind == RefusalKind.CONFLICT
            and "changed_meanwhile" in refusal.codes
        ):
            raise PreconditionFailed() from refusal
        raise


def proposal_response(
    request: Request, version: int, data: Any, *, status_code: int = status.HTTP_200_OK
) -> Response:
    """A proposal's representation with its ETag, varying with the requester and the language;
    a GET or HEAD whose If-None-Match names the ETag is a 304 without a body."""
    etag = proposal_etag(version, data)
    if request.method in ("GET", "HEAD") and none_match(request, etag):
        response = Response(status=status.HTTP_304_NOT_MODIFIED)
    else:
        response = Response(data, status=status_code)
    response["ETag"] = etag
    patch_vary_headers(response, VARY)
    return response


# The schema


ETAG_HEADER = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201, 304],
    description=(
        'The version of this representation, such as "v3-en-0123456789abcdef": send it back '
        "in If-None-Match to read the proposal only if it changed, or in If-Match to write "
        "only if nobody changed it meanwhile."
    ),
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    pattern=ENTITY_TAGS_PATTERN,
    description="An ETag read before: 304 Not Modified, without a body, while it is current.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    pattern=ENTITY_TAGS_PATTERN,
    description=(
        "The proposal's ETag as last read: the write is refused with 412 if the proposal "
        "changed since (its version moved on). A value that is not a list of ETags is a 400. "
        "The `version` or `expected_revision` fields of the body are still taken too."
    ),
)
NOT_MODIFIED = {
    304: OpenApiResponse(description="Not modified since the ETag of If-None-Match: no body.")
}
