"""The takedown settings, read in one place with their defaults (see docs/deployment.md)."""

from __future__ import annotations

import os
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


@dataclass(frozen=True)
class ImapConfig:
    """The mailbox where providers' replies arrive (``replies.py``); off unless a host is set."""

    host: str
    port: int
    security: str  # "tls" (IMAPS), "starttls", or "none" (a loopback host only)
    ca_file: str  # "" = the system's certificate authorities
    user: str
    password: str
    mailbox: str
    max_bytes: int  # a larger message is skipped unread
    max_messages: int  # per run; the rest wait for the next
    timeout: float
    every: timedelta

    @property
    def source(self) -> str:
        """How the audit log names the mailbox (never the password)."""
        return f"imap:{self.user}@{self.host}:{self.port}/{self.mailbox}"


class ImapMisconfigured(ValueError):
    pass


LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}


def _imap_password(s: object) -> str:
    """From the file ``TIPLINE_TAKEDOWN_IMAP_PASSWORD_FILE`` names, or the environment variable
    ``TIPLINE_TAKEDOWN_IMAP_PASSWORD_ENV`` names: never written in the settings themselves."""
    path = getattr(s, "TIPLINE_TAKEDOWN_IMAP_PASSWORD_FILE", "")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    variable = getattr(s, "TIPLINE_TAKEDOWN_IMAP_PASSWORD_ENV", "")
    return os.environ.get(variable, "") if variable else ""


def imap_load() -> ImapConfig | None:
    s = settings
    host = getattr(s, "TIPLINE_TAKEDOWN_IMAP_HOST", "")
    if not host:
        return None
    security = getattr(s, "TIPLINE_TAKEDOWN_IMAP_SECURITY", "tls")
    if security not in ("tls", "starttls", "none"):
        raise ImapMisconfigured("TIPLINE_TAKEDOWN_IMAP_SECURITY is tls, starttls or none")
    if security == "none" and host not in LOOPBACK_HOSTS:
        # A password in clear text goes nowhere but this machine.
        raise ImapMisconfigured("TIPLINE_TAKEDOWN_IMAP_SECURITY=none is for a loopback host only")
    return ImapConfig(
        host=host,
        port=int(getattr(s, "TIPLINE_TAKEDOWN_IMAP_PORT", 993)),
        security=security,
        ca_file=getattr(s, "TIPLINE_TAKEDOWN_IMAP_CA_FILE", ""),
        user=getattr(s, "TIPLINE_TAKEDOWN_IMAP_USER", ""),
        password=_imap_password(s),
        mailbox=getattr(s, "TIPLINE_TAKEDOWN_IMAP_MAILBOX", "INBOX"),
        max_bytes=int(getattr(s, "TIPLINE_TAKEDOWN_IMAP_MAX_BYTES", 1024 * 1024)),
        max_messages=int(getattr(s, "TIPLINE_TAKEDOWN_IMAP_MAX_MESSAGES", 200)),
        timeout=float(getattr(s, "TIPLINE_TAKEDOWN_IMAP_TIMEOUT", 30.0)),
        every=timedelta(minutes=int(getattr(s, "TIPLINE_TAKEDOWN_IMAP_MINUTES", 5))),
    )
