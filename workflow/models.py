"""The engine's records: the append-only transition log and audit trail, and the outbox."""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workflow.digests import object_digest
from workflow.events import event_validator


class AppendOnlyError(Exception):
    """The transition log and the audit trail are never updated nor deleted."""


def _append_only(model: Any, what: str) -> AppendOnlyError:
    return AppendOnlyError(
        f"The {model._meta.verbose_name_plural} is append-only: rows cannot be {what}."
    )


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Rows are only ever inserted: a bulk update or delete is refused."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise _append_only(self.model, "updated")

    def delete(self) -> NoReturn:
        raise _append_only(self.model, "deleted")


class AppendOnlyModel(models.Model):
    """A record that is written once and never changed nor deleted (PostgreSQL agrees)."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise _append_only(self, "updated")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise _append_only(self, "deleted")


class DigestedLogModel(AppendOnlyModel):
    """A row of the log whose digest, a keyed hash of `integrity_fields`, is written with it
    (workflow/integrity.py verifies it; only a recorded redaction may change those fields)."""

    integrity_name = ""
    integrity_fields: tuple[str, ...] = ()
    redactable_fields: tuple[str, ...] = ()

    digest = models.CharField(_("digest"), max_length=64, blank=True, default="", editable=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding:
            self.digest = object_digest(self.integrity_name, self, self.integrity_fields)
        super().save(*args, **kwargs)


class TransitionLogQuerySet(AppendOnlyQuerySet):
    def for_object(self, obj: models.Model) -> TransitionLogQuerySet:
        content_type = ContentType.objects.get_for_model(obj)
        return self.filter(content_type=content_type, object_id=obj.pk)


class TransitionLog(DigestedLogModel):
    """One action on a workflow object: who, when, from which state to which, and why."""

    integrity_name = "transition"
    integrity_fields = (
        "content_type",
        "object_id",
        "transition",
        "source",
        "target",
        "actor",
        "at",
        "comment",
        "data",
    )
    redactable_fields = ("comment", "data")

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    transition = models.CharField(_("transition"), max_length=64)
    source = models.CharField(_("from"), max_length=32, blank=True)
    target = models.CharField(_("to"), max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    objects = TransitionLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("transition log entry")
        verbose_name_plural = _("transition log")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "at"], name="log_object_at"),
        ]

    def __str__(self) -> str:
        return f"{self.transition}: {self.source} → {self.target}"


class AuditEventQuerySet(AppendOnlyQuerySet):
    def security(self) -> AuditEventQuerySet:
        return self.filter(security=True)


class AuditEvent(DigestedLogModel):
    """One write to the system: who did what to which object, its values before and after.

    The object is named by its kind and id as text, so the trail outlives the object; `subject`
    is the person the event concerns (for a person's own reading of the trail).
    """

    integrity_name = "audit"
    integrity_fields = (
        "at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "subject",
        "before",
        "after",
        "security",
        "ip_address",
    )
    redactable_fields = ("object_repr", "before", "after", "ip_address")

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object kind"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person concerned"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    security = models.BooleanField(_("security event"), default=False)
    ip_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"], name="audit_object_at"),
            models.Index(fields=["subject", "at"], name="audit_subject_at"),
            models.Index(fields=["at"], name="audit_security_at", condition=Q(security=True)),
        ]

    def __str__(self) -> str:
        return f"{self.action}: {self.object_repr or self.object_type}"


class Delivery(models.Model):
    """One message to one person on one channel (or, on the webhook channel, to one endpoint
    named by `target_type` and `target_id`), written in the same transaction as what caused it.

    The key makes a delivery exist once whatever happens: a reminder's key names the
    object, the deadline version, the offset and the person. `event` is the kind of what
    happened (proposal.approved); `event_id` is shared by every row one event produced.
    """

    class Channel(models.TextChoices):
        """How a delivery reaches its recipient: a new channel is one more choice here (and
        a sender for it); the email workers only take email rows, the webhook workers only
        webhook rows."""

        EMAIL = "email", _("Email")
        PAGE = "page", _("In the pages")
        WEBHOOK = "webhook", _("Webhook")

    class Kind(models.TextChoices):
        NOTIFICATION = "notification", _("Notification")
        REMINDER = "reminder", _("Reminder")
        SECURITY = "security", _("Security notice")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        DIGEST = "digest", _("Waiting for the daily digest")
        SUPERSEDED = "superseded", _("Not sent: a later reminder replaced it")
        HELD = "held", _("Waiting for what it carries to be ready")

    key = models.CharField(_("key"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.EMAIL
    )
    event = models.CharField(
        _("event"),
        max_length=100,
        validators=[event_validator],
        help_text=_("What happened, such as proposal.review_requested."),
    )
    event_id = models.UUIDField(
        _("event id"),
        default=uuid.uuid4,
        editable=False,
        help_text=_("Shared by every delivery that one event produced."),
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        db_index=False,  # delivery_recipient leads with it
        related_name="deliveries",
        help_text=_("The person told; a webhook delivery goes to its endpoint instead."),
    )
    target_type = models.ForeignKey(
        ContentType,
        verbose_name=_("endpoint kind"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # delivery_target leads with it
        related_name="+",
    )
    target_id = models.PositiveBigIntegerField(
        _("endpoint"),
        null=True,
        blank=True,
        help_text=_("The webhook endpoint a webhook delivery is posted to."),
    )
    target = GenericForeignKey("target_type", "target_id")
    address = models.EmailField(
        _("address"),
        blank=True,
        help_text=_("Sent here instead of the recipient's current address (a former or new one)."),
    )
    template = models.CharField(_("template"), max_length=200)
    context = models.JSONField(_("context"), default=dict, blank=True)
    essential = models.BooleanField(
        _("asks to act"), default=False, help_text=_("Sent even to people who opted out of news.")
    )
    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # delivery_object leads with it
        related_name="+",
    )
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    queued_at = models.DateTimeField(
        _("queued at"),
        null=True,
        blank=True,
        help_text=_("When its id was last given to a worker."),
    )
    topic = models.CharField(
        _("deadline"),
        max_length=100,
        blank=True,
        help_text=_("The deadline a reminder is about, such as occasion:12."),
    )
    stage = models.CharField(
        _("reminder"),
        max_length=32,
        blank=True,
        help_text=_("Which reminder of the deadline: v2:d7 is 7 days before version 2."),
    )
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    read_at = models.DateTimeField(
        _("read at"),
        null=True,
        blank=True,
        help_text=_("When the person marked an in-page notification as read."),
    )
    next_attempt_at = models.DateTimeField(
        _("next attempt at"),
        null=True,
        blank=True,
        help_text=_("A webhook delivery that failed is tried again from this moment on."),
    )

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The email workers' claims and sweeps: waiting rows of their channel.
            models.Index(
                fields=["channel", "status", "created_at"],
                name="delivery_waiting",
                condition=Q(status__in=["pending", "sending", "digest"]),
            ),
            # The delivery log: newest first, or of one kind or event kind.
            models.Index(fields=["created_at", "id"], name="delivery_created"),
            models.Index(fields=["kind", "created_at"], name="delivery_kind"),
            models.Index(fields=["event", "created_at"], name="delivery_event"),
            models.Index(fields=["event_id"], name="delivery_event_id"),
            models.Index(fields=["content_type", "object_id"], name="delivery_object"),
            # The metrics count failed deliveries at every scrape.
            models.Index(
                fields=["created_at"], name="delivery_failed", condition=Q(status="failed")
            ),
            models.Index(fields=["recipient", "created_at"], name="delivery_recipient"),
            models.Index(
                fields=["topic", "stage"],
                name="delivery_reminder_topic",
                condition=Q(kind="reminder"),
            ),
            models.Index(fields=["target_type", "target_id"], name="delivery_target"),
            # The notification centre: a person's unread notices in the pages.
            models.Index(
                fields=["recipient", "created_at"],
                name="delivery_unread",
                condition=Q(channel="page", read_at__isnull=True),
            ),
        ]
        constraints = [
            # An email or a notice goes to a person; a webhook delivery to an endpoint.
            models.CheckConstraint(
                condition=(
                    Q(channel="webhook", target_type__isnull=False, target_id__isnull=False)
                    | (~Q(channel="webhook") & Q(recipient__isnull=False))
                ),
                name="delivery_has_recipient_or_endpoint",
            ),
            # A delivery exists once: its key is matched whole, never by prefix, so the
            # constraint's own index is the only one it needs.
            models.UniqueConstraint(fields=["key"], name="delivery_key_unique"),
        ]

    def __str__(self) -> str:
        return self.key


class NotificationPreference(models.Model):
    """Whether a person wants one kind of event on one channel; without a row, they do.

    On the email channel it says how the kind reaches the person besides the pages: not at
    all (`enabled` off: in the pages only), one email each, or in the daily digest
    (`digest`). It only holds back notices that do not ask to act: essential notices and
    reminders are emailed whatever it says (singly or in the digest), security notices
    always at once.
    """

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    event = models.CharField(_("event"), max_length=100, validators=[event_validator])
    channel = models.CharField(
        _("channel"),
        max_length=16,
        choices=Delivery.Channel.choices,
        default=Delivery.Channel.EMAIL,
    )
    enabled = models.BooleanField(_("wanted"), default=True)
    digest = models.BooleanField(
        _("in the daily digest"),
        null=True,
        blank=True,
        help_text=_(
            "Emails of this kind wait for the daily digest; empty: as the person's daily "
            "digest setting says."
        ),
    )
    updated_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        ordering = ["person", "event", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "event", "channel"], name="one_notification_preference"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} ({self.channel}): {'on' if self.enabled else 'off'}"


class ReminderStage(models.Model):
    """One reminder of one deadline whose deliveries were written: it is written once.

    A stage is `v<deadline version>:d<days before>`, or `v<version>:late` once the
    deadline has passed.
    """

    topic = models.CharField(_("deadline"), max_length=100)
    stage = models.CharField(_("reminder"), max_length=32)
    due_at = models.DateTimeField(_("due at"))
    written_at = models.DateTimeField(_("written at"), default=timezone.now)
    deliveries = models.PositiveIntegerField(_("deliveries written"), default=0)

    class Meta:
        verbose_name = _("reminder written")
        verbose_name_plural = _("reminders written")
        ordering = ["-written_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "stage"], name="one_reminder_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.stage}"


class Heartbeat(models.Model):
    """When a periodic job last completed: one row per job, updated in place.

    Readiness and the metrics read it; a database row outlives restarts and is shared by
    every process, which a per-process cache is not.
    """

    job = models.CharField(_("job"), max_length=64, unique=True)
    completed_at = models.DateTimeField(_("last completed at"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return self.job


class LogName(models.TextChoices):
    """The two append-only logs whose rows carry a digest."""

    TRANSITION = "transition", _("transition log")
    AUDIT = "audit", _("audit trail")


class LogRedaction(AppendOnlyModel):
    """One field of one log row replaced by a redaction (an erasure's pseudonym, a client
    address removed after its retention period): the keyed hashes of the value before and
    after, never the value, so the row's digest still verifies and nothing else may change."""

    log = models.CharField(_("log"), max_length=16, choices=LogName.choices)
    row_id = models.PositiveBigIntegerField(_("row"))
    field = models.CharField(_("field"), max_length=32)
    original = models.CharField(_("hash of the value replaced"), max_length=64)
    replacement = models.CharField(_("hash of the new value"), max_length=64)
    reason = models.CharField(_("reason"), max_length=64)
    at = models.DateTimeField(_("at"), default=timezone.now)
    signature = models.CharField(_("signature"), max_length=64)

    class Meta:
        verbose_name = _("log redaction")
        verbose_name_plural = _("log redactions")
        ordering = ["log", "row_id", "id"]
        indexes = [models.Index(fields=["log", "row_id"], name="log_redaction_row")]

    def __str__(self) -> str:
        return f"{self.log} {self.row_id}.{self.field} ({self.reason})"


class LogSeal(AppendOnlyModel):
    """The chain of a log's digests up to one row: a row deleted, added or moved among those
    it covers no longer gives the same chain."""

    log = models.CharField(_("log"), max_length=16, choices=LogName.choices)
    through_id = models.PositiveBigIntegerField(_("through row"))
    rows = models.PositiveBigIntegerField(_("rows covered"))
    running = models.CharField(_("chain"), max_length=64)
    signature = models.CharField(_("signature"), max_length=64)
    sealed_at = models.DateTimeField(_("sealed at"), default=timezone.now)

    class Meta:
        verbose_name = _("log seal")
        verbose_name_plural = _("log seals")
        ordering = ["log", "through_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["log", "through_id"], name="one_seal_per_log_row"),
        ]

    def __str__(self) -> str:
        return f"{self.log} ≤ {self.through_id}"
