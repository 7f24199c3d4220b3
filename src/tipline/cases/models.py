"""Reports and what hangs off them.

Nothing a reporter typed or uploaded is stored in a readable column: free text, identifiers,
contact details, messages and file metadata are sealed blobs (see tipline.crypto). Plain columns
hold only what the hotline needs to order and measure work without decrypting: category, channel,
language, state, tier, priority and timestamps.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from tipline.cases import categories, classification
from tipline.cases.states import (
    Channel,
    DecisionStatus,
    KeyPurpose,
    MessageAuthor,
    Outcome,
    ReportState,
)
from tipline.throttle import MinuteThrottle
from tipline.triage import tiers

CATEGORY_CHOICES = [(c.code, c.label) for c in categories.CATEGORIES]
TIER_CHOICES = [(t.value, t.value) for t in tiers.Tier]


class Report(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    receipt_digest = models.CharField(max_length=64, unique=True)
    category = models.CharField(max_length=32, choices=CATEGORY_CHOICES)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    language = models.CharField(max_length=8)
    state = models.CharField(max_length=32, choices=ReportState.choices, default=ReportState.NEW)
    tier = models.CharField(max_length=2, choices=TIER_CHOICES)
    priority = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    payload = models.BinaryField()
    contact = models.BinaryField(null=True)
    # The staff member working the report (claimed or assigned); staff accounts are disabled,
    # not deleted, so SET_NULL only matters for an operator's manual clean-up.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_reports",
    )
    # Why the report left the queue (set with ACTIONED or CLOSED, cleared on reopening).
    outcome = models.CharField(max_length=32, choices=Outcome.choices, blank=True, default="")
    # When it was actioned or closed: the retention clock starts here.
    closed_at = models.DateTimeField(null=True, blank=True)
    # ISO 3166-1 alpha-2 country the report concerns, as the reporter chose it (blank: not said).
    country = models.CharField(max_length=2, blank=True, default="")
    # A legal hold suspends retention: nothing is erased while it is set.
    legal_hold = models.BooleanField(default=False)
    # When retention destroyed the contact key and the content key (crypto-shredding).
    contact_erased_at = models.DateTimeField(null=True, blank=True)
    content_erased_at = models.DateTimeField(null=True, blank=True)
    # When new information last made the report more urgent, and the tier it had before (the
    # queue shows "raised from P3 to P1"; the deadline then runs from the rise). A rise that
    # brought an actioned or closed report back into the queue sets ``tier_raise_reopened``.
    tier_raised_from = models.CharField(max_length=2, blank=True, default="")
    tier_raised_at = models.DateTimeField(null=True, blank=True)
    tier_raise_reopened = models.BooleanField(default=False)

    class Meta:
        indexes = [
            # The console queue: most urgent first, then oldest, with the id as the tie-breaker
            # (keyset pagination on exactly these columns, filtered by state or not).
            models.Index(
                fields=["state", "tier", "-priority", "created_at", "id"], name="report_queue"
            ),
            models.Index(fields=["tier", "-priority", "created_at", "id"], name="report_queue_all"),
            models.Index(fields=["created_at"], name="report_created"),
            # The default working queue (open reports only) as one ordered index range; the
            # partial index holds only open reports, so it stays small however many close.
            models.Index(
                fields=["tier", "-priority", "created_at", "id"],
                condition=models.Q(state__in=["new", "in_review", "awaiting_second_review"]),
                name="report_queue_open",
            ),
            # Retention looks only at closed reports whose keys still exist.
            models.Index(fields=["closed_at"], name="report_closed"),
            # Queue filters whose values can be rare, each led by the filtered column and then in
            # queue order, so a filtered page is one index range (migration 0004 says why).
            models.Index(
                fields=["category", "tier", "-priority", "created_at", "id"],
                name="report_queue_category",
            ),
            models.Index(
                fields=["country", "tier", "-priority", "created_at", "id"],
                name="report_queue_country",
            ),
            models.Index(
                fields=["assigned_to", "tier", "-priority", "created_at", "id"],
                name="report_queue_assignee",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(priority__lte=100), name="report_priority_range"
            ),
        ]

    def __str__(self) -> str:
        return f"Report {self.id} ({self.category})"


class ReportKey(models.Model):
    """A report's data key, wrapped by the key-encryption key. Deleting it shreds the data."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="keys")
    purpose = models.CharField(max_length=16, choices=KeyPurpose.choices)
    wrapped = models.BinaryField()
    kek_id = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "purpose"], name="report_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.purpose} key of report {self.report_id}"


