"""Building a referral package: one streaming pass from the evidence store to a signed ZIP.

Layout (flat; ``unzip -d DIR package.zip`` then work inside DIR)::

    report.json            metadata only, versioned schema in schema/ (no reporter content)
    content.json.age       the reporter's answers, messages and file names    ┐ encrypted to
    summary.pdf.age        the human-readable summary (WeasyPrint)            │ the agency's
    evidence/01.png.age    each evidence file, as received                    ┘ age key
    manifest.sha256        `sha256sum -c` lines for every member above, and for each evidence
                           file as `age -d` restores it (evidence/01.png)

Nothing readable is written on the way: each evidence file is opened from the store in memory,
checked against the SHA-256 taken at intake (a mismatch stops the build), encrypted to the agency
and written. The ZIP goes to an output stream without seeking, so ``zipfile`` writes a streaming
archive (sizes in data descriptors) and every byte is hashed once as it passes (BLAKE2b-512:
what the minisign signature covers and the audit record names; ``b2sum`` prints the same digest).
Evidence files are opened and encrypted two at a time (``_encrypted``). A 1 GB package is read,
encrypted, hashed and signed without a second pass (benchmarks/referral_package.py).

What the plain members reveal to whoever holds the package (not only the agency): ids, category,
classification codes, staff names and times, sizes and content types, and the SHA-256 of each
evidence file (so a decrypted file can be checked with ``sha256sum -c``). What the reporter
wrote, file names and the files themselves are readable only with the agency's key.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import uuid
import zipfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from django.conf import settings

from tipline import crypto, storage
from tipline.cases import categories, selectors
from tipline.cases.models import Agency, EvidenceFile, Referral, Report
from tipline.cases.sealing import KeyDestroyed, report_key
from tipline.cases.states import KeyPurpose
from tipline.crypto import age, minisign
from tipline.outputs import custody, summary_pdf

FORMAT = "tipline-referral-report"
VERSION = 1
REPORT = "report.json"
CONTENT = "content.json.age"
SUMMARY = "summary.pdf.age"
MANIFEST = "manifest.sha256"
EVIDENCE_DIR = "evidence"
_AHEAD = 3
_EXTENSIONS = {"image/jpeg": ".jpg", "text/plain": ".txt"}


class PackageRefused(Exception):
    """No package can be built; the message says why in words an analyst or liaison can act on."""


@dataclass(frozen=True)
class Built:
    package_id: uuid.UUID
    filename: str
    size: int
    # BLAKE2b-512 of the whole package: what the signature covers, and what `b2sum` prints, so
    # the audit entry names the package without a second hash pass over it.
    blake2b: str
    signature: str  # the .minisig text
    key_id: str
    files: int


class _HashingWriter:
    """Writes through to ``out`` and hashes every byte. No ``seek``/``tell`` on purpose: zipfile
    then never rewrites a header it has already written (and hashed)."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self.prehash = minisign.Prehash()
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        self._out.write(data)
        self.prehash.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self._out.flush()

    def close(self) -> None:
        """zipfile closes what it was given; the caller owns ``out`` and closes it."""


def _extension(content_type: str) -> str:
    return _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ".bin"


def _time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


@dataclass(frozen=True)
class _Evidence:
    row: EvidenceFile
    meta: dict[str, Any]
    path: str
    original: str


def _evidence(report: Report, key: bytes) -> list[_Evidence]:
    rows = list(EvidenceFile.objects.filter(report=report).order_by("created_at", "id"))
    width = max(2, len(str(len(rows))))
    found = []
    for index, row in enumerate(rows, start=1):
        meta = crypto.open_json(key, row.meta, context=crypto.context("file", row.id, "meta"))
        original = f"{EVIDENCE_DIR}/{index:0{width}d}{_extension(meta['content_type'])}"
        found.append(_Evidence(row=row, meta=meta, path=original + ".age", original=original))
    return found


