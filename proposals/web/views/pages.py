"""The pages: thin views over the selectors, rules, services and the transition service."""

from __future__ import annotations

import calendar
import difflib
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from proposals import accounts, people, rules, services
from proposals.diff import revisions_diff
from proposals.exports import proposals_csv_response
from proposals.lifecycle import (
    ENDORSE,
    TRANSITIONS,
    WITHDRAW_ENDORSEMENT,
    transition_edges,
    transition_options_for,
)
from proposals.markdown import markdown_to_html
from proposals.models import (
    OPEN_STATES,
    Endorsement,
    Membership,
    Occasion,
    Organization,
    Person,
    PresidencyTerm,
    Proposal,
    ProposalState,
    Revision,
    Role,
)
from proposals.notices import email_event_label
from proposals.records import Delivery, deliveries_logged, proposal_history
from proposals.selectors import (
    presidency_current,
    proposals_authored_by,
    proposals_awaiting_endorsement_by,
    proposals_awaiting_review_by,
    proposals_ready_to_submit,
    proposals_visible_to,
    proposals_with_rule_data,
    roles_of,
)
from proposals.throttle import throttle_count
from proposals.web.forms import (
    EndorseForm,
    MarkdownPreviewForm,
    ProposalForm,
    ProposalPageFilter,
    SettingsForm,
    proposal_initial,
    transition_arguments,
    transition_form_class,
)
from workflow.errors import RefusalKind, Refused, UnknownTransition


class PersonRequest(HttpRequest):
    """A request of a signed-in person: every page but login is behind login_required."""

    user: Person


PAGE_SIZE = 25
DELIVERY_PAGE_SIZE = 50
# What a refusal of each kind is shown as on the proposal page.
BLOCKED_KINDS = {RefusalKind.CONDITION, RefusalKind.CONFLICT, RefusalKind.INVALID}


def _refusal_to_messages(request: PersonRequest, refused: Refused) -> None:
    for reason in refused.reasons:
        messages.error(request, reason)


def _visible_proposal(request: PersonRequest, pk: int) -> Proposal:
    """The proposal with what the rules read, or 404 when this person may not see it."""
    queryset = proposals_with_rule_data(proposals_visible_to(request.user))
    return get_object_or_404(queryset, pk=pk)


HEADING_TAG = re.compile(r"<(/?)h([1-6])\b")


def demote_headings(html: str, by: int = 2) -> str:
    """Headings of a rendered text placed under the page's own (h1 becomes h3)."""
    return HEADING_TAG.sub(lambda m: f"<{m.group(1)}h{min(int(m.group(2)) + by, 6)}", html)


def page_with_query(request: HttpRequest, items: Any, size: int) -> tuple[Any, str]:
    """The page the request asks for, and its query string without `page` for the links."""
    page = Paginator(items, size).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _posted(request: HttpRequest) -> Any:
    """The posted data for a bound form, or None on GET (an empty POST is still a POST)."""
    return request.POST if request.method == "POST" else None


def _version_param(value: str | None) -> int | None:
    """A version number a page sent, or None when it is absent or not a positive number."""
    if not value or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 1 <= number < 2**31 else None


def _seen_version(request: HttpRequest, proposal: Proposal) -> int:
    """The version of the proposal the person acts on: the one the proposal's page showed (its
    links carry `?version=`), else the one this page shows."""
    return _version_param(request.GET.get("version")) or proposal.version


