"""The staff console (trust domain 2), mounted at /console/. Nothing public imports it."""

from django.urls import path

from tipline.console import (
    agencies,
    audit_log,
    decisions,
    files,
    forwarding,
    inbox_views,
    metrics_page,
    notices,
    partner_log,
    referral_api,
    referral_email,
    referral_package,
    reports,
    views,
    workbench,
)

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("account/time-zone/", views.time_zone, name="time_zone"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-in/code/", views.sign_in_code, name="code"),
    path("enrol/", views.enrol, name="enrol"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("sign-out/everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
    path("queue/", reports.queue_page, name="queue"),
    path("next/", workbench.next_case, name="next_case"),
    path("audit/", audit_log.audit_log, name="audit"),
    path("inbox/", inbox_views.inbox_page, name="inbox"),
    path("reports/<uuid:report_id>/inbox-read/", inbox_views.inbox_read, name="inbox_read"),
    path("reports/<uuid:report_id>/audit/", audit_log.case_audit, name="case_audit"),
    path("metrics/", metrics_page.dashboard, name="metrics"),
    path("metrics/csv/<slug:section>/", metrics_page.table_csv, name="metrics_csv"),
    path("metrics/transparency/", metrics_page.transparency_report, name="transparency"),
    path("metrics/comments/", metrics_page.comments, name="metrics_comments"),
    path(
        "metrics/alerts/<int:alert_id>/acknowledge/",
        metrics_page.alert_acknowledge,
        name="alert_acknowledge",
    ),
    path("partners/webhooks/", partner_log.webhook_log, name="webhooks"),
    path("agencies/", agencies.agency_list, name="agencies"),
    path("agencies/add/", agencies.agency_add, name="agency_add"),
    path("agencies/<int:agency_id>/", agencies.agency_page, name="agency"),
    path("agencies/<int:agency_id>/edit/", agencies.agency_edit, name="agency_edit"),
    path("reports/<uuid:report_id>/", reports.case_view, name="case"),
    path("reports/<uuid:report_id>/claim/", reports.case_claim, name="claim"),
    path("reports/<uuid:report_id>/assign/", reports.case_assign, name="assign"),
    path("reports/<uuid:report_id>/contact/", reports.case_contact, name="contact"),
    path("reports/<uuid:report_id>/message/", reports.case_message, name="message"),
    path("files/<uuid:file_id>/", files.file_view, name="file"),
    path("files/<uuid:file_id>/preview", files.file_preview, name="file_preview"),
    path("files/<uuid:file_id>/video", files.file_video, name="file_video"),
    path("files/<uuid:file_id>/reveal", files.file_reveal, name="file_reveal"),
    path("files/<uuid:file_id>/original", files.file_original, name="file_original"),
]

_case = "reports/<uuid:report_id>/"
urlpatterns += [
    path(_case + "classify/", decisions.classify, name="classify"),
    path(_case + "decide/", decisions.decide, name="decide"),
    path(_case + "confirm/", decisions.confirm, name="confirm"),
    path(_case + "send-back/", decisions.send_back, name="send_back"),
    path(_case + "withdraw/", decisions.withdraw, name="withdraw"),
    path(_case + "reopen/", decisions.reopen, name="reopen"),
    path(_case + "notes/", decisions.note, name="note"),
    path(_case + "links/", decisions.link, name="link"),
    path(_case + "links/remove/", decisions.unlink, name="unlink"),
    path(_case + "legal-hold/", decisions.legal_hold, name="legal_hold"),
    path(_case + "forward/", forwarding.forward, name="forward"),
    path(_case + "cluster/split/", decisions.cluster_split, name="cluster_split"),
    path(_case + "takedown/host/", notices.host_set, name="takedown_host"),
    path(
        _case + "notices/<uuid:notice_id>/confirm/",
        notices.notice_confirm,
        name="notice_confirm",
    ),
    path(
        _case + "notices/<uuid:notice_id>/acknowledge/",
        notices.notice_acknowledge,
        name="notice_acknowledge",
    ),
    path(
        _case + "referral-package",
        referral_package.referral_package,
        name="referral_package",
    ),
    path(_case + "referral-email/", referral_email.referral_email, name="referral_email"),
    path(_case + "referral-api/", referral_api.referral_api, name="referral_api"),
]
