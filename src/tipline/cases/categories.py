"""Report categories: stable codes, plain-language labels and what each form asks for.

The codes are stable identifiers shared by the public site, the API, the console, metrics and
partners; labels and guidance are translatable text. The fuller guidance library (issue 7) lives
in Markdown data files; the short panels here are what a reporter needs beside the form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tipline.triage.tiers import Tier


@dataclass(frozen=True)
class Category:
    code: str
    label: Promise
    summary: Promise
    default_tier: Tier
    default_priority: int
    allows_files: bool
    # Category-specific questions (names of optional form fields defined in web.report_forms).
    extra_fields: tuple[str, ...] = ()
    # Shown before the form: a child in danger needs a phone number before a form.
    emergency_first: bool = False
    warning: Promise | None = None
    gather: tuple[Promise, ...] = field(default_factory=tuple)
    avoid: tuple[Promise, ...] = field(default_factory=tuple)


_AVOID_COMMON = (
    _("Do not confront or warn the person responsible: they may delete evidence or retaliate."),
    _("Do not delete the conversation or block the account before you have noted the details."),
)

CATEGORIES: tuple[Category, ...] = (
    Category(
        code="child_in_danger",
        label=_("A child is in danger right now"),
        summary=_("A child may be hurt, or is about to meet someone who means them harm."),
        default_tier=Tier.P1,
        default_priority=90,
        allows_files=True,
        extra_fields=("child_location", "emergency_called"),
        emergency_first=True,
        gather=(
            _("Where the child is now, if you know (address, school, town)."),
            _("Who is with them or on the way to meet them, and when."),
            _("The account names or phone numbers used to contact the child."),
        ),
        avoid=(
            _("If the child is in danger now, call the emergency number before anything else."),
            *_AVOID_COMMON,
        ),
    ),
    Category(
        code="csam",
        label=_("Child sexual abuse material online"),
        summary=_("Images or videos of a child being sexually abused, found on a website or app."),
        default_tier=Tier.P3,
        default_priority=50,
        allows_files=False,
        warning=_(
            "Never download, screenshot, save, forward or upload this material, not even to "
            "report it: doing so can be a crime and spreads the harm. Send us only the web "
            "address (URL) where you saw it."
        ),
        gather=(
            _("The full web address (URL) of each page, copied from the address bar."),
            _("The name of the website or app, and the date and time you saw it."),
            _("Any usernames or channel names that posted it."),
        ),
        avoid=(
            _("Do not download, screenshot, save or forward the material."),
            _("Do not share the link with anyone except us or the police."),
            _("Do not contact the person who posted it."),
        ),
    ),
    Category(
        code="luring",
        label=_("Online luring or grooming of a child"),
        summary=_(
            "An adult is building a relationship with a child online to exploit them: flattery, "
            "gifts, secrecy, asking for pictures, or trying to meet."
        ),
        default_tier=Tier.P2,
        default_priority=70,
        allows_files=True,
        extra_fields=("meeting_planned",),
        gather=(
            _("The usernames, profile links, e-mails or phone numbers the person used."),
            _("The app or website and when the contact started."),
            _("Screenshots of the conversation, unless they contain sexual images of the child."),
        ),
        avoid=_AVOID_COMMON,
    ),
    Category(
        code="sextortion",
        label=_("Sextortion: threats to share intimate images"),
        summary=_(
            "Someone is threatening to share intimate images unless they get money, more images "
            "or something else."
        ),
        default_tier=Tier.P2,
        default_priority=75,
        allows_files=True,
        extra_fields=("demand", "deadline"),
        gather=(
            _("The accounts, usernames and payment details the person gave."),
            _("What they are demanding and any deadline they set."),
            _("Screenshots of the threats (not of the intimate images themselves)."),
        ),
        avoid=(
            _("Do not pay or send more images: it rarely stops the threats."),
            *_AVOID_COMMON,
        ),
    ),
    Category(
        code="ncii",
        label=_("Intimate images shared without consent"),
        summary=_("Intimate images of someone were shared or posted without their agreement."),
        default_tier=Tier.P3,
        default_priority=55,
        allows_files=True,
        warning=_(
            "If the person in the images is under 18, do not upload or screenshot the images: "
            "send us only the web address (URL)."
        ),
        gather=(
            _("The web addresses (URLs) where the images appear."),
            _("The accounts that posted or shared them."),
        ),
        avoid=(
            _("Do not upload the intimate images themselves."),
            *_AVOID_COMMON,
        ),
    ),
    Category(
        code="cyberstalking",
        label=_("Cyberstalking or online harassment"),
        summary=_(
            "Someone keeps contacting, following, threatening or monitoring you or another person "
            "online."
        ),
        default_tier=Tier.P3,
        default_priority=45,
        allows_files=True,
        extra_fields=("threats_made", "knows_location"),
        gather=(
            _("The dates and times of each incident, and what happened."),
            _("The accounts, e-mails and phone numbers used."),
            _("Screenshots of messages and posts, with the date visible."),
        ),
        avoid=_AVOID_COMMON,
    ),
    Category(
        code="other",
        label=_("Something else that worries you"),
        summary=_("Anything else about the online exploitation of a child or online abuse."),
        default_tier=Tier.P4,
        default_priority=20,
        allows_files=True,
        gather=(_("What you saw, where and when, and any links or usernames."),),
        avoid=_AVOID_COMMON,
    ),
)

BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}
CODES: tuple[str, ...] = tuple(BY_CODE)


def get(code: str) -> Category:
    """Return the category for a known code; raises KeyError otherwise."""
    return BY_CODE[code]


# Categories whose form puts the emergency number and "where is the child now" first.
EMERGENCY_FIRST = frozenset(c.code for c in CATEGORIES if c.emergency_first)
