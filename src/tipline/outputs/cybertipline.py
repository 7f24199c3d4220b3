"""Referring a report to a CyberTipline-compatible service (NCMEC's Reporting API, or any service
speaking it, Tipline's own /ispws included).

The report is built as CyberTipline XML from the referred report (incident type from the
category through ``espformat/data/mapping.toml``, URLs, the accounts, e-mail addresses and phone
numbers it names, the reporter's description, Tipline's reference) and **validated against the
XSD before anything is sent**: a document the schema refuses never leaves. It is then submitted
with its evidence files by the protocol's open → upload → fileinfo → finish sequence; each
upload's MD5 answer is checked against the file sent. The service's ``reportId`` is kept on the
referral, and the submission is audited (``referral.cybertipline``: agency, referral, the
service's report id, file count — never content). Whatever fails after the open retracts the
half-sent report, so the service never holds a partial one; the refusal is audited with its
reason and code.

The reporter's contact details are never sent: the hotline reports as itself (``reporter``), the
person who told the hotline stays anonymous.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from lxml import etree

from tipline import crypto, storage
from tipline.audit.chain import record
from tipline.audit.models import AuditEntry
from tipline.cases.models import Agency, AgencyDelivery, EvidenceFile, Referral, Report
from tipline.cases.sealing import KeyDestroyed, report_key
from tipline.cases.selectors import report_locked
from tipline.cases.states import KeyPurpose, ReportState
from tipline.espformat import documents, mapping
from tipline.outputs.policies import ReferralApiPolicy

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_TEXT = 20_000
# ``Referral.external_id`` while a submission is under way (a service's ids are digits): the
# claim that keeps a second click, a second process or the CLI from submitting it again. A claim
# older than CLAIM_STALE (far beyond every timeout of the sequence) is a crashed run: retaken.
SENDING = "sending"
CLAIM_STALE = timedelta(minutes=30)


class SubmitRefused(Exception):
    """The report was not (completely) delivered; the message says why, fit for an operator."""


@dataclass(frozen=True)
class Service:
    """Where and as whom to report (HTTP Basic, as the protocol requires)."""

    base_url: str  # e.g. https://report.cybertip.org/ispws
    username: str
    password: str


@dataclass(frozen=True)
class Submitted:
    referral: Referral
    external_id: str
    files: int


# ---------------------------------------------------------------------------------------------
# Building the documents


def _add(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v.strip()]
    return []


def report_document(report: Report, details: dict[str, Any]) -> bytes:
    """The ``<report>`` for ``report``, validated against the XSD (``documents.Invalid`` if not)."""
    table = mapping.mapping()
    root = etree.Element("report")
    summary = _add(root, "incidentSummary")
    _add(summary, "incidentType", table.outbound[report.category])
    if isinstance(details.get("platform"), str) and details["platform"].strip():
        _add(summary, "platform", details["platform"].strip()[:200])
    if report.tier == "P1":
        _add(summary, "escalateToHighPriority", "Urgent at the sending hotline (tier P1).")
    flags = table.outbound_annotations.get(report.category, ())
    if flags:
        annotations = _add(summary, "reportAnnotations")
        for flag in flags:
            _add(annotations, flag, "true")
    # When the hotline received it: the reporter's own "when" is free text, sent as description.
    _add(summary, "incidentDateTime", report.created_at.astimezone(UTC).isoformat())
    if isinstance(details.get("when"), str) and details["when"].strip():
        _add(summary, "incidentDateTimeDescription", details["when"].strip()[:500])
    urls = _strings(details.get("urls"))
    if urls:
        web = _add(_add(root, "internetDetails"), "webPageIncident")
        for url in urls[:200]:
            _add(web, "url", url)
    reporter = _add(root, "reporter")
    person = _add(reporter, "reportingPerson")
    _add(person, "firstName", str(getattr(settings, "TIPLINE_HOTLINE_NAME", "Tipline")))
    _add(person, "lastName", "hotline")
    emails, phones = _strings(details.get("emails")), _strings(details.get("phones"))
    handles = _strings(details.get("handles"))
    if emails or phones or handles:
        reported = _add(root, "personOrUserReported")
        if emails or phones:
            who = _add(reported, "personOrUserReportedPerson")
            for phone in phones[:50]:
                _add(who, "phone", phone)
            for email in emails[:50]:
                _add(who, "email", email)
        if handles:
            _add(reported, "screenName", handles[0])
        for handle in handles[1:50]:
            _add(reported, "displayName", handle)
    what = details.get("what_happened") if isinstance(details.get("what_happened"), str) else ""
    info = f"Tipline report {report.id} (category {report.category})."
    if what:
        info += "\n\n" + what[:MAX_TEXT]
    _add(root, "additionalInfo", info)
    body = documents.serialise(root)
    documents.parse(body, root="report")  # never send what the schema refuses
    return body


def file_details_document(
    *, report_id: int, file_id: str, meta: dict[str, Any], industry: str
) -> bytes:
    root = etree.Element("fileDetails")
    _add(root, "reportId", str(report_id))
    _add(root, "fileId", file_id)
    if isinstance(meta.get("name"), str) and meta["name"]:
        _add(root, "originalFileName", meta["name"][:255])
    if industry in ("A1", "A2", "B1", "B2"):
        _add(root, "industryClassification", industry)
    for kind, key in (("SHA256", "sha256"), ("SHA1", "sha1"), ("MD5", "md5")):
        if isinstance(meta.get(key), str) and meta[key]:
            _add(root, "originalFileHash", meta[key]).set("hashType", kind)
    body = documents.serialise(root)
    documents.parse(body, root="fileDetails")
    return body


# ---------------------------------------------------------------------------------------------
# The protocol


@dataclass(frozen=True)
class _Answer:
    code: int
    description: str
    report_id: str
    file_id: str
    md5: str


def _answer(response: httpx.Response) -> _Answer:
    if len(response.content) > 64 * 1024:
        raise SubmitRefused(f"the service answered {len(response.content)} bytes; refused")
    try:
        doc = documents.parse_untrusted_answer(response.content)
    except documents.DocumentError:
        raise SubmitRefused(
            f"the service answered HTTP {response.status_code} without XML"
        ) from None
    code = doc.findtext("responseCode") or ""
    return _Answer(
        code=int(code) if code.lstrip("-").isdigit() else -1,
        description=(doc.findtext("responseDescription") or "")[:300],
        report_id=(doc.findtext("reportId") or "").strip(),
        file_id=(doc.findtext("fileId") or "").strip(),
        md5=(doc.findtext("hash") or "").strip().lower(),
    )


class _Session:
    def __init__(self, service: Service, transport: httpx.BaseTransport | None = None) -> None:
        self.http = httpx.Client(
            base_url=service.base_url.rstrip("/"),
            auth=(service.username, service.password),
            timeout=TIMEOUT,
            follow_redirects=False,
            transport=transport,
        )

    def call(self, step: str, **kwargs: Any) -> _Answer:
        try:
            response = self.http.post(f"/{step}", **kwargs)
        except httpx.HTTPError as exc:
            raise SubmitRefused(
                f"{step}: the service could not be reached ({type(exc).__name__})"
            ) from None
        answer = _answer(response)
        if answer.code != 0:
            raise SubmitRefused(
                f"{step}: the service refused with code {answer.code}: {answer.description}"
            )
        return answer

    def close(self) -> None:
        self.http.close()


def _files(report: Report, key: bytes) -> list[tuple[EvidenceFile, dict[str, Any], bytes]]:
    found = []
    for row in EvidenceFile.objects.filter(report=report).order_by("created_at", "id"):
        meta = crypto.open_json(key, row.meta, context=crypto.context("file", row.id, "meta"))
        data = crypto.open_sealed(
            key, storage.read_object(row.object_id), context=crypto.context("file", row.id, "data")
        )
        if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
            raise SubmitRefused(f"evidence file {row.id} does not match the hash taken at intake")
        found.append((row, meta, data))
    return found


def _referral(report: Report, agency: str) -> Referral:
    referral = (
        Referral.objects.filter(report=report, agency=agency).select_related("decision").first()
    )
    if referral is None:
        raise SubmitRefused(f"this report was not referred to {agency}")
    if report.state != ReportState.ACTIONED:
        raise SubmitRefused("the report was reopened: its referral is being reviewed again")
    if referral.external_id == SENDING:
        raise SubmitRefused(f"a submission to {agency} is under way already")
    if referral.external_id:
        raise SubmitRefused(
            f"already submitted to {agency} (their report id {referral.external_id})"
        )
    return referral


def _claim(referral: Referral, agency: str) -> None:
    """Take the referral for this submission, atomically; refused if another run holds it."""
    now = timezone.now()
    free = Q(external_id="") | Q(external_id=SENDING, submitted_at__lt=now - CLAIM_STALE)
    if not Referral.objects.filter(free, pk=referral.pk).update(
        external_id=SENDING, submitted_at=now
    ):
        raise SubmitRefused(f"a submission to {agency} is under way already")


def _release(referral: Referral) -> None:
    Referral.objects.filter(pk=referral.pk, external_id=SENDING).update(
        external_id="", submitted_at=None
    )


def _industry(report: Report) -> str:
    classification = getattr(report, "classification", None)
    return str(getattr(classification, "industry_category", "") or "")


def referral_submit(
    *,
    actor: str,
    report: Report,
    agency: str,
    service: Service,
    transport: httpx.BaseTransport | None = None,
) -> Submitted:
    """Submit the referred report to ``service``; keep its report id on the referral."""
    claimed: Referral | None = None
    try:
        referral = _referral(report, agency)
        _claim(referral, agency)
        claimed = referral
        try:
            key = report_key(report.id, KeyPurpose.CONTENT)
        except KeyDestroyed:
            raise SubmitRefused(
                "the report's content was erased: there is nothing to send"
            ) from None
        details = crypto.open_json(
            key, report.payload, context=crypto.context("report", report.id, "payload")
        )
        try:
            body = report_document(report, details)
        except documents.DocumentError as exc:
            raise SubmitRefused(f"the report does not fit the CyberTipline schema: {exc}") from None
        files = _files(report, key)
        external_id = _deliver(service, body, files, _industry(report), transport)
        with transaction.atomic():
            report_locked(report)
            referral = Referral.objects.select_for_update().get(pk=referral.pk)
            referral.external_id = external_id
            referral.submitted_at = timezone.now()
            referral.save(update_fields=["external_id", "submitted_at"])
            record(
                actor=actor,
                action="referral.cybertipline",
                target_type="report",
                target_id=report.id,
                details={
                    "agency": agency,
                    "referral": str(referral.id),
                    "external_id": external_id,
                    "service": service.base_url,
                    "files": len(files),
                },
            )
    except BaseException as failure:
        if claimed is not None:
            _release(claimed)  # refused or crashed before the service's id was kept
        if not isinstance(failure, SubmitRefused):
            raise
        refusal = failure
        with transaction.atomic():
            record(
                actor=actor,
                action="referral.refused",
                target_type="report",
                target_id=report.id,
                details={"agency": agency, "reason": str(refusal), "via": "cybertipline"},
            )
        raise
    return Submitted(referral=referral, external_id=external_id, files=len(files))


def _deliver(
    service: Service,
    body: bytes,
    files: list[tuple[EvidenceFile, dict[str, Any], bytes]],
    industry: str,
    transport: httpx.BaseTransport | None,
) -> str:
    session = _Session(service, transport)
    opened = ""
    try:
        opened = session.call(
            "submit", content=body, headers={"Content-Type": "text/xml; charset=utf-8"}
        ).report_id
        if not opened.isdigit():
            raise SubmitRefused("submit: the service answered without a report id")
        for row, meta, data in files:
            up = session.call(
                "upload",
                data={"id": opened},
                files={"file": (str(meta.get("name") or row.pk), data, "application/octet-stream")},
            )
            if up.md5 != hashlib.md5(data, usedforsecurity=False).hexdigest():
                raise SubmitRefused("upload: the service received a different file (MD5 differs)")
            session.call(
                "fileinfo",
                content=file_details_document(
                    report_id=int(opened), file_id=up.file_id, meta=meta, industry=industry
                ),
                headers={"Content-Type": "text/xml; charset=utf-8"},
            )
        session.call("finish", data={"id": opened})
        return opened
    except SubmitRefused:
        if opened.isdigit():
            # Leave nothing half-sent; the refusal above is what the operator needs to see.
            with contextlib.suppress(SubmitRefused):
                session.call("retract", data={"id": opened})
        raise
    finally:
        session.close()


# ---------------------------------------------------------------------------------------------
# From the console: the agency's own settings, as the command line uses by default


def check_endpoint(url: str) -> None:
    """Credentials and evidence travel: https://, or plain http only to this machine (a test
    service, or a tunnel's local end)."""
    parts = urlsplit(url)
    loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not loopback:
        raise SubmitRefused("the service's address must be https://")


