"""The dossier of a submission: recorded in the submission's transaction, rendered after commit,
stored once, never regenerated.

The Submission row whose `number` is set and whose `dossier` is empty is the job: the submission
writes it in its transaction and, once that commits, gives its id to a worker
(`proposals.dossier_render`); the beat sweep (`proposals.dossiers_sweep`) gives the worker again
every submission whose dossier is still missing, so a lost message is found again. Rendering
reads only `Submission.facts`, never the proposal, and never takes the proposal's lock. A
failing render counts its attempts and keeps its last error on the row (and in the logs); the
submission itself never depends on it. Once stored, the dossier is frozen: a second render is
refused (DossierFrozen). Rendering is a system action: no audit row, its failures are on the row.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from proposals.dossiers.facts import preview_facts, submission_facts
from proposals.models import Proposal, Revision, Submission
from proposals.selectors import roles_of
from workflow.outbox import outbox_release

logger = logging.getLogger(__name__)

RENDER_TASK = "proposals.dossier_render"
MAX_ATTEMPTS = 10
"""Renders of one dossier (by the worker's retries and the sweep) before the sweep gives up; the
secretariat sees the last error on the proposal's page."""
SWEEP_GRACE = timedelta(minutes=1)
"""A submission younger than this is left to the worker its commit woke."""
PREVIEW_STATES = ("draft", "in_review", "endorsement")


class DossierFrozen(Exception):
    """The submission's dossier is stored already: it is never rendered again."""


class DossierRenderFailed(Exception):
    """Rendering or storing failed; the attempt and the error are on the submission row."""


def dossier_pdf(facts: dict[str, Any], *, draft: bool = False) -> bytes:
    """The dossier's PDF (proposals.dossiers.render). reportlab is imported on the first render,
    by the worker that renders: a web process that never renders does not hold it."""
    from proposals.dossiers.render import dossier_pdf as render

    return render(facts, draft=draft)


def dossier_waits_for(submission_id: int) -> str:
    """What the held "submitted" emails wait for (workflow.outbox.outbox_release)."""
    return f"dossier:{submission_id}"


def dossier_filename(submission: Submission) -> str:
    return f"{submission.number or 'dossier'}.pdf"


def submission_dossier_record(
    submission: Submission, *, proposal: Proposal, revision: Revision
) -> Submission:
    """In the submission's transaction: the facts of its dossier, its number, the fingerprint of
    the submitted revision; the render is handed to a worker once the transaction commits."""
    facts = submission_facts(
        proposal,
        at=submission.submitted_at,
        revision=revision,
        submitted_by=submission.submitted_by,
        reference=submission.reference,
    )
    submission.revision = revision
    submission.facts = facts
    submission.number = facts["number"]
    submission.fingerprint = facts["fingerprint"]
    submission.save(update_fields=["revision", "facts", "number", "fingerprint"])
    submission_id = submission.pk
    transaction.on_commit(lambda: dossier_render_dispatch([submission_id]))
    return submission


def dossier_render_dispatch(ids: Sequence[int]) -> bool:
    """Give the ids to the workers; False when the broker is unreachable (the sweep retries)."""
    try:
        for submission_id in ids:  # by name: the tasks module imports this one
            current_app.send_task(RENDER_TASK, args=[submission_id])
    except Exception as error:  # the broker is down: the rows wait for the sweep
        logger.warning("Broker unavailable (%s); %d dossiers wait for the sweep.", error, len(ids))
        return False
    return True


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def dossier_render(*, submission_id: int, now: datetime | None = None) -> Submission:
    """Render the submission's dossier from its facts, store it, record its SHA-256, size and
    time, and release the emails that wait for it (with the PDF attached). Refused with
    DossierFrozen if it is stored already; a failure raises DossierRenderFailed after
    recording the attempt and the error."""
    submission = Submission.objects.get(pk=submission_id)
    if submission.dossier:
        raise DossierFrozen(submission.number)
    if not submission.number:
        raise ValueError(f"Submission {submission_id} was made before dossiers: it has no facts.")
    Submission.objects.filter(pk=submission_id).update(dossier_attempts=F("dossier_attempts") + 1)
    try:
        pdf = dossier_pdf(submission.facts)
        digest = hashlib.sha256(pdf).hexdigest()
        with transaction.atomic():
            locked = Submission.objects.select_for_update().get(pk=submission_id)
            if locked.dossier:
                raise DossierFrozen(locked.number)
            locked.dossier.save(dossier_filename(locked), ContentFile(pdf), save=False)
            locked.dossier_sha256 = digest
            locked.dossier_size = len(pdf)
            locked.dossier_rendered_at = now or timezone.now()
            locked.dossier_error = ""
            locked.save(
                update_fields=[
                    "dossier",
                    "dossier_sha256",
                    "dossier_size",
                    "dossier_rendered_at",
                    "dossier_error",
                ]
            )
            outbox_release(
                waits_for=dossier_waits_for(submission_id),
                attachments=[
                    {
                        "storage_name": str(locked.dossier.name),
                        "filename": dossier_filename(locked),
                        "content_type": "application/pdf",
                    }
                ],
            )
    except DossierFrozen:
        raise
    except Exception as error:
        logger.exception("The dossier of submission %s could not be rendered", submission_id)
        Submission.objects.filter(pk=submission_id).update(dossier_error=_describe(error))
        raise DossierRenderFailed(_describe(error)) from error
    logger.info("Dossier %s stored (%d bytes, sha256 %s)", locked.number, len(pdf), digest)
    return locked


def dossiers_waiting(now: datetime | None = None) -> list[int]:
    """Submissions whose dossier is still missing, with attempts left, older than the grace."""
    now = now or timezone.now()
    return list(
        Submission.objects.filter(
            dossier="",
            dossier_attempts__lt=MAX_ATTEMPTS,
            submitted_at__lt=now - SWEEP_GRACE,
        )
        .exclude(number="")
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )


def dossiers_sweep(now: datetime | None = None) -> list[int]:
    """Give the workers again every dossier still missing; returns their submissions' ids."""
    ids = dossiers_waiting(now)
    if ids:
        dossier_render_dispatch(ids)
    return ids


def dossier_preview_allowed(proposal: Proposal, person: Any) -> bool:
    """The secretariat and the presidency preview a dossier before it is submitted (the
    secretariat submits it, the presidency signs its letter); superusers too."""
    roles = roles_of(person)
    allowed = roles.secretariat or roles.presidency or roles.is_superuser
    return allowed and proposal.state in PREVIEW_STATES


def dossier_preview_pdf(proposal: Proposal, *, now: datetime | None = None) -> bytes:
    """What the dossier would be if the proposal were submitted now, marked DRAFT on every
    page; never stored."""
    return dossier_pdf(preview_facts(proposal, now=now), draft=True)


def bundle_allowed(person: Any) -> bool:
    """The secretariat (and superusers) download an occasion's bundle of dossiers."""
    roles = roles_of(person)
    return roles.secretariat_or_superuser


def dossiers_render_missing() -> list[int]:
    """Render, in this process, every dossier still missing (the demo loader); returns the ids
    of the submissions whose dossier it stored. A failure stays recorded on its row."""
    done: list[int] = []
    waiting = Submission.objects.filter(dossier="").exclude(number="").order_by("pk")
    for submission_id in waiting.values_list("pk", flat=True):
        try:
            dossier_render(submission_id=submission_id)
        except (DossierFrozen, DossierRenderFailed):
            continue
        done.append(submission_id)
    return done
