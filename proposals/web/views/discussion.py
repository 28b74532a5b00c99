"""Pages of a proposal's discussion: the one story of the proposal's page (comments and their
replies, reviewers' decisions, transitions and revisions, in order), and the forms that post,
answer, edit, delete and hide comments, each working without JavaScript. A small script
(proposals/static/proposals/mentions.js) completes @usernames from `mention_candidates`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from proposals import discussion
from proposals.limits import DISCUSSION_COMMENT_MAX_LENGTH, NOTE_MAX_LENGTH
from proposals.models import Comment, Proposal, Review, Revision
from proposals.selectors import roles_of
from proposals.web.views.common import PersonRequest, refusal_to_form, visible_proposal
from workflow.errors import Refused

EXCERPT_LENGTH = 80  # characters of a paragraph shown where one is chosen
REVIEW_TRANSITIONS = {Review.Decision.APPROVE, Review.Decision.REQUEST_CHANGES}


class CommentForm(forms.Form):
    """A comment, a reply (`parent`) or a comment on a paragraph of a revision."""

    body = forms.CharField(
        label=gettext_lazy("Your comment"),
        max_length=DISCUSSION_COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Markdown. Type @ and a username to mention someone."),
    )
    parent = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    paragraph = forms.TypedChoiceField(
        label=gettext_lazy("The comment is about"), coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args: Any, paragraphs: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[Any, str]] = [("", _("The whole proposal"))]
        for number, text in enumerate(paragraphs, start=1):
            choices.append(
                (
                    number,
                    _("Paragraph %(number)d: %(start)s")
                    % {"number": number, "start": _excerpt(text)},
                )
            )
        field: Any = self.fields["paragraph"]
        field.choices = choices


class CommentBodyForm(forms.Form):
    """The new text of a comment; the service says what is wrong with it (after whether this
    person may edit it at all)."""

    body = forms.CharField(
        label=gettext_lazy("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": DISCUSSION_COMMENT_MAX_LENGTH}),
    )


class CommentHideForm(forms.Form):
    """Why the secretariat hides a comment; the service checks it."""

    reason = forms.CharField(
        label=gettext_lazy("Why it is hidden"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": NOTE_MAX_LENGTH}),
        help_text=gettext_lazy("The author and every reader of the proposal see this reason."),
    )


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 1] + "…"


def _paragraph_param(value: str | None, count: int) -> int | None:
    if value and value.isascii() and value.isdigit() and 1 <= int(value) <= count:
        return int(value)
    return None


# The story of the proposal's page


def _story(
    proposal: Proposal,
    timeline: list[dict[str, Any]],
    reviews: list[Review],
    revisions: list[Revision],
    threads: list[discussion.Thread],
) -> list[dict[str, Any]]:
    """Every entry of the proposal's page, oldest first. A reviewer's decision is told by its
    transition (approve, request changes), which names the revision decided on; a review
    without one (an older record) is an entry of its own."""
    waiting = list(reviews)
    entries: list[dict[str, Any]] = []
    for entry in timeline:
        transition = entry.get("transition", "")
        review = next(
            (
                r
                for r in waiting
                if transition in REVIEW_TRANSITIONS
                and r.decision == transition
                and r.reviewer_id == entry.get("actor_id")
            ),
            None,
        )
        if review is not None:
            waiting.remove(review)
        entries.append({**entry, "kind": "transition", "review": review})
    entries += [{"kind": "review", "at": r.created_at, "review": r} for r in waiting]
    entries += [
        {"kind": "revision", "at": r.created_at, "revision": r} for r in revisions if r.number > 1
    ]
    entries += [{"kind": "thread", "at": t.at, "thread": t} for t in threads]
    order = {"transition": 0, "review": 1, "revision": 2, "thread": 3}
    return sorted(entries, key=lambda e: (e["at"], order[e["kind"]]))


def discussion_context(
    request: PersonRequest,
    proposal: Proposal,
    *,
    timeline: list[dict[str, Any]],
    revisions: list[Revision],
) -> dict[str, Any]:
    """What the proposal's page shows of its story and its discussion (two queries for the
    comments, their edits and mentions, whatever their number)."""
    current = next((r for r in revisions if r.number == proposal.revision), None)
    blocks = discussion.paragraphs(current.text if current else proposal.text)
    chosen = _paragraph_param(request.GET.get("paragraph"), len(blocks))
    form = CommentForm(
        paragraphs=blocks,
        initial={"revision": proposal.revision, "paragraph": chosen},
        auto_id="comment-%s",
    )
    roles = roles_of(request.user)
    return {
        "story": _story(
            proposal,
            timeline,
            list(proposal.reviews.all()),
            revisions,
            discussion.threads_of(proposal),
        ),
        "comment_form": form,
        "paragraphs": [(number, _excerpt(text)) for number, text in enumerate(blocks, start=1)],
        "chosen_paragraph": blocks[chosen - 1] if chosen else "",
        "may_hide": roles.secretariat_or_superuser,
        "mention_url": reverse("proposals:mention_candidates", args=[proposal.pk]),
    }


# The forms' pages


def _comment_of(request: PersonRequest, pk: int, comment_pk: int) -> tuple[Proposal, Comment]:
    """The comment, on a proposal this person sees (404 otherwise)."""
    proposal = visible_proposal(request, pk)
    return proposal, get_object_or_404(discussion.comments_of(proposal), pk=comment_pk)


def _to_comment(comment: Comment) -> HttpResponse:
    return redirect(discussion.comment_path(comment))


def _form_page(
    request: PersonRequest,
    proposal: Proposal,
    mode: str,
    form: forms.Form,
    comment: Comment | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "proposals/discussion_comment.html",
        {
            "proposal": proposal,
            "mode": mode,
            "form": form,
            "comment": comment,
            "mention_url": reverse("proposals:mention_candidates", args=[proposal.pk]),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def comment_create(request: PersonRequest, pk: int) -> HttpResponse:
    """Post a comment, a reply (`parent`) or a comment on a paragraph (`paragraph` of the
    `revision` the page showed); GET shows the form alone (`?parent=` or `?paragraph=`)."""
    proposal = visible_proposal(request, pk)
    revision_number = proposal.revision
    if request.method == "POST":
        revision_number = _number(request.POST.get("revision")) or proposal.revision
    revision = Revision.objects.filter(proposal=proposal, number=revision_number).first()
    blocks = discussion.paragraphs(revision.text if revision else proposal.text)
    if request.method == "GET":
        form = CommentForm(
            paragraphs=blocks,
            initial={
                "parent": _number(request.GET.get("parent")),
                "revision": proposal.revision,
                "paragraph": _paragraph_param(request.GET.get("paragraph"), len(blocks)),
            },
            auto_id="comment-%s",
        )
        return _form_page(request, proposal, "new", form)
    form = CommentForm(request.POST, paragraphs=blocks, auto_id="comment-%s")
    if form.is_valid():
        data = form.cleaned_data
        parent = None
        if data["parent"]:
            parent = Comment.objects.filter(proposal=proposal, pk=data["parent"]).first()
        try:
            if data["parent"] and parent is None:
                form.add_error(None, _("The comment you answer is not on this proposal."))
            else:
                comment = discussion.comment_create(
                    proposal=proposal,
                    author=request.user,
                    body=data["body"],
                    parent=parent,
                    revision=revision if data["paragraph"] else None,
                    paragraph=data["paragraph"],
                    request=request,
                )
                return _to_comment(comment)
        except Refused as refused:
            refusal_to_form(form, refused)
    return _form_page(request, proposal, "new", form, status=400)


def _number(value: str | None) -> int | None:
    if value and value.isascii() and value.isdigit() and 1 <= int(value) < 2**31:
        return int(value)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def comment_edit(request: PersonRequest, pk: int, comment_pk: int) -> HttpResponse:
    """Its author rewrites the comment; the earlier text stays in its history."""
    proposal, comment = _comment_of(request, pk, comment_pk)
    auto_id = f"edit-{comment.pk}-%s"
    if request.method == "GET":
        form = CommentBodyForm(initial={"body": comment.body}, auto_id=auto_id)
        return _form_page(request, proposal, "edit", form, comment)
    form = CommentBodyForm(request.POST, auto_id=auto_id)
    try:
        discussion.comment_edit(
            comment=comment,
            editor=request.user,
            body=request.POST.get("body", ""),
            request=request,
        )
        return _to_comment(comment)
    except Refused as refused:
        form.is_valid()
        refusal_to_form(form, refused)
        return _form_page(request, proposal, "edit", form, comment, status=_status(refused))


@login_required
@require_http_methods(["GET", "POST"])
def comment_delete(request: PersonRequest, pk: int, comment_pk: int) -> HttpResponse:
    """Its author deletes the comment, after confirming on this page or in the thread."""
    proposal, comment = _comment_of(request, pk, comment_pk)
    form = forms.Form(request.POST or None)
    if request.method == "GET":
        return _form_page(request, proposal, "delete", form, comment)
    try:
        discussion.comment_delete(comment=comment, actor=request.user, request=request)
        return _to_comment(comment)
    except Refused as refused:
        form.is_valid()
        refusal_to_form(form, refused)
        return _form_page(request, proposal, "delete", form, comment, status=_status(refused))


@login_required
@require_http_methods(["GET", "POST"])
def comment_hide(request: PersonRequest, pk: int, comment_pk: int) -> HttpResponse:
    """The secretariat hides the comment with a reason; its author is told."""
    proposal, comment = _comment_of(request, pk, comment_pk)
    auto_id = f"hide-{comment.pk}-%s"
    if request.method == "GET":
        return _form_page(request, proposal, "hide", CommentHideForm(auto_id=auto_id), comment)
    form = CommentHideForm(request.POST, auto_id=auto_id)
    try:
        discussion.comment_hide(
            comment=comment,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            request=request,
        )
        return _to_comment(comment)
    except Refused as refused:
        form.is_valid()
        refusal_to_form(form, refused)
        return _form_page(request, proposal, "hide", form, comment, status=_status(refused))


def _status(refused: Refused) -> int:
    return {"permission": 403, "invalid": 400}.get(str(refused.kind), 409)


@login_required
@require_GET
def mention_candidates(request: PersonRequest, pk: int) -> JsonResponse:
    """People who may see the proposal whose username begins with `q`, as JSON for the
    completion of @mentions."""
    proposal = visible_proposal(request, pk)
    prefix = request.GET.get("q", "")[:150]
    people = discussion.mention_candidates(proposal, prefix)
    return JsonResponse(
        {
            "people": [
                {"username": person.username, "name": person.get_full_name() or person.username}
                for person in people
            ]
        }
    )