class Message(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(max_length=16, choices=MessageAuthor.choices)
    body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["report", "created_at"], name="message_thread"),
            # The console inbox: reporter messages, newest first, across every report.
            models.Index(fields=["author", "-created_at"], name="message_inbox"),
        ]

    def __str__(self) -> str:
        return f"Message {self.id} ({self.author})"


class EvidenceFile(models.Model):
    """An uploaded file: ciphertext in the evidence store, sealed metadata here.

    ``meta`` holds the original filename, sniffed content type, size and the SHA-256 of the
    original bytes computed at intake, sealed under the report's content key.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="files")
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="files"
    )
    object_id = models.CharField(max_length=32)
    meta = models.BinaryField()
    preview_object_id = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    # When media work stored the file's hashes (media_step.file_store). Plain, like created_at,
    # so that the work sweep (cases/work_sweep.py) finds files still waiting without opening
    # every file's sealed metadata. Null on rows from before this column: the sweep checks
    # those through the metadata once and fills it in.
    hashed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The sweep's query: files not hashed yet, oldest first (as small as the backlog).
            models.Index(
                fields=["created_at"],
                name="evidence_unhashed",
                condition=models.Q(hashed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"File {self.id}"


class SubmissionToken(models.Model):
    """Remembers a submission for a day so that sending it again returns the first answer.

    A browser re-sends a form on Reload, and a phone app retries when the network drops; neither
    should file a second report. ``sealed_receipt`` can be opened only with the token itself.
    """

    digest = models.CharField(max_length=64, unique=True)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, null=True, related_name="+")
    sealed_receipt = models.BinaryField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"Submission token for report {self.report_id}"


class LeftSubmission(models.Model):
    """A form token whose page was left with Quick exit before anything was filed with it.

    Sending that form again (Back and "resend" on the reporter's device) then leads to the start
    page instead of showing what it showed, e.g. the assistant's reading of someone's own words.
    Only a keyed digest of a random token, kept for a day like ``SubmissionToken``.
    """

    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return "Left form token"


class ReceiptThrottle(MinuteThrottle):
    """Failed receipt look-ups per minute for the whole site (no per-client state exists)."""


class Classification(models.Model):
    """An analyst's coded assessment of a report (vocabularies in tipline.cases.classification).

    One row per report holding the current values; every change is in the audit log with the
    old and new codes, so the history is there without a second table.
    """

    report = models.OneToOneField(
        Report, on_delete=models.CASCADE, primary_key=True, related_name="classification"
    )
    legal_assessment = models.CharField(
        max_length=16, choices=classification.LegalAssessment.choices, blank=True, default=""
    )
    severity = models.CharField(
        max_length=1, choices=classification.Severity.choices, blank=True, default=""
    )
    industry_category = models.CharField(
        max_length=2, choices=classification.IndustryCategory.choices, blank=True, default=""
    )
    victim_age_group = models.CharField(
        max_length=16, choices=classification.VictimAgeGroup.choices, blank=True, default=""
    )
    victim_gender = models.CharField(
        max_length=16, choices=classification.VictimGender.choices, blank=True, default=""
    )
    content_type = models.CharField(
        max_length=16, choices=classification.ContentType.choices, blank=True, default=""
    )
    site_type = models.CharField(
        max_length=16, choices=classification.SiteType.choices, blank=True, default=""
    )
    # Sextortion and cyberstalking (issue 15).
    platform = models.CharField(
        max_length=24, choices=classification.Platform.choices, blank=True, default=""
    )
    payment_method = models.CharField(
        max_length=24, choices=classification.PaymentMethod.choices, blank=True, default=""
    )
    demand = models.CharField(
        max_length=24, choices=classification.Demand.choices, blank=True, default=""
    )
    motive = models.CharField(
        max_length=24, choices=classification.Motive.choices, blank=True, default=""
    )
    victim_age = models.CharField(
        max_length=24, choices=classification.VictimAge.choices, blank=True, default=""
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Classification of report {self.report_id}"


class Decision(models.Model):
    """A proposed outcome and, under four-eyes, the second analyst's answer to it.

    ``classification`` is the snapshot the proposer decided on: the reviewer confirms exactly
    that, and classification cannot change while a decision is pending.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="decisions")
    outcome = models.CharField(max_length=32, choices=Outcome.choices)
    agency = models.CharField(max_length=200, blank=True, default="")
    classification = models.JSONField(default=dict)
    needs_second_review = models.BooleanField()
    status = models.CharField(
        max_length=16, choices=DecisionStatus.choices, default=DecisionStatus.PENDING
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # The analyst's tier correction (issue 20): the tier this report should have had, blank for
    # "leave as triaged". It is the learned model's label for the report once the decision takes
    # effect (``triage_model.label_of``); it never reorders a closed report (see
    # ``transitions.report_decide`` for a report still open under four eyes).
    right_tier = models.CharField(max_length=2, choices=TIER_CHOICES, blank=True, default="")

    class Meta:
        constraints = [
            # At most one pending decision per report.
            models.UniqueConstraint(
                fields=["report"],
                condition=models.Q(status="pending"),
                name="decision_one_pending",
            ),
            # Four eyes: the reviewer is never the proposer (also enforced in the action).
            models.CheckConstraint(
                condition=~models.Q(reviewed_by=models.F("proposed_by")),
                name="decision_reviewer_differs",
            ),
        ]

    def __str__(self) -> str:
        return f"Decision {self.outcome} on report {self.report_id} ({self.status})"


class Note(models.Model):
    """An internal note: staff only, sealed under the report's content key (shredded with it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["report", "created_at"], name="note_thread")]

    def __str__(self) -> str:
        return f"Note {self.id}"


class ReportLink(models.Model):
    """Two reports an analyst judged related. Stored once, lower id first; read both ways."""

    id = models.BigAutoField(primary_key=True)
    low = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")
    high = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["low", "high"], name="report_link_unique"),
            models.CheckConstraint(condition=models.Q(low__lt=models.F("high")), name="link_order"),
        ]
        indexes = [models.Index(fields=["high"], name="report_link_high")]

    def __str__(self) -> str:
        return f"Link {self.low_id} ~ {self.high_id}"


class Referral(models.Model):
    """A report referred to a law-enforcement agency. A liaison of that agency may then see it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="referrals")
    agency = models.CharField(max_length=200)
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # The receiving service's own id for the report (a CyberTipline-compatible API's reportId),
    # and when it confirmed receipt; blank for a package the liaison downloads.
    external_id = models.CharField(max_length=64, blank=True, default="")
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "agency"], name="referral_unique"),
        ]
        indexes = [models.Index(fields=["agency", "report"], name="referral_agency")]

    def __str__(self) -> str:
        return f"Referral of report {self.report_id} to {self.agency}"