def agency_service(agency: str, environ: Mapping[str, str]) -> Service:
    """The service of an agency whose delivery is the CyberTipline-compatible API: its API
    address, and the USER:PASSWORD held by the environment variable its credential names."""
    row = Agency.objects.filter(name=agency, delivery=AgencyDelivery.API).first()
    if row is None or not row.api_url:
        raise SubmitRefused(f"{agency} does not take reports through a CyberTipline-compatible API")
    check_endpoint(row.api_url)
    username, sep, password = environ.get(row.api_credential, "").partition(":")
    if not (row.api_credential and sep and username and password):
        raise SubmitRefused(
            f"the server has no credential for {agency}: set the environment variable "
            f"{row.api_credential or '(the agency has no credential reference)'} to USER:PASSWORD"
        )
    return Service(base_url=row.api_url, username=username, password=password)


def referral_submit_for(
    *, actor: StaffUser, report: Report, agency: str, transport: httpx.BaseTransport | None = None
) -> Submitted:
    """A caseworker submits a confirmed referral to its agency's API (the console's button)."""
    if not ReferralApiPolicy.may_submit(actor):
        raise SubmitRefused("you may not submit referrals")
    try:
        service = agency_service(agency, os.environ)
    except SubmitRefused as refusal:
        with transaction.atomic():
            record(
                actor=actor.username,
                action="referral.refused",
                target_type="report",
                target_id=report.id,
                details={"agency": agency, "reason": str(refusal), "via": "cybertipline"},
            )
        raise
    return referral_submit(
        actor=actor.username, report=report, agency=agency, service=service, transport=transport
    )


