"""API credentials: who may call the authenticated API routes, with which scopes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CredentialKind(models.TextChoices):
    PARTNER = "partner", _("Partner organisation")
    STAFF = "staff", _("Staff member")


class Scope(models.TextChoices):
    """What a credential may do. New API routes add a value here; no migration is needed
    because scopes are stored as a JSON list of these strings."""

    MATCH = "match", _("Look up hashes and files in the hash banks")
    EXCHANGE = "exchange", _("Forward reports and outcomes between hotlines")
    # The CyberTipline-compatible reporting endpoint (/ispws/): HTTP Basic with the secret below.
    CYBERTIPLINE = "cybertipline", _("Report through the CyberTipline-compatible endpoint")
    REPORTS = "reports", _("File reports in bulk and follow their status")
    HASHES = "hashes", _("Pull hash-bank changes and whole banks")


class ApiCredential(models.Model):
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=CredentialKind.choices)
    # The staff member a staff credential acts for: it stops working when they are deactivated.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_credentials",
    )
    scopes = models.JSONField(default=list)
    # Keyed digest of the token (tipline.crypto.box.credential_digest); the token is never stored.
    token_digest = models.CharField(max_length=64, unique=True)
    # Keyed digest of the password-style secret for HTTP Basic (tipline.partners.auth.basic):
    # clients of NCMEC's reporting API send a username and password, not a bearer token. The
    # username is ``credential-<id>``; the secret, like the token, is shown once and never stored.
    secret_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Per-credential rate limit: look-ups counted in the current one-minute window.
    window_start = models.DateTimeField(null=True, blank=True)
    window_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "API credential"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="partner", user__isnull=True)
                | Q(kind="staff", user__isnull=False),
                name="partners_staff_credential_has_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
