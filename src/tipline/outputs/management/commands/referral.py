"""`tipline referral package|verify|pubkey|submit-cybertipline`: export, check and publish
referral packages, or submit a referral to a CyberTipline-compatible service.

* ``package REPORT_ID --agency NAME --out FILE`` writes the signed package to FILE and its
  signature to FILE.minisig (audited as ``referral.export``, acting as ``cli``). The package is
  written beside FILE under a temporary name and moved into place only after the audit entry is
  committed; on any refusal nothing is left behind.
* ``verify PACKAGE`` checks the signature, the manifest and report.json's schema (exit 0 only if
  all pass). PACKAGE may be a package with FILE.minisig beside it, or a console download (the
  package and its signature in one ZIP). ``--pubkey`` checks against a minisign public key file
  instead of this installation's; ``--identity`` also decrypts each evidence file with the
  agency's age key and checks it against the manifest.
* ``pubkey`` prints the referral public key (minisign format) to give to agencies.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import uuid
from argparse import ArgumentParser
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.cases.models import Report
from tipline.crypto import age, minisign
from tipline.outputs import actions, cybertipline
from tipline.outputs.email_delivery import referral_email_queue
from tipline.outputs.package import PackageRefused
from tipline.outputs.verify import unwrap, verify_package

PASSWORD_ENV = "TIPLINE_CYBERTIPLINE_PASSWORD"  # noqa: S105 - the variable's name


class Command(BaseCommand):
    help = "Export a referral package, verify one, or print the referral signing public key."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        package = sub.add_parser(
            "package",
            help="write the signed package of a referred report",
            description="Write the signed package of REPORT_ID for AGENCY to FILE and its "
            "signature to FILE.minisig. Audited as referral.export.",
        )
        package.add_argument("report_id", metavar="REPORT_ID")
        package.add_argument("--agency", required=True, help="the agency it was referred to")
        package.add_argument("--out", required=True, type=Path, metavar="FILE")
        check = sub.add_parser(
            "verify",
            help="check a package's signature, manifest and schema",
            description="Check a package's signature, manifest and report.json schema.",
        )
        check.add_argument("package", type=Path, metavar="PACKAGE")
        check.add_argument("--pubkey", type=Path, metavar="FILE", help="minisign public key file")
        check.add_argument(
            "--signature", type=Path, metavar="FILE", help="default: PACKAGE.minisig"
        )
        check.add_argument(
            "--identity", type=Path, metavar="FILE", help="agency age key: check the originals"
        )
        cybertip = sub.add_parser(
            "submit-cybertipline",
            help="submit a referred report to a CyberTipline-compatible service",
            description=(
                "Submit REPORT_ID, referred to AGENCY, with its evidence files to a service "
                "speaking NCMEC's CyberTipline Reporting API (open, upload, fileinfo, finish). "
                "The service's report id is kept on the referral. The password is read from "
                f"the environment variable {PASSWORD_ENV} (never from the command line, where "
                "other users could read it). Audited as referral.cybertipline."
            ),
        )
        cybertip.add_argument("report_id", metavar="REPORT_ID")
        cybertip.add_argument("--agency", required=True, help="the agency it was referred to")
        cybertip.add_argument(
            "--endpoint",
            help="the service's base URL, ending in /ispws, with --username (default: the API "
            "address of an agency reached by the API)",
        )
        cybertip.add_argument(
            "--username",
            help=f"the HTTP Basic user name (password in {PASSWORD_ENV}); default: the "
            "environment variable named by the agency's credential reference, holding "
            "USER:PASSWORD",
        )
        send = sub.add_parser(
            "send",
            help="queue the e-mail of a referred report's package to its agency",
            description="Queue the e-mail of REPORT_ID's package to AGENCY (an agency whose "
            "delivery is e-mail); the task worker sends it and retries while SMTP is down. "
            "Audited as referral.email_queued, then referral.email_sent.",
        )
        send.add_argument("report_id", metavar="REPORT_ID")
        send.add_argument("--agency", required=True, help="the agency it was referred to")
        sub.add_parser(
            "pubkey",
            help="print the referral signing public key",
            description="Print the minisign public key agencies verify packages with.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "pubkey":
            self.stdout.write(minisign.public_key_file(), ending="")
            self.stderr.write(f"key id {minisign.key_id()}")
        elif action == "send":
            self._send(options["report_id"], options["agency"])
        elif action == "package":
            self._package(options["report_id"], options["agency"], options["out"])
        elif action == "submit-cybertipline":
            self._cybertipline(options)
        else:
            self._verify(options)

    def _package(self, report_id: str, agency: str, out: Path) -> None:
        try:
            report = Report.objects.get(pk=uuid.UUID(report_id))
        except (ValueError, Report.DoesNotExist):
            raise CommandError(f"no report {report_id}") from None
        out = out.resolve()
        if out.exists():
            raise CommandError(f"{out} exists already; choose another name")
        partial = out.with_name(f".{out.name}.{secrets.token_hex(4)}.partial")
        released = False
        try:
            with partial.open("xb") as handle:
                built = actions.referral_package_export(
                    report=report, agency=agency, out=handle, filename=out.name
                )
                handle.flush()
                os.fsync(handle.fileno())
            # The audit entry is committed: the package may now take its name.
            Path(f"{out}.minisig").write_text(built.signature)
            partial.replace(out)
            released = True
        except PackageRefused as refusal:
            raise CommandError(f"no package: {refusal}") from None
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc.strerror}") from None
        finally:
            if not released:
                partial.unlink(missing_ok=True)
        self.stdout.write(f"{out}  {built.size} bytes, {built.files} evidence file(s)")
        self.stdout.write(f"{out}.minisig  key id {built.key_id}")
        self.stdout.write(f"blake2b {built.blake2b}  package {built.package_id}")

    def _cybertipline(self, options: dict[str, Any]) -> None:
        try:
            report = Report.objects.get(pk=uuid.UUID(options["report_id"]))
        except (ValueError, Report.DoesNotExist):
            raise CommandError(f"no report {options['report_id']}") from None
        try:
            service = _service(options, os.environ)
            submitted = cybertipline.referral_submit(
                actor=actions.CLI, report=report, agency=options["agency"], service=service
            )
        except cybertipline.SubmitRefused as refusal:
            raise CommandError(f"not submitted: {refusal}") from None
        self.stdout.write(
            f"submitted to {options['agency']}: their report id {submitted.external_id}, "
            f"{submitted.files} file(s)"
        )

    def _send(self, report_id: str, agency: str) -> None:
        try:
            report = Report.objects.get(pk=uuid.UUID(report_id))
        except (ValueError, Report.DoesNotExist):
            raise CommandError(f"no report {report_id}") from None
        try:
            delivery = referral_email_queue(actor=actions.CLI, report=report, agency=agency)
        except PackageRefused as refusal:
            raise CommandError(f"not sent: {refusal}") from None
        self.stdout.write(f"{delivery.state}: {delivery.agency} <{delivery.address}>")

    def _verify(self, options: dict[str, Any]) -> None:
        try:
            public = (
                options["pubkey"].read_text() if options["pubkey"] else minisign.public_key_file()
            )
            identity = None
            if options["identity"]:
                with options["identity"].open("rb") as handle:
                    identity = age.identity_from_file(handle)
            with tempfile.TemporaryDirectory() as workdir:
                found = unwrap(options["package"], Path(workdir))
                signature = found.signature
                if options["signature"] or signature is None:
                    sig_path = options["signature"] or Path(f"{options['package']}.minisig")
                    signature = sig_path.read_text(errors="replace")
                result = verify_package(
                    found.package, signature=signature, public_key=public, identity=identity
                )
        except OSError as exc:
            raise CommandError(f"cannot read {exc.filename}: {exc.strerror}") from None
        except (age.AgeError, minisign.MinisignError) as exc:
            raise CommandError(str(exc)) from None
        for line in result.checked:
            self.stdout.write(f"ok: {line}")
        if result.trusted_comment:
            self.stdout.write(f"trusted comment: {result.trusted_comment}")
        if not result.ok:
            for problem in result.problems:
                self.stderr.write(f"FAILED: {problem}")
            raise CommandError("the package does NOT verify")
        self.stdout.write("package verified: signature, manifest and schema")


def _service(options: dict[str, Any], environ: Mapping[str, str]) -> cybertipline.Service:
    """Both --endpoint and --username (password in TIPLINE_CYBERTIPLINE_PASSWORD), or neither:
    then the agency's own settings, which only an agency reached by the API has
    (``cybertipline.agency_service``). Secrets never come from the command line."""
    endpoint, username = options.get("endpoint"), options.get("username")
    if not endpoint and not username:
        return cybertipline.agency_service(options["agency"], environ)
    if not (endpoint and username):
        raise CommandError(
            "give both --endpoint and --username, or neither (the agency's settings)"
        )
    password = environ.get(PASSWORD_ENV, "")
    if not password:
        raise CommandError(f"set {PASSWORD_ENV} to the service's password")
    cybertipline.check_endpoint(endpoint)
    return cybertipline.Service(base_url=endpoint, username=username, password=password)
