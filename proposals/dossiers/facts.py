"""Everything a dossier says, as plain data: recorded in the submission's transaction
(`Submission.facts`), or computed from the live proposal for a preview. The renderer reads
nothing else, so a dossier rendered twice from the same facts is the same PDF."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from proposals.dossiers.canonical import canonical_part, fingerprint
from proposals.models import (
    Attachment,
    Endorsement,
    Membership,
    Organization,
    PresidencyTerm,
    Proposal,
    Revision,
    Role,
)

FACTS_VERSION = 1
NUMBER_PREFIX = "ILG"


def dossier_number(*, proposal_id: int, year: int) -> str:
    """The group's reference of a dossier: ILG-<year of submission>-<proposal id, 5 digits>
    (ILG-2026-00042). A proposal is submitted once, so the number is stable and unique."""
    return f"{NUMBER_PREFIX}-{year:04d}-{proposal_id:05d}"


def _organization(organization: Organization | None) -> dict[str, Any] | None:
    """An organisation as the renderer names it in the dossier's language: a State by its
    country (written in that language when rendered), any other by its name."""
    if organization is None:
        return None
    return {
        "name": organization.name,
        "short_name": organization.short_name,
        "kind": organization.kind,
        "country": organization.country,
    }


def _person_name(person: Any) -> str:
    if person is None:
        return ""
    return str(person.get_full_name() or person.get_username())


def _presidency(on: Any) -> dict[str, Any] | None:
    """The State chairing the group on that day, and the representative who signs for it (the
    first by name of its active representatives; none: the letter is signed by the presidency)."""
    term = (
        PresidencyTerm.objects.select_related("organization")
        .filter(starts_on__lte=on, ends_on__gte=on)
        .first()
    )
    if term is None:
        return None
    signatory = (
        Membership.objects.filter(
            organization_id=term.organization_id,
            role=Role.REPRESENTATIVE,
            person__is_active=True,
        )
        .select_related("person")
        .order_by("person__last_name", "person__first_name", "person_id")
        .first()
    )
    return {
        "organization": _organization(term.organization),
        "starts_on": term.starts_on.isoformat(),
        "ends_on": term.ends_on.isoformat(),
        "signatory": _person_name(signatory.person) if signatory else "",
    }


def _secretariat() -> dict[str, Any] | None:
    return _organization(Organization.objects.filter(is_secretariat=True).first())


def dossier_facts(
    proposal: Proposal,
    *,
    at: datetime,
    number: str,
    title: str,
    summary: str,
    text: str,
    revision: int,
    submitted_by: Any = None,
    reference: str = "",
) -> dict[str, Any]:
    """The facts of a dossier about `proposal` at the moment `at` (its submission, or now for a
    preview): title, summary and text as given (the submitted revision's), the rest read now."""
    occasion = proposal.occasion
    body = proposal.target_body
    zone = occasion.timezone if occasion else settings.TIME_ZONE
    local_day = timezone.localtime(at, occasion.zone if occasion else None).date()
    endorsements = (
        Endorsement.objects.filter(proposal=proposal, withdrawn_at__isnull=True)
        .select_related("organization", "endorsed_by")
        .order_by("created_at", "id")
    )
    attachments = Attachment.objects.filter(proposal=proposal, removed_at__isnull=True).order_by(
        "uploaded_at", "id"
    )
    return {
        "version": FACTS_VERSION,
        "language": proposal.language,
        "number": number,
        "proposal_id": proposal.pk,
        "revision": revision,
        "at": at.astimezone(UTC).isoformat(),
        "day": local_day.isoformat(),
        "zone": zone,
        "title": canonical_part(title),
        "summary": canonical_part(summary),
        "text": canonical_part(text),
        "fingerprint": fingerprint(title=title, summary=summary, text=text),
        "reference": reference,
        "submitted_by": _person_name(submitted_by),
        "body": (
            {"name": body.name, "level": body.level, "country": body.country} if body else None
        ),
        "occasion": (
            {
                "name": occasion.name,
                "kind": occasion.kind,
                "location": occasion.location,
                "timezone": occasion.timezone,
                "starts_on": occasion.starts_on.isoformat(),
                "ends_on": occasion.ends_on.isoformat(),
            }
            if occasion
            else None
        ),
        "lead_organization": _organization(proposal.lead_organization),
        "authors": sorted(_person_name(person) for person in proposal.authors.all()),
        "presidency": _presidency(local_day),
        "secretariat": _secretariat(),
        "endorsements": [
            {
                "organization": _organization(endorsement.organization),
                "representative": _person_name(endorsement.endorsed_by),
                "at": endorsement.created_at.astimezone(UTC).isoformat(),
                "day": timezone.localtime(
                    endorsement.created_at, occasion.zone if occasion else None
                )
                .date()
                .isoformat(),
            }
            for endorsement in endorsements
        ],
        "attachments": [
            {
                "title": attachment.title,
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "sha256": attachment.sha256,
            }
            for attachment in attachments
        ],
    }


def submission_facts(
    proposal: Proposal, *, at: datetime, revision: Revision, submitted_by: Any, reference: str
) -> dict[str, Any]:
    """The facts recorded with a submission: those of the submitted revision."""
    return dossier_facts(
        proposal,
        at=at,
        number=dossier_number(proposal_id=proposal.pk, year=at.astimezone(UTC).year),
        title=revision.title,
        summary=revision.summary,
        text=revision.text,
        revision=revision.number,
        submitted_by=submitted_by,
        reference=reference,
    )


def preview_facts(proposal: Proposal, *, now: datetime | None = None) -> dict[str, Any]:
    """The facts of a dossier if the proposal were submitted now, from its live text."""
    now = now or timezone.now()
    return dossier_facts(
        proposal,
        at=now,
        number=dossier_number(proposal_id=proposal.pk, year=now.astimezone(UTC).year),
        title=proposal.title,
        summary=proposal.summary,
        text=proposal.text,
        revision=proposal.revision,
    )
