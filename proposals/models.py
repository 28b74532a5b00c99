"""The domain of the coalition: who proposes what, to whom, by when."""

from __future__ import annotations

import secrets
import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from proposals.limits import (
    ATTACHMENT_TITLE_MAX_LENGTH,
    DISCUSSION_COMMENT_MAX_LENGTH,
    LINK_MAX_LENGTH,
    REFERENCE_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)
from proposals.localized import country_name, place_city


def validate_timezone(value: str) -> None:
    """A time zone is a name of the IANA database, such as Europe/Paris."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a time zone name; use one such as Europe/Paris."),
            params={"value": value},
        )


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    FRENCH = "fr", _("French")
    SPANISH = "es", _("Spanish")


def new_calendar_token() -> str:
    return secrets.token_urlsafe(24)


class Person(AbstractUser):
    """Someone who acts for one or more organisations of the group."""

    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_timezone]
    )
    daily_digest = models.BooleanField(
        _("daily digest"),
        default=False,
        help_text=_("Receive one email a day instead of one email per reminder."),
    )
    optional_notifications = models.BooleanField(
        _("optional notifications"),
        default=True,
        help_text=_("Receive news about proposals that do not ask you to act."),
    )
    calendar_token = models.CharField(
        _("calendar token"), max_length=64, unique=True, default=new_calendar_token
    )
    welcomed_at = models.DateTimeField(
        _("welcomed at"),
        null=True,
        blank=True,
        help_text=_("When the person saw the first-visit page; empty until then."),
    )
    last_visit_at = models.DateTimeField(
        _("last visit"),
        null=True,
        blank=True,
        help_text=_('When the person last opened the dashboard (for "since your last visit").'),
    )
    left_on = models.DateField(
        _("left on"),
        null=True,
        blank=True,
        help_text=_("The day the person left the group; their roles end on it."),
    )
    erased_at = models.DateTimeField(
        _("erased at"),
        null=True,
        blank=True,
        help_text=_("When the person's personal data was erased; they are named by a pseudonym."),
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_full_name(self) -> str:
        """The first and last names; an erased person is "Former member <id>" in the reader's
        language (proposals/personal_data.py)."""
        if self.erased_at is not None:
            return str(_("Former member %(number)s") % {"number": self.pk})
        return super().get_full_name()

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Organization(models.Model):
    """A member of the group, an observer, a former member, or one of their agencies."""

    class Kind(models.TextChoices):
        STATE = "state", _("State")
        LOCAL_GOVERNMENT = "local_government", _("City or territory")
        INTERNATIONAL_INSTITUTION = "international_institution", _("International institution")
        CIVIL_SOCIETY = "civil_society", _("Civil-society organisation")

    class Status(models.TextChoices):
        MEMBER = "member", _("Full member")
        OBSERVER = "observer", _("Observer")
        FORMER = "former", _("Former member")

    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.MEMBER
    )
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO code"))
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    is_secretariat = models.BooleanField(_("is the permanent secretariat"), default=False)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_secretariat"],
                condition=Q(is_secretariat=True),
                name="one_secretariat",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(status="former"),
                name="organization_left_only_when_former",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["member", "observer", "former"]),
                name="organization_status_valid",
            ),
        ]

    def __str__(self) -> str:
        """The name people read: a State by its country's name in the reader's language
        ("Maroc", "Marruecos", "Morocco"), any other by its short name or name."""
        if self.kind == self.Kind.STATE and self.country:
            return self.display_name
        return self.short_name or self.name

    @property
    def display_name(self) -> str:
        """The full name in the reader's language where one is known: a State's country name
        from CLDR ("Équateur" in French), otherwise the name it was given."""
        if self.kind == self.Kind.STATE and self.country:
            return country_name(self.country) or self.name
        return self.name

    @property
    def is_full_member(self) -> bool:
        return self.status == self.Status.MEMBER


class Role(models.TextChoices):
    DRAFTER = "drafter", _("Drafter")
    REVIEWER = "reviewer", _("Reviewer")
    REPRESENTATIVE = "representative", _("Representative")
    SECRETARIAT = "secretariat", _("Secretariat")


class Membership(models.Model):
    """One role that a person holds for one organisation."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["organization__name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "organization", "role"], name="one_role_per_person_and_org"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.get_role_display()}, {self.organization}"

    def clean(self) -> None:
        if self.role == Role.SECRETARIAT and not self.organization.is_secretariat:
            raise ValidationError(
                {"role": _("Only people of the secretariat organisation can be secretariat.")}
            )


