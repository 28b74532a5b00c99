"""The delivery log of the secretariat: every email and webhook, its status and its event."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from proposals.calendar_import import feed_report
from proposals.filtersets import DELIVERY_SORTS, sorted_by
from proposals.models import Proposal, WebhookEvent
from proposals.notices import email_event_label
from proposals.records import Delivery, deliveries_logged
from proposals.selectors import roles_of
from proposals.web.views.common import PersonRequest, page_with_query

DELIVERY_PAGE_SIZE = 50


# The delivery log


@login_required
def delivery_log(request: PersonRequest) -> HttpResponse:
    """Every email and webhook queued, sent or failed, newest first: for the secretariat."""
    roles = roles_of(request.user)
    if not roles.secretariat_or_superuser:
        raise PermissionDenied(_("Only the secretariat can read the delivery log."))
    deliveries = deliveries_logged()
    status = request.GET.get("status", "")
    if status in Delivery.Status.values:
        deliveries = deliveries.filter(status=status)
    kind = request.GET.get("kind", "")
    if kind in Delivery.Kind.values:
        deliveries = deliveries.filter(kind=kind)
    channel = request.GET.get("channel", "")
    if channel in Delivery.Channel.values:
        deliveries = deliveries.filter(channel=channel)
    deliveries = sorted_by(deliveries, request.GET.get("sort", ""), DELIVERY_SORTS)
    page, query = page_with_query(request, deliveries, DELIVERY_PAGE_SIZE)
    webhook_labels = dict(WebhookEvent.choices)
    for delivery in page.object_list:
        if delivery.channel == Delivery.Channel.WEBHOOK:
            delivery.event_label = str(webhook_labels.get(delivery.event, delivery.event))
        else:
            delivery.event_label = email_event_label(delivery.template)
        if delivery.event == "calendar_feed.failed":  # why the feed failed, in the reader's words
            delivery.feed_reason = feed_report(delivery.context.get("last_error") or "").reason
    return render(
        request,
        "proposals/delivery_log.html",
        {
            "page": page,
            "query": query,
            "statuses": Delivery.Status.choices,
            "kinds": Delivery.Kind.choices,
            "channels": Delivery.Channel.choices,
            "status": status,
            "kind": kind,
            "channel": channel,
            "proposal_type_id": ContentType.objects.get_for_model(Proposal).pk,
        },
    )
