"""Dates, times and time-zone names as the reader's language writes them (CLDR data, by Babel).

One place for every face and every email: pages and emails load these filters with
`{% load localized %}`, Python calls the functions. Numbers and dates inside markup, JSON, CSV
and `<time datetime>` attributes are never written this way.
"""

from __future__ import annotations

import unicodedata
import zoneinfo
from datetime import date, datetime, tzinfo
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.core import get_global
from babel.dates import (
    format_date,
    format_skeleton,
    format_time,
    get_datetime_format,
    get_timezone_location,
)
from django import forms, template
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

register = template.Library()

# English as the group writes it: day before month, 24-hour clock (CLDR's en_GB).
BABEL_LOCALES = {"en": "en_GB"}

UNIVERSAL_ZONES = {"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Universal", "Zulu"}

# Regions of the zone picker: the IANA areas each gathers, and its label.
ZONE_REGIONS: list[tuple[Any, tuple[str, ...]]] = [
    (gettext_lazy("Africa"), ("Africa",)),
    (gettext_lazy("Americas"), ("America",)),
    (gettext_lazy("Asia"), ("Asia",)),
    (gettext_lazy("Europe"), ("Europe",)),
    (gettext_lazy("Oceania"), ("Australia", "Pacific")),
    (
        gettext_lazy("Atlantic, Indian Ocean and polar regions"),
        ("Atlantic", "Indian", "Antarctica", "Arctic"),
    ),
]


