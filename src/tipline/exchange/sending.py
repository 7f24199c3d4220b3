"""The worker's side of forwarding: building documents, sending them, recording the answer.

Only the task worker runs this module (``tasks.py``): it is where a report's content is opened to
build the document, and where the network is used. Nothing here runs inside a request.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tipline import crypto, storage
from tipline.audit.chain import record
from tipline.cases.models import EvidenceFile, Report
from tipline.cases.sealing import report_key
from tipline.cases.states import KeyPurpose
from tipline.cases.transitions import classification_snapshot
from tipline.exchange import document
from tipline.exchange.models import Forwarding, ForwardState, InboundForward, PartnerHotline
from tipline.triage import identifiers

# Files travel only under a partner agreement, and only this many and this large.
MAX_FILES = 10
MAX_FILE_BYTES = 1024 * 1024
INBOUND_PATH = "/api/v1/exchange/inbound"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# After this many failed attempts a forwarding stays failed until an analyst retries it.
MAX_ATTEMPTS = 12
MAX_ANSWER = 64 * 1024


class SendFailed(Exception):
    """The partner could not be reached or did not accept: ``final`` when retrying won't help."""

    def __init__(self, reason: str, *, final: bool = False) -> None:
        super().__init__(reason)
        self.final = final


@dataclass(frozen=True)
class Answer:
    reference: str
    status: str


def token_context(hotline_id: int) -> str:
    return crypto.context("hotline", str(hotline_id), "outbound_token")


def outbound_token(hotline: PartnerHotline) -> str:
    blob = bytes(hotline.outbound_token)
    if not blob:
        raise SendFailed(f"no token from {hotline.name} yet (tipline hotlines set-token)")
    return crypto.open_secret(blob, context=token_context(hotline.pk)).decode()


def send(hotline: PartnerHotline, payload: dict[str, Any]) -> Answer:
    """POST a signed document to the partner; their reference, or SendFailed."""
    body = document.encode(payload)
    headers = {
        "Authorization": f"Bearer {outbound_token(hotline)}",
        "Content-Type": "application/json",
        document.SIGNATURE_HEADER: document.signature_header(body),
    }
    try:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
            response = client.post(hotline.base_url + INBOUND_PATH, content=body, headers=headers)
            answer = response.read()[:MAX_ANSWER]
    except httpx.HTTPError as exc:
        raise SendFailed(f"could not reach {hotline.name}: {type(exc).__name__}") from None
    if response.status_code in (401, 403):
        raise SendFailed(f"{hotline.name} refused our credential ({response.status_code})")
    if response.status_code == 400:
        raise SendFailed(f"{hotline.name} refused the document: {_reason(answer)}", final=True)
    if response.status_code != 200:
        raise SendFailed(f"{hotline.name} answered {response.status_code}")
    try:
        parsed = httpx.Response(200, content=answer).json()
        return Answer(reference=str(parsed["reference"])[:64], status=str(parsed["status"])[:16])
    except (ValueError, KeyError, TypeError):
        raise SendFailed(f"{hotline.name} sent an answer we cannot read") from None


def _reason(answer: bytes) -> str:
    try:
        message = httpx.Response(400, content=answer).json().get("message", "")
    except (ValueError, AttributeError):
        message = ""
    return str(message)[:120] or "no reason given"


def _urls_and_hashes(report: Report) -> tuple[list[str], list[dict[str, str]], list[EvidenceFile]]:
    key = report_key(report.id, KeyPurpose.CONTENT)
    details: dict[str, Any] = crypto.open_json(
        key, report.payload, context=crypto.context("report", report.id, "payload")
    )
    files = list(EvidenceFile.objects.filter(report=report).order_by("created_at", "id"))
    metas = [
        crypto.open_json(key, f.meta, context=crypto.context("file", f.id, "meta")) for f in files
    ]
    pairs = identifiers.extract(details, [m["sha256"] for m in metas], region=report.country)
    urls = sorted(canonical for kind, canonical in pairs if kind == "url")
    hashes: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for meta in metas:
        for kind in ("sha256", "md5", "pdq"):
            value = meta.get(kind)
            if isinstance(value, str) and (kind, value) not in seen:
                seen.add((kind, value))
                hashes.append({"kind": kind, "value": value.lower()})
    for kind, canonical in sorted(pairs):
        if kind == "sha256" and ("sha256", canonical) not in seen:
            seen.add(("sha256", canonical))
            hashes.append({"kind": "sha256", "value": canonical})
    return urls[:200], hashes[:200], files