def _document(
    *,
    package_id: uuid.UUID,
    now: datetime,
    created_by: str,
    channel: str,
    report: Report,
    referral: Referral,
    agency: Agency,
    recipient: str,
    classification: dict[str, str],
    evidence: list[_Evidence],
) -> dict[str, Any]:
    decision = referral.decision
    return {
        "format": FORMAT,
        "version": VERSION,
        "package": {
            "id": str(package_id),
            "created_at": _time(now),
            "created_by": created_by,
            "channel": channel,
            "signing_key_id": minisign.key_id(),
        },
        "hotline": {"name": settings.TIPLINE_HOTLINE_NAME},
        "agency": {"name": agency.name, "country": agency.country, "recipient": recipient},
        "report": {
            "id": str(report.id),
            "category": report.category,
            "category_label": str(categories.get(report.category).label),
            "channel": report.channel,
            "language": report.language,
            "country": report.country,
            "received_at": _time(report.created_at),
            "state": report.state,
            "outcome": report.outcome,
            "tier": report.tier,
            "priority": report.priority,
        },
        "classification": classification,
        "decision": {
            "id": str(decision.id),
            "outcome": decision.outcome,
            "four_eyes": decision.needs_second_review,
            "proposed_by": decision.proposed_by.username,
            "proposed_at": _time(decision.proposed_at),
            "confirmed_by": decision.reviewed_by.username if decision.reviewed_by else None,
            "confirmed_at": _time(decision.reviewed_at),
        },
        "referral": {
            "id": str(referral.id),
            "agency": referral.agency,
            "created_at": _time(referral.created_at),
        },
        "encrypted_to_agency": [
            {"path": CONTENT, "holds": "content"},
            {"path": SUMMARY, "holds": "summary"},
        ],
        "evidence": [
            {
                "path": e.path,
                "original": e.original,
                "content_type": e.meta["content_type"],
                "size": e.meta["size"],
                "sha256": e.meta["sha256"],
                "received_at": e.meta["received_at"],
            }
            for e in evidence
        ],
        "custody": custody.custody(
            report,
            [(e.row.id, datetime.fromisoformat(e.meta["received_at"])) for e in evidence],
        ),
    }


def _content(report: Report, evidence: list[_Evidence]) -> dict[str, Any]:
    # Contact details are left out on purpose: the reporter gave them to the hotline, not to
    # whoever it refers to (ReportPolicy.may_see_contact). Internal notes stay too.
    return {
        "format": "tipline-referral-content",
        "version": VERSION,
        "report_id": str(report.id),
        "answers": selectors.report_details(report),
        "messages": [
            {
                "author": m.author.value,
                "created_at": _time(m.created_at),
                "body": m.body,
                "files": [f.name for f in m.files],
            }
            for m in selectors.report_thread(report)
        ],
        "evidence": [
            {
                "path": e.path,
                "original": e.original,
                "name": e.meta["name"],
                "content_type": e.meta["content_type"],
                "size": e.meta["size"],
                "sha256": e.meta["sha256"],
                "received_at": e.meta["received_at"],
            }
            for e in evidence
        ],
    }