class TriageResult(models.Model):
    """The latest triage score of a report, with its reasons (tipline.triage).

    Score and tier are plain (they order the queue); the reasons quote the reporter's words (the
    matched spans), so they are sealed under the report's content key like the text they quote.
    """

    report = models.OneToOneField(
        Report, on_delete=models.CASCADE, primary_key=True, related_name="triage"
    )
    score = models.PositiveSmallIntegerField()
    tier = models.CharField(max_length=2, choices=TIER_CHOICES)
    rules_version = models.CharField(max_length=64)
    reasons = models.BinaryField()
    scored_at = models.DateTimeField(default=timezone.now)
    # The learned model's opinion (issue 20), plain like the tier it may raise: the rules' own
    # tier, the model's tier and probability, and the mode it ran in ("shadow": recorded only;
    # "on": ``tier`` is the more urgent of the two). Blank when no model ran. The words that
    # weighed most are sealed among ``reasons`` (rule "model.word").
    rules_tier = models.CharField(max_length=2, choices=TIER_CHOICES, blank=True, default="")
    model_tier = models.CharField(max_length=2, choices=TIER_CHOICES, blank=True, default="")
    model_confidence = models.FloatField(null=True, blank=True)
    model_mode = models.CharField(max_length=8, blank=True, default="")
    model_version = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(score__lte=100), name="triage_score_range")
        ]

    def __str__(self) -> str:
        return f"Triage of report {self.report_id}: {self.score} ({self.tier})"


class ReportIdentifier(models.Model):
    """An identifier a report names (URL, handle, e-mail, phone, file hash), as a keyed digest.

    Reports whose identifiers have equal digests are linked into one cluster. The canonical text
    is not stored (it is in the sealed payload); ``detached`` is set when an analyst splits the
    report off its cluster, so that identifier no longer links it.
    """

    id = models.BigAutoField(primary_key=True)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=16)
    digest = models.CharField(max_length=64)
    detached = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["report", "kind", "digest"], name="report_identifier_unique"
            )
        ]
        indexes = [models.Index(fields=["digest", "report"], name="identifier_digest")]

    def __str__(self) -> str:
        return f"{self.kind} identifier of report {self.report_id}"