def _file_items(report: Report, files: list[EvidenceFile]) -> list[dict[str, str]]:
    key = report_key(report.id, KeyPurpose.CONTENT)
    items = []
    for evidence in files[:MAX_FILES]:
        meta = crypto.open_json(
            key, evidence.meta, context=crypto.context("file", evidence.id, "meta")
        )
        if meta.get("size", 0) > MAX_FILE_BYTES:
            continue
        data = crypto.open_sealed(
            key,
            storage.read_object(evidence.object_id),
            context=crypto.context("file", evidence.id, "data"),
        )
        if hashlib.sha256(data).hexdigest() != meta["sha256"]:
            raise SendFailed("a file no longer matches the SHA-256 taken at intake", final=True)
        items.append(
            {
                "name": meta["name"],
                "sha256": meta["sha256"],
                "data": base64.b64encode(data).decode(),
            }
        )
    return items


def report_document(forwarding: Forwarding) -> dict[str, Any]:
    """The document for a forwarding: opened here, in the worker, and nowhere else."""
    report = forwarding.report
    urls, hashes, files = _urls_and_hashes(report)
    snapshot = classification_snapshot(report)
    body: dict[str, Any] = {
        "reference": str(forwarding.id),
        "category": report.category,
        "hosting_country": forwarding.hotline.country,
        "urls": urls,
        "hashes": hashes,
        "classification": {
            field: snapshot.get(field, "")
            for field in ("legal_assessment", "severity", "industry_category")
        },
    }
    if forwarding.hotline.send_files:
        body["files"] = _file_items(report, files)
    return {**_envelope("report"), "report": body}


def _envelope(kind: str) -> dict[str, Any]:
    return {
        "format": document.FORMAT,
        "version": document.VERSION,
        "kind": kind,
        "id": str(uuid.uuid4()),
        "sent_at": timezone.now().isoformat(),
        "sender": {
            "hotline": settings.TIPLINE_HOTLINE_NAME[:64],
            "country": settings.TIPLINE_HOTLINE_COUNTRY,
        },
    }


def forward_delivered(*, forwarding_id: Any, their_reference: str, linked: bool) -> None:
    with transaction.atomic():
        forwarding = Forwarding.objects.select_for_update().get(pk=forwarding_id)
        forwarding.state = ForwardState.SENT
        forwarding.their_reference = their_reference[:64]
        forwarding.linked_there = linked
        forwarding.sent_at = timezone.now()
        forwarding.attempts += 1
        forwarding.last_error = ""
        forwarding.save()
        record(
            actor="exchange",
            action="report.forward_sent",
            target_type="report",
            target_id=forwarding.report_id,
            details={
                "hotline": forwarding.hotline.name,
                "their_reference": forwarding.their_reference,
                "linked": linked,
            },
        )


def forward_failed(*, forwarding_id: Any, reason: str, final: bool) -> Forwarding:
    with transaction.atomic():
        forwarding = Forwarding.objects.select_for_update().get(pk=forwarding_id)
        forwarding.state = ForwardState.REFUSED if final else ForwardState.FAILED
        forwarding.attempts += 1
        forwarding.last_error = reason[:200]
        forwarding.save(update_fields=["state", "attempts", "last_error"])
        record(
            actor="exchange",
            action="report.forward_failed",
            target_type="report",
            target_id=forwarding.report_id,
            details={"hotline": forwarding.hotline.name, "reason": forwarding.last_error},
        )
    return forwarding


# --- Outcomes we owe partners ----------------------------------------------------------------


def outcomes_due(limit: int = 100) -> list[InboundForward]:
    """Forwards whose report changed state or outcome since we last told the partner."""
    due = []
    rows = InboundForward.objects.select_related("report", "hotline").order_by("received_at")
    for inbound in rows.iterator(chunk_size=500):
        report = inbound.report
        if (report.state, report.outcome) != (inbound.told_state, inbound.told_outcome):
            due.append(inbound)
            if len(due) >= limit:
                break
    return due


def outcome_document(inbound: InboundForward) -> dict[str, Any]:
    report = inbound.report
    return {
        **_envelope("outcome"),
        "outcome": {
            "reference": str(inbound.id),
            "your_reference": inbound.their_reference,
            "state": report.state,
            "outcome": report.outcome,
            "at": report.updated_at.isoformat(),
        },
    }


def outcome_told(*, inbound_id: Any, state: str, outcome: str) -> None:
    with transaction.atomic():
        inbound = InboundForward.objects.select_for_update().get(pk=inbound_id)
        inbound.told_state, inbound.told_outcome, inbound.told_at = state, outcome, timezone.now()
        inbound.save(update_fields=["told_state", "told_outcome", "told_at"])
        record(
            actor="exchange",
            action="report.forward_outcome_sent",
            target_type="report",
            target_id=inbound.report_id,
            details={"hotline": inbound.hotline.name, "state": state, "outcome": outcome},
        )


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 30 s, 1 min, 2 min … capped at 6 hours."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))
