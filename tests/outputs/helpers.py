"""A report referred through the real four-eyes path, and an agency holding a real age key."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from pyrage import x25519  # type: ignore[import-untyped]

from tests import factories
from tipline.cases import actions, review, transitions
from tipline.cases.models import Agency, Report
from tipline.cases.states import Outcome
from tipline.outputs import agencies

AGENCY = "National Police Cybercrime Unit"  # listed in data/workflow.toml


@dataclass(frozen=True)
class AgencyKey:
    identity: str  # AGE-SECRET-KEY-1… (the agency's, never the hotline's)
    recipient: str  # age1…


def agency_key() -> AgencyKey:
    identity = x25519.Identity.generate()
    return AgencyKey(identity=str(identity), recipient=str(identity.to_public()))


def agency(name: str = AGENCY, *, key: AgencyKey | None = None) -> Agency:
    found = Agency.objects.filter(name=name).first()
    if found is None:
        found = agencies.agency_add(actor=None, name=name, country="CA")  # not seeded
    if key is not None:
        found = agencies.agency_set_key(actor=None, name=name, key=key.recipient)
    return found


def referred_report(
    agency_name: str = AGENCY, *, files: int = 2, category: str = "sextortion"
) -> Report:
    """A report with ``files`` images, classified and referred by ana, confirmed by ben."""
    from tipline.staff.models import StaffUser

    uploads = [
        factories.upload(f"chat-{i}.png", factories.png_bytes(colour=c))
        for i, c in zip(range(files), ["teal", "orange", "navy", "plum", "gold"], strict=False)
    ]
    created = factories.report(
        category,
        text="He says he will post the photos unless I pay.",
        uploads=uploads,
        details={"urls": ["https://example.net/profile/someone"]},
    )
    ana = StaffUser.objects.filter(username="ana").first() or factories.staff("ana").user
    ben = StaffUser.objects.filter(username="ben").first() or factories.staff("ben").user
    report = actions.report_claim(actor=ana, report=created.report)
    review.classification_set(actor=ana, report=report, values={"legal_assessment": "national"})
    transitions.report_decide(
        actor=ana, report=report, outcome=Outcome.REFERRED, agency=agency_name
    )
    transitions.report_confirm(actor=ben, report=report)
    report.refresh_from_db()
    return report


def age_decrypt_all(folder: Path, identity: Path) -> None:
    """Decrypt every ``*.age`` member below ``folder`` beside itself with Debian's ``age``, the
    independent tool an agency uses (never our own code)."""
    for encrypted in sorted(folder.rglob("*.age")):
        subprocess.run(
            [
                "age",
                "-d",
                "-i",
                str(identity),
                "-o",
                str(encrypted.with_suffix("")),
                str(encrypted),
            ],
            check=True,
            timeout=60,
        )
