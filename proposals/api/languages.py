"""The language of an API answer: an explicit Accept-Language wins over the person's saved
language (a script asks for what it can read; browsers, which always send the header, use the
pages, where the saved language wins)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header


def language_asked(request: HttpRequest) -> str | None:
    """The first supported language the Accept-Language header names, if it names one."""
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for language, _quality in parse_accept_lang_header(header):
        if language == "*":
            continue
        try:
            return translation.get_supported_language_variant(language)
        except LookupError:
            continue
    return None


def language_asked_activate(request: HttpRequest) -> None:
    """Speak the language the request asks for, when it asks for one this site speaks."""
    asked = language_asked(request)
    if asked:
        translation.activate(asked)
        request.LANGUAGE_CODE = asked
