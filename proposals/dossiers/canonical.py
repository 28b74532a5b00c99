"""The fingerprint of a submitted revision: SHA-256 over a canonical form anyone can rebuild.

The canonical form (docs/dossier.md gives a five-line recipe):
each of title, summary and text has its line endings made LF (CR LF and lone CR become LF),
then is normalised to Unicode NFC; the three are joined in that order by one U+001E (RECORD
SEPARATOR), nothing before or after, and encoded as UTF-8. Nothing else is changed: no
trimming, no Markdown rendering. The fingerprint is the lowercase hex SHA-256 of those bytes.
"""

from __future__ import annotations

import hashlib
import unicodedata

SEPARATOR = "\x1e"


def canonical_part(value: str) -> str:
    """One field as the canonical form holds it: LF line endings, Unicode NFC."""
    return unicodedata.normalize("NFC", (value or "").replace("\r\n", "\n").replace("\r", "\n"))


def canonical_form(*, title: str, summary: str, text: str) -> bytes:
    """The bytes the fingerprint is computed over."""
    return SEPARATOR.join(canonical_part(part) for part in (title, summary, text)).encode("utf-8")


def fingerprint(*, title: str, summary: str, text: str) -> str:
    """SHA-256, lowercase hex, of the canonical form of title, summary and text."""
    return hashlib.sha256(canonical_form(title=title, summary=summary, text=text)).hexdigest()
