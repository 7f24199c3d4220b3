"""Partner hotlines, and the reports forwarded to them and received from them."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tipline.cases.models import Report
from tipline.partners.models import ApiCredential


class PartnerHotline(models.Model):
    """Another hotline running Tipline (or speaking its exchange format).

    Mutual credentials: each side issues the other an API credential with scope ``exchange``.
    Theirs (the token we present) is sealed under the KEK; ours (the one they present) is the
    ``inbound_credential``. Each side also signs every document with its exchange key, and the
    receiver checks the signature against the ``public_key`` configured here, so a stolen token
    alone cannot forge a report.
    """

    name = models.SlugField(max_length=64, unique=True)
    country = models.CharField(max_length=2, blank=True, default="")
    base_url = models.URLField(max_length=300)
    # Raw Ed25519 public key of their exchange key, hex.
    public_key = models.CharField(max_length=64)
    outbound_token = models.BinaryField()
    inbound_credential = models.OneToOneField(
        ApiCredential, on_delete=models.PROTECT, related_name="hotline"
    )
    # The partner agreement: whether evidence files travel with a forwarded report.
    send_files = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class ForwardState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed (retrying)")
    REFUSED = "refused", _("Refused by the partner")


class Forwarding(models.Model):
    """A report we forwarded. Its id is the reference the partner knows it by."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="forwardings")
    hotline = models.ForeignKey(PartnerHotline, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=8, choices=ForwardState.choices)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Why the last attempt failed, in our words (never the partner's body).
    last_error = models.CharField(max_length=200, blank=True, default="")
    their_reference = models.CharField(max_length=64, blank=True, default="")
    linked_there = models.BooleanField(default=False)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The latest outcome the partner reported back (plain codes from their side).
    outcome_state = models.CharField(max_length=32, blank=True, default="")
    outcome = models.CharField(max_length=32, blank=True, default="")
    outcome_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "hotline"], name="forwarding_once"),
        ]

    def __str__(self) -> str:
        return f"Report {self.report_id} forwarded to {self.hotline_id}"


class InboundForward(models.Model):
    """A document a partner forwarded to us. Its id is the reference we answer with."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    hotline = models.ForeignKey(PartnerHotline, on_delete=models.PROTECT, related_name="+")
    their_reference = models.CharField(max_length=64)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="inbound_forwards")
    # True when it named a URL or hash of a report already open here: linked, not re-filed.
    linked = models.BooleanField(default=False)
    received_at = models.DateTimeField(default=timezone.now)
    # What we last told the partner about the outcome ("" = nothing yet).
    told_state = models.CharField(max_length=32, blank=True, default="")
    told_outcome = models.CharField(max_length=32, blank=True, default="")
    told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hotline", "their_reference"], name="inbound_forward_once"
            ),
        ]

    def __str__(self) -> str:
        return f"Forward {self.their_reference} from {self.hotline_id}"
