"""Rollup tables for monitoring and evaluation: plaintext facts only, never anything sealed.

``ReportFact`` is one row per report holding the timestamps and codes the figures need (copied
from ``cases`` columns and from audit entries, which are append-only). ``DailyRollup`` sums the
facts per day of receipt and per category, channel, country and tier, so volume figures for any
period are a scan of a few thousand rows however many reports exist. ``Cursor`` remembers how far
the refresh task has read the append-only sources. Every row here is derived: ``tipline metrics
rebuild`` deletes and recomputes them all with the same functions the task uses.
"""

from __future__ import annotations

import uuid

from django.db import models

from tipline.cases.models import Report
from tipline.cases.queue import OPEN_STATES


class ReportFact(models.Model):
    report = models.OneToOneField(
        Report, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    received_at = models.DateTimeField()
    day = models.DateField()  # UTC day of receipt
    category = models.CharField(max_length=32)
    channel = models.CharField(max_length=16)
    country = models.CharField(max_length=2, blank=True, default="")
    tier = models.CharField(max_length=2)
    state = models.CharField(max_length=32)
    outcome = models.CharField(max_length=32, blank=True, default="")
    # The SLA clock: someone must have claimed the report by then (``cases.queue.deadline_of``:
    # from arrival, or from when new information raised the tier).
    deadline_at = models.DateTimeField()
    first_look_at = models.DateTimeField(null=True)  # first staff view (first triage)
    claimed_at = models.DateTimeField(null=True)
    decided_at = models.DateTimeField(null=True)  # first outcome proposed
    concluded_at = models.DateTimeField(null=True)  # first outcome that took effect
    referred_at = models.DateTimeField(null=True)
    # Four eyes: seconds from the first proposal needing review to its review (None: none yet).
    review_seconds = models.BigIntegerField(null=True)
    claimed_by = models.CharField(max_length=150, blank=True, default="")
    decided_by = models.CharField(max_length=150, blank=True, default="")
    reviewed_by = models.CharField(max_length=150, blank=True, default="")
    assignee = models.ForeignKey(
        "staff.StaffUser", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    known_match = models.BooleanField(default=False)
    # Names a URL or file hash (by keyed digest) that an earlier report named.
    rereport = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["day", "category"], name="fact_day"),
            models.Index(fields=["state", "received_at"], name="fact_open"),
            models.Index(fields=["assignee", "day"], name="fact_assignee"),
            # Three or four filters at once (the tally keeps single values and pairs) and the
            # exact percentiles of a pair below ``tally.EXACT_LIMIT`` read the facts: with an
            # index per filter the database ANDs them and fetches only the combination's rows.
            models.Index(fields=["category", "day"], name="fact_category"),
            models.Index(fields=["channel", "day"], name="fact_channel"),
            models.Index(fields=["country", "day"], name="fact_country"),
            models.Index(fields=["tier", "day"], name="fact_tier"),
            # "Open and overdue" reads, for the few day-and-tier groups a deadline straddles,
            # the reports nobody has claimed whose deadline has passed: this index holds only
            # open, unclaimed reports, so that is a short range, not every report of the day.
            models.Index(
                fields=["day", "tier", "deadline_at"],
                name="fact_unclaimed",
                condition=models.Q(state__in=OPEN_STATES, claimed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Facts of report {self.report_id}"


class DailyRollup(models.Model):
    day = models.DateField()
    category = models.CharField(max_length=32)
    channel = models.CharField(max_length=16)
    country = models.CharField(max_length=2, blank=True, default="")
    tier = models.CharField(max_length=2)
    received = models.PositiveIntegerField(default=0)
    actionable = models.PositiveIntegerField(default=0)
    concluded = models.PositiveIntegerField(default=0)
    referred = models.PositiveIntegerField(default=0)
    claimed_late = models.PositiveIntegerField(default=0)
    known_match = models.PositiveIntegerField(default=0)
    rereport = models.PositiveIntegerField(default=0)
    # Reports of this key still open (new, in review, awaiting a second review) as of the last
    # refresh: the backlog by age is a sum of these per day, not a scan of every open report.
    still_open = models.PositiveIntegerField(default=0)
    # Of those, the ones nobody has claimed, and the earliest and latest of their deadlines:
    # "open and overdue now" is their count where the latest deadline has passed, nothing where
    # the earliest has not, and a read of the facts only for the few keys a deadline straddles.
    open_unclaimed = models.PositiveIntegerField(default=0)
    unclaimed_deadline_min = models.DateTimeField(null=True)
    unclaimed_deadline_max = models.DateTimeField(null=True)
    # What became of the reports, one column per ``cases.states.Outcome`` (a test holds the two
    # lists equal), so the outcomes table is a sum of rollup rows for any filter.
    outcome_referred = models.PositiveIntegerField(default=0)
    outcome_notice_sent = models.PositiveIntegerField(default=0)
    outcome_forwarded = models.PositiveIntegerField(default=0)
    outcome_not_actionable = models.PositiveIntegerField(default=0)
    outcome_duplicate = models.PositiveIntegerField(default=0)
    outcome_outside_remit = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "category", "channel", "country", "tier"], name="rollup_key"
            )
        ]
        # The backlog sums ``still_open`` over every day: once a day's reports are all closed
        # (most days, after a while) its rows drop out of this index and out of that read.
        indexes = [
            models.Index(fields=["day"], name="rollup_open", condition=models.Q(still_open__gt=0))
        ]

    def __str__(self) -> str:
        return f"Rollup {self.day} {self.category} {self.channel} {self.country} {self.tier}"


