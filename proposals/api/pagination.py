"""Pages of the API's lists: numbered pages by default, or cursor pages for clients that walk
a long list while others write.

Every list is ordered by what the request asks (or the model's default) and then by the id,
so that no two rows tie: numbered pages neither skip nor repeat a row. Rows without a value
(a proposal without an occasion has no deadline) come last whichever the direction.

A cursor page (`?pagination=cursor`, then the `next` and `previous` links) is a keyset on
(ordering key, id): the next page holds the rows after the last one shown, found through the
ordering's own columns rather than by counting rows, so a page of a million-row list costs what
the first page costs, and a row inserted or deleted meanwhile moves no other row across pages.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, Model, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.utils.translation import gettext as _
from rest_framework import pagination, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

MAX_PAGE_SIZE = 100
CURSOR_MAX_LENGTH = 2000


@dataclass(frozen=True)
class OrderKey:
    """One column of an ordering: a field path of the model, its direction, and whether it can
    be empty (then empty values come last)."""

    path: str
    descending: bool
    nullable: bool

    @property
    def name(self) -> str:
        return f"-{self.path}" if self.descending else self.path

    def expression(self, *, reverse: bool = False) -> OrderBy:
        """The ORDER BY term, or the term of the opposite order when `reverse`."""
        descending = self.descending != reverse
        if not self.nullable:
            return F(self.path).desc() if descending else F(self.path).asc()
        nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
        return F(self.path).desc(**nulls) if descending else F(self.path).asc(**nulls)

    def after(self, value: Any, *, reverse: bool = False) -> Q:
        """The rows that come after `value` in this column's order (before it when `reverse`)."""
        descending = self.descending != reverse
        empty_last = not reverse
        if value is None:
            if self.nullable and not empty_last:
                return Q(**{f"{self.path}__isnull": False})
            return Q(pk__in=[])
        condition = Q(**{f"{self.path}__{'lt' if descending else 'gt'}": value})
        if self.nullable and empty_last:
            condition |= Q(**{f"{self.path}__isnull": True})
        return condition

    def at_or_after(self, value: Any, *, reverse: bool = False) -> Q:
        """`after`, or equal: one range an index on this column can start from."""
        if value is None:
            return self.after(value, reverse=reverse) | self.equal(value)
        descending = self.descending != reverse
        condition = Q(**{f"{self.path}__{'lte' if descending else 'gte'}": value})
        if self.nullable and not reverse:
            condition |= Q(**{f"{self.path}__isnull": True})
        return condition

    def equal(self, value: Any) -> Q:
        return Q(**{f"{self.path}__isnull": True}) if value is None else Q(**{self.path: value})


def field_of(model: type[Model], path: str) -> tuple[Any, bool]:
    """The model field a path of lookups ends on, and whether a row can lack a value there
    (a nullable field, or a nullable relation on the way). (None, True) for an annotation."""
    nullable = False
    field: Any = None
    for part in path.split("__"):
        try:
            field = model._meta.pk if part == "pk" else model._meta.get_field(part)
        except FieldDoesNotExist:
            return None, True
        nullable = nullable or bool(getattr(field, "null", False))
        if field.is_relation and field.related_model is not None:
            model = field.related_model
    return field, nullable


def ordering_keys(queryset: QuerySet[Any]) -> list[OrderKey] | None:
    """The queryset's ordering as keys ending with the primary key, the tie-breaker that makes
    it total; None when it orders by something else than fields (an expression, at random)."""
    query = queryset.query
    terms: list[Any] = list(query.order_by or query.extra_order_by)
    if not terms and query.default_ordering:
        terms = list(queryset.model._meta.ordering)
    model = queryset.model
    pk_name = model._meta.pk.name
    keys: list[OrderKey] = []
    for term in terms:
        if isinstance(term, str):
            if term == "?" or "." in term:
                return None
            descending, path = term.startswith("-"), term.lstrip("-")
        elif isinstance(term, OrderBy) and isinstance(term.expression, F):
            descending, path = term.descending, str(getattr(term.expression, "name", ""))
        else:
            return None
        if path in ("pk", pk_name):
            keys.append(OrderKey("pk", descending, False))
            return keys
        _field, nullable = field_of(model, path)
        keys.append(OrderKey(path, descending, nullable))
    keys.append(OrderKey("pk", keys[-1].descending if keys else False, False))
    return keys


