"""Files attached to proposals: adding and removing them (the services), and reading them.

Who: the authors of the proposal and the secretariat. When: while the proposal is open (draft,
in review, open for endorsement); a submitted, closed or withdrawn proposal's files are frozen
with it. What: PDF, ODT, DOCX, XLSX, PNG or JPEG by their content (proposals.filetypes), not
empty, at most `ATTACHMENT_MAX_BYTES`, and free of malware when ClamAV is configured
(proposals.malware). The proposal's followers who may see it are told of a new file
(`proposal.attached`, through the outbox). A removed file keeps its record and its stored file:
its download is the secretariat's only. Files are stored through Django's storage API under a
random name; they are read only through the views that check who may see the proposal.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime
from typing import IO, Any

from babel.units import format_unit
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from proposals import rules
from proposals.audited import audited
from proposals.filetypes import ACCEPTED_TYPES, FileType, file_type_of
from proposals.following import follower_notices
from proposals.localized import babel_locale, datetime_text
from proposals.malware import ScannerUnavailable, scanner_configured, stream_scan
from proposals.models import (
    ATTACHMENT_TITLE_MAX_LENGTH,
    OPEN_STATES,
    Attachment,
    Person,
    Proposal,
    Revision,
)
from proposals.selectors import proposals_visible_to, roles_of
from workflow.errors import Reason, RefusalKind, Refused
from workflow.services import action_log, deliveries_enqueue

logger = logging.getLogger(__name__)

ADDED = "attachment_added"
REMOVED = "attachment_removed"
FILENAME_MAX_LENGTH = 255
HASH_CHUNK_BYTES = 1024 * 1024
UNSAFE_FILENAME_CHARACTERS = re.compile(r"[\x00-\x1f\x7f/\\]")


def file_size_text(size: int) -> str:
    """A size as the reader's language writes it: "1.5 MB", "1,5 Mo" (units of 1024 bytes,
    as file managers count them, so the 20 MB limit reads 20 MB)."""
    locale = babel_locale()
    for unit, factor in (("digital-megabyte", 1024**2), ("digital-kilobyte", 1024)):
        if size >= factor:
            return format_unit(size / factor, unit, length="short", locale=locale, format="#,##0.#")
    return format_unit(size, "digital-byte", length="short", locale=locale)


def accepted_types_text() -> str:
    return ", ".join(file_type.name for file_type in ACCEPTED_TYPES)


def attachment_max_bytes() -> int:
    return int(settings.ATTACHMENT_MAX_BYTES)


def upload_body_max_bytes() -> int:
    """The most bytes a request that carries one file may hold: the file and the rest of the
    form (the title, the revision, the multipart framing)."""
    return attachment_max_bytes() + int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


# Who may, and when.


_AUTHORS_OR_SECRETARIAT = rules.must_be_author_or_secretariat(
    gettext_lazy(
        "Only the authors of this proposal and the secretariat can add or remove its files."
    )
)


def attachment_permission_reasons(proposal: Proposal, person: Any) -> list[Reason]:
    """The authors and the secretariat (and superusers) add and remove files; nobody else
    ever does."""
    if roles_of(person).is_superuser:
        return []
    return _AUTHORS_OR_SECRETARIAT(proposal, person)


def attachment_state_reasons(proposal: Proposal) -> list[Reason]:
    """Files change only while the proposal is open; they are frozen with it afterwards."""
    if proposal.state in OPEN_STATES:
        return []
    return [
        Reason(
            "state",
            _(
                "This proposal is %(state)s: its files are kept as they are, none can be added or removed."
            )
            % {"state": proposal.get_state_display().lower()},
        )
    ]


def _refuse_if_not_allowed(proposal: Proposal, person: Any) -> None:
    reasons = attachment_permission_reasons(proposal, person)
    if reasons:
        raise Refused(RefusalKind.PERMISSION, reasons)
    reasons = attachment_state_reasons(proposal)
    if reasons:
        raise Refused(RefusalKind.STATE, reasons)


# The input.


def _invalid(field: str, reason: Reason) -> Refused:
    return Refused(RefusalKind.INVALID, [reason], {field: [str(reason)]})


def _clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise _invalid("title", Reason("required", _("Give the file a title.")))
    if len(title) > ATTACHMENT_TITLE_MAX_LENGTH:
        raise _invalid(
            "title",
            Reason(
                "max_length",
                _("The title has %(count)s characters; shorten it to %(limit)s at most.")
                % {"count": len(title), "limit": ATTACHMENT_TITLE_MAX_LENGTH},
            ),
        )
    return title


def _clean_filename(name: str) -> str:
    """The name a person gave, without folders or control characters, at most 255 characters
    (the ending kept)."""
    name = UNSAFE_FILENAME_CHARACTERS.sub("", (name or "").rsplit("/", 1)[-1]).strip(" .")
    if len(name) > FILENAME_MAX_LENGTH:
        stem, dot, ending = name.rpartition(".")
        if dot and len(ending) < 16:
            name = stem[: FILENAME_MAX_LENGTH - len(ending) - 1] + "." + ending
        else:
            name = name[:FILENAME_MAX_LENGTH]
    return name


def _size_check(size: int) -> None:
    if size == 0:
        raise _invalid(
            "file",
            Reason("file_empty", _("The file is empty: choose the file that holds the document.")),
        )
    limit = attachment_max_bytes()
    if size > limit:
        raise _invalid(
            "file",
            Reason(
                "file_too_large",
                _("The file is %(size)s; a file may be %(limit)s at most. Send a smaller file.")
                % {"size": file_size_text(size), "limit": file_size_text(limit)},
            ),
        )


def _type_check(stream: IO[bytes], filename: str) -> FileType:
    file_type = file_type_of(stream)
    if file_type is None:
        raise _invalid(
            "file",
            Reason(
                "file_type",
                _(
                    "“%(name)s” is not a file of a type a proposal takes (%(types)s), whatever "
                    "its name says. Send the document in one of those formats."
                )
                % {"name": filename, "types": accepted_types_text()},
            ),
        )
    if not filename.lower().endswith(file_type.extensions):
        raise _invalid(
            "file",
            Reason(
                "file_name_mismatch",
                _(
                    "“%(name)s” holds a %(type)s document, which its name does not say: rename "
                    "it to end in %(ending)s, or choose the right file."
                )
                % {"name": filename, "type": file_type.name, "ending": file_type.extensions[0]},
            ),
        )
    return file_type


def _malware_check(stream: IO[bytes], filename: str) -> None:
    if not scanner_configured():
        return
    try:
        verdict = stream_scan(stream)
    except ScannerUnavailable:
        logger.exception("The malware scanner gave no verdict on an attachment.")
        raise Refused(
            RefusalKind.CONDITION,
            [
                Reason(
                    "scanner_unavailable",
                    _(
                        "The file could not be checked for malware just now, so it was not "
                        "added. Try again in a few minutes."
                    ),
                )
            ],
        ) from None
    if verdict.infected:
        logger.warning("Malware refused in an attachment: %s", verdict.signature)
        raise _invalid(
            "file",
            Reason(
                "malware",
                _(
                    "“%(name)s” holds malware (%(signature)s), so it was not added. Check the "
                    "file with your organisation's IT support."
                )
                % {"name": filename, "signature": verdict.signature},
            ),
        )


def _revision_check(proposal: Proposal, revision: Revision | None) -> None:
    if revision is not None and revision.proposal_id != proposal.pk:
        raise _invalid(
            "revision",
            Reason(
                "revision_unknown",
                _("That revision belongs to another proposal: choose one of this proposal's."),
            ),
        )


def _sha256_of(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    while chunk := stream.read(HASH_CHUNK_BYTES):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


# The services.


def _locked(proposal: Proposal) -> Proposal:
    return Proposal.objects.select_for_update(of=("self",)).get(pk=proposal.pk)


@audited(ADDED, log="transition")
def attachment_add(
    *,
    proposal: Proposal,
    person: Person,
    title: str,
    upload: UploadedFile,
    revision: Revision | None = None,
    now: datetime | None = None,
) -> Attachment:
    """Attach a checked file to an open proposal, with its title and, if given, the revision
    of this proposal it belongs to; its type, size and SHA-256 are recorded, and the
    proposal's history shows it. Nothing is stored when anything is refused."""
    _refuse_if_not_allowed(proposal, person)
    title = _clean_title(title)
    filename = _clean_filename(upload.name or "")
    size = int(upload.size or 0)
    _size_check(size)
    stream: IO[bytes] = upload.file  # type: ignore[assignment]
    file_type = _type_check(stream, filename or "?")
    _revision_check(proposal, revision)
    _malware_check(stream, filename)
    attachment = Attachment(
        proposal=proposal,
        title=title,
        filename=filename,
        content_type=file_type.content_type,
        size=size,
        sha256=_sha256_of(stream),
        revision=revision,
        uploaded_by=person,
        uploaded_at=now or timezone.now(),
    )
    attachment.file.save(filename, upload, save=False)
    try:
        with transaction.atomic():
            locked = _locked(proposal)
            _refuse_if_not_allowed(locked, person)  # it may have moved on meanwhile
            attachment.save()
            action_log(
                obj=locked,
                action=ADDED,
                actor=person,
                data=_log_data(attachment),
                now=attachment.uploaded_at,
            )
            _followers_tell(locked, attachment, person)
    except BaseException:
        attachment.file.delete(save=False)  # no file without its record
        raise
    return attachment


