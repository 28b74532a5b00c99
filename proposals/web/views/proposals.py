"""Proposals: the list and its CSV, writing and editing, the preview, one proposal's page and
the diff of its revisions."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from proposals import rules, services
from proposals.accounts import login_or_api_token_required
from proposals.diff import DIFF_FIELDS, revisions_diff, text_diff
from proposals.dossiers.store import dossier_preview_allowed
from proposals.exports import proposals_people_csv_response, proposals_xlsx_response
from proposals.forecast import proposal_forecast
from proposals.lifecycle import (
    TRANSITIONS,
    WITHDRAW_ENDORSEMENT,
    TransitionOption,
    endorse_option,
    endorsements_of,
    next_step,
    transition_options_for,
)
from proposals.markdown import markdown_to_html
from proposals.models import (
    Endorsement,
    Organization,
    OutcomeResult,
    Proposal,
    ProposalState,
    Revision,
)
from proposals.records import proposal_history
from proposals.selectors import (
    proposals_visible_to,
    proposals_with_rule_data,
    roles_of,
)
from proposals.throttle import throttle_count
from proposals.web.forms import (
    MarkdownPreviewForm,
    ProposalForm,
    ProposalPageFilter,
    proposal_initial,
)
from proposals.web.views.common import (
    PAGE_SIZE,
    PersonRequest,
    demote_headings,
    page_with_query,
    posted,
    refusal_to_form,
    visible_proposal,
)
from proposals.web.views.discussion import discussion_context
from workflow.errors import RefusalKind, Refused, reason_code

# What a refusal of each kind is shown as on the proposal page.
BLOCKED_KINDS = {RefusalKind.CONDITION, RefusalKind.CONFLICT, RefusalKind.INVALID}


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


@login_or_api_token_required
def proposal_list_csv(request: PersonRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered list as CSV for people, every matching row: in the reader's language and
    zone (the API's CSV is the one for machines)."""
    queryset = _filtered_proposals(request).qs.prefetch_related("authors", "themes")
    return proposals_people_csv_response(
        queryset, zone=timezone.get_current_timezone(), filename="proposals.csv"
    )


@login_or_api_token_required
def proposal_list_xlsx(request: PersonRequest) -> HttpResponse:
    """The filtered list as an Excel workbook, every matching row, with typed columns."""
    queryset = _filtered_proposals(request).qs.prefetch_related("authors", "themes")
    return proposals_xlsx_response(
        queryset, zone=timezone.get_current_timezone(), filename="proposals.xlsx"
    )


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
    form = ProposalForm(posted(request), person=person)
    preview = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = _form_preview(request, form)
        else:
            try:
                proposal = services.proposal_create(author=person, **form.service_fields())
            except Refused as refused:
                refusal_to_form(form, refused)
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
    proposal = visible_proposal(request, pk)
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
        posted(request),
        person=person,
        proposal=proposal,
        initial=None if request.method == "POST" else proposal_initial(proposal),
    )
    preview = None
    conflict = None
    status = 200
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = _form_preview(request, form)
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
                if refused.kind == RefusalKind.CONFLICT:
                    current = fresh_proposal(proposal)
                    conflict = _edit_conflict(current, form)
                    form = _form_on_revision(request, person, current)
                    proposal = current
                else:
                    refusal_to_form(form, refused)
                status = 409 if refused.kind == RefusalKind.CONFLICT else 400
            else:
                if updated.revision != proposal.revision:
                    messages.success(
                        request,
                        _("Saved as revision %(number)s.") % {"number": updated.revision},
                    )
                elif updated.version == proposal.version:
                    messages.info(request, _("Nothing changed."))
                else:
                    messages.success(request, _("Saved."))
                return redirect("proposals:proposal_detail", pk=proposal.pk)
    return render(
        request,
        "proposals/proposal_form.html",
        {
            "form": form,
            "preview": preview,
            "proposal": proposal,
            "conflict": conflict,
            "editing_revision": _editing_revision(form, proposal),
            "changes_request": rules.changes_request(proposal),
        },
        status=400 if form.errors and status == 200 else status,
    )


def fresh_proposal(proposal: Proposal) -> Proposal:
    """The proposal as saved now, with what the rules read."""
    return proposals_with_rule_data().get(pk=proposal.pk)


def _editing_revision(form: ProposalForm, proposal: Proposal) -> int:
    """The revision the person's text started from: the one the form carries."""
    expected = form.data.get("expected_revision") if form.is_bound else None
    if expected and str(expected).isdigit():
        return int(expected)
    return proposal.revision


def _form_on_revision(request: PersonRequest, person: Any, current: Proposal) -> ProposalForm:
    """The person's posted version, now on top of the revision saved meanwhile: saving it keeps
    theirs (a new revision after that one), and they may merge by hand in it first."""
    data = request.POST.copy()
    data["expected_revision"] = str(current.revision)
    form = ProposalForm(data, person=person, proposal=current)
    form.is_valid()
    return form


@dataclass(frozen=True)
class EditConflict:
    """An edit made on an older revision than the one saved meanwhile: both, and their diff."""

    theirs: Revision
    mine_from: int
    changes: list[tuple[str, list[DiffRow]]]


def _edit_conflict(current: Proposal, form: ProposalForm) -> EditConflict:
    theirs = max(current.revisions.select_related("author"), key=lambda r: r.number)
    mine = {name: form.cleaned_data.get(name) or "" for name in DIFF_FIELDS}
    changes = []
    for name in DIFF_FIELDS:
        lines = text_diff(
            getattr(theirs, name),
            mine[name],
            old_label=f"{name} (revision {theirs.number})",
            new_label=f"{name} (yours)",
        )
        if lines:
            changes.append((_field_label(name), readable_diff(lines)))
    return EditConflict(
        theirs=theirs,
        mine_from=int(form.cleaned_data.get("expected_revision") or theirs.number),
        changes=changes,
    )


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


