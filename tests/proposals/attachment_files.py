"""Small real files of every type an attachment may be, and of types it may not, for tests."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

# The EICAR test file: every antivirus reports it, and it does nothing.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            compression = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, content, compress_type=compression)
    return buffer.getvalue()


def odt() -> bytes:
    return _zip(
        {
            "mimetype": b"application/vnd.oasis.opendocument.text",
            "content.xml": b"<office:document-content/>",
            "META-INF/manifest.xml": b"<manifest:manifest/>",
        }
    )


def ods() -> bytes:
    """A spreadsheet of OpenDocument: a ZIP with a mimetype, but not a text."""
    return _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"})


def _content_types(part: str, main: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="{part}" ContentType="{main}"/></Types>'
    ).encode()


def docx(main: str = "wordprocessingml.document.main+xml") -> bytes:
    return _zip(
        {
            "[Content_Types].xml": _content_types(
                "/word/document.xml", f"application/vnd.openxmlformats-officedocument.{main}"
            ),
            "word/document.xml": b"<w:document/>",
        }
    )


def docm() -> bytes:
    """A Word document with macros: its main part declares the macro-enabled type."""
    return _zip(
        {
            "[Content_Types].xml": _content_types(
                "/word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"
            ),
            "word/document.xml": b"<w:document/>",
        }
    )


def xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["Budget", 1200])  # type: ignore[union-attr]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def plain_zip() -> bytes:
    return _zip({"readme.txt": b"Not a document."})


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> Any:
    return SimpleUploadedFile(name, content, content_type=content_type)


def attachment_on(
    proposal: Any, person: Any, *, title: str = "Annex", removed: bool = False
) -> Any:
    """An attachment (a PDF) stored on a proposal in any state, as a scene for tests of reads."""
    import hashlib

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from proposals.models import Attachment

    attachment = Attachment(
        proposal=proposal,
        title=title,
        filename="annex.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(),
        uploaded_by=person,
        removed_at=timezone.now() if removed else None,
        removed_by=person if removed else None,
    )
    attachment.file.save("annex.pdf", ContentFile(PDF), save=True)
    return attachment
