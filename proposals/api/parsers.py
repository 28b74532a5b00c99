"""The API's JSON parser: a body nested too deep or holding text no database can store is a 400."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 32


def json_depth_exceeds(data: Any, limit: int) -> bool:
    """True when arrays and objects nest deeper than `limit` levels (checked without recursion)."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, Mapping):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def has_lone_surrogate(data: Any) -> bool:
    """True when a string or key holds half of a UTF-16 pair, which UTF-8 cannot encode."""
    pending: list[Any] = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(value, Mapping):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


class BoundedJSONParser(JSONParser):
    """JSON whose arrays and objects nest at most MAX_JSON_DEPTH levels and whose text is Unicode."""

    max_depth = MAX_JSON_DEPTH

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        too_deep = ParseError(
            _("JSON parse error: the body is nested more than %(limit)s levels deep.")
            % {"limit": self.max_depth}
        )
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if json_depth_exceeds(data, self.max_depth):
            raise too_deep
        if has_lone_surrogate(data):
            raise ParseError(
                _(
                    "JSON parse error: a text holds an unpaired \\ud800-\\udfff escape, "
                    "which is not a character."
                )
            )
        return data
