"""Public URLconf of guidance, the assistant and agencies (trust domain 1)."""

from django.urls import path

from tipline.guidance import views

app_name = "guidance"

urlpatterns = [
    path("", views.index, name="index"),
    path("assistant/", views.assistant, name="assistant"),
    path("<slug:slug>/", views.page, name="page"),
]
