"""The type of a file, read from its content (never from its name), among the types a proposal
may carry: PDF, PNG, JPEG, and the ZIP-based ODT, DOCX and XLSX. Pure Python: no libmagic.

Anything else is refused, an executable renamed `.pdf` and a ZIP file that is not one of those
documents included; so are the macro-enabled variants of the Office formats (their main part
declares another content type).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from typing import IO

HEAD_BYTES = 16
# The parts read inside a ZIP file are small; a larger one is not a document of ours.
ZIP_PART_MAX_BYTES = 1024 * 1024

ODF_TEXT = "application/vnd.oasis.opendocument.text"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OVERRIDE_ELEMENT = re.compile(r"<(?:\w+:)?Override\b([^>]*)>")
XML_ATTRIBUTE = re.compile(r"([\w:]+)\s*=\s*([\"'])(.*?)\2")


@dataclass(frozen=True)
class FileType:
    """A type of file that may be attached: its content type and the endings of its names."""

    name: str
    content_type: str
    extensions: tuple[str, ...]


PDF_TYPE = FileType("PDF", "application/pdf", (".pdf",))
PNG_TYPE = FileType("PNG", "image/png", (".png",))
JPEG_TYPE = FileType("JPEG", "image/jpeg", (".jpg", ".jpeg"))
ODT_TYPE = FileType("ODT", ODF_TEXT, (".odt",))
DOCX_TYPE = FileType("DOCX", DOCX, (".docx",))
XLSX_TYPE = FileType("XLSX", XLSX, (".xlsx",))

ACCEPTED_TYPES = (PDF_TYPE, ODT_TYPE, DOCX_TYPE, XLSX_TYPE, PNG_TYPE, JPEG_TYPE)
ACCEPTED_EXTENSIONS = tuple(ext for file_type in ACCEPTED_TYPES for ext in file_type.extensions)

# The main part each OOXML document declares in [Content_Types].xml.
OOXML_MAIN_PARTS = {
    "/word/document.xml": (
        DOCX_TYPE,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    ),
    "/xl/workbook.xml": (
        XLSX_TYPE,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    ),
}


def file_type_of(stream: IO[bytes]) -> FileType | None:
    """The accepted type whose content the stream holds, or None; reads from the start and
    leaves the stream at the start."""
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    try:
        if head.startswith(b"%PDF-"):
            return PDF_TYPE
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return PNG_TYPE
        if head.startswith(b"\xff\xd8\xff"):
            return JPEG_TYPE
        if head.startswith(b"PK\x03\x04"):
            return _zip_document_type(stream)
        return None
    finally:
        stream.seek(0)


def _part(archive: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > ZIP_PART_MAX_BYTES:
        return None
    with archive.open(info) as part:
        return part.read(ZIP_PART_MAX_BYTES + 1)[:ZIP_PART_MAX_BYTES]


def _zip_document_type(stream: IO[bytes]) -> FileType | None:
    """ODT (its `mimetype` entry) or DOCX/XLSX (the main part its [Content_Types].xml declares,
    present in the archive); any other ZIP file is None."""
    try:
        with zipfile.ZipFile(stream) as archive:
            mimetype = _part(archive, "mimetype")
            if mimetype is not None:
                return ODT_TYPE if mimetype.strip() == ODF_TEXT.encode() else None
            content_types = _part(archive, "[Content_Types].xml")
            if content_types is None:
                return None
            names = set(archive.namelist())
            for part_name, content_type in _ooxml_overrides(content_types).items():
                main = OOXML_MAIN_PARTS.get(part_name)
                if main and main[1] == content_type and part_name.lstrip("/") in names:
                    return main[0]
            return None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError):
        return None


def _ooxml_overrides(content_types: bytes) -> dict[str, str]:
    """The part names and content types that [Content_Types].xml overrides (read by pattern:
    no XML parser meets the file, nor its entities)."""
    overrides = {}
    for element in OVERRIDE_ELEMENT.findall(content_types.decode("utf-8", "replace")):
        attributes = {name: value for name, _quote, value in XML_ATTRIBUTE.findall(element)}
        overrides[attributes.get("PartName", "")] = attributes.get("ContentType", "")
    return overrides