def totally_ordered(queryset: QuerySet[Any]) -> tuple[QuerySet[Any], list[OrderKey] | None]:
    """The queryset in its own ordering, the id breaking ties and empty values last."""
    keys = ordering_keys(queryset)
    if keys is None:
        return queryset, None
    return queryset.order_by(*(key.expression() for key in keys)), keys


def page_size_of(request: Request, default: int) -> int:
    """The `page_size` asked, at most 100 (a larger size gives 100); not a whole number of 1 or
    more is a 400."""
    raw = request.query_params.get("page_size")
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise serializers.ValidationError(
            {"page_size": [_("Give page_size as a whole number from 1 to 100.")]}
        )
    return min(int(raw), MAX_PAGE_SIZE)


# Cursors


def cursor_value(value: Any) -> Any:
    """A value of an ordering column as JSON holds it."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def cursor_encode(*, keys: list[OrderKey], values: list[Any], backwards: bool) -> str:
    position = {
        "o": [key.name for key in keys],
        "v": [cursor_value(value) for value in values],
        "b": backwards,
    }
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(
    cursor: str, *, keys: list[OrderKey], model: type[Model]
) -> tuple[list[Any], bool]:
    """The position a cursor names (one value per key) and whether it walks backwards; a cursor
    that was not made by this list in this ordering is a 400."""
    invalid = serializers.ValidationError(
        {
            "cursor": [
                _(
                    "This cursor is not one this list gave: follow the next and previous links "
                    "of a page as they are, or start again with pagination=cursor."
                )
            ]
        }
    )
    if len(cursor) > CURSOR_MAX_LENGTH:
        raise invalid
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        names, raw_values, backwards = position["o"], position["v"], position["b"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise invalid from None
    if not isinstance(names, list) or not isinstance(raw_values, list) or len(names) != len(keys):
        raise invalid
    if names != [key.name for key in keys]:
        raise serializers.ValidationError(
            {
                "cursor": [
                    _(
                        "This cursor was given for another ordering: keep the ordering of the "
                        "page that gave it, or start again with pagination=cursor."
                    )
                ]
            }
        )
    if len(raw_values) != len(keys) or not isinstance(backwards, bool):
        raise invalid
    values: list[Any] = []
    for key, raw in zip(keys, raw_values, strict=True):
        if raw is None:
            if not key.nullable:
                raise invalid
            values.append(None)
            continue
        field, _nullable = field_of(model, key.path)
        try:
            values.append(field.to_python(raw) if field is not None else raw)
        except Exception:  # a value the column cannot hold: not a cursor this list gave
            raise invalid from None
    return values, backwards


def keyset_after(keys: list[OrderKey], values: list[Any], *, reverse: bool) -> Q:
    """The rows after the position in the keys' order (before it when `reverse`): after it on
    the first key, or equal there and after it on the next, and so on. The first key's bound
    is also given alone, so that an index on that column can start the scan there."""
    condition = Q(pk__in=[])
    equal_so_far = Q()
    for key, value in zip(keys, values, strict=True):
        condition |= equal_so_far & key.after(value, reverse=reverse)
        equal_so_far &= key.equal(value)
    return keys[0].at_or_after(values[0], reverse=reverse) & condition


@dataclass
class CursorPage:
    rows: list[Any]
    next_cursor: str | None
    previous_cursor: str | None


def cursor_page(
    queryset: QuerySet[Any], *, keys: list[OrderKey], cursor: str | None, page_size: int
) -> CursorPage:
    """The page after (or, for a backwards cursor, before) the cursor's position: at most
    `page_size` rows, read with one query and no count."""
    values: list[Any] | None = None
    backwards = False
    if cursor is not None:
        values, backwards = cursor_decode(cursor, keys=keys, model=queryset.model)
    ordered = queryset.order_by(*(key.expression(reverse=backwards) for key in keys))
    ordered = ordered.annotate(
        **{f"keyset_{index}": F(key.path) for index, key in enumerate(keys) if key.path != "pk"}
    )
    if values is not None:
        ordered = ordered.filter(keyset_after(keys, values, reverse=backwards))
    rows = list(ordered[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()

    def position_of(row: Any) -> list[Any]:
        return [
            row.pk if key.path == "pk" else getattr(row, f"keyset_{index}")
            for index, key in enumerate(keys)
        ]

    def cursor_at(row: Any, *, backwards: bool) -> str:
        return cursor_encode(keys=keys, values=position_of(row), backwards=backwards)

    if not rows:
        return CursorPage([], None, None)
    came_from_before = values is not None and not backwards
    came_from_after = values is not None and backwards
    return CursorPage(
        rows,
        next_cursor=cursor_at(rows[-1], backwards=False) if more or came_from_after else None,
        previous_cursor=(
            cursor_at(rows[0], backwards=True) if (more and backwards) or came_from_before else None
        ),
    )


class PageNumberPagination(pagination.PageNumberPagination):
    """Pages of `page_size` items (25 unless asked, at most 100), numbered by default; with
    `pagination=cursor`, cursor pages that follow a keyset of the ordering and the id."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    cursor_query_param = "cursor"
    mode_query_param = "pagination"

    cursor: CursorPage | None = None

    def paginate_queryset(
        self, queryset: Any, request: Request, view: Any = None
    ) -> list[Any] | None:
        self.request = request
        self.cursor = None
        if not isinstance(queryset, QuerySet):
            return super().paginate_queryset(queryset, request, view)
        page_size = page_size_of(request, self.page_size)
        ordered, keys = totally_ordered(queryset)
        if not self.cursor_asked(request):
            return super().paginate_queryset(ordered, request, view)
        if keys is None:
            raise serializers.ValidationError(
                {"pagination": [_("This list cannot be read by cursor in this ordering.")]}
            )
        self.cursor = cursor_page(
            queryset,
            keys=keys,
            cursor=request.query_params.get(self.cursor_query_param),
            page_size=page_size,
        )
        return self.cursor.rows

    def get_page_size(self, request: Request) -> int:
        return page_size_of(request, self.page_size)

    def cursor_asked(self, request: Request) -> bool:
        """Whether the request asks for cursor pages; `pagination` other than page or cursor,
        or a `page` number with a cursor, is a 400."""
        mode = request.query_params.get(self.mode_query_param)
        if mode not in (None, "page", "cursor"):
            raise serializers.ValidationError(
                {"pagination": [_("Give pagination as page or cursor.")]}
            )
        has_cursor = self.cursor_query_param in request.query_params
        if mode == "page" and has_cursor:
            raise serializers.ValidationError(
                {"cursor": [_("A cursor reads cursor pages: leave out pagination=page.")]}
            )
        if has_cursor and self.page_query_param in request.query_params:
            raise serializers.ValidationError(
                {"page": [_("Give a page number or a cursor, not both.")]}
            )
        return mode == "cursor" or has_cursor

    def get_paginated_response(self, data: Any) -> Response:
        if self.cursor is None:
            return super().get_paginated_response(data)
        return Response(
            {
                "next": self.cursor_link(self.cursor.next_cursor),
                "previous": self.cursor_link(self.cursor.previous_cursor),
                "results": data,
            }
        )

    def cursor_link(self, cursor: str | None) -> str | None:
        if cursor is None or self.request is None:
            return None
        url = self.request.build_absolute_uri()
        url = remove_query_param(url, self.mode_query_param)
        url = remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paged = super().get_paginated_response_schema(schema)
        paged["required"] = ["next", "previous", "results"]
        paged["properties"]["count"]["description"] = (
            "How many rows match, on numbered pages; absent from cursor pages."
        )
        paged["properties"]["next"]["description"] = "The next page, or null on the last."
        paged["properties"]["previous"]["description"] = "The previous page, or null on the first."
        return paged

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number, from 1 (numbered pages).",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": "Rows per page: 25 unless given; more than 100 gives 100.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.mode_query_param,
                "required": False,
                "in": "query",
                "description": (
                    "page (the default): numbered pages with a count. cursor: pages that "
                    "follow the ordering from one row to the next, for walking a long list "
                    "while others write; follow `next` and `previous`."
                ),
                "schema": {"type": "string", "enum": ["page", "cursor"]},
            },
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": (
                    "Where a cursor page starts: taken as is from the `next` or `previous` "
                    "link of a cursor page (it implies pagination=cursor)."
                ),
                "schema": {"type": "string", "maxLength": CURSOR_MAX_LENGTH},
            },
        ]
