from django.urls import path

from tipline.api import exchange, match, views

app_name = "api"

urlpatterns = [
    path("reports", views.reports, name="reports"),
    path("followup/status", views.followup_status, name="followup_status"),
    path("followup/messages", views.followup_messages, name="followup_messages"),
    path("match", match.match, name="match"),
    path("exchange/inbound", exchange.inbound, name="exchange_inbound"),
    path("openapi.json", views.openapi, name="openapi"),
]
