"""A person's personal data: everything the system holds about them (the export), a request
for erasure, and the erasure itself (docs/personal-data.md says what is kept and why).

The erasure names the person by a pseudonym: their username becomes `former-member-<id>`
(shown as "Former member <id>" in the reader's language), their names and email address are
emptied, and wherever a text or a JSON value of any table quotes their email address, full
name or username, the pseudonym takes its place. The transition log and the audit trail are
redacted through workflow.integrity, so they still verify.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.models import Device

from proposals import rules
from proposals.audited import audited
from proposals.calendar_generation import calendar_generation_bump
from proposals.localized import datetime_text
from proposals.models import (
    ApiToken,
    Attachment,
    Comment,
    CommentEdit,
    Endorsement,
    Follow,
    Invitation,
    Membership,
    Mention,
    Person,
    Review,
    Revision,
    Submission,
    new_calendar_token,
)
from proposals.search import search_document_refresh
from proposals.selectors import secretariat_ids
from workflow.audit import audit_record
from workflow.errors import RefusalKind, Refused
from workflow.integrity import log_row_redact
from workflow.models import (
    AuditEvent,
    Delivery,
    DigestedLogModel,
    LogName,
    NotificationPreference,
    TransitionLog,
)
from workflow.policy import Notice
from workflow.services import deliveries_enqueue

ARCHIVE_VERSION = 1
PSEUDONYM_PREFIX = "former-member-"
# Keys of JSON values (audit rows, outbox contexts) that hold a person's identity as a whole.
IDENTITY_KEYS = {"first_name", "last_name", "email", "username", "representative_username"}
# Tables the erasure treats by their own rules rather than by replacing quoted text.
OWN_RULES = {
    "proposals.person",
    "workflow.transitionlog",
    "workflow.auditevent",
    "workflow.logredaction",
    "workflow.logseal",
    "sessions.session",
    "contenttypes.contenttype",
    "auth.permission",
}
ERASURE_REQUESTED = "person.erasure_requested"
ERASURE_REQUESTED_TEMPLATE = "proposals/email/erasure_requested"


def pseudonym_of(person: Any) -> str:
    """The language-neutral name an erased person keeps in stored texts."""
    return f"{PSEUDONYM_PREFIX}{person.pk}"


# The export


def _rows(queryset: models.QuerySet[Any], *fields: str) -> list[dict[str, Any]]:
    return list(queryset.values(*fields))


def _sections(person: Person) -> dict[str, Callable[[], Any]]:
    """Each section of the archive, read by one query (two for comments with their edits)."""
    audit = AuditEvent.objects.order_by("at", "id")
    return {
        "profile": lambda: (
            Person.objects.filter(pk=person.pk)
            .values(
                "id",
                "username",
                "first_name",
                "last_name",
                "email",
                "language",
                "timezone",
                "daily_digest",
                "optional_notifications",
                "is_active",
                "date_joined",
                "last_login",
                "welcomed_at",
                "last_visit_at",
                "left_on",
            )
            .get()
        ),
        "memberships": lambda: _rows(
            Membership.objects.filter(person=person).order_by("organization__name", "role"),
            "organization_id",
            "organization__name",
            "role",
        ),
        "proposals_authored": lambda: _rows(
            person.authored_proposals.order_by("created_at", "id"),
            "id",
            "title",
            "state",
            "lead_organization__name",
            "created_at",
        ),
        "revisions": lambda: _rows(
            Revision.objects.filter(author=person).order_by("created_at", "id"),
            "proposal_id",
            "number",
            "title",
            "summary",
            "text",
            "created_at",
        ),
        "comments": lambda: [
            {
                "id": comment.pk,
                "proposal_id": comment.proposal_id,
                "reply_to": comment.parent_id,
                "body": comment.body,
                "created_at": comment.created_at,
                "edited_at": comment.edited_at,
                "deleted_at": comment.deleted_at,
                "hidden_at": comment.hidden_at,
                "earlier_texts": [
                    {"body": edit.body, "replaced_at": edit.replaced_at}
                    for edit in comment.edits.all()
                ],
            }
            for comment in Comment.objects.filter(author=person)
            .order_by("created_at", "id")
            .prefetch_related("edits")
        ],
        "mentions": lambda: _rows(
            Mention.objects.filter(person=person).order_by("comment_id"),
            "comment_id",
            "comment__proposal_id",
        ),
        "reviews": lambda: _rows(
            Review.objects.filter(reviewer=person).order_by("created_at", "id"),
            "proposal_id",
            "revision__number",
            "decision",
            "comment",
            "created_at",
        ),
        "endorsements": lambda: _rows(
            Endorsement.objects.filter(Q(endorsed_by=person) | Q(withdrawn_by=person)).order_by(
                "created_at", "id"
            ),
            "proposal_id",
            "organization__name",
            "endorsed_by_id",
            "created_at",
            "withdrawn_at",
            "withdrawn_by_id",
        ),
        "submissions": lambda: _rows(
            Submission.objects.filter(submitted_by=person).order_by("submitted_at"),
            "proposal_id",
            "body__name",
            "submitted_at",
            "reference",
        ),
        "attachments": lambda: _rows(
            Attachment.objects.filter(uploaded_by=person).order_by("uploaded_at", "id"),
            "id",
            "proposal_id",
            "title",
            "filename",
            "content_type",
            "size",
            "sha256",
            "uploaded_at",
            "removed_at",
        ),
        "follows": lambda: _rows(
            Follow.objects.filter(person=person).order_by("created_at", "id"),
            "proposal_id",
            "occasion_id",
            "active",
            "automatic",
            "created_at",
        ),
        "notifications": lambda: _rows(
            Delivery.objects.filter(recipient=person).order_by("created_at", "id"),
            "channel",
            "kind",
            "event",
            "template",
            "context",
            "address",
            "status",
            "created_at",
            "sent_at",
            "read_at",
        ),
        "notification_preferences": lambda: _rows(
            NotificationPreference.objects.filter(person=person).order_by("event", "channel"),
            "event",
            "channel",
            "enabled",
        ),
        "security_events": lambda: _rows(
            audit.filter(subject=person, security=True),
            "at",
            "action",
            "actor_id",
            "before",
            "after",
            "ip_address",
        ),
        "audit_events": lambda: _rows(
            audit.filter(Q(subject=person) | Q(actor=person), security=False),
            "at",
            "action",
            "actor_id",
            "subject_id",
            "object_type",
            "object_id",
            "object_repr",
            "before",
            "after",
        ),
        "transitions": lambda: _rows(
            TransitionLog.objects.filter(actor=person).order_by("at", "id"),
            "at",
            "transition",
            "source",
            "target",
            "object_id",
            "comment",
        ),
        "api_tokens": lambda: _rows(
            ApiToken.objects.filter(person=person).order_by("created_at", "id"),
            "name",
            "kind",
            "prefix",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
        ),
        "two_factor_devices": lambda: [
            {"kind": model._meta.model_name, "name": name, "confirmed": confirmed}
            for model in _device_models()
            for name, confirmed in model.objects.filter(user=person).values_list(
                "name", "confirmed"
            )
        ],
        "invitations": lambda: _rows(
            Invitation.objects.filter(_invitations_of(person)).order_by("created_at", "id"),
            "email",
            "first_name",
            "last_name",
            "organization__name",
            "roles",
            "created_at",
            "accepted_at",
            "revoked_at",
        ),
    }


def _device_models() -> list[type[Device]]:
    return [
        model
        for model in apps.get_models()
        if issubclass(model, Device) and not model._meta.abstract
    ]


def _invitations_of(person: Person) -> Q:
    where = Q(person=person)
    if person.email:
        where |= Q(email__iexact=person.email)
    return where


SECTIONS = tuple(_sections(Person()))
SECTION_LABELS: dict[str, Any] = {
    "profile": gettext_lazy("Your profile"),
    "memberships": gettext_lazy("Your roles in organisations"),
    "proposals_authored": gettext_lazy("Proposals you are an author of"),
    "revisions": gettext_lazy("Revisions you wrote"),
    "comments": gettext_lazy("Your comments and their earlier texts"),
    "mentions": gettext_lazy("Comments that mention you"),
    "reviews": gettext_lazy("Your reviews"),
    "endorsements": gettext_lazy("Endorsements you signed or withdrew"),
    "submissions": gettext_lazy("Proposals you submitted"),
    "attachments": gettext_lazy("Files you attached (their descriptions)"),
    "follows": gettext_lazy("What you follow"),
    "notifications": gettext_lazy("Notifications to you, by email and in the pages"),
    "notification_preferences": gettext_lazy("Your notification choices"),
    "security_events": gettext_lazy("Security events about your account"),
    "audit_events": gettext_lazy("Audit trail entries by you or about you"),
    "transitions": gettext_lazy("Steps of proposals you took"),
    "api_tokens": gettext_lazy("Your API tokens (never their secrets)"),
    "two_factor_devices": gettext_lazy("Your two-factor devices (never their keys)"),
    "invitations": gettext_lazy("Invitations to you"),
}


def personal_data_export(person: Person, now: datetime | None = None) -> dict[str, Any]:
    """Everything the system holds about the person, section by section, as JSON values
    (never a secret: tokens and devices by their names, not their keys)."""
    data: dict[str, Any] = {
        "format": "policy-tracker-personal-data",
        "version": ARCHIVE_VERSION,
        "exported_at": now or timezone.now(),
        "person_id": person.pk,
    }
    for name, read in _sections(person).items():
        data[name] = read()
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def personal_data_archive(person: Person) -> bytes:
    """A zip of data.json (the export) and summary.txt (what it holds, in the person's
    language)."""
    exported_at = timezone.now()
    data = personal_data_export(person, now=exported_at)
    with translation.override(person.language):
        summary = render_to_string(
            "proposals/personal_data/summary.txt",
            {
                "person": person,
                "data": data,
                "exported_at": exported_at,
                "counts": [
                    (name, SECTION_LABELS[name], len(data[name]))
                    for name in SECTIONS
                    if isinstance(data[name], list)
                ],
            },
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr("summary.txt", summary)
    return buffer.getvalue()


def archive_filename(person: Person) -> str:
    return f"personal-data-{person.pk}-{timezone.localdate().isoformat()}.zip"


# Erasure


@dataclass(frozen=True)
class Identity:
    """What names the person in stored texts, and what replaces it."""

    email: str
    username: str
    full_names: tuple[str, ...]
    first_name: str
    last_name: str
    pseudonym: str

    @property
    def needles(self) -> list[str]:
        """The texts a database search looks for (a superset of what is replaced)."""
        return [text for text in (self.email, self.username, *self.full_names) if text]

    def _pattern(self) -> re.Pattern[str]:
        parts = [re.escape(text) for text in (self.email, *self.full_names) if text]
        parts.append(rf"@{re.escape(self.username)}\b")
        if not self.username.isalpha():
            # A username of letters only may be a word of any text; one with digits, dots or
            # dashes is theirs alone.
            parts.append(rf"(?<![\w.@-]){re.escape(self.username)}(?![\w-])")
        parts.sort(key=len, reverse=True)
        return re.compile("|".join(parts), re.IGNORECASE)

    def text(self, value: str) -> str:
        if value.strip().casefold() == self.username.casefold():
            return self.pseudonym
        return self._pattern().sub(
            lambda match: ("@" if match.group(0).startswith("@") else "") + self.pseudonym, value
        )

    def value(self, value: Any, key: str = "", *, about: bool = False) -> Any:
        """A JSON value with every mention of the person replaced. In a row `about` them,
        every value under an identity key (first_name, email...) goes, even a former one."""
        if isinstance(value, dict):
            return {name: self.value(item, name, about=about) for name, item in value.items()}
        if isinstance(value, list):
            return [self.value(item, key, about=about) for item in value]
        if isinstance(value, str):
            if key in IDENTITY_KEYS and value and (about or value == self._identity_value(key)):
                return "" if key in {"first_name", "last_name", "email"} else self.pseudonym
            return self.text(value)
        return value

    def _identity_value(self, key: str) -> str:
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "username": self.username,
            "representative_username": self.username,
        }[key]


def _unaccented(text: str) -> str:
    return "".join(
        char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char)
    )


def _full_name_forms(first: str, last: str) -> tuple[str, ...]:
    """The full name as texts and file names write it: either order, joined by a space, a
    dash, an underscore, a dot or nothing, with and without accents."""
    if not first or not last:
        return ()
    forms = {
        joiner.join(pair)
        for pair in ((first, last), (last, first))
        for joiner in (" ", "-", "_", ".", "")
    }
    forms |= {_unaccented(form) for form in forms}
    return tuple(sorted(forms, key=len, reverse=True))


def identity_of(person: Person) -> Identity:
    first, last = person.first_name.strip(), person.last_name.strip()
    full_names = _full_name_forms(first, last)
    return Identity(
        email=person.email.strip(),
        username=person.username,
        full_names=full_names,
        first_name=first,
        last_name=last,
        pseudonym=pseudonym_of(person),
    )


def erasure_reasons(actor: Any, person: Person) -> list[str]:
    """The secretariat erases people it manages, never itself; a person is erased once."""
    reasons = list(rules.person_manage_reasons(actor, person))
    if reasons:
        return reasons
    if person.pk == getattr(actor, "pk", None):
        return [_("Nobody can erase their own personal data: the secretariat does it.")]
    return []


def _text_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField | models.JSONField)
        and not field.choices
        and not isinstance(field, models.FileField)
    ]


def _quoting(model: type[models.Model], identity: Identity) -> tuple[list[str], Q] | None:
    fields = _text_fields(model)
    if not fields or not identity.needles:
        return None
    where = Q()
    for field in fields:
        for needle in identity.needles:
            where |= Q(**{f"{field.name}__icontains": needle})
    return [field.name for field in fields], where


def _quoted_text_replace(identity: Identity, skip: set[str]) -> dict[str, int]:
    """Replace the person's identity wherever a text or JSON column quotes it; rows changed
    by table."""
    changed: dict[str, int] = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in skip or model._meta.proxy or not model._meta.managed:
            continue
        quoting = _quoting(model, identity)
        if quoting is None:
            continue
        names, where = quoting
        plain: models.QuerySet[Any] = models.QuerySet(model=model)
        # Locked as read: a concurrent erasure rewriting the same text waits for this one.
        rows = plain.filter(where).select_for_update().only("pk", *names).order_by("pk")
        for row in rows.iterator(chunk_size=500):
            updates = {}
            for name in names:
                current = getattr(row, name)
                new = identity.value(current) if current is not None else None
                if new != current:
                    updates[name] = new
            if updates:
                plain.filter(pk=row.pk).update(**updates)
                changed[label] = changed.get(label, 0) + 1
    if changed:  # an update of the queryset sends no signal; a title may have quoted the person
        calendar_generation_bump()
    return changed


def _log_rows_redact(
    identity: Identity, person: Person, now: datetime, reason: str
) -> dict[str, int]:
    """Redact the rows of both logs that quote the person. Audit rows about them also lose
    every identity value (a former name or address too) and their client address."""
    counts: dict[str, int] = {}
    about_person = Q(subject=person) | Q(object_type="proposals.person", object_id=str(person.pk))
    for log, model in ((LogName.TRANSITION, TransitionLog), (LogName.AUDIT, AuditEvent)):
        names = [name for name in model.redactable_fields if name != "ip_address"]
        where = Q()
        for name in names:
            for needle in identity.needles:
                where |= Q(**{f"{name}__icontains": needle})
        if model is AuditEvent:
            where |= about_person | Q(actor=person, ip_address__isnull=False)
        rows: Iterable[DigestedLogModel] = (
            model.objects.filter(where).select_for_update().order_by("pk")
        )
        for row in rows:
            about = isinstance(row, AuditEvent) and (
                row.subject_id == person.pk
                or (row.object_type == "proposals.person" and row.object_id == str(person.pk))
            )
            changes: dict[str, Any] = {
                name: identity.value(getattr(row, name), about=about) for name in names
            }
            if isinstance(row, AuditEvent):
                if about and row.object_type == "proposals.person":
                    changes["object_repr"] = identity.pseudonym
                if about or row.actor_id == person.pk:
                    changes["ip_address"] = None
            if log_row_redact(log=log, row=row, changes=changes, reason=reason, now=now):
                counts[log] = counts.get(log, 0) + 1
    return counts


def _sessions_end(person: Person) -> int:
    ended = [
        session.pk
        for session in Session.objects.all()
        if str(session.get_decoded().get("_auth_user_id")) == str(person.pk)
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def _login_attempts_forget(identity: Identity) -> int:
    removed = 0
    for model in apps.get_app_config("axes").get_models():
        fields = {field.name for field in model._meta.concrete_fields}
        if "username" in fields:
            removed += model._default_manager.filter(username__iexact=identity.username).delete()[0]
    return removed


@audited("person.erased")
def person_erase(
    *, actor: Any, person: Person, request: HttpRequest | None = None
) -> dict[str, Any]:
    """Erase a person's personal data, in one transaction: the account is closed and named by
    its pseudonym, what is theirs alone is deleted, and every text that quotes them (the log
    included, through recorded redactions) names the pseudonym instead. Returns what changed,
    by kind, as the audit row records it."""
    if person.erased_at is not None:
        raise Refused(RefusalKind.STATE, [_("This person's personal data was erased already.")])
    reasons = erasure_reasons(actor, person)
    if reasons:
        raise Refused(RefusalKind.PERMISSION, reasons)
    now = timezone.now()
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        if locked.erased_at is not None:
            raise Refused(RefusalKind.STATE, [_("This person's personal data was erased already.")])
        identity = identity_of(locked)
        proposal_ids = list(locked.authored_proposals.values_list("pk", flat=True))
        deleted = {
            "roles": Membership.objects.filter(person=locked).delete()[0],
            "api_tokens": ApiToken.objects.filter(person=locked).delete()[0],
            "notifications": Delivery.objects.filter(recipient=locked).delete()[0],
            "notification_preferences": NotificationPreference.objects.filter(
                person=locked
            ).delete()[0],
            "follows": Follow.objects.filter(person=locked).delete()[0],
            "two_factor_devices": sum(
                model.objects.filter(user=locked).delete()[0] for model in _device_models()
            ),
            "sessions": _sessions_end(locked),
            "login_attempts": _login_attempts_forget(identity),
            "comment_edits": CommentEdit.objects.filter(comment__author=locked).delete()[0],
        }
        comments = Comment.objects.filter(author=locked)
        deleted["comments"] = comments.filter(deleted_at__isnull=True).update(deleted_at=now)
        comments.update(body="", body_html="", quoted="")
        Invitation.objects.filter(_invitations_of(locked)).update(
            email="", first_name="", last_name="", person=locked
        )
        locked.username = identity.pseudonym
        locked.first_name = locked.last_name = locked.email = ""
        locked.password = make_password(None)
        locked.is_active = locked.is_staff = locked.is_superuser = False
        locked.calendar_token = new_calendar_token()
        locked.last_login = locked.welcomed_at = locked.last_visit_at = None
        locked.erased_at = now
        locked.save()
        locked.groups.clear()
        locked.user_permissions.clear()
        reason = f"erasure:{locked.pk}"
        replaced = _quoted_text_replace(identity, OWN_RULES)
        redacted = _log_rows_redact(identity, locked, now, reason)
        search_document_refresh(proposal_ids=proposal_ids)
        summary = {"deleted": deleted, "replaced": replaced, "redacted": redacted}
        audit_record(
            action="person.erased",
            actor=actor,
            obj=locked,
            subject=locked,
            after={"pseudonym": identity.pseudonym, **summary},
            request=request,
            now=now,
        )
    return summary


@audited(ERASURE_REQUESTED)
def erasure_request(*, person: Person, request: HttpRequest | None = None) -> AuditEvent:
    """The person asks the secretariat to erase their personal data: the request is in the
    audit trail, about them, and the secretariat is emailed a link to carry it out."""
    if person.erased_at is not None:
        raise Refused(RefusalKind.STATE, [_("This person's personal data was erased already.")])
    asked = erasure_requested_at(person)
    if asked is not None:
        raise Refused(
            RefusalKind.STATE,
            [
                _("You asked for erasure on %(when)s already; the secretariat carries it out.")
                % {"when": datetime_text(asked)}
            ],
        )
    with transaction.atomic():
        event = audit_record(
            action=ERASURE_REQUESTED, actor=person, obj=person, subject=person, request=request
        )
        deliveries_enqueue(
            [
                Notice(
                    recipient_id=recipient_id,
                    template=ERASURE_REQUESTED_TEMPLATE,
                    event=ERASURE_REQUESTED,
                    context={
                        "person": str(person),
                        "person_id": person.pk,
                        "path": reverse("proposals:person_erasure", args=[person.pk]),
                    },
                    essential=True,
                )
                for recipient_id in sorted(secretariat_ids() - {person.pk})
            ],
            key_prefix=f"erasure-request:{event.pk}",
            about=person,
        )
        return event


def erasure_requested_at(person: Person) -> datetime | None:
    """When the person last asked for erasure, if they did and it is not done."""
    if person.erased_at is not None:
        return None
    return (
        AuditEvent.objects.filter(action=ERASURE_REQUESTED, subject=person)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )


def erasure_requests_pending() -> models.QuerySet[Person]:
    """The people who asked for erasure and are not erased yet."""
    asked = AuditEvent.objects.filter(action=ERASURE_REQUESTED).values("subject_id")
    return Person.objects.filter(pk__in=asked, erased_at__isnull=True).order_by("pk")
