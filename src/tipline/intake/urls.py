"""Public URLconf (trust domain 1). It never includes staff URLs or imports staff code."""

from django.urls import path

from tipline.intake import feedback, views, words

app_name = "intake"

urlpatterns = [
    path("", views.home, name="home"),
    path("report/", views.start, name="start"),
    path("report/<slug:code>/", views.report, name="report"),
    path("follow-up/", views.followup, name="followup"),
    path("follow-up/message/", views.followup_message, name="followup_message"),
    path("assistant/", words.read, name="words"),
    path("emergency/", views.emergency, name="emergency"),
    path("leave/", views.leave, name="leave"),
    path("sent/", views.sent, name="sent"),
    path("feedback/", feedback.feedback, name="feedback"),
]