class AgencyDelivery(models.TextChoices):
    # The agency's liaison signs in to the console and downloads the package.
    CONSOLE = "console", "console download by the agency's liaison"
    # The signed, encrypted package is e-mailed to the agency's address.
    EMAIL = "email", "e-mail to the agency"
    # A CyberTipline-compatible reporting API (outputs: the submission client); the agency row
    # holds its base URL and the name of the credential, never the credential itself.
    API = "api", "CyberTipline-compatible API"


class Agency(models.Model):
    """A law-enforcement agency reports may be referred to (managed by administrators).

    ``age_recipient`` is the agency's age X25519 public key (``age1…``, checked by
    ``tipline.crypto.age.recipient``): referral packages are encrypted to it and only the agency
    can read them. Blank until the agency has sent one; no package is built without it.
    ``name`` is what ``Referral.agency`` and a liaison's ``StaffUser.agency`` hold.
    """

    name = models.CharField(max_length=200, unique=True)
    country = models.CharField(max_length=2, blank=True, default="")
    contact = models.CharField(max_length=500, blank=True, default="")
    age_recipient = models.CharField(max_length=100, blank=True, default="")
    delivery = models.CharField(
        max_length=16, choices=AgencyDelivery.choices, default=AgencyDelivery.CONSOLE
    )
    email = models.EmailField(blank=True, default="")
    # Delivery by API: the service's base URL, and a reference to where its credential is kept
    # (e.g. the name of an environment variable or secret), so no password sits in the database.
    api_url = models.URLField(max_length=500, blank=True, default="")
    api_credential = models.CharField(max_length=100, blank=True, default="")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "agencies"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(delivery="email") | ~models.Q(email=""),
                name="agency_email_delivery_has_address",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class InboxSeen(models.Model):
    """How far a staff member has read a report's reporter activity (the console inbox).

    One row per person and report: every reporter message (and the files with it) received up
    to ``seen_at`` counts as read by that person; "unread by the team" means read by nobody.
    """

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "staff"], name="inbox_seen_unique")
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} read report {self.report_id} up to {self.seen_at}"


class ModelMode(models.TextChoices):
    """How the learned triage model is used: shadow (recorded, tier unchanged) until switched on."""

    OFF = "off", "off"
    SHADOW = "shadow", "shadow"
    ON = "on", "on"


class TriageModel(models.Model):
    """The learned triage model (issue 20), sealed; at most one exists (training replaces it).

    The model's arrays hold words from reports (its vocabulary), so they are sealed under a data
    key of the model's own, stored only wrapped by the KEK like a report's keys: deleting the row
    destroys the model. ``sources`` names the reports it learned from, so the retention run can
    tell when one of them was erased and train a model without it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    wrapped_key = models.BinaryField()
    kek_id = models.PositiveSmallIntegerField()
    sealed = models.BinaryField()
    version = models.CharField(max_length=64)
    trained_at = models.DateTimeField(default=timezone.now)
    trained_on = models.PositiveIntegerField()
    # Per tier, how many decisions it learned from ({"P1": 120, ...}); counts, never content.
    classes = models.JSONField(default=dict)
    # The minimum per tier it was trained with: a retrain by retention asks the same.
    min_class = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"Triage model {self.version} ({self.trained_on} reports)"


class TriageModelSource(models.Model):
    """One report a model learned from."""

    id = models.BigAutoField(primary_key=True)
    model = models.ForeignKey(TriageModel, on_delete=models.CASCADE, related_name="sources")
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["report"], name="triage_model_source_report")]

    def __str__(self) -> str:
        return f"Report {self.report_id} in triage model {self.model_id}"


class TriageModelSetting(models.Model):
    """The one row saying how the model is used; changed only by an administrator, audited."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    mode = models.CharField(max_length=8, choices=ModelMode.choices, default=ModelMode.SHADOW)
    # The starter model (triage/starter.py), used until the installation trains its own: on by
    # default, from the cross-validated development figures (docs/BENCHMARKS.md).
    starter = models.BooleanField(default=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="triage_model_setting_single")
        ]

    def __str__(self) -> str:
        return f"Triage model mode: {self.mode}"