def build(
    *,
    report: Report,
    referral: Referral,
    agency: Agency,
    classification: dict[str, str],
    created_by: str,
    channel: str,
    out: BinaryIO,
    filename: str,
    now: datetime,
) -> Built:
    """Write the signed package for ``referral`` to ``out``; PackageRefused if it cannot be."""
    if not agency.age_recipient:
        raise PackageRefused(
            f"{agency.name} has no age public key yet, so nothing can be encrypted to it: an "
            "administrator sets it first (`tipline agencies set-key`)"
        )
    try:
        recipient = age.recipient(agency.age_recipient)
        key = report_key(report.id, KeyPurpose.CONTENT)
    except age.InvalidRecipient as exc:
        raise PackageRefused(f"{agency.name}'s age key is not usable: {exc}") from None
    except KeyDestroyed:
        raise PackageRefused(
            "the report's content was erased under the retention policy (crypto-shredded): "
            "there is no evidence left to send"
        ) from None
    package_id = uuid.uuid4()
    evidence = _evidence(report, key)
    doc = _document(
        package_id=package_id,
        now=now,
        created_by=created_by,
        channel=channel,
        report=report,
        referral=referral,
        agency=agency,
        recipient=recipient,
        classification=classification,
        evidence=evidence,
    )
    content = _content(report, evidence)
    pdf = summary_pdf.render(
        {
            "doc": doc,
            "content": content,
            "custody": [{**e, "words": custody.describe(e["action"])} for e in doc["custody"]],
        }
    )
    writer = _HashingWriter(out)
    manifest: list[tuple[str, str]] = []
    when = now.astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(writer, mode="w", allowZip64=True) as archive:

        def member(
            name: str, data: bytes, *, compress: bool = False, digest: str | None = None
        ) -> None:
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
            manifest.append((digest or hashlib.sha256(data).hexdigest(), name))

        member(REPORT, json.dumps(doc, indent=2, ensure_ascii=False).encode(), compress=True)
        member(CONTENT, age.encrypt(json.dumps(content, ensure_ascii=False).encode(), recipient))
        member(SUMMARY, age.encrypt(pdf, recipient))
        for item, encrypted, digest in _encrypted(evidence, key, recipient):
            member(item.path, encrypted, digest=digest)
            manifest.append((item.meta["sha256"], item.original))
        lines = "".join(f"{digest}  {name}\n" for digest, name in manifest)
        member(MANIFEST, lines.encode(), compress=True)
    signature = minisign.sign_prehashed(
        writer.prehash.digest(),
        trusted_comment=(
            f"timestamp:{int(now.timestamp())}\tfile:{filename}\tpackage:{package_id}"
            f"\treport:{report.id}"
        ),
        untrusted_comment=f"referral package {package_id} from {settings.TIPLINE_HOTLINE_NAME}",
    )
    return Built(
        package_id=package_id,
        filename=filename,
        blake2b=writer.prehash.digest().hex(),
        size=writer.size,
        signature=signature,
        key_id=minisign.key_id(),
        files=len(evidence),
    )


def _encrypted(
    evidence: list[_Evidence], key: bytes, recipient: str
) -> Iterator[tuple[_Evidence, bytes, str]]:
    """Each evidence file opened, checked, encrypted to the agency and hashed, in order.

    Two files are worked on at once: reading, libsodium and hashlib release the GIL (rage does
    not), so on two cores one file is opened and hashed while another is encrypted, and the
    caller writes the ZIP meanwhile. At most ``_AHEAD`` files are in memory at a time.
    """
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="referral") as pool:
        pending: deque[Future[tuple[_Evidence, bytes, str]]] = deque()
        for item in evidence:
            pending.append(pool.submit(_one, item, key, recipient))
            if len(pending) >= _AHEAD:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _one(item: _Evidence, key: bytes, recipient: str) -> tuple[_Evidence, bytes, str]:
    encrypted = age.encrypt(_original(item, key), recipient)
    return item, encrypted, hashlib.sha256(encrypted).hexdigest()


def _original(item: _Evidence, key: bytes) -> bytes:
    """The evidence file's original bytes, checked against the SHA-256 taken at intake."""
    try:
        data = crypto.open_sealed(
            key,
            storage.read_object(item.row.object_id),
            context=crypto.context("file", item.row.id, "data"),
        )
    except storage.StorageUnavailable:
        raise PackageRefused("the evidence store is unavailable; try again later") from None
    except storage.StorageError:
        raise PackageRefused(f"{item.original} is missing from the evidence store") from None
    except crypto.DecryptionError:
        raise PackageRefused(f"{item.original} does not open: the stored copy is damaged") from None
    if hashlib.sha256(data).hexdigest() != item.meta["sha256"]:
        raise PackageRefused(f"{item.original} no longer matches the SHA-256 taken at intake")
    return data
