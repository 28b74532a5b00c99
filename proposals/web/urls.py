from django.urls import path

from proposals.web.session_timeout import session_keepalive
from proposals.web.views import account as account_views
from proposals.web.views import (
    actions,
    attachments,
    bodies,
    common,
    dashboard,
    deliveries,
    departures,
    discussion,
    dossiers,
    group,
    occasions,
    person_settings,
    proposals,
)
from proposals.web.views import audit_trail as trail_views
from proposals.web.views import invitations as invitation_views
from proposals.web.views import notifications as notification_views
from proposals.web.views import people as people_views
from proposals.web.views import personal_data as personal_data_views

app_name = "proposals"

urlpatterns = [
    path("", invitation_views.welcome_first(dashboard.dashboard), name="home"),
    path("welcome/", invitation_views.welcome, name="welcome"),
    path("invitations/", invitation_views.invitation_list, name="invitation_list"),
    path("invitations/new/", invitation_views.invitation_create, name="invitation_create"),
    path(
        "invitations/<int:pk>/resend/",
        invitation_views.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "invitations/<int:pk>/revoke/",
        invitation_views.invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "invitations/accept/<str:token>/",
        invitation_views.invitation_accept,
        name="invitation_accept",
    ),
    path("proposals/", proposals.proposal_list, name="proposal_list"),
    path("proposals/export.csv", proposals.proposal_list_csv, name="proposal_list_csv"),
    path("proposals/export.xlsx", proposals.proposal_list_xlsx, name="proposal_list_xlsx"),
    path("proposals/new/", proposals.proposal_create, name="proposal_create"),
    path("proposals/preview/", proposals.markdown_preview, name="markdown_preview"),
    path("proposals/<int:pk>/", proposals.proposal_detail, name="proposal_detail"),
    path("proposals/<int:pk>/edit/", proposals.proposal_edit, name="proposal_edit"),
    path("proposals/<int:pk>/diff/", proposals.proposal_diff, name="proposal_diff"),
    path(
        "proposals/<int:pk>/actions/<slug:name>/",
        actions.proposal_transition,
        name="proposal_transition",
    ),
    path("proposals/<int:pk>/endorse/", actions.proposal_endorse, name="proposal_endorse"),
    path(
        "proposals/<int:pk>/endorsements/<int:endorsement_pk>/withdraw/",
        actions.endorsement_withdraw,
        name="endorsement_withdraw",
    ),
    path(
        "proposals/<int:pk>/attachments/",
        attachments.attachment_add_page,
        name="attachment_add",
    ),
    path(
        "proposals/<int:pk>/attachments/<int:attachment_pk>/download/",
        attachments.attachment_download,
        name="attachment_download",
    ),
    path(
        "proposals/<int:pk>/attachments/<int:attachment_pk>/remove/",
        attachments.attachment_remove_page,
        name="attachment_remove",
    ),
    path("proposals/<int:pk>/dossier/", dossiers.dossier_download, name="dossier_download"),
    path("proposals/<int:pk>/dossier/preview/", dossiers.dossier_preview, name="dossier_preview"),
    path("occasions/<int:pk>/dossiers/", dossiers.occasion_bundle, name="occasion_bundle"),
    path("proposals/<int:pk>/comments/", discussion.comment_create, name="comment_create"),
    path(
        "proposals/<int:pk>/comments/<int:comment_pk>/edit/",
        discussion.comment_edit,
        name="comment_edit",
    ),
    path(
        "proposals/<int:pk>/comments/<int:comment_pk>/delete/",
        discussion.comment_delete,
        name="comment_delete",
    ),
    path(
        "proposals/<int:pk>/comments/<int:comment_pk>/hide/",
        discussion.comment_hide,
        name="comment_hide",
    ),
    path("proposals/<int:pk>/mentions/", discussion.mention_candidates, name="mention_candidates"),
    path("bodies/", bodies.body_list, name="body_list"),
    path("bodies/<int:pk>/", bodies.body_detail, name="body_detail"),
    path("bodies/<int:pk>/feeds/<int:feed_pk>/read/", bodies.feed_read_now, name="feed_read_now"),
    path(
        "bodies/<int:pk>/feeds/<int:feed_pk>/active/",
        bodies.feed_active_toggle,
        name="feed_active_toggle",
    ),
    path("bodies/<int:pk>/feeds/<int:feed_pk>/remove/", bodies.feed_remove, name="feed_remove"),
    path("occasions/<int:pk>/unpin/", bodies.occasion_unpin, name="occasion_unpin"),
    path("occasions/", occasions.occasion_list, name="occasion_list"),
    path("occasions/<int:pk>/", occasions.occasion_detail, name="occasion_detail"),
    path("occasions/<int:pk>/follow/", notification_views.occasion_follow, name="occasion_follow"),
    path("proposals/<int:pk>/follow/", notification_views.proposal_follow, name="proposal_follow"),
    path("notifications/", notification_views.notification_list, name="notifications"),
    path(
        "notifications/<int:pk>/read/",
        notification_views.notification_read,
        name="notification_read",
    ),
    path(
        "notifications/read-all/",
        notification_views.notifications_read_all,
        name="notifications_read_all",
    ),
    path("group/", group.group_page, name="group"),
    path("settings/", person_settings.settings_page, name="settings"),
    path(
        "settings/calendar-link/", person_settings.calendar_token_renew, name="calendar_token_renew"
    ),
    path("settings/tokens/", account_views.api_tokens_page, name="api_tokens"),
    path(
        "settings/tokens/<int:pk>/revoke/",
        account_views.api_token_revoke_page,
        name="api_token_revoke",
    ),
    path("settings/two-factor/", account_views.two_factor_page, name="two_factor"),
    path("settings/two-factor/enrol/", account_views.two_factor_enrol, name="two_factor_enrol"),
    path(
        "settings/two-factor/recovery-codes/",
        account_views.recovery_codes_page,
        name="recovery_codes",
    ),
    path(
        "settings/two-factor/disable/",
        account_views.two_factor_disable_page,
        name="two_factor_disable",
    ),
    path("settings/email/", people_views.email_change, name="email_change"),
    path(
        "settings/email/confirm/<str:token>/",
        people_views.email_change_confirm,
        name="email_change_confirm",
    ),
    path("settings/security/", people_views.security_events_mine, name="security_events_mine"),
    path("settings/personal-data/", personal_data_views.personal_data_page, name="personal_data"),
    path(
        "settings/personal-data/download/",
        personal_data_views.personal_data_download,
        name="personal_data_download",
    ),
    path("people/<int:pk>/erasure/", personal_data_views.person_erasure, name="person_erasure"),
    path("security-events/", people_views.security_events, name="security_events"),
    path("audit/", trail_views.audit_trail_page, name="audit_trail"),
    path("audit/export.csv", trail_views.audit_trail_csv, name="audit_trail_csv"),
    path("settings/activity/", trail_views.my_activity, name="my_activity"),
    path("settings/activity/export.csv", trail_views.my_activity_csv, name="my_activity_csv"),
    path("people/<int:pk>/departure/", departures.person_departure, name="person_departure"),
    path(
        "people/<int:pk>/departure/request/",
        departures.person_departure_request,
        name="person_departure_request",
    ),
    path("deliveries/", deliveries.delivery_log, name="delivery_log"),
    path("workflow/", group.workflow_page, name="workflow"),
    path("favicon.ico", common.favicon, name="favicon"),
    path("session/keepalive/", session_keepalive, name="session_keepalive"),
]