def babel_locale(language: str | None = None) -> str:
    """The CLDR locale of a language code (the active language by default)."""
    code = (language or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return BABEL_LOCALES.get(code, code)


def _zone(zone: str | tzinfo | None) -> tzinfo:
    if zone is None:
        return timezone.get_current_timezone()
    if isinstance(zone, str):
        return zoneinfo.ZoneInfo(zone)
    return zone


def _local(value: datetime, zone: str | tzinfo | None) -> datetime:
    return timezone.localtime(value, _zone(zone)) if timezone.is_aware(value) else value


def date_text(value: date | datetime | str | None, zone: str | tzinfo | None = None) -> str:
    """ "8 Dec 2026", "8 déc. 2026", "8 dic 2026": a day (of a moment, in the zone; a day
    also as an ISO string, as an email's context keeps it)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, datetime):
        value = _local(value, zone).date()
    return format_date(value, "medium", locale=babel_locale())


def month_text(value: date) -> str:
    """ "December 2026", "décembre 2026", "diciembre de 2026": a month of a year."""
    return format_skeleton("yMMMM", value, locale=babel_locale())


def time_text(value: datetime, zone: str | tzinfo | None = None) -> str:
    """ "23:59": the moment's time of day in the zone (the reader's by default)."""
    return format_time(_local(value, zone), "short", locale=babel_locale())


def datetime_text(value: datetime | None, zone: str | tzinfo | None = None) -> str:
    """ "8 déc. 2026, 23:59": a moment in the zone (the reader's by default)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return date_text(value)
    local = _local(value, zone)
    locale = babel_locale()
    pattern = str(get_datetime_format("medium", locale=locale))
    return pattern.replace("{1}", format_date(local, "medium", locale=locale)).replace(
        "{0}", format_time(local, "short", locale=locale)
    )


def long_datetime_text(value: datetime, zone: str | tzinfo | None = None) -> str:
    """ "mardi 8 décembre 2026 à 23:59": a moment in full, for emails."""
    local = _local(value, zone)
    locale = babel_locale()
    pattern = str(get_datetime_format("full", locale=locale))
    return (
        pattern.replace("{1}", format_date(local, "full", locale=locale))
        .replace("{0}", format_time(local, "short", locale=locale))
        .replace("'", "")
    )


def zone_city(zone: str | tzinfo | None) -> str:
    """The zone's city in the reader's language ("Nueva York" for America/New_York); UTC as is."""
    name = str(getattr(zone, "key", zone) or "UTC")
    if name in UNIVERSAL_ZONES:
        return "UTC"
    try:
        return str(get_timezone_location(name, locale=babel_locale(), return_city=True))
    except (LookupError, ValueError):
        return name.rsplit("/", 1)[-1].replace("_", " ")


def country_name(code: str) -> str:
    """A country's name in the reader's language ("Maroc" for MA in French); "" if unknown."""
    return str(Locale.parse(babel_locale()).territories.get((code or "").upper(), ""))


def _unaccented(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def place_city(zone: str | tzinfo | None, location: str = "") -> str:
    """The zone's city in the reader's language, spelled as the place ("Belém, Brazil") spells
    it where both name the same city: "Belém" where CLDR's English writes "Belem", but
    "Nueva York" in Spanish for a place written "New York"."""
    city = zone_city(zone)
    place = location.split(",")[0].strip()
    if place and _unaccented(place).casefold() == _unaccented(city).casefold():
        return place
    return city


def zone_name(zone: str | tzinfo | None, location: str = "") -> str:
    """ "New York time", "hora de Nueva York", "UTC": a time zone as a person names it."""
    city = place_city(zone, location)
    if city == "UTC":
        return city
    return _("%(place)s time") % {"place": city}


@lru_cache(maxsize=8)
def _zone_choices(
    locale: str, language: str
) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """The regions' zones for a CLDR locale; `language` (the active one) keys the cache, since
    the regions' labels are translated."""
    territories = get_global("zone_territories")
    names = Locale.parse(locale).territories
    available = zoneinfo.available_timezones()
    groups: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    for label, areas in ZONE_REGIONS:
        options: list[tuple[str, str]] = []
        for zone in sorted(available):
            area = zone.split("/", 1)[0]
            if area not in areas or zone not in territories:
                continue
            city = str(get_timezone_location(zone, locale=locale, return_city=True))
            country = names.get(territories[zone], "")
            options.append((zone, f"{city} ({country})" if country and country != city else city))
        options.sort(key=lambda option: option[1].casefold())
        groups.append((str(label), tuple(options)))
    return tuple(groups)


def zone_choices(current: str = "") -> list[Any]:
    """The zones a person picks from, grouped by region, with their cities and countries in the
    reader's language (values stay IANA names); UTC first, and the current zone kept even where
    it is an old alias."""
    groups = _zone_choices(babel_locale(), translation.get_language() or "")
    choices: list[Any] = [("UTC", "UTC")]
    choices.extend((label, list(options)) for label, options in groups)
    known = {"UTC"} | {zone for _label, options in groups for zone, _name in options}
    if current and current not in known:
        choices.insert(1, (current, current.replace("_", " ")))
    return choices


HIGH_PUNCTUATION = ":;!?"


def punctuation(mark: str) -> str:
    """A mark among : ; ! ? as the reader's language sets it: French puts a narrow no-break
    space (U+202F) before it ("Retirer\u202f: …"); English and Spanish put none."""
    if mark in HIGH_PUNCTUATION and babel_locale().split("_")[0] == "fr":
        return "\u202f" + mark
    return mark


class ZoneSelect(forms.Select):
    """A time-zone <select> of zone_choices: grouped by region, cities and countries in the
    reader's language, values IANA names; the current zone is kept even where it is an old
    alias. Its form field stays the model's (any valid IANA name passes)."""

    def optgroups(self, name: str, value: list[Any], attrs: dict[str, Any] | None = None) -> Any:
        self.choices = zone_choices(str(value[0]) if value and value[0] else "")
        return super().optgroups(name, value, attrs)


register.simple_tag(punctuation, name="punct")
register.filter("date_text", date_text)
register.filter("month_text", month_text)
register.filter("datetime_text", datetime_text)
register.filter("zone_name", zone_name)
register.filter("zone_city", zone_city)
