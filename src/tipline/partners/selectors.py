"""Reads of API credentials (for the CLI). Never returns or derives a token."""

from __future__ import annotations

from django.db.models import QuerySet

from tipline.partners.models import ApiCredential


def credential_list() -> QuerySet[ApiCredential]:
    return ApiCredential.objects.select_related("user").order_by("id")
