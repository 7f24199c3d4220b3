"""Exporting and downloading referral packages: the audited actions.

A package is built *outside* a database transaction (a large one takes a while, and on SQLite a
transaction here holds the write lock), then its audit entry is written, and only after that
commits does the package leave: the CLI moves it into place, the console starts the download. If
the entry cannot be written, nothing is released. Just before recording, the report is re-read
under a row lock and the checks are repeated, so a package is never released for a report whose
content was shredded or whose referral disappeared while it was being built.

Every refusal that concerns the report (no key, shredded, not referred) is audited as
``referral.refused`` with its reason; a successful export is ``referral.export`` (command line)
or ``referral.download`` (a liaison in the console), with the package id, its BLAKE2b-512
(``b2sum``) and size, and the signing key id, so a package an agency holds can be matched to
the entry that released it.
"""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tipline.audit.chain import record
from tipline.cases.models import Agency, Referral, Report
from tipline.cases.selectors import report_locked
from tipline.cases.states import ReportState
from tipline.outputs.package import Built, PackageRefused, build
from tipline.outputs.policies import ReferralPackagePolicy

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser

CLI = "cli"


def _referral(report: Report, agency_name: str) -> tuple[Referral, Agency]:
    referral = (
        Referral.objects.select_related("decision__proposed_by", "decision__reviewed_by")
        .filter(report=report, agency=agency_name)
        .first()
    )
    if referral is None:
        raise PackageRefused(f"this report was not referred to {agency_name}")
    if report.state != ReportState.ACTIONED:
        raise PackageRefused("the report was reopened: its referral is being reviewed again")
    if report.content_erased_at is not None:
        raise PackageRefused(
            "the report's content was erased under the retention policy (crypto-shredded): "
            "there is no evidence left to send"
        )
    agency = Agency.objects.filter(name=agency_name).first()
    if agency is None:
        raise PackageRefused(
            f"{agency_name} is not in the agency list, so it has no age key: an administrator "
            "adds it (`tipline agencies add`)"
        )
    return referral, agency


def referral_refused(actor: str, report: Report, agency: str, reason: str) -> None:
    """Audit a refused export or delivery with its reason (also used by ``email_delivery``)."""
    with transaction.atomic():
        record(
            actor=actor,
            action="referral.refused",
            target_type="report",
            target_id=report.id,
            details={"agency": agency, "reason": reason},
        )


def package_export(
    *, actor: str, report: Report, agency_name: str, channel: str, out: BinaryIO, filename: str
) -> Built:
    """Build, sign and audit one package (every channel: CLI, console download, e-mail)."""
    try:
        referral, agency = _referral(report, agency_name)
        built = build(
            report=report,
            referral=referral,
            agency=agency,
            classification=referral.decision.classification,
            created_by=actor,
            channel=channel,
            out=out,
            filename=filename,
            now=timezone.now(),
        )
        with transaction.atomic():
            # The same checks again, under the row lock: the report may have been reopened or
            # shredded while the package was being built.
            _referral(report_locked(report), agency_name)
            record(
                actor=actor,
                action="referral.download" if channel == "console" else "referral.export",
                target_type="report",
                target_id=report.id,
                details={
                    "agency": agency.name,
                    "referral": str(referral.id),
                    "package": str(built.package_id),
                    "blake2b": built.blake2b,
                    "size": built.size,
                    "files": built.files,
                    "recipient": agency.age_recipient,
                    "signing_key": built.key_id,
                },
            )
    except PackageRefused as refusal:
        referral_refused(actor, report, agency_name, str(refusal))
        raise
    return built


def referral_package_export(*, report: Report, agency: str, out: BinaryIO, filename: str) -> Built:
    """The command line's export (``tipline referral package``): acts as ``cli``."""
    return package_export(
        actor=CLI, report=report, agency_name=agency, channel="cli", out=out, filename=filename
    )


@dataclass(frozen=True)
class Delivery:
    """What a liaison downloads: the package and its signature, in one ZIP (see README.txt)."""

    file: BinaryIO
    filename: str
    built: Built


README = """Referral package from {hotline}

  package.zip          the package: report.json, encrypted members, manifest.sha256
  package.zip.minisig  its signature (minisign, key id {key_id})

1. Check the signature with the hotline's public key you received when the agency was set up:
     minisign -V -p hotline.pub -m package.zip
2. Unpack and check every member:
     unzip -d package package.zip && cd package && sha256sum -c --ignore-missing manifest.sha256
3. Decrypt with the agency's age key, then check the originals as well:
     for f in content.json.age summary.pdf.age evidence/*.age; do
       age -d -i agency.key -o "${{f%.age}}" "$f"; done
     sha256sum -c manifest.sha256
"""


def referral_package_download(*, actor: StaffUser, report: Report) -> Delivery:
    """A liaison downloads the package of a report referred to their agency (console)."""
    referral = ReferralPackagePolicy.referral_for(actor, report)
    if referral is None:
        raise PackageRefused(
            "only a liaison of the agency this report was referred to downloads its package"
        )
    filename = f"referral-{report.id}.zip"
    # Ciphertext and metadata only pass through these files (never a decrypted file), and
    # they are unlinked from the start: nothing is left behind when the response closes.
    workdir = settings.DATA_DIR
    with tempfile.TemporaryFile(dir=workdir) as package:
        built = package_export(
            actor=actor.username,
            report=report,
            agency_name=referral.agency,
            channel="console",
            out=package,
            filename="package.zip",
        )
        package.seek(0)
        # Returned open: the response streams it and closes (and so deletes) it.
        bundle = tempfile.TemporaryFile(dir=workdir)  # noqa: SIM115
        with zipfile.ZipFile(bundle, mode="w", allowZip64=True) as outer:
            with outer.open(zipfile.ZipInfo("package.zip"), mode="w", force_zip64=True) as inner:
                while chunk := package.read(1 << 20):
                    inner.write(chunk)
            outer.writestr("package.zip.minisig", built.signature)
            outer.writestr(
                "README.txt",
                README.format(hotline=settings.TIPLINE_HOTLINE_NAME, key_id=built.key_id),
            )
    bundle.seek(0)
    return Delivery(file=bundle, filename=filename, built=built)
