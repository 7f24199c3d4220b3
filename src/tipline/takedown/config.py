"""The takedown settings, read in one place with their defaults (see docs/deployment.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings

DEFAULT_PROVIDERS = Path(__file__).resolve().parent / "data" / "providers.yaml"


@dataclass(frozen=True)
class Config:
    resolver: str  # "" = the system's resolvers; "IP" or "IP:PORT"
    rdap_url: str  # base of the RDAP service, e.g. https://rdap.org/
    lookup_timeout: float
    providers_file: Path
    proxy: str  # "" or an outbound proxy URL for the re-check (socks5://… for Tor)
    allow_loopback: bool  # tests only: the re-check may fetch 127.0.0.1
    check_timeout: float
    max_redirects: int
    concurrency: int
    per_host: int
    recheck_every: timedelta
    remind_after: timedelta
    escalate_after: timedelta
    org: str
    sender: str


def load() -> Config:
    s = settings
    return Config(
        resolver=getattr(s, "TIPLINE_TAKEDOWN_RESOLVER", ""),
        rdap_url=getattr(s, "TIPLINE_TAKEDOWN_RDAP_URL", "https://rdap.org/"),
        lookup_timeout=float(getattr(s, "TIPLINE_TAKEDOWN_LOOKUP_TIMEOUT", 5.0)),
        providers_file=Path(getattr(s, "TIPLINE_TAKEDOWN_PROVIDERS", DEFAULT_PROVIDERS)),
        proxy=getattr(s, "TIPLINE_TAKEDOWN_PROXY", ""),
        allow_loopback=bool(getattr(s, "TIPLINE_TAKEDOWN_ALLOW_LOOPBACK", False)),
        check_timeout=float(getattr(s, "TIPLINE_TAKEDOWN_CHECK_TIMEOUT", 10.0)),
        max_redirects=int(getattr(s, "TIPLINE_TAKEDOWN_MAX_REDIRECTS", 5)),
        concurrency=int(getattr(s, "TIPLINE_TAKEDOWN_CONCURRENCY", 50)),
        per_host=int(getattr(s, "TIPLINE_TAKEDOWN_PER_HOST", 4)),
        recheck_every=timedelta(minutes=int(getattr(s, "TIPLINE_TAKEDOWN_RECHECK_MINUTES", 60))),
        remind_after=timedelta(hours=int(getattr(s, "TIPLINE_TAKEDOWN_REMIND_HOURS", 48))),
        escalate_after=timedelta(hours=int(getattr(s, "TIPLINE_TAKEDOWN_ESCALATE_HOURS", 120))),
        org=getattr(s, "TIPLINE_HOTLINE_NAME", "Tipline hotline"),
        sender=getattr(s, "TIPLINE_TAKEDOWN_FROM", "") or s.DEFAULT_FROM_EMAIL,
    )