def _form_preview(request: PersonRequest, form: ProposalForm) -> str | None:
    """The preview of the form's text, or None with the reason as an error of the text."""
    try:
        return _preview(request, form.cleaned_data["text"])
    except PreviewBudgetSpent as spent:
        form.add_error("text", str(spent))
        return None


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
    return render(
        request, "proposals/_preview.html", {"preview": preview, "clear_text_errors": True}
    )


@login_required
def proposal_detail(request: PersonRequest, pk: int) -> HttpResponse:
    proposal = visible_proposal(request, pk)
    person = request.user
    roles = roles_of(person)
    options = transition_options_for(proposal, person)
    endorsing = endorse_option(proposal, person)
    my_endorsements = endorsements_of(proposal, person)
    if endorsing.allowed or not _endorsed_already(endorsing):
        options.append(endorsing)
    revisions = list(proposal.revisions.select_related("author").order_by("-number"))
    endorsements = list(proposal.endorsements.all())
    actions = [o for o in options if o.allowed]
    blocked = [o for o in options if not o.allowed and o.kind in BLOCKED_KINDS]
    may_edit = not rules.edit_permission_reasons(proposal, person) and not rules.edit_state_reasons(
        proposal
    )
    timeline = _timeline(proposal, endorsements)
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
            "my_endorsements": [
                {
                    "endorsement": e,
                    "withdraw_allowed": _endorsement_withdrawable(e, proposal, person),
                }
                for e in my_endorsements
            ],
            "endorsement_count": rules.endorsements_counted(proposal),
            "quorum_phrase": rules.quorum_phrase(proposal),
            "approvals_phrase": rules.approvals_needed_phrase(
                rules.approvals_of_current_revision(proposal),
                proposal.occasion.required_approvals if proposal.occasion else 1,
            ),
            "changes_request": rules.changes_request(proposal),
            "next_step": next_step(proposal),
            "timeline": timeline,
            "submission": _related_or_none(proposal, "submission"),
            "outcome_record": _related_or_none(proposal, "outcome_record"),
            "actions": actions,
            "blocked": blocked,
            "unavailable": [o for o in options if not o.allowed and o.kind not in BLOCKED_KINDS],
            "nothing_to_do": not actions and not blocked and not may_edit and not my_endorsements,
            "transitions_with_page": {
                name for name, action in TRANSITIONS.items() if action.own_page
            },
            "may_edit": may_edit,
            "dossier_preview": dossier_preview_allowed(proposal, person),
            "is_author": rules.is_author(proposal, person),
            "forecast": proposal_forecast(proposal),
            "roles": roles,
            **discussion_context(request, proposal, timeline=timeline, revisions=revisions),
        },
    )


def _endorsed_already(option: TransitionOption) -> bool:
    """Endorsing is refused only because the person's organisations endorsed already: the page
    says so with the endorsement instead of showing a blocked button."""
    return bool(option.reasons) and all(
        reason_code(reason) == "already_endorsed" for reason in option.reasons
    )


ACTION_LABELS = {
    "create": gettext_lazy("Created"),
    "endorse": gettext_lazy("Endorsed"),
    "withdraw_endorsement": gettext_lazy("Endorsement withdrawn"),
    "edit": gettext_lazy("Edited"),
    "attachment_added": gettext_lazy("Attachment added"),
    "attachment_removed": gettext_lazy("Attachment removed"),
}


def _timeline(proposal: Proposal, endorsements: list[Endorsement]) -> list[dict[str, Any]]:
    """The proposal's log, oldest first, in words: what happened, who, from which state to which."""
    states = dict(ProposalState.choices)
    outcomes = dict(OutcomeResult.choices)
    organizations: dict[Any, Organization] = {
        e.organization_id: e.organization for e in endorsements
    }
    entries = []
    for log in proposal_history(proposal):
        action = TRANSITIONS.get(log.transition)
        label = action.label if action else ACTION_LABELS.get(log.transition)
        data = log.data if isinstance(log.data, dict) else {}
        organization_id = data.get("organization")
        entries.append(
            {
                "at": log.at,
                "transition": log.transition,
                "actor_id": log.actor_id,
                "label": label or log.transition.replace("_", " ").capitalize(),
                "actor": log.actor,
                "comment": log.comment,
                "moved": bool(log.source) and log.source != log.target,
                "source": states.get(log.source, log.source),
                "target": states.get(log.target, log.target),
                "organization": organizations.get(organization_id),
                # What was decided, where the action records it: "Record outcome: Adopted";
                # the file's title for an attachment added or removed.
                "detail": outcomes.get(data.get("outcome", ""))
                if log.transition == "record_outcome"
                else data.get("title", "")
                if log.transition in ("attachment_added", "attachment_removed")
                else "",
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


def endorse_state(proposal: Proposal, person: Any) -> dict[str, Any] | None:
    """Whether the person may endorse now, and if not why; None when they never may."""
    option = endorse_option(proposal, person)
    if option.kind == RefusalKind.PERMISSION:
        return None
    return {"allowed": option.allowed, "reasons": option.reasons}


@login_required
def proposal_diff(request: PersonRequest, pk: int) -> HttpResponse:
    """Two revisions side by side: what was removed and what was added."""
    proposal = visible_proposal(request, pk)
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
