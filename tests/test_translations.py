"""The French and Spanish catalogues: complete, faithful to their placeholders, and compiled."""

from __future__ import annotations

import ast
import gettext
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from proposals import rules
from proposals.models import Person
from tests.factories import Group
from tests.proposals.web.helpers import signed_in

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
LANGUAGES = ("fr", "es")
CONTEXT_SEPARATOR = "\x04"
PLACEHOLDER = re.compile(
    r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"
    r"|%[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"
    r"|\{\w*\}"
    r"|</?[a-zA-Z][^>]*>"
)


@dataclass
class Entry:
    """One message of a .po file."""

    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None


def po_entries(path: Path) -> list[Entry]:
    """The live (non-obsolete) entries of a .po file, header included."""
    entries: list[Entry] = []
    flags: set[str] = set()
    keyword = ""
    index = 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#,"):
            flags = {flag.strip() for flag in line[2:].split(",")}
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith('"'):
            text = ast.literal_eval(line)
        else:
            word, _, rest = line.partition(" ")
            text = ast.literal_eval(rest)
            if word == "msgctxt" or (word == "msgid" and keyword != "msgctxt"):
                entries.append(Entry(flags=flags, line=number))
                flags = set()
            plural_form = re.fullmatch(r"msgstr\[(\d+)\]", word)
            keyword, index = ("msgstr", int(plural_form.group(1))) if plural_form else (word, 0)
            assert keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr"), f"{path}:{number}"
            if keyword == "msgstr":
                entries[-1].msgstr[index] = ""
        entry = entries[-1]
        if keyword == "msgstr":
            entry.msgstr[index] += text
        else:
            setattr(entry, keyword, (getattr(entry, keyword) or "") + text)
    return entries


def catalogue(language: str) -> list[Entry]:
    return po_entries(LOCALE_DIR / language / "LC_MESSAGES" / "django.po")


def placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text.replace("%%", "")))


def label(entry: Entry) -> str:
    return f"line {entry.line}: {entry.msgid[:60]!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(language: str) -> None:
    entries = catalogue(language)
    messages = [e for e in entries if not e.is_header]
    assert len(messages) > 500
    untranslated = [label(e) for e in messages if not e.msgstr or not all(e.msgstr.values())]
    fuzzy = [label(e) for e in entries if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders_and_tags_of_the_english(language: str) -> None:
    mismatches = []
    for entry in catalogue(language):
        if entry.is_header:
            continue
        for index, text in entry.msgstr.items():
            source = entry.msgid if index == 0 or entry.msgid_plural is None else entry.msgid_plural
            if placeholders(text) != placeholders(source):
                mismatches.append(f"{label(entry)} [{index}] {text!r}")
    assert mismatches == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_messages_have_every_form_the_language_needs(language: str) -> None:
    header = next(e for e in catalogue(language) if e.is_header).msgstr[0]
    nplurals = int(re.search(r"nplurals=(\d+)", header).group(1))  # type: ignore[union-attr]
    plurals = [e for e in catalogue(language) if e.msgid_plural is not None]
    assert plurals
    assert [label(e) for e in plurals if sorted(e.msgstr) != list(range(nplurals))] == []


CODE = re.compile(r"`[^`]*`|Authorization: \w+|\d\d:\d\d|https?://\S*|\{[^}]*\}|<[^>]*>|\w+:\d+")


def test_french_typography_narrow_no_break_space_before_double_marks_and_inside_guillemets() -> (
    None
):
    """French writes U+202F before : ; ! ? and U+00A0 inside « » (code, times and URLs aside)."""
    wrong = []
    for entry in catalogue("fr"):
        if entry.is_header:
            continue
        for text in entry.msgstr.values():
            prose = CODE.sub("", text)
            if re.search(r"(?<!\u202f)[:;!?](?=\s|$)", prose) or re.search(
                r"«(?!\u00a0)|(?<!\u00a0)»", prose
            ):
                wrong.append(f"{label(entry)} {text!r}")
    assert wrong == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_holds_exactly_the_messages_of_the_po_file(language: str) -> None:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "django.mo").open("rb") as compiled:
        messages = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    expected: dict[object, str] = {}
    for entry in catalogue(language):
        if entry.is_header or "fuzzy" in entry.flags:
            continue
        key = (
            entry.msgid
            if entry.msgctxt is None
            else entry.msgctxt + CONTEXT_SEPARATOR + entry.msgid
        )
        if entry.msgid_plural is None:
            expected[key] = entry.msgstr[0]
        else:
            expected.update({(key, index): text for index, text in entry.msgstr.items()})
    compiled_messages = {key: text for key, text in messages.items() if key != ""}
    assert compiled_messages == expected, "run `make messages` to recompile the catalogues"


def test_a_refusal_reason_is_given_in_french(group: Group) -> None:
    with translation.override("fr"):
        reasons = rules.representative(None, group.observer)
    assert reasons == ["Les observateurs ne peuvent pas apporter leur soutien."]


def test_a_refusal_reason_is_given_in_spanish(group: Group) -> None:
    with translation.override("es"):
        reasons = rules.representative(None, group.observer)
    assert reasons == ["Los observadores no pueden respaldar propuestas."]


def test_the_dashboard_speaks_the_persons_language(group: Group) -> None:
    Person.objects.filter(pk=group.drafter.pk).update(language="fr")
    response = signed_in(Person.objects.get(pk=group.drafter.pk)).get(reverse("proposals:home"))
    page = response.content.decode()
    assert "<h1>Tableau de bord</h1>" in re.sub(r"<h1[^>]*>", "<h1>", page)
    assert ">Propositions</a>" in page