@audited(REMOVED, log="transition")
def attachment_remove(
    *, attachment: Attachment, person: Person, now: datetime | None = None
) -> Attachment:
    """Remove a file from an open proposal: it leaves the list of files members can download,
    and keeps its record (who removed it, when) and its stored file for the secretariat."""
    with transaction.atomic():
        locked = _locked(attachment.proposal)
        _refuse_if_not_allowed(locked, person)
        current = Attachment.objects.select_for_update().get(pk=attachment.pk)
        if current.removed_at is not None:
            raise Refused(
                RefusalKind.CONFLICT,
                [
                    Reason(
                        "already_removed",
                        _("This file was already removed on %(when)s.")
                        % {"when": datetime_text(current.removed_at)},
                    )
                ],
            )
        current.removed_at = now or timezone.now()
        current.removed_by = person
        current.save(update_fields=["removed_at", "removed_by"])
        action_log(
            obj=locked,
            action=REMOVED,
            actor=person,
            data=_log_data(current),
            now=current.removed_at,
        )
    return current


def _followers_tell(proposal: Proposal, attachment: Attachment, person: Person) -> None:
    """The proposal's followers who may see it (not the one who attached it) learn of the
    file, with a link to it in the proposal's files (`proposal.attached`)."""
    notices = follower_notices(
        proposal,
        "attached",
        person,
        file_title=attachment.title,
        filename=attachment.filename,
        path=reverse("proposals:proposal_detail", args=[proposal.pk])
        + f"#attachment-{attachment.pk}",
    )
    deliveries_enqueue(
        notices, key_prefix=f"attached{attachment.pk}", about=proposal, now=attachment.uploaded_at
    )


