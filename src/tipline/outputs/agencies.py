"""Agencies reports are referred to: the only writes to ``cases.Agency``, each audited.

Administrators add agencies and set their age public keys (console or ``tipline agencies``);
the command line acts as ``cli``. A key is validated before it is stored (``crypto.age``), and
the audit entry names the key that was set, so "which key was this package encrypted to, and who
put it there" always has an answer.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from tipline import countries
from tipline.audit.chain import record
from tipline.cases.models import Agency, AgencyDelivery
from tipline.crypto import age
from tipline.outputs.policies import AgencyPolicy
from tipline.staff.models import StaffUser

CLI = "cli"
TARGET = "agency"


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


def _delivery(delivery: str, email: str) -> tuple[str, str]:
    if delivery not in AgencyDelivery.values:
        raise AgencyError(f"delivery is one of {', '.join(AgencyDelivery.values)}")
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise AgencyError(f"{email!r} is not an e-mail address") from None
    if delivery == AgencyDelivery.EMAIL and not email:
        raise AgencyError("e-mail delivery needs the agency's address (--email)")
    return delivery, email


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
) -> Agency:
    who = _actor(actor)
    name = _text(name, field="name", limit=200, required=True)
    values = {
        "country": _country(country),
        "contact": _text(contact, field="contact", limit=500),
        "age_recipient": _key(key),
    }
    values["delivery"], values["email"] = _delivery(delivery, email)
    with transaction.atomic():
        if Agency.objects.filter(name=name).exists():
            raise AgencyError(f"an agency named {name!r} exists already")
        agency = Agency.objects.create(name=name, **values)
        record(
            actor=who,
            action="agency.add",
            target_type=TARGET,
            target_id=agency.pk,
            details={"name": name, **values},
        )
    return agency


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
