"""What a notice says: the readable text (en/fr/hi templates) and, for child sexual abuse and
exploitation, one XARF v4 report per URL, validated with ``xarf`` in strict mode.

A notice carries URLs and classification codes only, never material, never the reporter's words.
XARF has no type for harassment, stalking or intimate images: those get the readable text alone.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlsplit

import xarf

from tipline.takedown.config import Config

TEMPLATES = Path(__file__).resolve().parent / "data" / "templates"
LANGUAGES = ("en", "fr", "hi")
XARF_VERSION = "4.2.0"

# Report category -> what the notice calls it; the XARF type where one exists.
_WHAT = {
    "csam": "csam",
    "luring": "exploitation",
    "sextortion": "exploitation",
    "child_in_danger": "exploitation",
    "ncii": "ncii",
    "cyberstalking": "harassment",
    "other": "harassment",
}
_EXPLOITATION = {
    "luring": "grooming",
    "sextortion": "sextortion",
    "child_in_danger": "solicitation",
}
_MEDIA = {"image": "image", "video": "video", "livestream": "video", "text": "text"}
_AGE = {"infant": "infant", "prepubescent": "prepubescent", "pubescent": "pubescent"}
_PLATFORM = {"social": "social_media", "messaging": "messaging_app", "forum": "forum"}


class NoticeInvalid(ValueError):
    """The XARF part failed strict validation; the message lists why."""


@dataclass(frozen=True)
class Composed:
    subject: str
    body: str
    xarf_parts: tuple[str, ...]  # JSON text, one per URL


def csam_code(classification: dict[str, str]) -> str:
    """XARF's csam ``classification``: the industry category, else "baseline", else ""."""
    if classification.get("industry_category"):
        return classification["industry_category"]
    return "baseline" if classification.get("legal_assessment") == "baseline" else ""


def uses_xarf(category: str, classification: dict[str, str]) -> bool:
    """XARF for exploitation, and for csam XARF can classify; material illegal under national
    law only (no XARF code for it) gets the readable notice alone."""
    if category == "csam":
        return bool(csam_code(classification))
    return category in _EXPLOITATION


@functools.cache
def _template(language: str) -> dict[str, Any]:
    return tomllib.loads((TEMPLATES / f"{language}.toml").read_text("utf-8"))


def _domain(config: Config) -> str:
    return config.sender.rpartition("@")[2] or "localhost"


_DOMAIN = re.compile(r"\A([a-z0-9]+(-[a-z0-9]+)*\.)+[a-z]{2,}\Z")  # XARF's own pattern


def _xarf_domain(url: str) -> str:
    """The URL's host as XARF accepts a domain (IDNA, lower case), or "" if it has none."""
    try:
        host = (urlsplit(url).hostname or "").encode("idna").decode("ascii").lower()
    except (UnicodeError, ValueError):
        return ""
    return host if _DOMAIN.match(host) else ""


def xarf_report(
    *,
    category: str,
    url: str,
    address: str,
    classification: dict[str, str],
    config: Config,
    now: datetime,
) -> dict[str, Any]:
    """One XARF v4 report for ``url``; raises NoticeInvalid when it cannot be built or fails."""
    parts = urlsplit(url)
    host = _xarf_domain(url)
    contact = {"org": config.org[:200], "contact": config.sender, "domain": _domain(config)}
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    report: dict[str, Any] = {
        "xarf_version": XARF_VERSION,
        "report_id": str(uuid.uuid4()),
        "timestamp": stamp,
        "reporter": contact,
        "sender": contact,
        "source_identifier": address or host,
        "source_port": parts.port or (443 if parts.scheme == "https" else 80),
        "category": "content",
        "evidence_source": "user_report",
        "evidence": [],  # never the material: the provider has it, we send where it is
        "confidence": 1.0,
        "url": url,
        "domain": host,
        "verified_at": stamp,
        "verification_method": "manual",
        "target_brand": "none",
    }
    if category == "csam":
        code = csam_code(classification)
        if not code:
            raise NoticeInvalid(
                "a XARF csam report needs a classification of baseline or A1/A2/B1/B2"
            )
        report.update(
            type="csam",
            classification=code,
            detection_method="manual_review",
            media_type=_MEDIA.get(classification.get("content_type", ""), "mixed"),
            hash_values={},
            ncmec_report_id="",
            content_removed=False,
        )
    else:
        report.update(
            type="csem",
            exploitation_type=_EXPLOITATION[category],
            detection_method="user_report",
            victim_age_range=_AGE.get(classification.get("victim_age_group", ""), "unknown"),
            platform=_PLATFORM.get(classification.get("site_type", ""), "other"),
            evidence_type=[],
            reporting_obligations=["platform_safety_team"],
        )
    result = xarf.parse(report, strict=True)
    if result.errors or result.report is None:
        reasons = "; ".join(e.message[:120] for e in result.errors[:5]) or "not a XARF report"
        raise NoticeInvalid(f"XARF validation failed for {url}: {reasons}")
    return report


def compose(
    *,
    category: str,
    language: str,
    provider: str,
    reference: str,
    urls: list[tuple[str, str]],  # (url, resolved address)
    classification: dict[str, str],
    config: Config,
    now: datetime,
) -> Composed:
    """The notice's subject, readable body and XARF parts (validated, or NoticeInvalid)."""
    text = _template(language if language in LANGUAGES else "en")
    with_xarf = uses_xarf(category, classification)
    # XARF's "domain" must match its pattern, which takes neither an IP address nor an IDNA
    # name ("xn--" has a double hyphen): such addresses are in the readable text only.
    named = [(url, address) for url, address in urls if _xarf_domain(url)]
    parts = (
        tuple(
            json.dumps(
                xarf_report(
                    category=category,
                    url=url,
                    address=address,
                    classification=classification,
                    config=config,
                    now=now,
                ),
                indent=2,
                sort_keys=True,
            )
            for url, address in named
        )
        if with_xarf
        else ()
    )
    values = {
        "org": config.org,
        "provider": provider,
        "what": text["what"][_WHAT.get(category, "harassment")],
        "count": str(len(urls)),
        # Angle brackets keep a URL whole in mail readers; each is one line, never wrapped.
        "urls": "\n".join(f"  <{url}>" for url, _ in urls),
        "reference": reference,
        "contact": config.sender,
        "structured": text["structured_xarf" if parts else "structured_plain"],
    }
    subject = Template(text["subject"]).safe_substitute(values)
    # A subject is one line whatever a provider's name holds.
    subject = " ".join(subject.split())[:200]
    body = Template(text["body"]).safe_substitute(values).strip() + "\n"
    return Composed(subject=subject, body=body, xarf_parts=parts)
