"""Pages inside an opened locker: import, incident log, exports and hand-over. Adapters only.

Each view starts with `session_or_page` (the posted session token, or the open page), then
parses, acts and renders. A page is shown when its form is posted without its submit button's
name (the navigation buttons), and acted on when the submit button's name is present.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tipline.cases.submissions import new_submission_token
from tipline.evidence.validate import clean_filename
from tipline.locker import actions, handover, incident_dates, selectors, sessions
from tipline.locker.forms import HandoverForm, ImportForm, IncidentForm
from tipline.locker.types import ParseError
from tipline.locker.uploads import LockerUploadHandler
from tipline.locker.views import locker_page, locker_post, session_or_page
from tipline.web.body import read_body


def _evidence_choices(opened: sessions.Opened) -> list[tuple[int, str]]:
    return [(info.record.id, info.record.filename) for info in selectors.files(opened)]


# --- import ---------------------------------------------------------------------------------------


def _import_page(
    request: HttpRequest,
    opened: sessions.Opened,
    form: ImportForm,
    *,
    status: int = 200,
    **extra: object,
) -> HttpResponse:
    context = {
        "form": form,
        "files": selectors.files(opened),
        "max_mb": settings.TIPLINE_LOCKER_MAX_IMPORT_BYTES // (1024 * 1024),
        **extra,
    }
    return locker_page(request, opened, "locker/import.html", context, status=status)


@locker_post
def import_file(request: HttpRequest) -> HttpResponse:
    # Before anything reads the body: the locker's own in-memory, bounded upload handler.
    request.upload_handlers = [LockerUploadHandler(request)]
    opened = session_or_page(request)
    if isinstance(opened, HttpResponse):
        return opened
    if read_body(request).too_large:
        form = ImportForm(initial={"session": opened.token})
        message = _(
            "This file is larger than %(mb)d MB, so nothing was imported. Export a shorter "
            "period, or export the chat without media."
        ) % {"mb": settings.TIPLINE_LOCKER_MAX_IMPORT_BYTES // (1024 * 1024)}
        return _import_page(request, opened, form, status=413, problem=message)
    if "upload" not in request.POST:
        return _import_page(request, opened, ImportForm(initial={"session": opened.token}))
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, opened, form, status=400)
    upload = form.cleaned_data["file"]
    filename = clean_filename(upload.name or "")
    data = upload.read()
    fresh = ImportForm(initial={"session": opened.token})
    try:
        from tipline.locker.parsers import parse

        result = parse(data, filename)
    except ParseError as exc:
        return _import_page(request, opened, fresh, status=400, problem=str(exc), name=filename)
    try:
        imported = actions.evidence_import(
            opened=opened, filename=filename, data=data, result=result
        )
    except actions.AlreadyImported:
        return _import_page(request, opened, fresh, already=True, name=filename)
    return _import_page(request, opened, fresh, imported=imported, name=filename)


# --- incident log ---------------------------------------------------------------------------------


def _incidents_page(
    request: HttpRequest,
    opened: sessions.Opened,
    form: IncidentForm | None = None,
    *,
    status: int = 200,
    saved: bool = False,
) -> HttpResponse:
    choices = _evidence_choices(opened)
    zone = _zone(opened)
    if form is None:
        form = IncidentForm(initial={"session": opened.token}, evidence=choices, zone=zone)
    context = {
        "form": form,
        "incidents": list(reversed(selectors.incidents(opened))),
        "filenames": dict(choices),
        "saved": saved,
        "editing": (form.is_bound and form.data.get("incident")) or form.initial.get("incident"),
    }
    with timezone.override(zone):  # the log shows times in the locker's zone
        return locker_page(request, opened, "locker/incidents.html", context, status=status)


def _zone(opened: sessions.Opened) -> ZoneInfo:
    return incident_dates.zone_of(selectors.settings_of(opened).time_zone)


@locker_post
def incidents(request: HttpRequest) -> HttpResponse:
    opened = session_or_page(request)
    if isinstance(opened, HttpResponse):
        return opened
    edit = request.POST.get("edit")
    if edit:
        try:
            incident = selectors.incident_row(opened, edit)
        except selectors.NotInLocker:
            return _incidents_page(request, opened, status=404)
        current = next(i for i in selectors.incidents(opened) if i.id == incident.id).current
        form = IncidentForm(
            initial={
                "session": opened.token,
                "incident": incident.id,
                "occurred_at": (
                    current.occurred_at.astimezone(_zone(opened)).strftime(
                        incident_dates.CANONICAL
                    )
                    if current.occurred_at
                    else ""
                ),
                "platform": current.platform,
                "what_happened": current.what_happened,
                "accounts": current.accounts,
                "impact": current.impact,
                "evidence": list(current.evidence_ids),
            },
            evidence=_evidence_choices(opened),
            zone=_zone(opened),
        )
        return _incidents_page(request, opened, form)
    return _incidents_page(request, opened)


@locker_post
def incident_save(request: HttpRequest) -> HttpResponse:
    opened = session_or_page(request)
    if isinstance(opened, HttpResponse):
        return opened
    form = IncidentForm(request.POST, evidence=_evidence_choices(opened), zone=_zone(opened))
    if not form.is_valid():
        return _incidents_page(request, opened, form, status=400)
    data = form.cleaned_data
    text = actions.IncidentText(
        occurred_at=data["occurred_at"],
        platform=data["platform"],
        what_happened=data["what_happened"],
        accounts=data["accounts"],
        impact=data["impact"],
        evidence_ids=tuple(data.get("evidence") or ()),
    )
    if data.get("incident"):
        try:
            incident = selectors.incident_row(opened, data["incident"])
        except selectors.NotInLocker:
            return _incidents_page(request, opened, status=404)
        actions.incident_edit(opened=opened, incident=incident, text=text)
    else:
        actions.incident_add(opened=opened, text=text)
    return _incidents_page(request, opened, saved=True)


# --- hand-over ------------------------------------------------------------------------------------


def _handover_page(
    request: HttpRequest, opened: sessions.Opened, form: HandoverForm, *, status: int = 200
) -> HttpResponse:
    context = {"form": form, "handovers": selectors.handovers(opened)}
    return locker_page(request, opened, "locker/handover.html", context, status=status)


@locker_post
def hand_over(request: HttpRequest) -> HttpResponse:
    opened = session_or_page(request)
    if isinstance(opened, HttpResponse):
        return opened
    choices = _evidence_choices(opened)
    if "send" not in request.POST:
        form = HandoverForm(
            initial={"session": opened.token, "submission": new_submission_token()},
            evidence=choices,
        )
        return _handover_page(request, opened, form)
    form = HandoverForm(request.POST, evidence=choices)
    if not form.is_valid():
        return _handover_page(request, opened, form, status=400)
    chosen = set(form.cleaned_data["evidence"]) if form.cleaned_data["scope"] == "chosen" else None
    snapshot = selectors.snapshot(opened, with_originals=True, evidence_ids=chosen)
    from tipline.locker.report_pdf import build_pdf

    created = handover.hand_over(
        snapshot=snapshot,
        note=form.cleaned_data["note"],
        language=get_language() or "en",
        build_pdf=build_pdf,
        submission_token=form.cleaned_data["submission"] or None,
    )
    files = created.report.files.count()
    # The receipt stays in the locker, sealed with its key: shown once here, found again later.
    actions.handover_remember(
        opened=opened, receipt=created.receipt, files=files, sent_at=timezone.now()
    )
    context = {"receipt": created.receipt, "files": files, "replayed": created.replayed}
    return locker_page(request, opened, "locker/handover_done.html", context)