class DailyTally(models.Model):
    """Counts per UTC day of receipt and per filter value or pair of values, kept by deltas.

    ``dimension`` is ``""`` (every report; ``value`` is then ``""``), one filter (``category``,
    ``channel``, ``country``, ``tier``) with its ``value``, a pair of filters
    (``category+country`` with value ``cyberstalking+FR``: ``tally.PAIRS``) or an analyst's own
    queue (``assignee``). ``measure`` says what ``item`` is:

    * a duration (``first_look``, ``claim``, ``decision``, ``referral``, ``four_eyes``): ``item``
      is a log-spaced bucket number (``metrics.tally.bucket_of``) and ``n`` the reports whose
      wait fell in it, so percentiles over any period are a sum of a few hundred rows;
    * workload (``claimed``, ``decided``, ``reviewed``): ``item`` is the staff member's name.

    The refresh adds the difference between a report's old and new contributions; the rebuild
    counts them from nothing with the same function (``tally.contributions``), so the two agree.
    Three or four filters at once are not kept (their slices would be nearly as many as the
    facts): those pages read the facts.
    """

    day = models.DateField()
    dimension = models.CharField(max_length=16, blank=True, default="")
    value = models.CharField(max_length=64, blank=True, default="")  # a pair: 32 + 1 + 16
    measure = models.CharField(max_length=16)
    item = models.CharField(max_length=150)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "value", "measure", "day", "item"], name="tally_key"
            )
        ]

    def __str__(self) -> str:
        return f"Tally {self.day} {self.dimension}={self.value} {self.measure} {self.item}"


class Cursor(models.Model):
    """How far the refresh task has read an append-only source (audit seq, report receipt)."""

    name = models.CharField(max_length=32, unique=True)
    seq = models.BigIntegerField(default=0)
    at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.seq} / {self.at}"


class FigureCache(models.Model):
    """Dashboard figures for one (refresh version, period, filters, scope): derived, disposable
    (``metrics.figure_cache`` says why and when a row is written and dropped)."""

    key = models.CharField(max_length=64, unique=True)  # SHA-256 of what the figures are for
    version = models.BigIntegerField()
    figures = models.JSONField()

    def __str__(self) -> str:
        return f"Figures {self.key[:12]} at version {self.version}"


class SatisfactionStage(models.TextChoices):
    SUBMITTED = "submitted", "after submitting"
    CLOSED = "closed", "after the report was closed"


class SatisfactionAnswer(models.Model):
    """One reporter's optional answers: nothing links it to a report or a person.

    It holds the report's category, the stage (just submitted, or closed), the day (not the
    time: a timestamp could be matched against a report's) and three 1-5 answers, any of them
    skipped. The free-text comment is sealed under a data key of its own, wrapped by the
    key-encryption key, like report content; deleting ``comment_key`` shreds it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    category = models.CharField(max_length=32)
    stage = models.CharField(max_length=16, choices=SatisfactionStage.choices)
    day = models.DateField()
    easy = models.PositiveSmallIntegerField(null=True)
    safe = models.PositiveSmallIntegerField(null=True)
    next_steps = models.PositiveSmallIntegerField(null=True)
    comment = models.BinaryField(null=True)
    comment_key = models.BinaryField(null=True)

    class Meta:
        indexes = [models.Index(fields=["day"], name="satisfaction_day")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(easy__gte=1, easy__lte=5) | models.Q(easy__isnull=True),
                name="satisfaction_easy_range",
            ),
            models.CheckConstraint(
                condition=models.Q(safe__gte=1, safe__lte=5) | models.Q(safe__isnull=True),
                name="satisfaction_safe_range",
            ),
            models.CheckConstraint(
                condition=models.Q(next_steps__gte=1, next_steps__lte=5)
                | models.Q(next_steps__isnull=True),
                name="satisfaction_next_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Satisfaction answer ({self.stage})"


class TrendAlert(models.Model):
    """A count that surged against its baseline (``tipline.metrics.trends``), until acknowledged.

    ``key`` is a category, country or platform code, a domain (a tracked URL's plaintext host),
    a hosting provider's name or an identifier's keyed digest (never the identifier itself);
    ``report_ids`` are the reports behind the count, opened only through
    the console's access function.
    """

    dimension = models.CharField(max_length=16)
    key = models.CharField(max_length=255)  # a host name is up to 253 characters
    window = models.CharField(max_length=8)  # "day" or "week"
    day = models.DateField()  # the last day of the window
    observed = models.PositiveIntegerField()
    expected = models.FloatField()
    p_value = models.FloatField()
    report_ids = models.JSONField(default=list)
    created_at = models.DateTimeField()
    acknowledged_by = models.CharField(max_length=150, blank=True, default="")
    acknowledged_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "key", "window", "day"], name="trend_alert_once"
            )
        ]

    def __str__(self) -> str:
        return f"Alert {self.dimension}={self.key} ({self.window} to {self.day})"
