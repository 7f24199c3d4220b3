"""Public site views (trust domain 1). Adapters only: parse, access, act, render.

No view here sets a cookie or reads a session. The receipt travels only in POST bodies (never in a
URL, so never in a log or browser history), and pages showing report content are ``no-store``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from tipline.cases import actions, categories, selectors
from tipline.cases.access import ReportNotFound, TooManyAttempts, report_by_receipt
from tipline.cases.models import Report
from tipline.cases.sealing import KeyDestroyed
from tipline.cases.states import Channel, MessageAuthor
from tipline.cases.submissions import is_submission_token, new_submission_token
from tipline.evidence.validate import ValidatedUpload, validate_uploads
from tipline.web import unavailable
from tipline.web.body import Body, BodyRefused, read_body, refused_response
from tipline.web.forms import MAX_TEXT
from tipline.web.leaving import leave_response
from tipline.web.report_forms import MessageForm, ReceiptForm, ReportForm

# Submission tokens are short (web/forms.py); anything longer is not one.
MAX_SUBMISSION_TOKEN = 200


def mark_refused_files(form: Any, body: Body, field: str = "attachments") -> None:
    """Files the upload handler could not take (too large, too many): errors at their field.

    The rest of the form was read, so it comes back with every word kept.
    """
    if field not in form.fields:
        return
    for message in body.refusals(field):
        form.add_error(field, message)


def validate_files(form: Any, field: str = "attachments") -> list[ValidatedUpload]:
    """Content checks for every uploaded file; errors go on the form, nothing is kept."""
    if field not in form.fields:
        return []
    uploads, errors = validate_uploads(form.cleaned_data.get(field) or [])
    for error in errors:
        form.add_error(field, error)
    return uploads


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    # The token the chosen form will be sent with (see ``start``); home is no-store, so Back
    # to it renders a fresh one.
    context = {"categories": categories.CATEGORIES, "submission": new_submission_token()}
    return render(request, "intake/home.html", context)


@csrf_exempt  # cookie-less: see CrossSiteWriteGuardMiddleware
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, code: str) -> HttpResponse:
    """A category's form at its own address: for links (the assistant, guidance, the emergency
    page) and bookmarks. The home page uses ``start`` instead, whose address names no category."""
    try:
        category = categories.get(code)
    except KeyError:
        raise Http404 from None
    if request.method == "POST":
        try:
            body = read_body(request)
        except BodyRefused as refused:
            return refused_response(request, refused)
        return _report_post(request, category, body, neutral=False)
    return _form_page(request, category, submission=new_submission_token(), neutral=False)


@csrf_exempt  # cookie-less: see CrossSiteWriteGuardMiddleware
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """The report form at one address for every category (leave no trace, issue 13).

    The home page's category buttons post here with the category and the token the form will be
    sent with. The history entry of that choice then holds no category in its address, and once
    a report was filed with its token, sending it again (Back without JavaScript resubmits it)
    leads to the start page instead of the category's empty form. The form posts here too, its
    category in a hidden field. A GET, or anything unreadable, leads to the start page.
    """
    if request.method == "GET":
        return _to_start()
    try:
        body = read_body(request)
    except BodyRefused as refused:
        return refused_response(request, refused)
    code = body.data.get("category", "")
    if not isinstance(code, str) or code not in categories.CODES:
        return _to_start()
    category = categories.get(code)
    if body.data.get("choose"):
        token = body.data.get("submission", "")
        if not is_submission_token(token):
            token = new_submission_token()
        elif selectors.submission_used(token):
            return _to_start()
        return _form_page(
            request, category, submission=token, neutral=True, prefill=_prefill(body.data)
        )
    return _report_post(request, category, body, neutral=True)


def _to_start() -> HttpResponse:
    # A 303: the history entry that asked becomes the start page's.
    response = HttpResponseRedirect(reverse("intake:home"))
    response.status_code = 303
    return response


def _prefill(data: Any) -> dict[str, str]:
    """What the assistant's "in your own words" answer carries into the form (in the POST, never
    the address): the words and the country, each as text no longer than its field."""
    out: dict[str, str] = {}
    for name, limit in (("what_happened", MAX_TEXT), ("country", 8)):
        value = data.get(name, "")
        if isinstance(value, str) and value.strip() and len(value) <= limit:
            out[name] = value
    return out


def _form_page(
    request: HttpRequest,
    category: categories.Category,
    *,
    submission: str,
    neutral: bool,
    prefill: dict[str, str] | None = None,
) -> HttpResponse:
    form = ReportForm(category=category, initial={"submission": submission, **(prefill or {})})
    return _with_location_policy(
        render(
            request,
            "intake/report_form.html",
            {"form": form, "category": category, "neutral_start": neutral},
        ),
        category,
    )


def _with_location_policy(response: HttpResponse, category: categories.Category) -> HttpResponse:
    """The child-in-danger form may ask for the location (web/middleware._permissions_policy
    decides by the address, which at ``start`` names no category)."""
    if category.code in categories.EMERGENCY_FIRST:
        response["Permissions-Policy"] = "geolocation=(self), camera=(), microphone=()"
    return response


def _report_post(
    request: HttpRequest, category: categories.Category, body: Body, *, neutral: bool
) -> HttpResponse:
    if body.data.get("switch_language"):
        return _with_location_policy(
            render(
                request,
                "intake/report_form.html",
                {
                    "form": ReportForm(category=category, initial=_typed(body.data)),
                    "category": category,
                    "files_dropped": bool(body.files or body.refused),
                    "switched": True,
                    "neutral_start": neutral,
                },
            ),
            category,
        )
    form = ReportForm(body.data, body.files, category=category)
    mark_refused_files(form, body)
    uploads = validate_files(form) if form.is_valid() else []
    if form.is_valid():
        try:
            created = actions.report_create(
                category=category.code,
                channel=Channel.WEB,
                language=get_language() or "en",
                details=form.details(),
                contact=form.contact(),
                uploads=uploads,
                submission_token=form.cleaned_data["submission"] or None,
                country=form.cleaned_data.get("country") or "",
            )
        except unavailable.ERRORS as exc:
            if not unavailable.is_unavailable(exc):
                raise
            # Nothing was stored: the form comes back with every word kept (files cannot be),
            # and the same submission token, so sending it again files it once.
            return unavailable.with_retry_after(
                _with_location_policy(
                    render(
                        request,
                        "intake/report_form.html",
                        {
                            "form": form,
                            "category": category,
                            "unavailable": True,
                            "files_dropped": bool(body.files or body.refused),
                            "neutral_start": neutral,
                        },
                        status=503,
                    ),
                    category,
                )
            )
        if created.replayed and not created.receipt:
            # The reporter left with Quick exit: whoever sends the form again on their
            # device learns that it was sent, not its receipt nor which form it was (a 303, so
            # the history entry no longer names the form either).
            response = HttpResponseRedirect(reverse("intake:sent"))
            response.status_code = 303
            return response
        context = {
            "receipt": created.receipt,
            "category": category,
            "files": len(uploads),
            "replayed": created.replayed,
            "country": form.cleaned_data.get("country") or "",
            # The receipt page's Quick exit posts it back (intake/_quick_exit.html).
            "submission": form.cleaned_data["submission"],
        }
        return render(request, "intake/receipt.html", context)
    return _with_location_policy(
        render(
            request,
            "intake/report_form.html",
            {
                "form": form,
                "category": category,
                "files_dropped": bool(body.files or body.refused),
                "neutral_start": neutral,
            },
            status=400,
        ),
        category,
    )


def _typed(data: Any) -> dict[str, Any]:
    """What the reporter typed, as a form's initial values: shown again after a language switch
    without being checked (no error may greet someone who only changed the language)."""
    return {name: values if len(values) > 1 else values[0] for name, values in data.lists()}


def _thread_page(
    request: HttpRequest,
    report: Report,
    *,
    receipt: str,
    form: MessageForm | None = None,
    sent: bool = False,
    erased: bool = False,
    switched: bool = False,
    files_dropped: bool = False,
    unavailable: bool = False,
    status: int = 200,
) -> HttpResponse:
    category = categories.get(report.category)
    if form is None:
        form = MessageForm(initial={"receipt": receipt, "submission": new_submission_token()})
    if not category.allows_files:
        form.fields.pop("attachments", None)
    context = {
        "view": selectors.reporter_view(report),
        "category": category,
        "form": form,
        "receipt": receipt,
        "sent": sent,
        # Retention destroyed the report's content key: nothing can be added to it any more.
        "erased": erased or report.content_erased_at is not None,
        "switched": switched,
        "files_dropped": files_dropped,
        "unavailable": unavailable,
    }
    return render(request, "intake/followup_thread.html", context, status=status)


@dataclass(frozen=True)
class _Opened:
    report: Report
    receipt: str
    body: Body


def _open_by_receipt(request: HttpRequest) -> _Opened | HttpResponse:
    """The report a posted receipt opens, or the page to show instead (same for every failure)."""
    try:
        body = read_body(request)
    except BodyRefused as refused:
        return refused_response(request, refused)
    form = ReceiptForm(body.data)
    if not form.is_valid():
        return render(request, "intake/followup_login.html", {"form": form}, status=400)
    try:
        report = report_by_receipt(form.cleaned_data["receipt"])
    except TooManyAttempts:
        return render(request, "intake/throttled.html", status=429)
    except ReportNotFound:
        form.add_error(
            "receipt", _("We could not find a report with this receipt. Check it and try again.")
        )
        return render(request, "intake/followup_login.html", {"form": form}, status=404)
    return _Opened(report=report, receipt=form.cleaned_data["receipt"], body=body)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def followup(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "intake/followup_login.html", {"form": ReceiptForm()})
    opened = _open_by_receipt(request)
    if isinstance(opened, HttpResponse):
        return opened
    if opened.body.data.get("switch_language"):
        return _switched_thread_page(request, opened)
    return _thread_page(request, opened.report, receipt=opened.receipt)


def _switched_thread_page(request: HttpRequest, opened: _Opened) -> HttpResponse:
    """The thread again in the language of the address, with the message typed so far (the
    language buttons send the message form, web/templates/_language_buttons.html). Nothing is
    sent and nothing is checked; files cannot be carried over and are said to be dropped."""
    typed = _typed(opened.body.data)
    typed["receipt"] = opened.receipt
    return _thread_page(
        request,
        opened.report,
        receipt=opened.receipt,
        form=MessageForm(initial=typed),
        switched=True,
        files_dropped=bool(opened.body.files or opened.body.refused),
    )


@csrf_exempt
@require_http_methods(["POST"])
def followup_message(request: HttpRequest) -> HttpResponse:
    opened = _open_by_receipt(request)
    if isinstance(opened, HttpResponse):
        return opened
    found, receipt = opened.report, opened.receipt
    if opened.body.data.get("switch_language"):
        return _switched_thread_page(request, opened)
    form = MessageForm(opened.body.data, opened.body.files)
    if not categories.get(found.category).allows_files:
        form.fields.pop("attachments", None)
    mark_refused_files(form, opened.body)
    uploads = validate_files(form) if form.is_valid() else []
    if not form.is_valid():
        return _thread_page(request, found, receipt=receipt, form=form, status=400)
    try:
        actions.message_add(
            report=found,
            author=MessageAuthor.REPORTER,
            body=form.cleaned_data["body"],
            uploads=uploads,
            submission_token=form.cleaned_data["submission"] or None,
        )
    except KeyDestroyed:
        return _thread_page(request, found, receipt=receipt, erased=True, status=410)
    except unavailable.ERRORS as exc:
        if not unavailable.is_unavailable(exc):
            raise
        return unavailable.with_retry_after(
            _thread_page(
                request,
                found,
                receipt=receipt,
                form=form,
                unavailable=True,
                files_dropped=bool(opened.body.files or opened.body.refused),
                status=503,
            )
        )
    return _thread_page(request, found, receipt=receipt, sent=True)


@csrf_exempt  # cookie-less: see CrossSiteWriteGuardMiddleware
@require_http_methods(["GET", "POST"])
def leave(request: HttpRequest) -> HttpResponse:
    """Quick exit from the receipt page: never show this submission's receipt again, then leave.

    Without JavaScript the receipt page's Quick exit is a button posting here; with it, site.js
    sends the same form as a beacon. A body that cannot be read still leaves: never strand
    someone who is trying to get away.
    """
    token = ""
    if request.method == "POST":
        try:
            token = read_body(request).data.get("submission", "")
        except BodyRefused:
            token = ""
    if isinstance(token, str) and 0 < len(token) <= MAX_SUBMISSION_TOKEN:
        actions.submission_withhold(submission_token=token)
    return leave_response(request)


@require_GET
def sent(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/already_received.html")


@require_GET
def emergency(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/emergency.html")
