"""Template helpers for the Files section: how a file is shown, and who may take the original."""

from __future__ import annotations

from django import template

from tipline.cases.file_views import preview_kind as _preview_kind
from tipline.cases.policies import EvidenceFilePolicy
from tipline.staff.models import StaffUser

register = template.Library()


@register.filter
def preview_kind(content_type: str) -> str:
    """``image``, ``pdf``, ``text`` or ``none`` for a sniffed content type."""
    return _preview_kind(content_type)


@register.simple_tag
def may_download_original(user: object) -> bool:
    return isinstance(user, StaffUser) and EvidenceFilePolicy.may_download_original(user)
