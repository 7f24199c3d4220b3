"""Agencies reports are referred to: the only writes to ``cases.Agency``, each audited.

Administrators add agencies and set their age public keys (console or ``tipline agencies``);
the command line acts as ``cli``. A key is validated before it is stored (``crypto.age``), and
the audit entry names the key that was set, so "which key was this package encrypted to, and who
put it there" always has an answer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone

from tipline import countries
from tipline.audit.chain import record
from tipline.cases.models import Agency, AgencyDelivery, Referral
from tipline.crypto import age
from tipline.outputs.policies import AgencyPolicy
from tipline.staff.models import StaffUser

CLI = "cli"
TARGET = "agency"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
CREDENTIAL_REFERENCE = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,99}")


class AgencyError(Exception):
    """An agency could not be added or changed; the message says why."""


class AgencyNotFound(AgencyError):
    pass


@dataclass(frozen=True)
class AgencyRow:
    name: str
    country: str
    contact: str
    delivery: str
    email: str
    key: str
    active: bool


def _actor(actor: StaffUser | None) -> str:
    if actor is None:
        return CLI
    if not AgencyPolicy.may_manage(actor):
        raise AgencyError("only administrators manage agencies")
    return actor.username


def _text(value: str, *, field: str, limit: int, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise AgencyError(f"{field} is required")
    if len(value) > limit:
        raise AgencyError(f"{field} is longer than {limit} characters")
    # Names travel into signed comments, file headers and e-mail: no control characters.
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise AgencyError(f"{field} contains control characters")
    return value


def _country(code: str) -> str:
    code = code.strip().upper()
    if code and code not in dict(countries.by_name()):
        raise AgencyError(f"{code!r} is not an ISO 3166-1 country code")
    return code


def _email(email: str) -> str:
    email = _text(email, field="e-mail", limit=254)  # no CR/LF: it becomes a mail header
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise AgencyError(f"{email!r} is not an e-mail address") from None
    return email


def _api_url(url: str) -> str:
    url = _text(url, field="API address", limit=500)
    if not url:
        return ""
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError:
        raise AgencyError(f"{url!r} is not a web address") from None
    parts = urlsplit(url)
    # The credential travels to it: only over TLS, except a service on this machine.
    if parts.scheme != "https" and parts.hostname not in LOOPBACK_HOSTS:
        raise AgencyError("the API address must start with https://")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise AgencyError("the API address holds no credentials, query or fragment")
    return url


def _credential(reference: str) -> str:
    reference = reference.strip()
    if reference and not CREDENTIAL_REFERENCE.fullmatch(reference):
        raise AgencyError(
            "the credential reference is a name (letters, digits, _ . : -), never the "
            "password itself"
        )
    return reference


@dataclass(frozen=True)
class AgencySettings:
    """Everything an administrator sets on an agency, checked (``agency_settings``)."""

    name: str
    country: str
    contact: str
    delivery: str
    email: str
    age_recipient: str
    api_url: str
    api_credential: str
    active: bool

    def values(self) -> dict[str, str | bool]:
        return {k: v for k, v in vars(self).items() if k != "name"}


def agency_settings(
    *,
    name: str,
    country: str = "",
    contact: str = "",
    delivery: str = AgencyDelivery.CONSOLE,
    email: str = "",
    key: str = "",
    api_url: str = "",
    api_credential: str = "",
    active: bool = True,
) -> AgencySettings:
    """Check what an administrator typed; AgencyError says what is wrong, in order."""
    if delivery not in AgencyDelivery.values:
        raise AgencyError(f"delivery is one of {', '.join(AgencyDelivery.values)}")
    checked = AgencySettings(
        name=_text(name, field="name", limit=200, required=True),
        country=_country(country),
        contact=_text(contact, field="contact", limit=500),
        delivery=delivery,
        email=_email(email),
        age_recipient=_key(key),
        api_url=_api_url(api_url),
        api_credential=_credential(api_credential),
        active=active,
    )
    if delivery == AgencyDelivery.EMAIL and not checked.email:
        raise AgencyError("e-mail delivery needs the agency's address (--email)")
    if delivery == AgencyDelivery.API and not (checked.api_url and checked.api_credential):
        raise AgencyError("API delivery needs the API address and the credential reference")
    return checked


def _key(text: str) -> str:
    try:
        return age.recipient(text) if text.strip() else ""
    except age.InvalidRecipient as exc:
        raise AgencyError(str(exc)) from None


def agency_add(
    *,
    actor: StaffUser | None,
    name: str,
    country: str = "",
    contact: str = "",
    delivery: str = AgencyDelivery.CONSOLE,
    email: str = "",
    key: str = "",
    api_url: str = "",
    api_credential: str = "",
    active: bool = True,
) -> Agency:
    checked = agency_settings(
        name=name,
        country=country,
        contact=contact,
        delivery=delivery,
        email=email,
        key=key,
        api_url=api_url,
        api_credential=api_credential,
        active=active,
    )
    return agency_create(actor=actor, settings=checked)


def agency_create(*, actor: StaffUser | None, settings: AgencySettings) -> Agency:
    """Add an agency from settings already checked (``agency_settings``); audited."""
    who, checked = _actor(actor), settings
    with transaction.atomic():
        if Agency.objects.filter(name=checked.name).exists():
            raise AgencyError(f"an agency named {checked.name!r} exists already")
        agency = Agency.objects.create(name=checked.name, **checked.values())
        record(
            actor=who,
            action="agency.add",
            target_type=TARGET,
            target_id=agency.pk,
            details={"name": checked.name, **checked.values()},
        )
    return agency


def agency_edit(*, actor: StaffUser | None, agency_id: int, settings: AgencySettings) -> Agency:
    """Change an agency; the audit entry lists each changed field as [before, after].

    A renamed agency is refused while referrals or liaisons name it: they hold the name.
    """
    who = _actor(actor)
    with transaction.atomic():
        agency = Agency.objects.select_for_update().filter(pk=agency_id).first()
        if agency is None:
            raise AgencyNotFound("no such agency")
        wanted = {"name": settings.name, **settings.values()}
        changed = {
            field: [getattr(agency, field), value]
            for field, value in wanted.items()
            if getattr(agency, field) != value
        }
        if not changed:
            return agency
        if "name" in changed:
            if Agency.objects.filter(name=settings.name).exclude(pk=agency.pk).exists():
                raise AgencyError(f"an agency named {settings.name!r} exists already")
            if _name_in_use(agency.name):
                raise AgencyError("referrals or liaisons name this agency: it cannot be renamed")
        for field, (_before, after) in changed.items():
            setattr(agency, field, after)
        agency.updated_at = timezone.now()
        agency.save(update_fields=[*changed, "updated_at"])
        record(
            actor=who,
            action="agency.edit",
            target_type=TARGET,
            target_id=agency.pk,
            details={"name": agency.name, "changed": changed},
        )
    return agency


def _name_in_use(name: str) -> bool:
    return (
        Referral.objects.filter(agency=name).exists()
        or StaffUser.objects.filter(agency=name).exists()
    )


def agency_set_key(*, actor: StaffUser | None, name: str, key: str) -> Agency:
    """Set (or replace) the agency's age public key. Later packages are encrypted to it."""
    who = _actor(actor)
    recipient = _key(key)
    if not recipient:
        raise AgencyError("no age public key given")
    with transaction.atomic():
        agency = Agency.objects.select_for_update().filter(name=name.strip()).first()
        if agency is None:
            raise AgencyNotFound(f"no agency named {name.strip()!r} (`tipline agencies list`)")
        before = agency.age_recipient
        agency.age_recipient = recipient
        agency.updated_at = timezone.now()
        agency.save(update_fields=["age_recipient", "updated_at"])
        record(
            actor=who,
            action="agency.set_key",
            target_type=TARGET,
            target_id=agency.pk,
            details={"name": agency.name, "key": [before or None, recipient]},
        )
    return agency


def agency_list() -> list[AgencyRow]:
    return [
        AgencyRow(
            name=a.name,
            country=a.country,
            contact=a.contact,
            delivery=a.delivery,
            email=a.email,
            key=a.age_recipient,
            active=a.active,
        )
        for a in Agency.objects.order_by("name")
    ]


def agency_for(user: StaffUser, agency_id: int) -> Agency:
    """The agency an administrator asked for by id; the same AgencyNotFound for a missing agency
    and for anyone who may not manage agencies."""
    if not AgencyPolicy.may_manage(user):
        raise AgencyNotFound("no such agency")
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None:
        raise AgencyNotFound("no such agency")
    return agency
