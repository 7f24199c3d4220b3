"""Public URLconf of guidance, the assistant and agencies (trust domain 1)."""

from django.urls import URLPattern

app_name = "guidance"

urlpatterns: list[URLPattern] = []
