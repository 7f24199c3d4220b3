"""The coded classification an analyst gives a report: the vocabularies hotlines share.

Legal assessment follows INHOPE's ICCAM (baseline: illegal everywhere by INTERPOL's baseline
criteria; national: illegal under this country's law only; not illegal). Severity follows the
IWF's A/B/C categories and the industry scale the Tech Coalition's classification uses
(A1/A2/B1/B2). Victim age group and gender record what the material or the reporter shows,
never a guess. Sextortion and cyberstalking have codes of their own (platform, payment method,
demand, motive, the victim's age band as the reporter gave it): which fields each category asks,
which a decision needs first and how the reporter's answers prefill them are data
(``data/classification.toml``, read by ``tipline.cases.classification_rules``). These are
analysts' codes, not reporters' words, so they are plain columns: the metrics issue counts
them without decrypting anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


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


class Platform(models.TextChoices):
    """Where it happened. Brand names are not translated; aliases for prefilling are data."""

    INSTAGRAM = "instagram", "Instagram"
    SNAPCHAT = "snapchat", "Snapchat"
    TIKTOK = "tiktok", "TikTok"
    FACEBOOK = "facebook", "Facebook or Messenger"
    WHATSAPP = "whatsapp", "WhatsApp"
    TELEGRAM = "telegram", "Telegram"
    DISCORD = "discord", "Discord"
    X = "x", "X (Twitter)"
    YOUTUBE = "youtube", "YouTube"
    REDDIT = "reddit", "Reddit"
    ROBLOX = "roblox", "Roblox"
    GAME = "online_game", _("Another online game")
    DATING = "dating_app", _("Dating app or site")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone calls or text messages")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Cannot tell")


class PaymentMethod(models.TextChoices):
    GIFT_CARD = "gift_card", _("Gift cards")
    CRYPTO = "cryptocurrency", _("Cryptocurrency")
    PAYMENT_APP = "payment_app", _("Payment app (PayPal, Cash App, UPI…)")
    BANK = "bank_transfer", _("Bank transfer")
    MONEY_TRANSFER = "money_transfer", _("Money transfer service")
    GAME_CURRENCY = "game_currency", _("In-game currency or items")
    NONE = "none", _("No payment asked")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Cannot tell")


class Demand(models.TextChoices):
    MONEY = "money", _("Money, gift cards or cryptocurrency")
    IMAGES = "images", _("More images or videos")
    MEETING = "meeting", _("To meet in person")
    CONTACT = "contact", _("Continued contact or a relationship")
    SILENCE = "silence", _("To stay silent or withdraw a complaint")
    NONE = "none", _("No demand made")
    OTHER = "other", _("Something else")
    UNKNOWN = "unknown", _("Cannot tell")


class Motive(models.TextChoices):
    FINANCIAL = "financial", _("Financial gain")
    SEXUAL = "sexual", _("Sexual: more images or contact")
    CONTROL = "control", _("Control of a current or former partner")
    INFATUATION = "infatuation", _("Infatuation or rejection")
    GRIEVANCE = "grievance", _("Revenge or grievance")
    PREJUDICE = "prejudice", _("Hate or prejudice")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Cannot tell")


class VictimAge(models.TextChoices):
    """The reporter's age bands (web/report_forms.AGE_GROUPS), so their answer prefills it."""

    UNDER_6 = "under_6", _("Under 6")
    AGE_6_12 = "6_12", _("6 to 12")
    AGE_13_15 = "13_15", _("13 to 15")
    AGE_16_17 = "16_17", _("16 or 17")
    ADULT = "adult", _("18 or older")
    UNKNOWN = "unknown", _("Cannot tell")


# Field name -> vocabulary. Forms, the case view, validation and tests iterate this one table.
VOCABULARIES: dict[str, type[models.TextChoices]] = {
    "legal_assessment": LegalAssessment,
    "severity": Severity,
    "industry_category": IndustryCategory,
    "victim_age_group": VictimAgeGroup,
    "victim_gender": VictimGender,
    "content_type": ContentType,
    "site_type": SiteType,
    "platform": Platform,
    "payment_method": PaymentMethod,
    "demand": Demand,
    "motive": Motive,
    "victim_age": VictimAge,
}

# Field name -> label, shared by the console and by the actions' refusals ("set the severity").
FIELD_LABELS: dict[str, _StrPromise] = {
    "legal_assessment": _("Legal assessment"),
    "severity": _("Severity (IWF category)"),
    "industry_category": _("Industry category"),
    "victim_age_group": _("Victim age group"),
    "victim_gender": _("Victim gender"),
    "content_type": _("Content type"),
    "site_type": _("Site type"),
    "platform": _("Platform"),
    "payment_method": _("Payment method"),
    "demand": _("Demand"),
    "motive": _("Motive"),
    "victim_age": _("Victim's age"),
}
