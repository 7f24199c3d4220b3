"""The coded classification an analyst gives a report: the vocabularies hotlines share.

Legal assessment follows INHOPE's ICCAM (baseline: illegal everywhere by INTERPOL's baseline
criteria; national: illegal under this country's law only; not illegal). Severity follows the
IWF's A/B/C categories and the industry scale the Tech Coalition's classification uses
(A1/A2/B1/B2). Victim age group and gender record what the material or the reporter shows,
never a guess. These are analysts' codes, not reporters' words, so they are plain columns: the
metrics issue counts them without decrypting anything.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LegalAssessment(models.TextChoices):
    BASELINE = "baseline", _("Baseline: illegal in every country (INTERPOL baseline)")
    NATIONAL = "national", _("National: illegal under national law")
    NOT_ILLEGAL = "not_illegal", _("Not illegal")


ILLEGAL = frozenset({LegalAssessment.BASELINE, LegalAssessment.NATIONAL})


class Severity(models.TextChoices):
    A = "A", _("Category A (most severe)")
    B = "B", _("Category B")
    C = "C", _("Category C")


class IndustryCategory(models.TextChoices):
    A1 = "A1", _("A1: prepubescent, sex act")
    A2 = "A2", _("A2: prepubescent, lascivious exhibition")
    B1 = "B1", _("B1: pubescent, sex act")
    B2 = "B2", _("B2: pubescent, lascivious exhibition")


class VictimAgeGroup(models.TextChoices):
    INFANT = "infant", _("Infant or toddler (0 to 2)")
    PREPUBESCENT = "prepubescent", _("Prepubescent child")
    PUBESCENT = "pubescent", _("Pubescent child")
    TEEN = "teen_16_17", _("Teenager, 16 or 17")
    ADULT = "adult", _("Adult")
    UNKNOWN = "unknown", _("Cannot tell")


class VictimGender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    BOTH = "both", _("Both")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Cannot tell")


class ContentType(models.TextChoices):
    IMAGE = "image", _("Image")
    VIDEO = "video", _("Video")
    TEXT = "text", _("Text or chat")
    LIVESTREAM = "livestream", _("Live stream")
    LINK_LIST = "link_list", _("List of links")
    OTHER = "other", _("Other")


class SiteType(models.TextChoices):
    """ICCAM's site types (abbreviated)."""

    IMAGE_HOST = "image_host", _("Image host")
    FILE_HOST = "file_host", _("File host or cyberlocker")
    FORUM = "forum", _("Forum or board")
    SOCIAL = "social", _("Social network")
    MESSAGING = "messaging", _("Chat or messaging app")
    VIDEO = "video", _("Video channel or site")
    WEBSITE = "website", _("Website")
    BLOG = "blog", _("Blog")
    SEARCH = "search", _("Search provider")
    ARCHIVE = "archive", _("Web archive")
    OTHER = "other", _("Other")


# Field name -> vocabulary. Forms, the case view, validation and tests iterate this one table.
VOCABULARIES: dict[str, type[models.TextChoices]] = {
    "legal_assessment": LegalAssessment,
    "severity": Severity,
    "industry_category": IndustryCategory,
    "victim_age_group": VictimAgeGroup,
    "victim_gender": VictimGender,
    "content_type": ContentType,
    "site_type": SiteType,
}
