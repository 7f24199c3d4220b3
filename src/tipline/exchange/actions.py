"""Partner hotlines, forwarding a report to one, and filing what one forwards to us.

Writes run in one transaction with their audit entry; network calls never run inside one. The
console and the CLI are adapters over these functions; ``tasks.py`` delivers and retries.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tipline import crypto
from tipline.audit.chain import record
from tipline.cases import actions as case_actions
from tipline.cases import categories
from tipline.cases.models import Report, ReportIdentifier
from tipline.cases.policies import NotAllowed, ReportPolicy
from tipline.cases.states import Channel, ReportState
from tipline.evidence.validate import UploadRejected, ValidatedUpload, validate_upload
from tipline.exchange import document, sending
from tipline.exchange.models import Forwarding, ForwardState, InboundForward, PartnerHotline
from tipline.exchange.tasks import deliver_forwarding
from tipline.partners.actions import credential_create
from tipline.partners.models import ApiCredential, CredentialKind, Scope
from tipline.staff.models import StaffUser
from tipline.triage import identifiers

TARGET = "hotline"
OPEN_STATES = (ReportState.NEW, ReportState.IN_REVIEW, ReportState.AWAITING_SECOND_REVIEW)


class ExchangeError(ValueError):
    """A request that cannot be carried out, with the reason in plain words."""


@dataclass(frozen=True)
class AddedHotline:
    hotline: PartnerHotline
    # The token to give the partner (shown once): they present it when they send to us.
    inbound_token: str


def _base_url(text: str) -> str:
    parts = urlsplit(text.strip())
    allowed = {"https"} | ({"http"} if settings.TIPLINE_EXCHANGE_ALLOW_HTTP else set())
    if parts.scheme not in allowed or not parts.hostname or parts.query or parts.fragment:
        raise ExchangeError(
            "the partner's address must be an https:// URL without query or fragment"
        )
    return text.strip().rstrip("/")


def hotline_add(
    *,
    actor: str,
    name: str,
    base_url: str,
    public_key_hex: str,
    country: str = "",
    send_files: bool = False,
) -> AddedHotline:
    """Add a partner hotline and issue the credential it will present to us."""
    if country and (len(country) != 2 or not country.isascii() or not country.isupper()):
        raise ExchangeError("country must be an ISO 3166-1 alpha-2 code such as FR")
    try:
        document.public_key_from_hex(public_key_hex)
    except document.DocumentRefused as exc:
        raise ExchangeError(str(exc)) from None
    url = _base_url(base_url)
    if PartnerHotline.objects.filter(name=name).exists():
        raise ExchangeError(f"a partner hotline named {name} exists already")
    with transaction.atomic():
        created = credential_create(
            actor=actor,
            name=f"hotline {name}",
            kind=CredentialKind.PARTNER,
            scopes=[Scope.EXCHANGE],
        )
        hotline = PartnerHotline.objects.create(
            name=name,
            country=country,
            base_url=url,
            public_key=public_key_hex.strip().lower(),
            outbound_token=b"",
            inbound_credential=created.credential,
            send_files=send_files,
        )
        record(
            actor=actor,
            action="hotline.add",
            target_type=TARGET,
            target_id=hotline.pk,
            details={"name": name, "country": country, "url": url, "send_files": send_files},
        )
    return AddedHotline(hotline=hotline, inbound_token=created.token)


def hotline_set_token(*, actor: str, name: str, token: str) -> PartnerHotline:
    """Store (sealed) the token the partner issued us."""
    token = token.strip()
    if not token or len(token) > 200 or not token.isascii() or not token.isprintable():
        raise ExchangeError("that is not a token")
    with transaction.atomic():
        hotline = PartnerHotline.objects.select_for_update().filter(name=name).first()
        if hotline is None:
            raise ExchangeError(f"no partner hotline named {name}")
        hotline.outbound_token = crypto.seal_secret(
            token.encode(), context=sending.token_context(hotline.pk)
        )
        hotline.save(update_fields=["outbound_token"])
        record(actor=actor, action="hotline.set_token", target_type=TARGET, target_id=hotline.pk)
    return hotline


def hotline_for_credential(credential: ApiCredential) -> PartnerHotline | None:
    return PartnerHotline.objects.filter(inbound_credential=credential, active=True).first()


# --- Forwarding a report ---------------------------------------------------------------------


def forward_create(*, actor: StaffUser, report: Report, hotline: PartnerHotline) -> Forwarding:
    """Queue the report for the partner; the task worker delivers it (tasks.deliver)."""
    if not ReportPolicy.may_decide(actor, report):
        raise NotAllowed(_("only the person working the report, or a supervisor, may forward it"))
    if not hotline.active:
        raise ExchangeError(_("%(name)s is not active") % {"name": hotline.name})
    try:
        with transaction.atomic():
            forwarding = Forwarding.objects.create(
                report=report,
                hotline=hotline,
                state=ForwardState.QUEUED,
                created_by=actor.get_username(),
            )
            record(
                actor=actor.get_username(),
                action="report.forward",
                target_type="report",
                target_id=report.id,
                details={"hotline": hotline.name, "forwarding": str(forwarding.id)},
            )
            # In the transaction, not on commit: the task row (or outbox row) commits with the
            # forwarding, so a crash between the two cannot lose the delivery.
            deliver_forwarding.enqueue(str(forwarding.id))
    except IntegrityError:
        raise ExchangeError(
            _("this report was forwarded to %(name)s already") % {"name": hotline.name}
        ) from None
    return forwarding


# --- Receiving -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    reference: str
    status: str  # "filed", "linked", "already" or "outcome"


def _digests(urls: list[str], hashes: list[dict[str, str]]) -> set[str]:
    found = set()
    for text in urls:
        if canonical := identifiers.canonical_url(text):
            found.add(crypto.identifier_digest("url", canonical))
    for item in hashes:
        if item["kind"] == "sha256":
            found.add(crypto.identifier_digest("sha256", item["value"]))
    return found


def _open_report_naming(digests: set[str]) -> Report | None:
    if not digests:
        return None
    row = (
        ReportIdentifier.objects.filter(
            digest__in=digests, detached=False, report__state__in=OPEN_STATES
        )
        .order_by("report__created_at")
        .values_list("report_id", flat=True)
        .first()
    )
    return None if row is None else Report.objects.get(pk=row)


def _uploads(items: list[dict[str, str]]) -> list[ValidatedUpload]:
    uploads = []
    for item in items:
        data = base64.b64decode(item["data"], validate=True)
        if hashlib.sha256(data).hexdigest() != item["sha256"]:
            raise document.DocumentRefused(f"file {item['name']!r} does not match its SHA-256")
        try:
            uploads.append(validate_upload(item["name"], data))
        except UploadRejected as exc:
            raise document.DocumentRefused(f"file {item['name']!r} refused: {exc}") from None
    return uploads


def _summary(hotline: PartnerHotline, body: dict[str, Any]) -> str:
    lines = [f"Forwarded by partner hotline {hotline.name}, their reference {body['reference']}."]
    classification = {k: v for k, v in body["classification"].items() if v}
    if classification:
        lines.append(
            "Their classification: "
            + ", ".join(f"{k} {v}" for k, v in sorted(classification.items()))
        )
    if body["urls"]:
        lines.append("URLs: " + " ".join(body["urls"]))
    sha = [h["value"] for h in body["hashes"] if h["kind"] == "sha256"]
    if sha:
        lines.append("SHA-256: " + " ".join(sha))
    return "\n".join(lines)


def inbound_receive(*, hotline: PartnerHotline, parsed: dict[str, Any]) -> Received:
    """File (or link) a forwarded report, or apply an outcome update about one we sent."""
    if parsed["kind"] == "outcome":
        return _outcome_receive(hotline=hotline, body=parsed["outcome"])
    body = parsed["report"]
    existing = InboundForward.objects.filter(
        hotline=hotline, their_reference=body["reference"]
    ).first()
    if existing is not None:
        return Received(reference=str(existing.id), status="already")
    try:
        category = categories.get(body["category"]).code
    except KeyError:
        raise document.DocumentRefused(f"unknown category {body['category']!r}") from None
    uploads = _uploads(body.get("files", []))
    target = _open_report_naming(_digests(body["urls"], body["hashes"]))
    try:
        with transaction.atomic():
            if target is None:
                created = case_actions.report_create(
                    category=category,
                    channel=Channel.HOTLINE,
                    language="en",
                    details={
                        "what_happened": _summary(hotline, body),
                        "urls": body["urls"],
                        "forwarded": {
                            "hotline": hotline.name,
                            "reference": body["reference"],
                            "classification": body["classification"],
                            "hashes": body["hashes"],
                        },
                    },
                    contact=None,
                    uploads=uploads if categories.get(category).allows_files else (),
                    country=body.get("hosting_country", ""),
                )
                report, status = created.report, "filed"
            else:
                report, status = target, "linked"
            inbound = InboundForward.objects.create(
                hotline=hotline,
                their_reference=body["reference"],
                report=report,
                linked=target is not None,
            )
            record(
                actor=f"hotline:{hotline.name}",
                action="report.forward_received",
                target_type="report",
                target_id=report.id,
                details={
                    "hotline": hotline.name,
                    "their_reference": body["reference"],
                    "status": status,
                },
            )
    except IntegrityError:
        # The same document arrived twice at once; the first one won.
        again = InboundForward.objects.get(hotline=hotline, their_reference=body["reference"])
        return Received(reference=str(again.id), status="already")
    return Received(reference=str(inbound.id), status=status)


def _outcome_receive(*, hotline: PartnerHotline, body: dict[str, Any]) -> Received:
    at = datetime.fromisoformat(body["at"])
    with transaction.atomic():
        forwarding = (
            Forwarding.objects.select_for_update()
            .filter(hotline=hotline, pk=_uuid_or_none(body["your_reference"]))
            .first()
        )
        if forwarding is None:
            raise document.DocumentRefused("no report of ours has that reference for you")
        # Updates can arrive out of order (retries): an older one never overwrites a newer one.
        if forwarding.outcome_at is None or at > forwarding.outcome_at:
            forwarding.outcome_state = body["state"]
            forwarding.outcome = body.get("outcome", "")
            forwarding.outcome_at = at
            if not forwarding.their_reference:
                forwarding.their_reference = body["reference"]
            forwarding.save()
            record(
                actor=f"hotline:{hotline.name}",
                action="report.forward_outcome",
                target_type="report",
                target_id=forwarding.report_id,
                details={
                    "hotline": hotline.name,
                    "state": body["state"],
                    "outcome": forwarding.outcome,
                },
            )
    return Received(reference=str(forwarding.id), status="outcome")


def _uuid_or_none(text: str) -> Any:
    import uuid

    try:
        return uuid.UUID(text)
    except ValueError:
        return None
