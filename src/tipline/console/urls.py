"""The staff console (trust domain 2), mounted at /console/. Nothing public imports it."""

from django.urls import path

from tipline.console import reports, views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-in/code/", views.sign_in_code, name="code"),
    path("enrol/", views.enrol, name="enrol"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("sign-out/everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
    path("queue/", reports.queue_page, name="queue"),
    path("reports/<uuid:report_id>/", reports.case_view, name="case"),
    path("reports/<uuid:report_id>/claim/", reports.case_claim, name="claim"),
    path("reports/<uuid:report_id>/assign/", reports.case_assign, name="assign"),
    path("reports/<uuid:report_id>/contact/", reports.case_contact, name="contact"),
    path("reports/<uuid:report_id>/message/", reports.case_message, name="message"),
    path("files/<uuid:file_id>/preview", reports.file_preview, name="file_preview"),
    path("files/<uuid:file_id>/reveal", reports.file_reveal, name="file_reveal"),
]
