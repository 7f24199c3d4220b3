"""Public URLconf of the evidence locker (trust domain 1)."""

from django.urls import URLPattern

app_name = "locker"

urlpatterns: list[URLPattern] = []