def _log_data(attachment: Attachment) -> dict[str, Any]:
    return {
        "attachment": attachment.pk,
        "title": attachment.title,
        "filename": attachment.filename,
        "sha256": attachment.sha256,
    }


# Reads.


def attachments_of(proposal: Proposal) -> QuerySet[Attachment]:
    """The proposal's files, removed ones included (their record stays), oldest first."""
    return Attachment.objects.filter(proposal=proposal).select_related(
        "uploaded_by", "removed_by", "revision"
    )


def attachment_downloadable(attachment: Attachment, person: Any) -> bool:
    """A file is downloaded by whoever sees its proposal (checked by the caller) until it is
    removed; a removed file by the secretariat only."""
    if attachment.removed_at is None:
        return True
    roles = roles_of(person)
    return roles.secretariat_or_superuser


def attachment_visible_to(person: Any, proposal_id: int, pk: int) -> Attachment | None:
    """The file of a proposal the person sees, or None (the faces answer 404 alike for a
    proposal they may not see and a file that is not there)."""
    proposal = proposals_visible_to(person).filter(pk=proposal_id).first()
    if proposal is None:
        return None
    return attachments_of(proposal).filter(pk=pk).first()


def attachment_removed_reason(attachment: Attachment) -> str:
    return _("This file was removed on %(when)s: only the secretariat can still download it.") % {
        "when": datetime_text(attachment.removed_at)
    }


def attachment_file_response(
    attachment: Attachment, content_type: str | None = None
) -> FileResponse:
    """The stored file as a download: its original name (RFC 5987 encoded when it is not
    ASCII), its recorded type (or `content_type`, as the client asked), never sniffed, never
    cached by a shared cache."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=content_type or attachment.content_type,
    )
    response["Content-Length"] = str(attachment.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
