"""The OpenAPI schema states the rules the API enforces, so that a request valid by the schema is
accepted: text without NUL characters, and not only spaces where a blank is refused."""

from __future__ import annotations

import re
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.metadata import SimpleMetadata

NO_NUL = r"^[^\u0000]*$"
"""Text that holds no NUL character (U+0000), which no database column stores."""

NOT_BLANK_NO_NUL = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
"""Text that holds a character other than a space, and no NUL character."""


def text_pattern(field: serializers.CharField) -> str:
    """The pattern of what a text field accepts: a field that refuses a blank and trims its
    input refuses text made only of spaces too."""
    if not field.allow_blank and field.trim_whitespace:
        return NOT_BLANK_NO_NUL
    return NO_NUL


class ApiMetadata(SimpleMetadata):
    """What OPTIONS tells: the media types, and the fields each write takes; a route of the
    requester's own settings (PUT without an object id, such as people/me/notifications/)
    tells no fields rather than look for an object it has no id of."""

    def determine_actions(self, request: Any, view: Any) -> dict[str, Any]:
        if getattr(view, "detail", None) is False and "PUT" in view.allowed_methods:
            return {}
        return dict(super().determine_actions(request, view))


class ContractSchema(AutoSchema):
    """drf-spectacular's schema, with the rules of text input stated as patterns."""

    def _map_serializer_field(
        self, field: Any, direction: str, bypass_extensions: bool = False
    ) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request" or not isinstance(schema, dict):
            return schema
        if (
            isinstance(field, serializers.CharField)
            and schema.get("type") == "string"
            and not {"format", "pattern", "enum", "$ref"} & set(schema)
            and not any(isinstance(v, RegexValidator) for v in field.validators)
        ):
            schema["pattern"] = text_pattern(field)
        if (
            isinstance(field, serializers.ListField | serializers.ManyRelatedField)
            and not field.allow_empty
            and schema.get("type") == "array"
        ):
            schema.setdefault("minItems", 1)
        return schema

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        """drf-spectacular offers a blank text as a second choice (oneOf) beside a pattern; a
        pattern that takes a blank already makes the two overlap, which oneOf forbids."""
        super()._insert_field_validators(field, schema)
        choices = schema.get("oneOf")
        if (
            isinstance(choices, list)
            and len(choices) == 2
            and choices[0].get("pattern") == NO_NUL
            and choices[1] == {"type": "string", "maxLength": 0}
        ):
            schema.update(schema.pop("oneOf")[0])


def components_used(result: dict[str, Any]) -> set[str]:
    """The components the operations refer to, directly or through other components."""
    schemas = result.get("components", {}).get("schemas", {})
    used: set[str] = set()
    pending: list[Any] = [result.get("paths", {})]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            reference = value.get("$ref")
            if isinstance(reference, str) and reference.startswith(SCHEMA_REFERENCE):
                name = reference.removeprefix(SCHEMA_REFERENCE)
                if name not in used:
                    used.add(name)
                    pending.append(schemas.get(name))
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return used


SCHEMA_REFERENCE = "#/components/schemas/"


YEAR = "(19[0-9]{2}|2[01][0-9]{2}|2200)"
YEAR_BOUND_FORMATS = {
    "date": f"^{YEAR}-[0-9]{{2}}-[0-9]{{2}}$",
    "date-time": f"^{YEAR}-[0-9]{{2}}-[0-9]{{2}}T",
}
"""Dates and times the API reads: years from 1900 to 2200, so that date arithmetic never
overflows (filters of dates included)."""


def enum_member_name(value: str) -> str:
    """A name for an enum's value that keeps the signs generators drop: GMT+0 and GMT-0
    become GMT_PLUS_0 and GMT_MINUS_0, not GMT0 twice."""
    spelled = value.replace("+", "_PLUS_").replace("-", "_MINUS_")
    return re.sub(r"[^0-9A-Za-z]+", "_", spelled).strip("_").upper()


def contract_postprocess(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The last touches of the schema, after drf-spectacular's own: no component that nothing
    uses (a read-only nested serializer leaves an unused request twin), the years a filter of
    dates accepts, the least id a filter takes, and enums of names
    with signs (time zones) name their members (x-enum-varnames) so that no two collide."""
    schemas = result.get("components", {}).get("schemas", {})
    used = components_used(result)
    for name in [name for name in schemas if name not in used]:
        del schemas[name]
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                rule = parameter.get("schema", {})
                if rule.get("format") in YEAR_BOUND_FORMATS and "pattern" not in rule:
                    rule["pattern"] = YEAR_BOUND_FORMATS[rule["format"]]
                if (
                    parameter.get("in") == "query"
                    and rule.get("type") == "integer"
                    and "minimum" not in rule
                ):
                    rule["minimum"] = 1  # ids and revision numbers count from 1
    for component in schemas.values():
        values = component.get("enum")
        if values and any(isinstance(v, str) and ("+" in v or "-" in v) for v in values):
            component["x-enum-varnames"] = [enum_member_name(str(v)) for v in values]
    return result