def _is_htmx(request: PersonRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# Dashboard


DASHBOARD_SECTION_ROWS = 20


@dataclass(frozen=True)
class DashboardSection:
    """The first proposals of one part of the dashboard by deadline, how many there are in all,
    and the proposal list where to see them all."""

    proposals: list[Proposal]
    count: int
    list_url: str

    @property
    def has_more(self) -> bool:
        return self.count > len(self.proposals)


@login_required
def dashboard(request: PersonRequest) -> HttpResponse:
    """What needs me now: my drafts, reviews, endorsements, submissions, and deadlines."""
    person = request.user
    roles = roles_of(person)
    now = timezone.now()
    visible = proposals_visible_to(person)
    authored = proposals_authored_by(person, visible)
    selections: dict[str, tuple[QuerySet[Proposal], dict[str, str]]] = {
        "drafts": (authored.filter(state=ProposalState.DRAFT), {"state": ProposalState.DRAFT})
    }
    if roles.may_review:
        selections["to_review"] = (
            proposals_awaiting_review_by(person, visible),
            {"state": ProposalState.IN_REVIEW},
        )
    if roles.representative_organization_ids:
        selections["to_endorse"] = (
            proposals_awaiting_endorsement_by(person, visible),
            {"state": ProposalState.ENDORSEMENT},
        )
    if roles.secretariat:
        selections["to_submit"] = (
            proposals_ready_to_submit(visible),
            {"state": ProposalState.ENDORSEMENT},
        )
    # The list filters neither by author nor by two states at once: its link shows them all.
    selections["mine_moving"] = (
        authored.filter(state__in=[ProposalState.IN_REVIEW, ProposalState.ENDORSEMENT]),
        {},
    )
    return render(
        request,
        "proposals/dashboard.html",
        {
            "roles": roles,
            "sections": _dashboard_sections(selections),
            "deadlines": _upcoming_deadlines(person, now),
            "now": now,
        },
    )


def _dashboard_sections(
    selections: dict[str, tuple[QuerySet[Proposal], dict[str, str]]],
) -> dict[str, DashboardSection]:
    """Each selection's first rows by deadline with its count (one query each), then what the
    rules and the table read for the rows shown only (one query and its prefetches)."""
    firsts = {
        name: list(
            queryset.annotate(section_count=Window(Count("pk")))
            .order_by("occasion__submission_deadline", "pk")
            .values_list("pk", "section_count")[:DASHBOARD_SECTION_ROWS]
        )
        for name, (queryset, _filters) in selections.items()
    }
    shown = {pk for rows in firsts.values() for pk, _count in rows}
    proposals = proposals_with_rule_data(Proposal.objects.filter(pk__in=shown)).order_by().in_bulk()
    for proposal in proposals.values():
        if proposal.state == ProposalState.ENDORSEMENT:
            proposal.endorsement_count = rules.endorsements_counted(proposal)  # type: ignore[attr-defined]
    list_url = reverse("proposals:proposal_list")
    return {
        name: DashboardSection(
            proposals=[proposals[pk] for pk, _count in firsts[name] if pk in proposals],
            count=firsts[name][0][1] if firsts[name] else 0,
            list_url=f"{list_url}?{urlencode(filters)}" if filters else list_url,
        )
        for name, (_queryset, filters) in selections.items()
    }


def _upcoming_deadlines(person: Person, now: datetime) -> list[Occasion]:
    """Deadlines of the coming months, and passed ones that still have open proposals.

    The occasions come from the index on their deadline; each counts its own open proposals
    (index on state and occasion), never every proposal the person may see.
    """
    open_here = (
        proposals_visible_to(person)
        .filter(occasion=OuterRef("pk"), state__in=OPEN_STATES)
        .order_by()
        .values("occasion")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return list(
        Occasion.objects.filter(
            submission_deadline__gte=now - timedelta(days=60),
            submission_deadline__lte=now + timedelta(days=180),
        )
        .annotate(open_count=Coalesce(Subquery(open_here), 0))
        .filter(Q(submission_deadline__gte=now) | Q(open_count__gt=0))
        .order_by("submission_deadline")[:12]
    )


# Proposals


def _filtered_proposals(request: PersonRequest) -> ProposalPageFilter:
    """The list's filters, the same as the API's, over what this person may see."""
    queryset = (
        proposals_visible_to(request.user)
        .select_related("occasion", "target_body", "lead_organization")
        .order_by("-updated_at", "-id")
    )
    return ProposalPageFilter(request.GET or None, queryset=queryset, request=request)


@login_required
def proposal_list(request: PersonRequest) -> HttpResponse:
    filterset = _filtered_proposals(request)
    page, query = page_with_query(request, filterset.qs, PAGE_SIZE)
    return render(
        request,
        "proposals/proposal_list.html",
        {
            "form": filterset.form,
            "page": page,
            "query": query,
            "may_create": not rules.create_reasons(request.user, None),
        },
    )


@login_required
def proposal_list_csv(request: PersonRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered list as CSV, every matching row: the same columns as the API's CSV."""
    queryset = proposals_with_rule_data(_filtered_proposals(request).qs)
    return proposals_csv_response(queryset, filename="proposals.csv")


@login_required
def proposal_create(request: PersonRequest) -> HttpResponse:
    person = request.user
    reasons = rules.create_reasons(person, None)
    if reasons:
        return render(
            request,
            "proposals/refused.html",
            {"reasons": reasons, "title": _("New proposal")},
            status=403,
        )
    form = ProposalForm(_posted(request), person=person)
    preview = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            try:
                preview = _preview(request, form.cleaned_data["text"])
            except PreviewBudgetSpent as spent:
                form.add_error("text", str(spent))
        else:
            try:
                proposal = services.proposal_create(author=person, **form.service_fields())
            except Refused as refused:
                _refusal_to_form(form, refused)
            else:
                messages.success(request, _("Your draft is saved as revision 1."))
                return redirect("proposals:proposal_detail", pk=proposal.pk)
    return render(
        request,
        "proposals/proposal_form.html",
        {"form": form, "preview": preview, "proposal": None},
        status=400 if form.errors else 200,
    )


@login_required
def proposal_edit(request: PersonRequest, pk: int) -> HttpResponse:
    proposal = _visible_proposal(request, pk)
    person = request.user
    reasons = rules.edit_permission_reasons(proposal, person) or rules.edit_state_reasons(proposal)
    if reasons:
        return render(
            request,
            "proposals/refused.html",
            {
                "reasons": reasons,
                "title": _("Edit “%(title)s”") % {"title": proposal.title},
                "proposal": proposal,
            },
            status=403,
        )
    form = ProposalForm(
        _posted(request),
        person=person,
        proposal=proposal,
        initial=None if request.method == "POST" else proposal_initial(proposal),
    )
    preview = None
    status = 200
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            try:
                preview = _preview(request, form.cleaned_data["text"])
            except PreviewBudgetSpent as spent:
                form.add_error("text", str(spent))
        else:
            fields = form.service_fields()
            try:
                updated = services.proposal_update(
                    proposal=proposal,
                    editor=person,
                    expected_revision=form.cleaned_data.get("expected_revision"),
                    themes=fields.pop("themes"),
                    **fields,
                )
            except Refused as refused:
                _refusal_to_form(form, refused)
                status = 409 if refused.kind == RefusalKind.CONFLICT else 400
            else:
                if updated.revision != proposal.revision:
                    messages.success(
                        request,
                        _("Saved as revision %(number)s.") % {"number": updated.revision},
                    )
                else:
                    messages.success(request, _("Saved."))
                return redirect("proposals:proposal_detail", pk=proposal.pk)
    return render(
        request,
        "proposals/proposal_form.html",
        {"form": form, "preview": preview, "proposal": proposal},
        status=400 if form.errors and status == 200 else status,
    )


def _refusal_to_form(form: Form, refused: Refused) -> None:
    for field, errors in refused.errors.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    if not refused.errors:
        for reason in refused.reasons:
            form.add_error(None, reason)


# Rendering the longest hostile texts takes seconds: a person's previews share a budget.
PREVIEW_CHARACTERS_PER_MINUTE = 500_000


class PreviewBudgetSpent(Exception):
    """The person previewed more text in the last minute than one preview budget allows."""


def _preview(request: PersonRequest, text: str) -> str:
    """The text rendered for a preview, counted against the person's budget per minute."""
    rendered = throttle_count(
        f"preview-characters:{request.user.pk}", amount=max(len(text), 1), window=60
    )
    if rendered > PREVIEW_CHARACTERS_PER_MINUTE:
        raise PreviewBudgetSpent(
            _(
                "You previewed a great deal of text in the last minute: wait a moment before "
                "the next preview. Your text is kept in the form."
            )
        )
    return demote_headings(markdown_to_html(text))


@login_required
@require_POST
def markdown_preview(request: PersonRequest) -> HttpResponse:
    """The text as it will be shown: a fragment for htmx; a text too long is not rendered."""
    form = MarkdownPreviewForm(request.POST)
    if not form.is_valid():
        return render(
            request, "proposals/_preview.html", {"errors": form.errors["text"]}, status=400
        )
    try:
        preview = _preview(request, form.cleaned_data["text"])
    except PreviewBudgetSpent as spent:
        return render(request, "proposals/_preview.html", {"errors": [str(spent)]}, status=429)
    return render(request, "proposals/_preview.html", {"preview": preview})


@login_required
def proposal_detail(request: PersonRequest, pk: int) -> HttpResponse:
    proposal = _visible_proposal(request, pk)
    person = request.user
    roles = roles_of(person)
    options = transition_options_for(proposal, person)
    revisions = list(proposal.revisions.select_related("author").order_by("-number"))
    endorsements = list(proposal.endorsements.all())
    return render(
        request,
        "proposals/proposal_detail.html",
        {
            "proposal": proposal,
            "text_html": demote_headings(proposal.text_html),
            "revisions": revisions,
            "reviews": list(proposal.reviews.all()),
            "endorsements": [
                {
                    "endorsement": e,
                    "withdraw_allowed": _endorsement_withdrawable(e, proposal, person),
                }
                for e in endorsements
            ],
            "endorsement_count": rules.endorsements_counted(proposal),
            "approvals": rules.approvals_of_current_revision(proposal),
            "endorse": _endorse_state(proposal, person),
            "timeline": _timeline(proposal, endorsements),
            "submission": _related_or_none(proposal, "submission"),
            "outcome_record": _related_or_none(proposal, "outcome_record"),
            "actions": [o for o in options if o.allowed],
            "blocked": [o for o in options if not o.allowed and o.kind in BLOCKED_KINDS],
            "unavailable": [o for o in options if not o.allowed and o.kind not in BLOCKED_KINDS],
            "transitions_with_page": {
                name for name, action in TRANSITIONS.items() if action.own_page
            },
            "may_edit": not rules.edit_permission_reasons(proposal, person)
            and not rules.edit_state_reasons(proposal),
            "is_author": rules.is_author(proposal, person),
            "roles": roles,
        },
    )


ACTION_LABELS = {
    "create": gettext_lazy("Created"),
    "endorse": gettext_lazy("Endorsed"),
    "withdraw_endorsement": gettext_lazy("Endorsement withdrawn"),
    "edit": gettext_lazy("Edited"),
}


def _timeline(proposal: Proposal, endorsements: list[Endorsement]) -> list[dict[str, Any]]:
    """The proposal's log, oldest first, in words: what happened, who, from which state to which."""
    states = dict(ProposalState.choices)
    organizations: dict[Any, Organization] = {
        e.organization_id: e.organization for e in endorsements
    }
    entries = []
    for log in proposal_history(proposal):
        action = TRANSITIONS.get(log.transition)
        label = action.label if action else ACTION_LABELS.get(log.transition)
        organization_id = log.data.get("organization") if isinstance(log.data, dict) else None
        entries.append(
            {
                "at": log.at,
                "label": label or log.transition.replace("_", " ").capitalize(),
                "actor": log.actor,
                "comment": log.comment,
                "moved": bool(log.source) and log.source != log.target,
                "source": states.get(log.source, log.source),
                "target": states.get(log.target, log.target),
                "organization": organizations.get(organization_id),
            }
        )
    return entries


def _related_or_none(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


def _endorsement_withdrawable(endorsement: Endorsement, proposal: Proposal, person: Any) -> bool:
    return not WITHDRAW_ENDORSEMENT.permission_reasons(
        proposal, person, endorsement=endorsement
    ) and not WITHDRAW_ENDORSEMENT.condition_reasons(
        proposal, person, timezone.now(), endorsement=endorsement
    )


def _endorse_state(proposal: Proposal, person: Any) -> dict[str, Any] | None:
    """Whether the person may endorse now, and if not why; None when they never may."""
    if ENDORSE.permission_reasons(proposal, person):
        return None
    roles = roles_of(person)
    reasons: list[str] = []
    allowed: list[int] = []
    now = timezone.now()
    for organization_id in sorted(roles.representative_organization_ids):
        refused = ENDORSE.condition_reasons(proposal, person, now, organization_id=organization_id)
        if refused:
            reasons.extend(r for r in refused if r not in reasons)
        else:
            allowed.append(organization_id)
    return {"allowed": bool(allowed), "reasons": [] if allowed else reasons}


@login_required
def proposal_diff(request: PersonRequest, pk: int) -> HttpResponse:
    """Two revisions side by side: what was removed and what was added."""
    proposal = _visible_proposal(request, pk)
    revisions = list(proposal.revisions.select_related("author").order_by("number"))
    numbers = [revision.number for revision in revisions]
    newest = numbers[-1] if numbers else 1
    to_number = _number_param(request.GET.get("to"), newest)
    from_number = _number_param(request.GET.get("from"), max(to_number - 1, 1))
    by_number = {revision.number: revision for revision in revisions}
    if from_number not in by_number or to_number not in by_number:
        raise Http404(_("This proposal has no such revision."))
    old, new = by_number[from_number], by_number[to_number]
    return render(
        request,
        "proposals/proposal_diff.html",
        {
            "proposal": proposal,
            "revisions": revisions,
            "old": old,
            "new": new,
            "changes": [
                (_field_label(name), readable_diff(lines))
                for name, lines in revisions_diff(old, new).items()
                if lines
            ],
        },
    )


def _number_param(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")
WORDS = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class DiffRow:
    """One line of a readable diff: its numbers in the two revisions and its parts."""

    kind: str  # "same", "removed", "added" or "gap"
    old_number: int | None = None
    new_number: int | None = None
    parts: tuple[tuple[str, str], ...] = ()  # (kind, text) with kind "same", "removed", "added"


def readable_diff(unified: list[str]) -> list[DiffRow]:
    """Rows for a page from proposals.diff's unified lines; within a changed line, the
    words that changed are marked."""
    rows: list[DiffRow] = []
    old_number = new_number = 0
    removed: list[DiffRow] = []
    added: list[DiffRow] = []

    def flush() -> None:
        for index, (gone, came) in enumerate(zip(removed, added, strict=False)):
            old_parts, new_parts = _changed_words(gone.parts[0][1], came.parts[0][1])
            removed[index] = DiffRow("removed", gone.old_number, None, old_parts)
            added[index] = DiffRow("added", None, came.new_number, new_parts)
        rows.extend(removed)
        rows.extend(added)
        removed.clear()
        added.clear()

    body = unified[2:] if unified[:1] and unified[0].startswith("---") else unified
    for line in body:
        hunk = HUNK.match(line)
        if hunk:
            flush()
            if rows:
                rows.append(DiffRow("gap"))
            old_number, new_number = int(hunk.group(1)), int(hunk.group(2))
        elif line.startswith("-"):
            removed.append(DiffRow("removed", old_number, None, (("removed", line[1:]),)))
            old_number += 1
        elif line.startswith("+"):
            added.append(DiffRow("added", None, new_number, (("added", line[1:]),)))
            new_number += 1
        else:
            flush()
            rows.append(DiffRow("same", old_number, new_number, (("same", line[1:]),)))
            old_number += 1
            new_number += 1
    flush()
    return rows


def _changed_words(old: str, new: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    old_words, new_words = WORDS.findall(old), WORDS.findall(new)
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    old_parts: list[tuple[str, str]] = []
    new_parts: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        before, after = "".join(old_words[i1:i2]), "".join(new_words[j1:j2])
        if tag == "equal":
            old_parts.append(("same", before))
            new_parts.append(("same", after))
            continue
        if before:
            old_parts.append(("removed", before))
        if after:
            new_parts.append(("added", after))
    return tuple(old_parts), tuple(new_parts)


def _field_label(name: str) -> str:
    return str(getattr(Revision._meta.get_field(name), "verbose_name", name)).capitalize()


@login_required
def proposal_transition(request: PersonRequest, pk: int, name: str) -> HttpResponse:
    """A transition's page (its form) on GET; running it on POST, or showing why it was refused."""
    if name not in TRANSITIONS:
        raise Http404(_("There is no such action."))
    proposal = _visible_proposal(request, pk)
    form_class = transition_form_class(name)
    form = form_class(_posted(request), initial={"version": _seen_version(request, proposal)})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            comment, arguments = transition_arguments(form)
            try:
                result = services.proposal_transition_run(
                    proposal=proposal,
                    name=name,
                    actor=request.user,
                    comment=comment,
                    arguments=arguments,
                    seen_version=form.cleaned_data.get("version"),
                )
            except UnknownTransition:
                raise Http404(_("There is no such action.")) from None
            except Refused as refused:
                if refused.kind != RefusalKind.INVALID:
                    _refusal_to_messages(request, refused)
                    return redirect("proposals:proposal_detail", pk=proposal.pk)
                _refusal_to_form(form, refused)
                status = 400
            else:
                messages.success(request, _transition_done_message(name, result.obj))
                if not rules.may_view(result.obj, request.user):
                    return redirect("proposals:home")
                return redirect("proposals:proposal_detail", pk=proposal.pk)
        else:
            status = 400
    option = next(o for o in transition_options_for(proposal, request.user) if o.name == name)
    return render(
        request,
        "proposals/transition_form.html",
        {"proposal": proposal, "form": form, "option": option},
        status=status,
    )


def _transition_done_message(name: str, proposal: Proposal) -> str:
    if name == "approve" and proposal.state == ProposalState.IN_REVIEW:
        return _("Your approval is recorded; more approvals are needed.")
    return _("Done: %(action)s. The proposal is now %(state)s.") % {
        "action": TRANSITIONS[name].label,
        "state": proposal.get_state_display().lower(),
    }


@login_required
def proposal_endorse(request: PersonRequest, pk: int) -> HttpResponse:
    """Confirm, then endorse the proposal on behalf of the person's organisation."""
    proposal = _visible_proposal(request, pk)
    person = request.user
    reasons = ENDORSE.permission_reasons(proposal, person)
    if reasons:
        raise PermissionDenied(" ".join(reasons))
    organization_ids = sorted(roles_of(person).representative_organization_ids)
    form = EndorseForm(
        _posted(request),
        organization_ids=organization_ids,
        confirm=not accounts.recently_confirmed(request),
        initial={"version": _seen_version(request, proposal)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.endorsement_check(
                proposal=proposal, person=person, organization=form.cleaned_data["organization"]
            )
            accounts.recent_confirmation_check(
                request,
                password=form.cleaned_data.get("password", ""),
                code=form.cleaned_data.get("code", ""),
            )
            services.endorsement_create(
                proposal=proposal,
                person=person,
                organization=form.cleaned_data["organization"],
                seen_version=form.cleaned_data.get("version"),
            )
        except Refused as refused:
            if refused.kind != RefusalKind.INVALID:
                _refusal_to_messages(request, refused)
            else:
                form.add_error("password", refused.reasons[0])
                return render(
                    request,
                    "proposals/endorse_confirm.html",
                    {
                        "proposal": proposal,
                        "form": form,
                        "endorse": _endorse_state(proposal, person),
                    },
                    status=400,
                )
        else:
            messages.success(
                request,
                _("%(organization)s endorses this proposal.")
                % {"organization": form.cleaned_data["organization"]},
            )
        return redirect("proposals:proposal_detail", pk=proposal.pk)
    template = (
        "proposals/_endorse_form.html" if _is_htmx(request) else "proposals/endorse_confirm.html"
    )
    return render(
        request,
        template,
        {"proposal": proposal, "form": form, "endorse": _endorse_state(proposal, person)},
        status=400 if form.errors else 200,
    )


@login_required
def endorsement_withdraw(request: PersonRequest, pk: int, endorsement_pk: int) -> HttpResponse:
    """Confirm, then withdraw an endorsement; it stays in the history."""
    proposal = _visible_proposal(request, pk)
    endorsement = next((e for e in proposal.endorsements.all() if e.pk == endorsement_pk), None)
    if endorsement is None:
        raise Http404(_("This proposal has no such endorsement."))
    if request.method == "POST":
        try:
            services.endorsement_withdraw(
                endorsement=endorsement,
                person=request.user,
                seen_version=_version_param(request.POST.get("version")),
            )
        except Refused as refused:
            _refusal_to_messages(request, refused)
        else:
            messages.success(
                request,
                _("The endorsement of %(organization)s is withdrawn.")
                % {"organization": endorsement.organization},
            )
        return redirect("proposals:proposal_detail", pk=proposal.pk)
    reasons = WITHDRAW_ENDORSEMENT.permission_reasons(
        proposal, request.user, endorsement=endorsement
    ) or WITHDRAW_ENDORSEMENT.condition_reasons(
        proposal, request.user, timezone.now(), endorsement=endorsement
    )
    template = (
        "proposals/_withdraw_endorsement_form.html"
        if _is_htmx(request)
        else "proposals/withdraw_endorsement_confirm.html"
    )
    return render(
        request,
        template,
        {
            "proposal": proposal,
            "endorsement": endorsement,
            "reasons": reasons,
            "seen_version": _seen_version(request, proposal),
        },
    )


# Occasions


# The months the calendar shows: wide enough for any occasion, far from date's limits (1-9999),
# so that the weeks around a month and the links to its neighbours always exist.
CALENDAR_FIRST_MONTH = date(1900, 1, 1)
CALENDAR_LAST_MONTH = date(2999, 12, 1)


def _month_param(value: str | None, today: date) -> date:
    """The month asked for as YYYY-MM, clamped to the calendar's range; this month if unreadable."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
    except ValueError:
        return today.replace(day=1)
    if not 1 <= month <= 12:
        return today.replace(day=1)
    if (year, month) < (CALENDAR_FIRST_MONTH.year, CALENDAR_FIRST_MONTH.month):
        return CALENDAR_FIRST_MONTH
    if (year, month) > (CALENDAR_LAST_MONTH.year, CALENDAR_LAST_MONTH.month):
        return CALENDAR_LAST_MONTH
    return date(year, month, 1)


def _with_state_counts(queryset: QuerySet[Occasion], person: Any) -> QuerySet[Occasion]:
    visible = proposals_visible_to(person).values("pk")
    counts = {
        f"count_{state.value}": Count(
            "proposals", filter=Q(proposals__state=state, proposals__in=visible), distinct=True
        )
        for state in ProposalState
    }
    return queryset.annotate(**counts)


def _state_counts(occasion: Occasion) -> list[tuple[str, str, int]]:
    return [
        (state.value, str(state.label), getattr(occasion, f"count_{state.value}"))
        for state in ProposalState
        if getattr(occasion, f"count_{state.value}")
    ]


@login_required
def occasion_list(request: PersonRequest) -> HttpResponse:
    """Upcoming occasions and a month calendar of occasions and deadlines."""
    now = timezone.now()
    today = timezone.localdate()
    month = _month_param(request.GET.get("month"), today)
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
    first, last = weeks[0][0], weeks[-1][-1]
    zone = timezone.get_current_timezone()
    upcoming = list(
        _with_state_counts(
            Occasion.objects.filter(Q(submission_deadline__gte=now) | Q(ends_on__gte=today)),
            request.user,
        ).order_by("submission_deadline")
    )
    for occasion in upcoming:
        occasion.state_counts = _state_counts(occasion)  # type: ignore[attr-defined]
    in_view = Occasion.objects.filter(
        Q(starts_on__lte=last, ends_on__gte=first)
        | Q(
            submission_deadline__gte=datetime.combine(first, time.min, tzinfo=zone),
            submission_deadline__lte=datetime.combine(last, time.max, tzinfo=zone),
        )
    ).order_by("starts_on")
    events: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for occasion in in_view:
        deadline_day = timezone.localtime(occasion.submission_deadline).date()
        events[deadline_day].append({"occasion": occasion, "deadline": True})
        day = max(occasion.starts_on, first)
        while day <= min(occasion.ends_on, last):
            events[day].append({"occasion": occasion, "deadline": False})
            day += timedelta(days=1)
    previous_month = max((month - timedelta(days=1)).replace(day=1), CALENDAR_FIRST_MONTH)
    next_month = min((month + timedelta(days=32)).replace(day=1), CALENDAR_LAST_MONTH)
    return render(
        request,
        "proposals/occasion_list.html",
        {
            "upcoming": upcoming,
            "month": month,
            "weeks": [
                [
                    {
                        "day": day,
                        "events": events.get(day, []),
                        "in_month": day.month == month.month,
                        "today": day == today,
                    }
                    for day in week
                ]
                for week in weeks
            ],
            "weekdays": [_weekday_name(day) for day in weeks[0]],
            "previous_month": previous_month.strftime("%Y-%m"),
            "next_month": next_month.strftime("%Y-%m"),
            "calendar_url": _calendar_url(request),
            "now": now,
        },
    )


def _weekday_name(day: date) -> str:
    from django.utils.dates import WEEKDAYS_ABBR

    return str(WEEKDAYS_ABBR[day.weekday()])


def _calendar_url(request: PersonRequest) -> str:
    """The person's iCal subscription (served by the calendar feed at /calendar/<token>.ics)."""
    return request.build_absolute_uri(
        reverse("calendar-feed", kwargs={"token": request.user.calendar_token})
    )


@login_required
def occasion_detail(request: PersonRequest, pk: int) -> HttpResponse:
    occasion = get_object_or_404(Occasion, pk=pk)
    proposals = (
        proposals_visible_to(request.user)
        .filter(occasion=occasion)
        .select_related("lead_organization", "target_body")
        .order_by("title", "pk")
    )
    by_state: dict[str, list[Proposal]] = defaultdict(list)
    for proposal in proposals:
        by_state[proposal.state].append(proposal)
    return render(
        request,
        "proposals/occasion_detail.html",
        {
            "occasion": occasion,
            "by_state": [
                (state.value, state.label, by_state[state.value])
                for state in ProposalState
                if by_state.get(state.value)
            ],
            "deadline_changes": occasion.deadline_changes.order_by("-version"),
            "ics_url": request.build_absolute_uri(
                reverse("occasion-ics", kwargs={"pk": occasion.pk})
            ),
            "now": timezone.now(),
        },
    )


# The group


@login_required
def group_page(request: PersonRequest) -> HttpResponse:
    """Organisations by kind and status, the presidency now and before, the secretariat."""
    organizations = Organization.objects.select_related("parent").order_by("name")
    kinds: dict[str, dict[str, list[Organization]]] = {
        kind.value: {status.value: [] for status in Organization.Status}
        for kind in Organization.Kind
    }
    for organization in organizations:
        kinds[organization.kind][organization.status].append(organization)
    terms = list(PresidencyTerm.objects.select_related("organization").order_by("-starts_on"))
    current = presidency_current()
    secretariat_people = Membership.objects.filter(
        role=Role.SECRETARIAT, organization__is_secretariat=True
    ).select_related("person", "organization")
    return render(
        request,
        "proposals/group.html",
        {
            "kinds": [
                (
                    Organization.Kind(kind).label,
                    [
                        (Organization.Status(status).label, status, members)
                        for status, members in statuses.items()
                        if members
                    ],
                )
                for kind, statuses in kinds.items()
                if any(statuses.values())
            ],
            "current": current,
            "terms": terms,
            "secretariat": next((o for o in organizations if o.is_secretariat), None),
            "secretariat_people": secretariat_people,
        },
    )


# My settings


@login_required
def settings_page(request: PersonRequest) -> HttpResponse:
    """The person's own language, time zone and notifications: the form validates, and
    proposals.people saves and audits the change."""
    form = SettingsForm(_posted(request), instance=request.user)
    if request.method == "POST" and form.is_valid():
        person = people.person_settings_update(
            person=request.user, request=request, **form.cleaned_data
        )
        translation.activate(person.language)
        messages.success(request, _("Your settings are saved."))
        response = redirect("proposals:settings")
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            person.language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        )
        return response
    return render(
        request,
        "proposals/settings.html",
        {"form": form, "calendar_url": _calendar_url(request)},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def calendar_token_renew(request: PersonRequest) -> HttpResponse:
    """A new calendar link: the old one stops working."""
    services.calendar_token_regenerate(person=request.user)
    messages.success(request, _("Your calendar has a new link; the old link no longer works."))
    return redirect("proposals:settings")


# The delivery log


@login_required
def delivery_log(request: PersonRequest) -> HttpResponse:
    """Every email queued, sent or failed, newest first: for the secretariat."""
    roles = roles_of(request.user)
    if not (roles.secretariat or roles.is_superuser):
        raise PermissionDenied(_("Only the secretariat can read the delivery log."))
    deliveries = deliveries_logged()
    status = request.GET.get("status", "")
    if status in Delivery.Status.values:
        deliveries = deliveries.filter(status=status)
    kind = request.GET.get("kind", "")
    if kind in Delivery.Kind.values:
        deliveries = deliveries.filter(kind=kind)
    page, query = page_with_query(request, deliveries, DELIVERY_PAGE_SIZE)
    for delivery in page.object_list:
        delivery.event_label = email_event_label(delivery.template)
    return render(
        request,
        "proposals/delivery_log.html",
        {
            "page": page,
            "query": query,
            "statuses": Delivery.Status.choices,
            "kinds": Delivery.Kind.choices,
            "status": status,
            "kind": kind,
            "proposal_type_id": ContentType.objects.get_for_model(Proposal).pk,
        },
    )


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico where a page names none (the admin)."""
    return redirect(static("proposals/favicon.svg"), permanent=True)


# How the workflow works

BOX_WIDTH, BOX_HEIGHT, ROW_GAP = 240, 52, 120
MAIN_X, SIDE_X, TOP = 230, 600, 40


def workflow_diagram() -> dict[str, Any]:
    """An SVG layout of the proposal's state machine, computed from its declared transitions.

    States that are reached from several states by one transition (withdraw) go to a side
    column; the others stand in one column in their declared order, with forward edges down,
    edges back on the left, and a transition that may stay in its state as a loop.
    """
    edges = transition_edges()
    sources_of: dict[str, set[str]] = defaultdict(set)
    for source, name, _target in edges:
        sources_of[name].add(source)
    side = {target for _s, name, target in edges if len(sources_of[name]) > 1}
    order = [state.value for state in ProposalState]
    main = [state for state in order if state not in side]
    labels = dict(ProposalState.choices)
    nodes: dict[str, dict[str, Any]] = {}
    for row, state in enumerate(main):
        nodes[state] = {"x": MAIN_X, "y": TOP + row * ROW_GAP}
    for state in sorted(side, key=order.index):
        rows = [main.index(s) for _s2, name, t in edges if t == state for s in [_s2] if s in main]
        middle = (min(rows) + max(rows)) / 2 if rows else 0
        nodes[state] = {"x": SIDE_X, "y": TOP + middle * ROW_GAP}
    for state, node in nodes.items():
        node.update(
            state=state,
            label=str(labels.get(state, state)),
            cx=node["x"] + BOX_WIDTH / 2,
            cy=node["y"] + BOX_HEIGHT / 2,
            width=BOX_WIDTH,
            height=BOX_HEIGHT,
        )
    drawn: list[dict[str, Any]] = []
    labelled_side: set[str] = set()
    back = 0
    for source, name, target in edges:
        label = str(TRANSITIONS[name].label)
        a, b = nodes[source], nodes[target]
        if target in side:
            path = (
                f"M{a['x'] + BOX_WIDTH},{a['cy']} "
                f"C{a['x'] + BOX_WIDTH + 60},{a['cy']} {b['x'] - 60},{b['cy']} {b['x']},{b['cy']}"
            )
            first = name not in labelled_side
            labelled_side.add(name)
            drawn.append(
                {
                    "path": path,
                    "label": label if first else "",
                    "lx": b["cx"],
                    "ly": b["y"] - 12,
                    "anchor": "middle",
                    "kind": "side",
                }
            )
        elif source == target:
            x, y = a["x"], a["cy"] + 10
            path = f"M{x},{y} C{x - 70},{y + 40} {x - 70},{y - 30} {x},{y - 4}"
            drawn.append(
                {
                    "path": path,
                    "label": label,
                    "lx": x - 62,
                    "ly": y + 34,
                    "anchor": "end",
                    "kind": "loop",
                }
            )
        elif main.index(target) == main.index(source) + 1:
            path = f"M{a['cx']},{a['y'] + BOX_HEIGHT} L{b['cx']},{b['y'] - 2}"
            drawn.append(
                {
                    "path": path,
                    "label": label,
                    "lx": a["cx"] + 10,
                    "ly": (a["y"] + BOX_HEIGHT + b["y"]) / 2 + 5,
                    "anchor": "start",
                    "kind": "forward",
                }
            )
        else:
            back += 1
            offset = 60 + back * 30
            path = (
                f"M{a['x']},{a['cy'] - 12} C{a['x'] - offset},{a['cy'] - 12} "
                f"{b['x'] - offset},{b['cy'] + 12} {b['x'] - 2},{b['cy'] + 12}"
            )
            drawn.append(
                {
                    "path": path,
                    "label": label,
                    "lx": a["x"] - offset + 8,
                    "ly": (a["cy"] + b["cy"]) / 2 + 4,
                    "anchor": "end",
                    "kind": "back",
                }
            )
    height = max(node["y"] for node in nodes.values()) + BOX_HEIGHT + TOP
    return {
        "nodes": list(nodes.values()),
        "edges": drawn,
        "width": SIDE_X + BOX_WIDTH + 20,
        "height": height,
    }


def _declared_rank(name: str) -> int:
    """Transitions in the order the lifecycle declares them."""
    names = list(TRANSITIONS)
    return names.index(name) if name in names else len(names)


@login_required
def workflow_page(request: PersonRequest) -> HttpResponse:
    """The lifecycle of a proposal, drawn from the state machine, and who may do what."""
    labels = dict(ProposalState.choices)
    rows: dict[str, dict[str, Any]] = {}
    for source, name, target in transition_edges():
        row = rows.setdefault(
            name,
            {
                "name": name,
                "label": TRANSITIONS[name].label,
                "sources": [],
                "targets": [],
                "who": TRANSITIONS[name].help_text,
            },
        )
        if labels[source] not in row["sources"]:
            row["sources"].append(labels[source])
        if labels[target] not in row["targets"] and target != source:
            row["targets"].append(labels[target])
    return render(
        request,
        "proposals/workflow.html",
        {
            "diagram": workflow_diagram(),
            "rows": sorted(rows.values(), key=lambda row: _declared_rank(row["name"])),
        },
    )
