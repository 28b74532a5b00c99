"""The secretariat's admin: members, people, presidencies, bodies, occasions, and proposals.

Proposals are shown, never edited here: their text changes through revisions and their state
only through proposals.services.proposal_transition_run, which the "Actions" panel of a proposal calls with
the person at the keyboard. Reference data is written by the services of proposals.reference
(proposals/admin/writes.py), which audit each write; a deadline changed here is a recorded move.
"""

from __future__ import annotations

import copy
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from proposals import people, reference, rules
from proposals.accounts import password_set, two_factor_verified
from proposals.admin.writes import ServiceWritesAdmin, Writes
from proposals.lifecycle import TRANSITIONS, TransitionOption, transition_options_for
from proposals.limits import DEADLINE_CHANGE_REASON_MAX_LENGTH
from proposals.localized import ZoneSelect, date_text, datetime_text
from proposals.models import (
    Body,
    DeadlineChange,
    Endorsement,
    Membership,
    Occasion,
    Organization,
    Outcome,
    Person,
    PresidencyTerm,
    Proposal,
    Review,
    Revision,
    Submission,
)
from proposals.records import proposal_history
from proposals.selectors import proposals_with_rule_data
from proposals.services import proposal_transition_run
from workflow.errors import RefusalKind, Refused, UnknownTransition

TRANSITION_PREFIX = "transition"


def local_time(moment: Any, zone: Any = None) -> str:
    if moment is None:
        return "-"
    return datetime_text(moment, zone)


class ReadOnlyInline(admin.TabularInline):
    """Rows shown as history: nobody adds, changes or deletes them here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Organisations and people.


class ChildOrganizationInline(admin.TabularInline):
    model = Organization
    fk_name = "parent"
    fields = ("name", "short_name", "kind", "status", "joined_on", "left_on")
    extra = 0
    show_change_link = True
    verbose_name = _("part")
    verbose_name_plural = _("parts (agencies of an institution, members of a network)")


class OrganizationMembershipInline(admin.TabularInline):
    """The organisation's people and roles, read here; roles change on each person's page."""

    model = Membership
    fk_name = "organization"
    fields = ("person", "role")
    readonly_fields = ("person", "role")
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(ServiceWritesAdmin):
    writes = Writes(
        create=reference.organization_create,
        update=reference.organization_update,
        delete=reference.organization_delete,
        name="organization",
        fields=reference.ORGANIZATION_FIELDS,
    )
    list_display = (
        "name",
        "short_name",
        "kind",
        "status",
        "country",
        "parent",
        "joined_on",
        "left_on",
        "is_secretariat",
    )
    list_filter = ("kind", "status", "is_secretariat")
    search_fields = ("name", "short_name")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    inlines = [ChildOrganizationInline, OrganizationMembershipInline]


class PersonMembershipFormSet(forms.BaseInlineFormSet):
    """The roles of a person, checked by the same rules as the API before anything is saved."""

    request: HttpRequest

    def wanted_roles(self) -> set[tuple[Organization, str]]:
        return {
            (form.cleaned_data["organization"], form.cleaned_data["role"])
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("organization")
            and form.cleaned_data.get("role")
        }

    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return
        person = self.instance if self.instance.pk else None
        current = people.person_roles(person) if person else set()
        wanted = self.wanted_roles()
        reasons = people.roles_change_reasons(self.request.user, person, wanted, current)
        if reasons:
            raise forms.ValidationError(reasons)


class PersonMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "person"
    fields = ("organization", "role")
    autocomplete_fields = ("organization",)
    formset = PersonMembershipFormSet
    extra = 0

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        setattr(formset, "request", request)  # noqa: B010 (the formset's clean reads it)
        return formset


class PersonInviteForm(forms.ModelForm):
    """A new person, with no password: they set their own through the reset link."""

    class Meta:
        model = Person
        fields = ("username", "first_name", "last_name", "email", "language", "timezone")


IDENTITY_AND_CREDENTIALS = ("username", "email", "password")


class PersonPasswordForm(AdminPasswordChangeForm):
    """The admin's form checks the new password; proposals.accounts.password_set saves it,
    records the security event and revokes the person's API tokens."""

    actor: Any = None
    request: HttpRequest | None = None

    def save(self, commit: bool = True) -> Any:
        password = (
            self.cleaned_data["password1"] if self.cleaned_data["set_usable_password"] else None
        )
        return password_set(
            person=self.user,
            password=password,
            action="password.changed",
            actor=self.actor,
            request=self.request,
        )