@dataclass(frozen=True)
class ApiOption:
    """A referral to an agency reached by the API, for the case view."""

    agency: str
    referral: Referral
    last_refusal: str  # the latest refusal's reason, if it was not submitted since

    @property
    def submitted(self) -> bool:
        return bool(self.referral.external_id) and self.referral.external_id != SENDING

    @property
    def under_way(self) -> bool:
        return self.referral.external_id == SENDING


def api_options(report: Report) -> list[ApiOption]:
    """The report's referrals to agencies whose delivery is the API, each with its state."""
    names = Agency.objects.filter(delivery=AgencyDelivery.API).values_list("name", flat=True)
    referrals = Referral.objects.filter(report=report, agency__in=list(names)).order_by("agency")
    options = []
    for referral in referrals:
        refusal = ""
        if not referral.external_id:
            last = (
                AuditEntry.objects.filter(
                    target_type="report",
                    target_id=str(report.id),
                    action__in=("referral.refused", "referral.cybertipline"),
                )
                .order_by("-seq")
                .values_list("action", "details")[:20]
            )
            for action, details in last:
                if details.get("agency") != referral.agency:
                    continue
                if action == "referral.refused" and details.get("via") == "cybertipline":
                    refusal = str(details.get("reason", ""))
                break
        options.append(ApiOption(referral.agency, referral, refusal))
    return options
