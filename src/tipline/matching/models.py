"""Hash banks: lists of hashes of known child sexual abuse material, and their entries.

A bank is one list as it came from one source (ICCAM, NCMEC, Project VIC, a partner hotline),
with the terms it was shared under. An entry is one hash in it. Hash values of known material are
not reporter content and not secret in the way a report is: they identify already-known files and
are shared between hotlines and industry for exactly that purpose. So they sit in plain,
indexed columns for exact lookup, unlike everything a reporter supplies (sealed in the cases app).
What a list's licence may restrict is redistribution, which is why exports are audited.

Entries are never deleted by the importers: removing one sets ``removed_at``, so the PDQ index can
be updated incrementally and a re-import can bring an entry back (it is the same row).
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone

# The classification vocabulary. ICCAM's legal status ("baseline": illegal everywhere under the
# INTERPOL baseline; "national": illegal under national law) and the industry A1/A2/B1/B2 scale
# (A: prepubescent, B: pubescent; 1: sex act, 2: lascivious exhibition); "unknown" for sources
# that do not say. Kept small on purpose: matching and reporting rely on these values.
CLASSIFICATIONS = ("baseline", "national", "A1", "A2", "B1", "B2", "unknown")
CLASSIFICATION_CHOICES = [(c, c) for c in CLASSIFICATIONS]


class HashKind(models.TextChoices):
    PDQ = "pdq", "PDQ"
    MD5 = "md5", "MD5"
    SHA1 = "sha1", "SHA-1"
    SHA256 = "sha256", "SHA-256"


# Hex digits per kind: a value of the wrong length is a different hash or a damaged one.
HEX_LENGTH = {HashKind.PDQ: 64, HashKind.MD5: 32, HashKind.SHA1: 40, HashKind.SHA256: 64}
HEX_DIGITS = frozenset("0123456789abcdef")


class InvalidHash(ValueError):
    """A hash value or kind that cannot be stored; the message says why, without the value."""


def normalise_hash(kind: str, value: str) -> tuple[HashKind, str]:
    """Return (kind, lowercase hex) or raise InvalidHash with a reason fit for an import report."""
    try:
        hash_kind = HashKind(kind.strip().lower())
    except ValueError:
        raise InvalidHash(f"unknown hash kind {kind.strip()[:20]!r}") from None
    text = value.strip().lower()
    if not text:
        raise InvalidHash(f"empty {hash_kind.label} value")
    if not set(text) <= HEX_DIGITS:
        raise InvalidHash(f"{hash_kind.label} value is not hexadecimal")
    expected = HEX_LENGTH[hash_kind]
    if len(text) != expected:
        raise InvalidHash(
            f"{hash_kind.label} value has {len(text)} hex digits, expected {expected}"
        )
    return hash_kind, text


def _length_is(kind: HashKind) -> models.Q:
    return models.Q(Exact(Length("value"), HEX_LENGTH[kind]), kind=kind.value)


class HashBank(models.Model):
    name = models.CharField(max_length=100, unique=True)
    # Where the list came from ("ICCAM", "NCMEC industry hash sharing", ...).
    source = models.CharField(max_length=200, blank=True, default="")
    # The terms it was shared under: who may see it, whether it may be passed on.
    licence_note = models.TextField(blank=True, default="")
    default_classification = models.CharField(max_length=16, choices=CLASSIFICATION_CHOICES)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(default_classification__in=CLASSIFICATIONS),
                name="matching_bank_classification_known",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BankEntry(models.Model):
    bank = models.ForeignKey(HashBank, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=8, choices=HashKind.choices)
    value = models.CharField(max_length=64)
    # Blank: the bank's default_classification applies.
    classification = models.CharField(
        max_length=16, choices=CLASSIFICATION_CHOICES, blank=True, default=""
    )
    # PDQ's own quality score (0-100) when the source gives one.
    quality = models.PositiveSmallIntegerField(null=True, blank=True)
    # Small and structured only: the source's media/case/entry ids, never free text from a report.
    metadata = models.JSONField(default=dict, blank=True)
    # When the entry was added or last re-activated (the PDQ index's incremental updates use it).
    added_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    # Position of this entry's last change (add, update or removal) in the changes feed that
    # partners pull (``banks.changes_since``). Assigned by ``banks.next_change_seqs`` under a
    # lock held until commit, so seqs become visible in order: a reader that has seen seq N
    # never later finds a new change below N. Only the latest change per entry is kept, which
    # is all a mirror needs (the entry's state now).
    change_seq = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            # One row per hash per bank, active or removed: re-importing updates or re-activates
            # that row, so imports are idempotent and removal history is not duplicated.
            models.UniqueConstraint(
                fields=["bank", "kind", "value"], name="matching_entry_unique_in_bank"
            ),
            models.CheckConstraint(
                condition=(
                    _length_is(HashKind.PDQ)
                    | _length_is(HashKind.MD5)
                    | _length_is(HashKind.SHA1)
                    | _length_is(HashKind.SHA256)
                ),
                name="matching_entry_kind_and_length",
            ),
            models.CheckConstraint(
                condition=models.Q(classification__in=("", *CLASSIFICATIONS)),
                name="matching_entry_classification_known",
            ),
            models.CheckConstraint(
                condition=models.Q(quality__isnull=True) | models.Q(quality__lte=100),
                name="matching_entry_quality_range",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "value"], name="matching_entry_lookup"),
            models.Index(fields=["kind", "added_at"], name="matching_entry_added"),
            models.Index(fields=["kind", "removed_at"], name="matching_entry_removed"),
            models.Index(fields=["bank", "change_seq"], name="matching_entry_changes"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None

    @property
    def effective_classification(self) -> str:
        return self.classification or self.bank.default_classification


class FileMatch(models.Model):
    """A reported file that matched a bank entry: the file is known material.

    The case view never shows a known file unless an analyst reveals it (recorded), and the
    match raises the report's score through the ``signal.known_hash`` rule.
    """

    id = models.BigAutoField(primary_key=True)
    evidence = models.ForeignKey(
        "cases.EvidenceFile", on_delete=models.CASCADE, related_name="matches"
    )
    entry = models.ForeignKey(BankEntry, on_delete=models.PROTECT, related_name="file_matches")
    distance = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["evidence", "entry"], name="file_match_unique")
        ]

    def __str__(self) -> str:
        return f"File {self.evidence_id} matches entry {self.entry_id} at {self.distance}"