@admin.register(Person)
class PersonAdmin(UserAdmin):
    """People, changed through proposals.people: audited, with separation of duties.

    Only a superuser sets passwords, usernames and emails; the secretariat never changes a
    superuser or another person of the secretariat, nor anyone's own roles.
    """

    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (
            _("Language and notifications"),
            {"fields": ("language", "timezone", "daily_digest", "optional_notifications")},
        ),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined", "departure", "erasure")}),
    )
    readonly_fields = ("departure", "erasure")
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
        (
            _("Personal info"),
            {"fields": ("first_name", "last_name", "email", "language", "timezone")},
        ),
    )
    invite_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "first_name", "last_name", "email", "language", "timezone"),
            },
        ),
    )
    list_display = (
        "username",
        "first_name",
        "last_name",
        "email",
        "language",
        "timezone",
        "daily_digest",
        "is_staff",
    )
    list_filter = ("language", "daily_digest", "is_staff", "is_superuser", "is_active", "groups")
    inlines = [PersonMembershipInline]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None and not request.user.is_superuser:
            return self.invite_fieldsets
        return super().get_fieldsets(request, obj)

    def get_form(  # type: ignore[override]  # UserAdmin's stub leaves `change` out
        self, request: HttpRequest, obj: Any = None, **kwargs: Any
    ) -> Any:
        if obj is None and not request.user.is_superuser:
            kwargs["form"] = PersonInviteForm
        return super().get_form(request, obj, **kwargs)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """The time zone is chosen from zones grouped by region, named in the reader's language."""
        if db_field.name == "timezone":
            kwargs["widget"] = ZoneSelect
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """Only a superuser grants superuser status, groups and permissions, and only a
        superuser corrects a username, an email or sets a password."""
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "groups", "user_permissions"]
            if obj is not None:
                fields += list(IDENTITY_AND_CREDENTIALS)
        return fields

    @admin.display(description=_("Departure"))
    def departure(self, obj: Any) -> SafeString:
        """The page where the secretariat records the person's departure, or the day they
        leave or left."""
        url = reverse("proposals:person_departure", args=[obj.pk])
        if obj.left_on is None:
            return format_html('<a href="{}">{}</a>', url, gettext("Record departure"))
        return format_html(
            '<a href="{}">{}</a>',
            url,
            gettext("Leaves the group on %(date)s") % {"date": date_text(obj.left_on)},
        )

    @admin.display(description=_("Personal data"))
    def erasure(self, obj: Any) -> SafeString:
        """The page where the secretariat erases the person's personal data (and sees whether
        they asked for it), or when it was erased."""
        url = reverse("proposals:person_erasure", args=[obj.pk])
        if obj.erased_at is None:
            return format_html('<a href="{}">{}</a>', url, gettext("Erase personal data"))
        return format_html(
            '<a href="{}">{}</a>',
            url,
            gettext("Erased on %(date)s") % {"date": date_text(obj.erased_at)},
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and rules.person_manage_reasons(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and rules.person_manage_reasons(request.user, obj):
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """Nobody but a superuser sets another person's password here; the form of this request
        saves it through proposals.accounts.password_set, as the person at the keyboard."""
        if not request.user.is_superuser:
            raise PermissionDenied(gettext("Only a superuser can set a password here."))
        form_class = type(
            "PersonPasswordForm", (PersonPasswordForm,), {"actor": request.user, "request": request}
        )
        this_request = copy.copy(self)  # the admin is shared between requests: not changed
        this_request.change_password_form = form_class
        return UserAdmin.user_change_password(this_request, request, id, form_url)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Creations and changes go through proposals.people, which audits them; groups and
        roles follow in save_related."""
        actor = cast(Person, request.user)
        if not change:
            fields = {
                name: form.cleaned_data[name]
                for name in PersonInviteForm.Meta.fields
                if name in form.cleaned_data
            }
            password = None
            if request.user.is_superuser and form.cleaned_data.get("set_usable_password"):
                password = form.cleaned_data["password1"]
            created = people.person_create(
                actor=actor,
                username=fields.pop("username"),
                email=fields.pop("email", ""),
                password=password,
                request=request,
                **fields,
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        tracked = {
            *people.PROFILE_FIELDS,
            *people.ACCOUNT_FIELDS,
            *people.IDENTITY_FIELDS,
            "is_active",
        }
        changes = {name: getattr(obj, name) for name in form.changed_data if name in tracked}
        if changes:
            people.person_update(
                actor=actor,
                person=Person.objects.get(pk=obj.pk),
                changes=changes,
                two_factor_verified=two_factor_verified(request),
                request=request,
            )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """A superuser's change of groups and permissions goes through proposals.people, and
        so do roles (save_formset); the form itself saves nothing."""
        changed = [name for name in ("groups", "user_permissions") if name in form.changed_data]
        if changed:
            people.person_permissions_set(
                actor=request.user,
                person=form.instance,
                groups=form.cleaned_data["groups"] if "groups" in changed else None,
                permissions=(
                    form.cleaned_data["user_permissions"] if "user_permissions" in changed else None
                ),
                request=request,
            )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        try:
            people.person_delete(actor=request.user, person=obj, request=request)
        except Refused as refused:
            raise PermissionDenied(" ".join(refused.reasons)) from None

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """Each selected person through proposals.people, all of them or none."""
        with transaction.atomic():
            for person in queryset:
                self.delete_model(request, person)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if isinstance(formset, PersonMembershipFormSet):
            people.person_update(
                actor=cast(Person, request.user),
                person=Person.objects.get(pk=form.instance.pk),
                changes={},
                roles=formset.wanted_roles(),
                request=request,
            )
            # The admin's change message reads what a formset saved; the service saved it.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return
        super().save_formset(request, form, formset, change)


class MembershipAdminForm(forms.ModelForm):
    """One role, checked by the same rules as a person's whole set of roles."""

    request: HttpRequest

    class Meta:
        model = Membership
        fields = ("person", "organization", "role")

    def wanted_roles(self) -> tuple[Person, set[tuple[Organization, str]]]:
        person = self.cleaned_data["person"]
        roles = people.person_roles(person)
        if self.instance.pk:
            roles.discard((self.instance.organization, self.instance.role))
        roles.add((self.cleaned_data["organization"], self.cleaned_data["role"]))
        return person, roles

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors or not all(cleaned.get(name) for name in ("person", "organization", "role")):
            return cleaned
        person, wanted = self.wanted_roles()
        current = people.person_roles(person)
        reasons = people.roles_change_reasons(self.request.user, person, wanted, current)
        if reasons:
            raise forms.ValidationError(reasons)
        return cleaned


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """One role at a time; every change goes through proposals.people, audited."""

    form = MembershipAdminForm
    list_display = ("person", "organization", "role")
    list_filter = ("role", "organization__kind", "organization__status")
    search_fields = (
        "person__username",
        "person__first_name",
        "person__last_name",
        "organization__name",
        "organization__short_name",
    )
    list_select_related = ("person", "organization")
    autocomplete_fields = ("person", "organization")
    actions: list[Any] = []

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        setattr(form, "request", request)  # noqa: B010 (the form's clean reads it)
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        person, wanted = form.wanted_roles()
        people.person_update(
            actor=cast(Person, request.user),
            person=person,
            changes={},
            roles=wanted,
            request=request,
        )
        saved = Membership.objects.get(
            person=person,
            organization=form.cleaned_data["organization"],
            role=form.cleaned_data["role"],
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        roles = people.person_roles(obj.person)
        roles.discard((obj.organization, obj.role))
        try:
            people.person_update(
                actor=cast(Person, request.user),
                person=obj.person,
                changes={},
                roles=roles,
                request=request,
            )
        except Refused as refused:
            raise PermissionDenied(" ".join(refused.reasons)) from None


@admin.register(PresidencyTerm)
class PresidencyTermAdmin(ServiceWritesAdmin):
    writes = Writes(
        create=reference.presidency_create,
        update=reference.presidency_update,
        delete=reference.presidency_delete,
        name="term",
        fields=reference.PRESIDENCY_FIELDS,
    )
    list_display = ("organization", "starts_on", "ends_on", "is_current")
    list_select_related = ("organization",)
    date_hierarchy = "starts_on"

    @admin.display(description=_("chairs now"), boolean=True)
    def is_current(self, term: PresidencyTerm) -> bool:
        return term.starts_on <= timezone.localdate() <= term.ends_on


@admin.register(Body)
class BodyAdmin(ServiceWritesAdmin):
    writes = Writes(
        create=reference.body_create,
        update=reference.body_update,
        delete=reference.body_delete,
        name="body",
        fields=reference.BODY_FIELDS,
    )
    list_display = ("name", "level", "country")
    list_filter = ("level", "country")
    search_fields = ("name",)


# Occasions: a deadline moved here is recorded by the service.


class OccasionAdminForm(forms.ModelForm):
    deadline_change_reason = forms.CharField(
        label=_("Why the deadline moves"),
        required=False,
        max_length=DEADLINE_CHANGE_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "When you change the submission deadline, say why: the move is recorded and "
            "reminders start again for the new deadline."
        ),
    )

    class Meta:
        model = Occasion
        fields = list(reference.OCCASION_FIELDS)


class DeadlineChangeInline(ReadOnlyInline):
    model = DeadlineChange
    fields = ("version", "old_deadline", "new_deadline", "changed_by", "changed_at", "reason")
    ordering = ("version",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[DeadlineChange]:
        return super().get_queryset(request).select_related("changed_by")


@admin.register(Occasion)
class OccasionAdmin(ServiceWritesAdmin):
    writes = Writes(
        create=reference.occasion_create,
        update=reference.occasion_update,
        delete=reference.occasion_delete,
        name="occasion",
        fields=reference.OCCASION_FIELDS,
    )
    form = OccasionAdminForm
    list_display = (
        "name",
        "kind",
        "location",
        "deadline_in_own_zone",
        "deadline_version",
        "starts_on",
        "ends_on",
        "accepts_late_submissions",
    )
    list_filter = ("kind", "accepts_late_submissions")
    search_fields = ("name", "location")
    fieldsets = (
        (None, {"fields": ("name", "kind", "location", "timezone", "starts_on", "ends_on")}),
        (
            _("Submission deadline"),
            {
                "fields": (
                    "submission_deadline",
                    "deadline_in_own_zone",
                    "deadline_version",
                    "deadline_change_reason",
                )
            },
        ),
        (
            _("Approvals and endorsements"),
            {"fields": ("required_approvals", "endorsement_quorum", "accepts_late_submissions")},
        ),
    )
    readonly_fields = ("deadline_in_own_zone", "deadline_version")
    inlines = [DeadlineChangeInline]

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """The time zone is chosen from zones grouped by region, named in the reader's language."""
        if db_field.name == "timezone":
            kwargs["widget"] = ZoneSelect
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description=_("deadline in its own time"), ordering="submission_deadline")
    def deadline_in_own_zone(self, occasion: Occasion) -> str:
        if occasion.pk is None:
            return "-"
        return gettext("%(moment)s (%(place)s time)") % {
            "moment": local_time(occasion.submission_deadline, occasion.zone),
            "place": occasion.place_name,
        }

    def write_arguments(self, request: HttpRequest, form: Any) -> dict[str, Any]:
        """A new deadline is a recorded move, with the reason given."""
        return {"deadline_change_reason": form.cleaned_data.get("deadline_change_reason", "")}


# Proposals: shown with their history; moved only by the transition service.


class RevisionInline(ReadOnlyInline):
    model = Revision
    fields = ("number", "title", "author", "created_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Revision]:
        return super().get_queryset(request).select_related("author")


class ReviewInline(ReadOnlyInline):
    model = Review
    fields = ("revision_number", "reviewer", "decision", "comment", "created_at")
    readonly_fields = ("revision_number",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Review]:
        return super().get_queryset(request).select_related("revision", "reviewer")

    @admin.display(description=_("revision"))
    def revision_number(self, review: Review) -> int:
        return review.revision.number


class EndorsementInline(ReadOnlyInline):
    model = Endorsement
    fields = ("organization", "endorsed_by", "created_at", "withdrawn_at", "withdrawn_by")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Endorsement]:
        return (
            super()
            .get_queryset(request)
            .select_related("organization", "endorsed_by", "withdrawn_by")
        )


class SubmissionInline(ReadOnlyInline):
    model = Submission
    fields = ("body", "submitted_by", "submitted_at", "reference")


class OutcomeInline(ReadOnlyInline):
    model = Outcome
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fields = ("result", "decided_on", "note", "link", "recorded_by", "recorded_at")


def posted_version(value: str | None) -> int | None:
    """The proposal's version a form posted, or None when absent or not a positive number."""
    if not value or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 1 <= number < 2**31 else None


def transition_argument_names(name: str) -> list[str]:
    """The inputs a transition takes besides its comment, from its form."""
    if name not in TRANSITIONS:
        return []
    return [field for field in TRANSITIONS[name].input.base_fields if field != "comment"]


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "state",
        "lead_organization",
        "occasion",
        "target_body",
        "language",
        "revision",
        "updated_at",
    )
    list_filter = ("state", "occasion", "target_body", "lead_organization", "language")
    search_fields = ("title", "summary")
    list_select_related = ("lead_organization", "occasion", "target_body")
    fieldsets = (
        (None, {"fields": ("title", "state", "standing", "outcome", "summary", "text")}),
        (
            _("Who, to whom, when"),
            {
                "fields": (
                    "lead_organization",
                    "authors",
                    "created_by",
                    "target_body",
                    "occasion",
                    "themes",
                    "language",
                    "revision",
                    "version",
                    "created_at",
                    "updated_at",
                )
            },
        ),
        (_("Actions"), {"fields": ("transition_panel",)}),
        (_("Transition log"), {"fields": ("log_entries",)}),
    )
    readonly_fields = (
        "title",
        "state",
        "standing",
        "outcome",
        "summary",
        "text",
        "lead_organization",
        "authors",
        "created_by",
        "target_body",
        "occasion",
        "themes",
        "language",
        "revision",
        "version",
        "created_at",
        "updated_at",
        "transition_panel",
        "log_entries",
    )
    inlines = [RevisionInline, ReviewInline, EndorsementInline, SubmissionInline, OutcomeInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Drafters write proposals in the application, which records the first revision."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Text changes are revisions by authors; state changes are transitions (see Actions)."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """A proposal's history is kept: withdraw it instead."""
        return False

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name="proposals_proposal_transition",
            ),
            *super().get_urls(),
        ]

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Proposal | None:
        """The proposal with what the rules read, and what this person may do with it now."""
        found = super().get_object(request, object_id, from_field)
        if found is None:
            return None
        proposal = proposals_with_rule_data().get(pk=found.pk)
        proposal.admin_transition_options = transition_options_for(  # type: ignore[attr-defined]
            proposal, request.user
        )
        return proposal

    def transition_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Run one transition as the person at the keyboard; refusals come back as messages."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        proposal = self.get_object(request, unquote(object_id))
        if proposal is None:
            raise Http404(gettext("There is no proposal with id %(id)s.") % {"id": object_id})
        if not self.has_view_permission(request, proposal):
            raise PermissionDenied
        change_url = reverse("admin:proposals_proposal_change", args=[proposal.pk])
        name = request.POST.get("transition", "")
        arguments = {
            field: request.POST.get(f"{TRANSITION_PREFIX}-{field}", "")
            for field in transition_argument_names(name)
        }
        try:
            result = proposal_transition_run(
                proposal=proposal,
                name=name,
                actor=request.user,
                comment=request.POST.get(f"{TRANSITION_PREFIX}-comment", ""),
                arguments=arguments,
                # What the person saw: the version the panel showed (a form of an older
                # release posts the state instead); the service compares under the row lock.
                seen_version=posted_version(request.POST.get("version")),
                seen_state=request.POST.get("seen_state") or None,
            )
        except UnknownTransition:
            messages.error(
                request, gettext("A proposal has no action named “%(name)s”.") % {"name": name}
            )
        except Refused as refusal:
            for reason in refusal.reasons:
                messages.error(request, reason)
        else:
            messages.success(
                request,
                gettext("%(action)s: the proposal is now %(state)s.")
                % {
                    "action": TRANSITIONS[name].label,
                    "state": result.obj.get_state_display().lower(),
                },
            )
        return HttpResponseRedirect(change_url)

    @admin.display(description=_("approvals and endorsements"))
    def standing(self, proposal: Proposal) -> str:
        occasion = proposal.occasion
        if occasion is None:
            return "-"
        return gettext(
            "%(approvals)s of %(required)s approvals of revision %(revision)s; "
            "%(endorsements)s of %(quorum)s endorsements"
        ) % {
            "approvals": rules.approvals_of_current_revision(proposal),
            "required": occasion.required_approvals,
            "revision": proposal.revision,
            "endorsements": rules.endorsements_counted(proposal),
            "quorum": occasion.endorsement_quorum,
        }

    @admin.display(description=_("what you can do now"))
    def transition_panel(self, proposal: Proposal) -> SafeString | str:
        options: list[TransitionOption] | None = getattr(proposal, "admin_transition_options", None)
        if options is None:
            return "-"
        allowed = [option for option in options if option.allowed]
        waiting = [
            option for option in options if option.kind == RefusalKind.CONDITION
        ]  # possible from this state, for this person, once a condition is met
        parts: list[SafeString] = []
        if allowed:
            parts.append(self._transition_inputs(proposal, allowed))
        parts.extend(
            format_html("<p><strong>{}</strong>: {}</p>", option.label, " ".join(option.reasons))
            for option in waiting
        )
        if not parts:
            return gettext("Nothing you can do on this proposal now.")
        return format_html_join("", "{}", ((part,) for part in parts))

    def _transition_inputs(self, proposal: Proposal, allowed: list[TransitionOption]) -> SafeString:
        url = reverse("admin:proposals_proposal_transition", args=[proposal.pk])
        fields: list[SafeString] = [
            format_html('<input type="hidden" name="version" value="{}">', proposal.version),
            format_html(
                '<p><label for="id_{0}-comment">{1}</label><br>'
                '<textarea id="id_{0}-comment" name="{0}-comment" rows="3" cols="60"></textarea></p>',
                TRANSITION_PREFIX,
                gettext("Comment"),
            ),
        ]
        for option in allowed:
            form = TRANSITIONS[option.name].input(prefix=TRANSITION_PREFIX)
            fields.extend(
                format_html(
                    "<p>{} {}<br>{}</p>",
                    form[name].label_tag(),
                    gettext("(for “%(action)s”)") % {"action": option.label},
                    form[name],
                )
                for name in transition_argument_names(option.name)
            )
        buttons = format_html_join(
            " ",
            '<button type="submit" class="button" formaction="{}" formmethod="post" '
            'name="transition" value="{}">{}</button>',
            ((url, option.name, option.label) for option in allowed),
        )
        return format_html(
            "{}<p>{}</p>", format_html_join("", "{}", ((field,) for field in fields)), buttons
        )

    @admin.display(description=_("log"))
    def log_entries(self, proposal: Proposal) -> SafeString | str:
        if proposal.pk is None:
            return "-"
        entries = proposal_history(proposal)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    local_time(entry.at),
                    entry.transition,
                    entry.source or "-",
                    entry.target,
                    entry.actor or "-",
                    entry.comment,
                )
                for entry in entries
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            gettext("At (%(zone)s time)") % {"zone": timezone.get_current_timezone_name()},
            gettext("Action"),
            gettext("From → to"),
            gettext("By"),
            gettext("Comment"),
            rows,
        )
