"""Acting on a proposal: its transitions (declared in proposals.lifecycle), endorsing and
withdrawing an endorsement."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals import accounts, rules, services
from proposals.lifecycle import (
    ENDORSE,
    TRANSITIONS,
    WITHDRAW_ENDORSEMENT,
    transition_options_for,
)
from proposals.models import (
    Proposal,
    ProposalState,
)
from proposals.selectors import roles_of
from proposals.web.forms import (
    EndorseForm,
    transition_arguments,
    transition_form_class,
)
from proposals.web.views.common import (
    PersonRequest,
    is_htmx,
    posted,
    refusal_to_form,
    refusal_to_messages,
    seen_version,
    version_param,
    visible_proposal,
)
from proposals.web.views.proposals import endorse_state
from workflow.errors import RefusalKind, Refused, UnknownTransition


@login_required
def proposal_transition(request: PersonRequest, pk: int, name: str) -> HttpResponse:
    """A transition's page (its form) on GET; running it on POST. Refused, either way, it
    returns to the proposal's page with the reasons (a form with errors stays on its page)."""
    if name not in TRANSITIONS:
        raise Http404(_("There is no such action."))
    proposal = visible_proposal(request, pk)
    form_class = transition_form_class(name)
    form = form_class(posted(request), initial={"version": seen_version(request, proposal)})
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
                    refusal_to_messages(request, refused)
                    return redirect("proposals:proposal_detail", pk=proposal.pk)
                refusal_to_form(form, refused)
                status = 400
            else:
                messages.success(request, _transition_done_message(name, result.obj))
                if not rules.may_view(result.obj, request.user):
                    return redirect("proposals:home")
                return redirect("proposals:proposal_detail", pk=proposal.pk)
        else:
            status = 400
    option = next(o for o in transition_options_for(proposal, request.user) if o.name == name)
    if request.method != "POST" and not option.allowed:
        for reason in option.reasons:
            messages.error(request, reason)
        return redirect("proposals:proposal_detail", pk=proposal.pk)
    return render(
        request,
        "proposals/transition_form.html",
        {
            "proposal": proposal,
            "form": form,
            "option": option,
            "confirmation": TRANSITIONS[name].confirmation,
            "approvals_phrase": rules.approvals_needed_phrase(
                rules.approvals_of_current_revision(proposal),
                proposal.occasion.required_approvals if proposal.occasion else 1,
            )
            if name == "approve"
            else "",
        },
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
    proposal = visible_proposal(request, pk)
    person = request.user
    reasons = ENDORSE.permission_reasons(proposal, person)
    if reasons:
        for reason in reasons:
            messages.error(request, reason)
        return redirect("proposals:proposal_detail", pk=proposal.pk)
    organization_ids = sorted(roles_of(person).representative_organization_ids)
    form = EndorseForm(
        posted(request),
        organization_ids=organization_ids,
        confirm=not accounts.recently_confirmed(request),
        initial={"version": seen_version(request, proposal)},
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
                refusal_to_messages(request, refused)
            else:
                form.add_error("password", refused.reasons[0])
                return render(
                    request,
                    "proposals/endorse_confirm.html",
                    {
                        "proposal": proposal,
                        "form": form,
                        "endorse": endorse_state(proposal, person),
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
        "proposals/_endorse_form.html" if is_htmx(request) else "proposals/endorse_confirm.html"
    )
    return render(
        request,
        template,
        {"proposal": proposal, "form": form, "endorse": endorse_state(proposal, person)},
        status=400 if form.errors else 200,
    )


@login_required
def endorsement_withdraw(request: PersonRequest, pk: int, endorsement_pk: int) -> HttpResponse:
    """Confirm, then withdraw an endorsement; it stays in the history."""
    proposal = visible_proposal(request, pk)
    endorsement = next((e for e in proposal.endorsements.all() if e.pk == endorsement_pk), None)
    if endorsement is None:
        raise Http404(_("This proposal has no such endorsement."))
    if request.method == "POST":
        try:
            services.endorsement_withdraw(
                endorsement=endorsement,
                person=request.user,
                seen_version=version_param(request.POST.get("version")),
            )
        except Refused as refused:
            refusal_to_messages(request, refused)
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
        if is_htmx(request)
        else "proposals/withdraw_endorsement_confirm.html"
    )
    return render(
        request,
        template,
        {
            "proposal": proposal,
            "endorsement": endorsement,
            "reasons": reasons,
            "seen_version": seen_version(request, proposal),
        },
    )
