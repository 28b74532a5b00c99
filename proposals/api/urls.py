"""The API's routes under /api/: reference data, proposals and what hangs off a proposal."""

from __future__ import annotations

from django.urls import path

from proposals.api import (
    attachments,
    auth,
    departures,
    discussion,
    dossiers,
    invitations,
    personal_data,
    views,
)
from proposals.api import audit_trail as trail
from proposals.api import notifications as notification_api

router = views.ApiRouter()
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("people", views.PersonViewSet, basename="person")
router.register("presidencies", views.PresidencyTermViewSet, basename="presidency")
router.register("bodies", views.BodyViewSet, basename="body")
router.register("occasions", views.OccasionViewSet, basename="occasion")
router.register("proposals", views.ProposalViewSet, basename="proposal")
router.register("security-events", views.SecurityEventViewSet, basename="security-event")
router.register("audit-events", trail.AuditEventViewSet, basename="audit-event")
router.register("invitations", invitations.InvitationViewSet, basename="invitation")

PROPOSAL = "proposals/<int:proposal_id>/"

urlpatterns = [
    path("auth/token/", auth.TokenObtainView.as_view(), name="auth-token"),
    path(
        "auth/tokens/",
        auth.ApiTokenViewSet.as_view({"get": "list", "post": "create"}),
        name="auth-token-list",
    ),
    path(
        "auth/tokens/<int:pk>/",
        auth.ApiTokenViewSet.as_view({"delete": "destroy"}),
        name="auth-token-detail",
    ),
    path(
        PROPOSAL + "transitions/",
        views.ProposalTransitionViewSet.as_view({"get": "list"}),
        name="proposal-transition-list",
    ),
    path(
        PROPOSAL + "transitions/<str:name>/",
        views.ProposalTransitionViewSet.as_view({"post": "run"}),
        name="proposal-transition-run",
    ),
    path(
        PROPOSAL + "endorsements/",
        views.ProposalEndorsementViewSet.as_view({"get": "list", "post": "create"}),
        name="proposal-endorsement-list",
    ),
    path(
        PROPOSAL + "endorsements/<int:pk>/",
        views.ProposalEndorsementViewSet.as_view({"delete": "destroy"}),
        name="proposal-endorsement-detail",
    ),
    path(
        PROPOSAL + "reviews/",
        views.ProposalReviewViewSet.as_view({"get": "list"}),
        name="proposal-review-list",
    ),
    path(
        PROPOSAL + "revisions/",
        views.ProposalRevisionViewSet.as_view({"get": "list"}),
        name="proposal-revision-list",
    ),
    path(
        PROPOSAL + "revisions/diff/",
        views.ProposalRevisionViewSet.as_view({"get": "diff"}),
        name="proposal-revision-diff",
    ),
    path(
        PROPOSAL + "revisions/<int:number>/",
        views.ProposalRevisionViewSet.as_view({"get": "retrieve"}),
        name="proposal-revision-detail",
    ),
    path(
        PROPOSAL + "comments/",
        discussion.ProposalCommentViewSet.as_view({"get": "list", "post": "create"}),
        name="proposal-comment-list",
    ),
    path(
        PROPOSAL + "comments/<int:pk>/",
        discussion.ProposalCommentViewSet.as_view({"patch": "partial_update", "delete": "destroy"}),
        name="proposal-comment-detail",
    ),
    path(
        PROPOSAL + "comments/<int:pk>/hide/",
        discussion.ProposalCommentViewSet.as_view({"post": "hide"}),
        name="proposal-comment-hide",
    ),
    path(
        PROPOSAL + "history/",
        views.ProposalHistoryViewSet.as_view({"get": "list"}),
        name="proposal-history-list",
    ),
    path(
        PROPOSAL + "attachments/",
        attachments.ProposalAttachmentViewSet.as_view({"get": "list", "post": "create"}),
        name="proposal-attachment-list",
    ),
    path(
        PROPOSAL + "attachments/<int:pk>/",
        attachments.ProposalAttachmentViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="proposal-attachment-detail",
    ),
    path(
        PROPOSAL + "attachments/<int:pk>/download/",
        attachments.ProposalAttachmentViewSet.as_view({"get": "download"}),
        name="proposal-attachment-download",
    ),
    path(
        PROPOSAL + "dossier/",
        dossiers.ProposalDossierViewSet.as_view({"get": "retrieve"}),
        name="proposal-dossier",
    ),
    path(
        "occasions/<int:occasion_id>/dossiers/",
        dossiers.OccasionBundleViewSet.as_view({"get": "retrieve"}),
        name="occasion-dossiers",
    ),
    *departures.urlpatterns,
    *personal_data.urlpatterns,
    path(
        PROPOSAL + "follow/",
        notification_api.ProposalFollowViewSet.as_view(
            {"get": "retrieve", "put": "update", "delete": "destroy"}
        ),
        name="proposal-follow",
    ),
    path(
        "occasions/<int:occasion_id>/follow/",
        notification_api.OccasionFollowViewSet.as_view(
            {"get": "retrieve", "put": "update", "delete": "destroy"}
        ),
        name="occasion-follow",
    ),
    path(
        "notifications/",
        notification_api.NotificationViewSet.as_view({"get": "list"}),
        name="notification-list",
    ),
    path(
        "notifications/read-all/",
        notification_api.NotificationViewSet.as_view({"post": "read_all"}),
        name="notification-read-all",
    ),
    path(
        "notifications/<int:pk>/read/",
        notification_api.NotificationViewSet.as_view({"post": "read"}),
        name="notification-read",
    ),
    *router.urls,
]
