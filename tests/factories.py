"""Small builders for test data. Images are generated; messages describe behaviour only."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from tipline.cases import actions, media_step
from tipline.cases.models import Report
from tipline.cases.states import Channel
from tipline.cases.tasks import process_media, triage_report
from tipline.evidence.validate import ValidatedUpload, validate_upload


def png_bytes(size: tuple[int, int] = (64, 48), colour: str = "teal", gps: bool = False) -> bytes:
    img = Image.new("RGB", size, colour)
    out = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMakerMARK"  # Make
        gps_ifd = {1: "N", 2: (45.0, 30.0, 0.0), 3: "W", 4: (73.0, 35.0, 0.0)}
        exif[0x8825] = gps_ifd
        img.save(out, format="JPEG", exif=exif.tobytes())
    else:
        img.save(out, format="PNG")
    return out.getvalue()


def upload(name: str = "screenshot.png", data: bytes | None = None) -> ValidatedUpload:
    return validate_upload(name, data if data is not None else png_bytes())


def report(
    category: str = "cyberstalking", text: str = "He sends messages every night.", **kw: Any
) -> actions.CreatedReport:
    details = {"what_happened": text, "urls": [], "handles": ["@someone"], **kw.pop("details", {})}
    return actions.report_create(
        category=category,
        channel=kw.pop("channel", Channel.WEB),
        language="en",
        details=details,
        contact=kw.pop("contact", None),
        uploads=kw.pop("uploads", ()),
    )


def run_tasks(report: Report) -> None:
    """What the two task workers do for a report, here and now: its media work, then triage."""
    while media_step.pending_files(report.id):
        process_media.call(str(report.id))
    triage_report.call(str(report.id))


# --- staff ---------------------------------------------------------------------------------------

STAFF_PASSWORD = "quiet river lantern 2047"


def staff(
    username: str = "ana",
    role: str = "analyst",
    *,
    password: str = STAFF_PASSWORD,
    agency: str = "",
    confirmed: bool = True,
) -> Any:
    """A staff member with a TOTP device, confirmed unless ``confirmed=False``."""
    from tipline.staff import actions as staff_actions

    created = staff_actions.staff_create(
        actor=None, username=username, role=role, password=password, agency=agency
    )
    if confirmed:
        created.device.confirmed = True
        created.device.save(update_fields=["confirmed"])
    return created


def totp_code(device: Any, *, steps_ahead: int = 0) -> str:
    """The device's current code (or one ``steps_ahead`` 30-second steps later)."""
    import time

    from django_otp.oath import TOTP

    device.refresh_from_db()
    totp = TOTP(
        key=device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift
    )
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"