class PresidencyTerm(models.Model):
    """A State chairs the group from one date to another; past terms are kept."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("State"),
        on_delete=models.PROTECT,
        related_name="presidencies",
        limit_choices_to={"kind": Organization.Kind.STATE},
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))

    class Meta:
        verbose_name = _("presidency term")
        verbose_name_plural = _("presidency terms")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=models.F("starts_on")), name="presidency_ends_after_start"
            ),
            models.UniqueConstraint(fields=["starts_on"], name="one_presidency_per_start"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} ({self.starts_on} – {self.ends_on})"

    def clean(self) -> None:
        if self.organization_id and self.organization.kind != Organization.Kind.STATE:
            raise ValidationError({"organization": _("Only a State can chair the group.")})
        if self.starts_on and self.ends_on:
            overlapping = PresidencyTerm.objects.filter(
                starts_on__lt=self.ends_on, ends_on__gt=self.starts_on
            ).exclude(pk=self.pk)
            if overlapping.exists():
                raise ValidationError(_("This term overlaps another presidency term."))


class Body(models.Model):
    """Where a proposal is addressed: a parliament, a ministry, a UN organ."""

    class Level(models.TextChoices):
        NATIONAL = "national", _("National")
        INTERNATIONAL = "international", _("International")

    name = models.CharField(_("name"), max_length=200, unique=True)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO code"))

    class Meta:
        verbose_name = _("body")
        verbose_name_plural = _("bodies")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level="international") | ~Q(country=""),
                name="national_body_has_country",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Occasion(models.Model):
    """The event a proposal is timed to, with one submission deadline."""

    class Kind(models.TextChoices):
        SUMMIT = "summit", _("International summit")
        LAW_CONSULTATION = "law_consultation", _("Law consultation")
        WORKING_SESSION = "working_session", _("Annual working session")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    location = models.CharField(_("place"), max_length=200, blank=True)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_timezone]
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    submission_deadline = models.DateTimeField(_("submission deadline"), db_index=True)
    deadline_version = models.PositiveIntegerField(
        _("deadline version"),
        default=1,
        help_text=_("Goes up by one each time the deadline moves."),
    )
    dates_version = models.PositiveIntegerField(
        _("dates version"),
        default=1,
        help_text=_("Goes up by one each time the name, place or dates of the occasion change."),
    )
    required_approvals = models.PositiveSmallIntegerField(
        _("approvals required"), default=1, validators=[MinValueValidator(1)]
    )
    endorsement_quorum = models.PositiveSmallIntegerField(
        _("endorsements required"), default=2, validators=[MinValueValidator(1)]
    )
    accepts_late_submissions = models.BooleanField(_("accepts late submissions"), default=False)
    body = models.ForeignKey(
        Body,
        verbose_name=_("body"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="occasions",
        help_text=_("The body that holds the occasion, where it is known."),
    )
    feed = models.ForeignKey(
        "CalendarFeed",
        verbose_name=_("imported from"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="occasions",
        help_text=_("The body's calendar feed this occasion was imported from."),
    )
    feed_uid = models.CharField(
        _("event UID"),
        max_length=255,
        blank=True,
        help_text=_("The UID of the calendar event, which names it in every later import."),
    )
    imported_at = models.DateTimeField(_("last imported at"), null=True, blank=True)
    pinned_fields = models.JSONField(
        _("fields edited by hand"),
        default=list,
        blank=True,
        help_text=_("Fields the secretariat edited by hand: the feed no longer overwrites them."),
    )
    cancelled_at = models.DateTimeField(
        _("cancelled at"),
        null=True,
        blank=True,
        help_text=_("When the body cancelled it: it stays, but sends no more reminders."),
    )

    class Meta:
        verbose_name = _("occasion")
        verbose_name_plural = _("occasions")
        ordering = ["submission_deadline"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="occasion_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(required_approvals__gte=1), name="approvals_min_1"),
            models.CheckConstraint(condition=Q(endorsement_quorum__gte=1), name="quorum_min_1"),
            models.UniqueConstraint(
                fields=["feed", "feed_uid"],
                condition=~Q(feed_uid=""),
                name="one_occasion_per_feed_event",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def place_name(self) -> str:
        """The zone's city in the reader's language ("Nueva York"), spelled as the place spells
        it where both name the same city ("Belém" of "Belém, Brazil")."""
        return place_city(self.timezone, self.location)

    def deadline_passed(self, now: Any = None) -> bool:
        return (now or timezone.now()) > self.submission_deadline


class DeadlineChange(models.Model):
    """A move of an occasion's submission deadline: old and new values, who and when."""

    occasion = models.ForeignKey(
        Occasion, on_delete=models.CASCADE, related_name="deadline_changes"
    )
    old_deadline = models.DateTimeField(_("old deadline"))
    new_deadline = models.DateTimeField(_("new deadline"))
    version = models.PositiveIntegerField(_("deadline version"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("deadline change")
        verbose_name_plural = _("deadline changes")
        ordering = ["occasion", "version"]
        constraints = [
            models.UniqueConstraint(fields=["occasion", "version"], name="one_change_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.occasion}: {self.old_deadline} → {self.new_deadline}"


class CalendarFeed(models.Model):
    """A body's published iCalendar feed (or an uploaded .ics), read into occasions."""

    class Deadline(models.TextChoices):
        EVENT_END = "event_end", _("The event's end")
        BEFORE_START = "before_start", _("A lead time before the event's start")

    class Status(models.TextChoices):
        NEW = "new", _("Not read yet")
        OK = "ok", _("Read")
        NOT_MODIFIED = "not_modified", _("Unchanged since the last reading")
        FAILED = "failed", _("Could not be read")

    body = models.ForeignKey(
        Body, verbose_name=_("body"), on_delete=models.CASCADE, related_name="feeds"
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    url = models.URLField(
        _("feed URL"),
        max_length=500,
        blank=True,
        help_text=_("Left empty for a feed uploaded as a file."),
    )
    occasion_kind = models.CharField(
        _("kind of its occasions"), max_length=32, choices=Occasion.Kind.choices
    )
    deadline_rule = models.CharField(
        _("submission deadline"),
        max_length=16,
        choices=Deadline.choices,
        default=Deadline.EVENT_END,
    )
    lead_days = models.PositiveSmallIntegerField(
        _("lead time in days"),
        default=14,
        validators=[MaxValueValidator(365)],
        help_text=_("How many days before the event's start submissions close."),
    )
    default_timezone = models.CharField(
        _("time zone"),
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text=_("For events whose times name no zone."),
    )
    active = models.BooleanField(_("read on schedule"), default=True)
    etag = models.CharField(_("ETag"), max_length=300, blank=True, editable=False)
    last_modified = models.CharField(_("Last-Modified"), max_length=100, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    last_error = models.TextField(_("last error"), blank=True)
    checked_at = models.DateTimeField(_("last read at"), null=True, blank=True)
    succeeded_at = models.DateTimeField(_("last read well at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        ordering = ["body", "pk"]

    def __str__(self) -> str:
        return self.name or self.url or str(self.body)


SDG_NAMES = {
    1: _("No poverty"),
    2: _("Zero hunger"),
    3: _("Good health and well-being"),
    4: _("Quality education"),
    5: _("Gender equality"),
    6: _("Clean water and sanitation"),
    7: _("Affordable and clean energy"),
    8: _("Decent work and economic growth"),
    9: _("Industry, innovation and infrastructure"),
    10: _("Reduced inequalities"),
    11: _("Sustainable cities and communities"),
    12: _("Responsible consumption and production"),
    13: _("Climate action"),
    14: _("Life below water"),
    15: _("Life on land"),
    16: _("Peace, justice and strong institutions"),
    17: _("Partnerships for the goals"),
}


class Theme(models.Model):
    """One of the 17 Sustainable Development Goals (seeded by a migration)."""

    number = models.PositiveSmallIntegerField(
        _("number"), primary_key=True, validators=[MinValueValidator(1), MaxValueValidator(17)]
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(number__gte=1, number__lte=17), name="theme_is_an_sdg"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.label}"

    @property
    def label(self) -> str:
        """The goal's name in the active language."""
        return str(SDG_NAMES.get(self.number, self.name))


class ProposalState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    ENDORSEMENT = "endorsement", _("Open for endorsement")
    SUBMITTED = "submitted", _("Submitted")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATES = (ProposalState.DRAFT, ProposalState.IN_REVIEW, ProposalState.ENDORSEMENT)


class OutcomeResult(models.TextChoices):
    ADOPTED = "adopted", _("Adopted")
    ADOPTED_IN_PART = "adopted_in_part", _("Adopted in part")
    NOT_ADOPTED = "not_adopted", _("Not adopted")
    NO_RESPONSE = "no_response", _("No response")


MILESTONE_FIELDS = {
    ProposalState.DRAFT.value: "reached_draft_at",
    ProposalState.IN_REVIEW.value: "reached_in_review_at",
    ProposalState.ENDORSEMENT.value: "reached_endorsement_at",
    ProposalState.SUBMITTED.value: "reached_submitted_at",
    ProposalState.WITHDRAWN.value: "reached_withdrawn_at",
}
"""The states whose first entry a proposal keeps (its milestones), and the field keeping it."""


class Proposal(FSMModelMixin, models.Model):
    """A concrete proposal to a body, timed to an occasion, moved only by transitions."""

    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH)
    summary = models.TextField(_("summary"), blank=True, max_length=SUMMARY_MAX_LENGTH)
    text = models.TextField(
        _("text"), blank=True, help_text=_("Markdown"), max_length=TEXT_MAX_LENGTH
    )
    text_html = models.TextField(
        _("text as HTML"),
        blank=True,
        default="",
        db_default="",
        editable=False,
        help_text=_("The text rendered and sanitised when it was saved."),
    )
    lead_organization = models.ForeignKey(
        Organization,
        verbose_name=_("lead organisation"),
        on_delete=models.PROTECT,
        related_name="led_proposals",
    )
    authors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("authors"), related_name="authored_proposals"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    contributors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("contributors"),
        related_name="+",
        blank=True,
        help_text=_(
            "Everyone who was ever an author or wrote a revision; none of them may review it."
        ),
    )
    target_body = models.ForeignKey(
        Body,
        verbose_name=_("target body"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
    )
    occasion = models.ForeignKey(
        Occasion,
        verbose_name=_("occasion"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
    )
    themes = models.ManyToManyField(Theme, verbose_name=_("themes"), blank=True)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    state = FSMField(
        _("state"),
        default=ProposalState.DRAFT,
        choices=ProposalState.choices,
        protected=True,
        db_index=True,
    )
    revision = models.PositiveIntegerField(_("revision"), default=1)
    version = models.PositiveIntegerField(
        _("version"),
        default=1,
        help_text=_(
            "Raised by one by every write that changes what the proposal shows (edits, "
            "transitions, endorsements, deadline moves); a write made on an older version is "
            "refused as a conflict."
        ),
    )
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=OutcomeResult.choices, blank=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    # When the proposal first entered each state the forecast learns from, as the transition
    # log has it (proposals.forecast): written by the transition that enters it, in its UPDATE.
    reached_draft_at = models.DateTimeField(
        _("first in draft at"), null=True, blank=True, editable=False
    )
    reached_in_review_at = models.DateTimeField(
        _("first in review at"), null=True, blank=True, editable=False
    )
    reached_endorsement_at = models.DateTimeField(
        _("first open for endorsement at"), null=True, blank=True, editable=False
    )
    reached_submitted_at = models.DateTimeField(
        _("submitted at"), null=True, blank=True, editable=False
    )
    reached_withdrawn_at = models.DateTimeField(
        _("withdrawn at"), null=True, blank=True, editable=False
    )
    search_document = models.TextField(
        _("search document"),
        blank=True,
        default="",
        db_default="",
        editable=False,
        help_text=_(
            "The words the proposal is found by: title, summary, text, authors, organisations "
            "and filing reference, rewritten by the services that change them."
        ),
    )

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["state", "occasion"], name="proposal_state_occasion"),
            # The API's orderings, each ended by the id: a cursor page starts in the index.
            models.Index(fields=["updated_at", "id"], name="proposal_updated_id"),
            models.Index(fields=["created_at", "id"], name="proposal_created_id"),
            models.Index(fields=["title", "id"], name="proposal_title_id"),
            # Proposals by state read without their rows (migration 0021): a list's count,
            # the dashboard's sections (by deadline, the revision for the reviews), the count
            # of an occasion's open proposals.
            models.Index(
                fields=["state", "occasion", "revision", "id"], name="proposal_state_occ_rev_id"
            ),
            # The forecast's milestones read without the rows (migration 0022): learning reads
            # every proposal's, forecasting the open ones' (an index-only scan on PostgreSQL).
            models.Index(
                fields=["state", "occasion", "id"],
                include=list(MILESTONE_FIELDS.values()),
                name="proposal_milestones",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in ProposalState]),
                name="proposal_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(outcome="") | Q(state="closed"), name="outcome_only_when_closed"
            ),
            models.CheckConstraint(condition=Q(revision__gte=1), name="revision_from_1"),
            models.CheckConstraint(condition=Q(version__gte=1), name="version_from_1"),
        ]

    def __str__(self) -> str:
        return self.title

    # The state machine. Who may run a transition and when is in proposals/rules.py;
    # the transitions are run only by workflow.services.transition_run.

    @transition(field=state, source=ProposalState.DRAFT, target=ProposalState.IN_REVIEW)
    def submit_for_review(self) -> None:
        """A complete draft goes to the reviewers."""

    @transition(
        field=state,
        source=ProposalState.IN_REVIEW,
        target=RETURN_VALUE(ProposalState.IN_REVIEW, ProposalState.ENDORSEMENT),
    )
    def approve(self, *, approvals: int, required: int) -> str:
        """The proposal opens for endorsement once enough reviewers approved this revision."""
        return ProposalState.ENDORSEMENT if approvals >= required else ProposalState.IN_REVIEW

    @transition(field=state, source=ProposalState.IN_REVIEW, target=ProposalState.DRAFT)
    def request_changes(self) -> None:
        """A proposal sent back returns to draft."""

    @transition(field=state, source=ProposalState.ENDORSEMENT, target=ProposalState.SUBMITTED)
    def submit(self) -> None:
        """The secretariat sends the endorsed proposal to its body."""

    @transition(field=state, source=ProposalState.SUBMITTED, target=ProposalState.CLOSED)
    def record_outcome(self, *, outcome: str) -> None:
        """What the body did closes the proposal."""
        self.outcome = outcome

    @transition(field=state, source=list(OPEN_STATES), target=ProposalState.WITHDRAWN)
    def withdraw(self) -> None:
        """An open proposal is withdrawn by an author or the secretariat."""


class Revision(models.Model):
    """The text of a proposal as saved once; numbered from 1 per proposal."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=300)
    summary = models.TextField(_("summary"), blank=True)
    text = models.TextField(_("text"), blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["proposal", "number"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "number"], name="one_revision_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="revision_number_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id} r{self.number}"


class Review(models.Model):
    """A reviewer's decision on one revision."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approved")
        REQUEST_CHANGES = "request_changes", _("Changes requested")

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="reviews")
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["revision", "reviewer"], name="one_review_per_reviewer_and_revision"
            ),
            models.CheckConstraint(
                condition=Q(decision="approve") | ~Q(comment=""),
                name="changes_requested_have_comment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer}: {self.get_decision_display()}"


class Endorsement(models.Model):
    """An organisation's signature on a proposal; a withdrawal is kept, not deleted."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="endorsements")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="endorsements"
    )
    endorsed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="endorsements"
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    class Meta:
        verbose_name = _("endorsement")
        verbose_name_plural = _("endorsements")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "organization"],
                condition=Q(withdrawn_at__isnull=True),
                name="one_active_endorsement_per_org",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | Q(withdrawn_by__isnull=False),
                name="withdrawal_has_author",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} ({self.endorsed_by})"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


def dossier_upload_to(instance: Submission, filename: str) -> str:
    """Dossiers are stored under a random name beside the proposal's attachments."""
    return f"dossiers/{instance.proposal_id}/{secrets.token_hex(16)}.pdf"


class Submission(models.Model):
    """When, by whom and to which body a proposal was submitted."""

    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="submission")
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    reference = models.CharField(
        _("body's reference or receipt"), max_length=REFERENCE_MAX_LENGTH, blank=True
    )
    revision = models.ForeignKey(
        "Revision",
        verbose_name=_("submitted revision"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    number = models.CharField(
        _("dossier number"),
        max_length=40,
        blank=True,
        help_text=_("The group's own reference, on the cover letter and on every page."),
    )
    facts = models.JSONField(
        _("dossier facts"),
        default=dict,
        blank=True,
        editable=False,
        help_text=_("Everything the dossier says, recorded when the proposal was submitted."),
    )
    fingerprint = models.CharField(
        _("fingerprint"),
        max_length=64,
        blank=True,
        help_text=_("SHA-256 of the submitted title, summary and text in their canonical form."),
    )
    dossier = models.FileField(
        _("dossier"), upload_to=dossier_upload_to, max_length=300, blank=True
    )
    dossier_sha256 = models.CharField(_("dossier's SHA-256"), max_length=64, blank=True)
    dossier_size = models.PositiveBigIntegerField(
        _("dossier's size in bytes"), null=True, blank=True
    )
    dossier_rendered_at = models.DateTimeField(_("dossier rendered at"), null=True, blank=True)
    dossier_attempts = models.PositiveSmallIntegerField(_("rendering attempts"), default=0)
    dossier_error = models.TextField(_("last rendering error"), blank=True)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")

    def __str__(self) -> str:
        return f"{self.proposal_id} → {self.body}"


class Outcome(models.Model):
    """What the body did with a submitted proposal."""

    proposal = models.OneToOneField(
        Proposal, on_delete=models.CASCADE, related_name="outcome_record"
    )
    result = models.CharField(_("result"), max_length=16, choices=OutcomeResult.choices)
    decided_on = models.DateField(_("decided on"))
    note = models.TextField(_("note"), blank=True)
    link = models.URLField(_("link"), blank=True, max_length=LINK_MAX_LENGTH)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("outcome")
        verbose_name_plural = _("outcomes")

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.get_result_display()}"


DEFAULT_REMINDER_OFFSETS = [30, 14, 7, 2, 1]


def default_reminder_offsets() -> list[int]:
    return list(DEFAULT_REMINDER_OFFSETS)


def validate_reminder_offsets(value: Any) -> None:
    """Offsets are whole days before a deadline, each between 1 and 365, each given once."""
    if not isinstance(value, list) or not value:
        raise ValidationError(_("Give at least one number of days, such as 30, 14, 7, 2, 1."))
    if any(isinstance(days, bool) or not isinstance(days, int) for days in value):
        raise ValidationError(_("Each offset is a whole number of days."))
    if any(days < 1 or days > 365 for days in value):
        raise ValidationError(_("Each offset is between 1 and 365 days before the deadline."))
    if len(set(value)) != len(value):
        raise ValidationError(_("Each offset may be given only once."))


class ReminderRule(models.Model):
    """The days before a submission deadline when reminders go out.

    A rule is set for a kind of occasion, or for one occasion, which then overrides the
    rule of its kind; without any rule the offsets are 30, 14, 7, 2 and 1 days.
    """

    occasion_kind = models.CharField(
        _("kind of occasion"), max_length=32, choices=Occasion.Kind.choices, blank=True
    )
    occasion = models.OneToOneField(
        Occasion,
        verbose_name=_("occasion"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminder_rule",
    )
    offsets = models.JSONField(
        _("days before the deadline"),
        default=default_reminder_offsets,
        validators=[validate_reminder_offsets],
        help_text=_("Whole days, for example [30, 14, 7, 2, 1]."),
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")
        ordering = ["occasion_kind", "occasion"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(occasion__isnull=True) & ~Q(occasion_kind=""))
                | (Q(occasion__isnull=False) & Q(occasion_kind="")),
                name="reminder_rule_for_a_kind_or_an_occasion",
            ),
            models.UniqueConstraint(
                fields=["occasion_kind"],
                condition=Q(occasion__isnull=True),
                name="one_reminder_rule_per_kind",
            ),
        ]

    def __str__(self) -> str:
        days = ", ".join(str(d) for d in self.sorted_offsets)
        if self.occasion_id:
            return _("%(occasion)s: %(days)s days before") % {
                "occasion": self.occasion,
                "days": days,
            }
        return _("%(kind)s: %(days)s days before") % {
            "kind": self.get_occasion_kind_display(),
            "days": days,
        }

    @property
    def sorted_offsets(self) -> list[int]:
        """The offsets from the earliest reminder (most days before) to the last."""
        return sorted(self.offsets or [], reverse=True)

    def clean(self) -> None:
        if bool(self.occasion_id) == bool(self.occasion_kind):
            raise ValidationError(
                _("A reminder rule is for a kind of occasion or for one occasion, not both.")
            )


def reminder_offsets(occasion: Occasion, rules: list[ReminderRule]) -> list[int]:
    """The occasion's offsets: its own rule, else its kind's, else the defaults."""
    for rule in rules:
        if rule.occasion_id == occasion.pk:
            return rule.sorted_offsets
    for rule in rules:
        if rule.occasion_id is None and rule.occasion_kind == occasion.kind:
            return rule.sorted_offsets
    return sorted(DEFAULT_REMINDER_OFFSETS, reverse=True)


class ApiToken(models.Model):
    """A key to the API: only the SHA-256 digest of its secret is stored, the secret is shown
    once; it stops working when it expires or is revoked."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("Login")
        SCRIPT = "script", _("Script")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(
        _("prefix"), max_length=12, help_text=_("The first characters, to recognise it.")
    )
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["person", "revoked_at", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class WebhookEvent(models.TextChoices):
    """What happens to a proposal that a webhook endpoint may subscribe to (the event kind)."""

    TRANSITION = "proposal.transitioned", _("A proposal changed state")
    REVISION = "proposal.revised", _("A new revision of a proposal's text")
    ENDORSEMENT = "proposal.endorsed", _("An endorsement given or withdrawn")
    DEADLINE_MOVED = "proposal.deadline_moved", _("The deadline of a proposal's occasion moved")
    OUTCOME = "proposal.outcome_recorded", _("The outcome of a proposal recorded")


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def validate_webhook_events(value: Any) -> None:
    if (
        not isinstance(value, list)
        or not value
        or any(event not in WebhookEvent.values for event in value)
    ):
        raise ValidationError(
            _("Choose one or more of the events: %(events)s."),
            params={"events": ", ".join(WebhookEvent.values)},
        )


class WebhookEndpoint(models.Model):
    """A URL of an organisation's system that is told of the events it subscribed to, about
    the proposals that organisation may see, signed with the endpoint's secret."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="webhook_endpoints",
        help_text=_("The endpoint receives only events about proposals this organisation may see."),
    )
    events = models.JSONField(
        _("events"), default=list, validators=[validate_webhook_events], blank=False
    )
    secret = models.CharField(_("secret"), max_length=100, default=new_webhook_secret)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed at"), default=timezone.now)
    secret_rotated_at = models.DateTimeField(_("secret changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Comment(models.Model):
    """A message in a proposal's discussion, in Markdown; a reply answers a comment that is not
    itself a reply. An anchored comment names a paragraph of a revision and keeps its text."""

    proposal = models.ForeignKey(
        Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="comments",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("reply to"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="replies",
    )
    body = models.TextField(_("comment"), max_length=DISCUSSION_COMMENT_MAX_LENGTH)
    body_html = models.TextField(_("comment as HTML"), blank=True, editable=False)
    revision = models.ForeignKey(
        Revision,
        verbose_name=_("revision"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="comments",
        help_text=_("The revision whose paragraph the comment is about."),
    )
    paragraph = models.PositiveIntegerField(
        _("paragraph"),
        null=True,
        blank=True,
        help_text=_("The paragraph of the revision the comment is about, counted from 1."),
    )
    quoted = models.TextField(_("quoted paragraph"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    hidden_at = models.DateTimeField(_("hidden at"), null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("hidden by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    hidden_reason = models.TextField(_("reason for hiding"), blank=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["proposal", "created_at"], name="comment_thread")]
        constraints = [
            models.CheckConstraint(
                condition=Q(revision__isnull=True, paragraph__isnull=True)
                | Q(revision__isnull=False, paragraph__gte=1),
                name="comment_anchor_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id} #{self.pk}"


class CommentEdit(models.Model):
    """The text a comment had before one edit: the edit history stays readable."""

    comment = models.ForeignKey(
        Comment, verbose_name=_("comment"), on_delete=models.CASCADE, related_name="edits"
    )
    body = models.TextField(_("previous text"))
    replaced_at = models.DateTimeField(_("replaced at"), default=timezone.now)

    class Meta:
        verbose_name = _("comment edit")
        verbose_name_plural = _("comment edits")
        ordering = ["comment", "replaced_at", "id"]

    def __str__(self) -> str:
        return f"{self.comment_id} @ {self.replaced_at:%Y-%m-%d %H:%M}"


class Mention(models.Model):
    """A person named with @username in a comment."""

    comment = models.ForeignKey(
        Comment, verbose_name=_("comment"), on_delete=models.CASCADE, related_name="mentions"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="mentions",
    )

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        constraints = [
            models.UniqueConstraint(fields=["comment", "person"], name="one_mention_per_comment"),
        ]

    def __str__(self) -> str:
        return f"@{self.person_id} in {self.comment_id}"


def attachment_upload_to(instance: Attachment, filename: str) -> str:
    """Files are stored under a random name: the name a person gave is kept in `filename`."""
    return f"attachments/{instance.proposal_id}/{secrets.token_hex(16)}"


class Attachment(models.Model):
    """A file on a proposal. A removed attachment keeps its record (and its file) in the history."""

    proposal = models.ForeignKey(
        Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="attachments"
    )
    title = models.CharField(_("title"), max_length=ATTACHMENT_TITLE_MAX_LENGTH)
    file = models.FileField(_("file"), upload_to=attachment_upload_to, max_length=300)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    revision = models.ForeignKey(
        Revision,
        verbose_name=_("revision"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attachments",
        help_text=_("The revision the file belongs to, if any."),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="attachments",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("removed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["proposal", "uploaded_at"], name="attachment_list")]

    def __str__(self) -> str:
        return self.title


class Follow(models.Model):
    """A person follows a proposal or an occasion. Unfollowing keeps the row with
    `active` off, so following automatically (as an author, reviewer or endorser) does not
    follow again what the person chose to leave."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="follows",
    )
    proposal = models.ForeignKey(
        Proposal,
        verbose_name=_("proposal"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="follows",
    )
    occasion = models.ForeignKey(
        Occasion,
        verbose_name=_("occasion"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="follows",
    )
    active = models.BooleanField(_("following"), default=True)
    automatic = models.BooleanField(
        _("automatic"), default=False, help_text=_("Followed as an author, reviewer or endorser.")
    )
    created_at = models.DateTimeField(_("since"), default=timezone.now)

    class Meta:
        verbose_name = _("follow")
        verbose_name_plural = _("follows")
        constraints = [
            models.CheckConstraint(
                condition=Q(proposal__isnull=False, occasion__isnull=True)
                | Q(proposal__isnull=True, occasion__isnull=False),
                name="follow_one_thing",
            ),
            models.UniqueConstraint(
                fields=["person", "proposal"],
                condition=Q(proposal__isnull=False),
                name="follow_proposal_once",
            ),
            models.UniqueConstraint(
                fields=["person", "occasion"],
                condition=Q(occasion__isnull=False),
                name="follow_occasion_once",
            ),
        ]

    def __str__(self) -> str:
        followed = (
            f"proposal {self.proposal_id}" if self.proposal_id else f"occasion {self.occasion_id}"
        )
        return f"{self.person_id} → {followed}"


class Invitation(models.Model):
    """The secretariat's invitation of a person, by email, to an organisation with roles.

    Only the digest of the link's token is stored; the link works once, until `expires_at`.
    """

    email = models.EmailField(_("email"))
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    roles = models.JSONField(_("roles"), default=list)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
        help_text=_("The account made when the invitation was accepted."),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization}"
