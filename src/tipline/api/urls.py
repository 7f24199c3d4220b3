from django.urls import path

from tipline.api import banks, exchange, match, partner, views

app_name = "api"

urlpatterns = [
    path("reports", views.reports, name="reports"),
    path("followup/status", views.followup_status, name="followup_status"),
    path("followup/messages", views.followup_messages, name="followup_messages"),
    path("match", match.match, name="match"),
    path("exchange/inbound", exchange.inbound, name="exchange_inbound"),
    path("partner/reports", partner.submit, name="partner_reports"),
    path("partner/reports/<str:report_id>", partner.report, name="partner_report"),
    path("partner/reports/<str:report_id>/files", partner.files, name="partner_report_files"),
    path("banks/<str:name>/changes", banks.changes, name="bank_changes"),
    path("banks/<str:name>/vics", banks.vics, name="bank_vics"),
    path("openapi.json", views.openapi, name="openapi"),
]
