"""Public views of the evidence locker (trust domain 1): adapters only. Entry, session, settings.

No view sets a cookie. Inside an opened locker every page is the answer to a POST carrying the
session token in a hidden field (`session`), like the receipt in the report follow-up, so the
address bar only ever shows `/<lang>/locker/...`: nothing secret in history or logs. The views are
csrf_exempt because there is no cookie to ride on; CrossSiteWriteGuardMiddleware refuses posts
from other sites. Pages are `no-store` (PrivacyHeadersMiddleware).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tipline.crypto import passphrase as pp
from tipline.locker import actions, selectors, sessions
from tipline.locker.forms import CreateForm, OpenForm, SettingsForm

LOCKED = "locked"
EXPIRED = "expired"


class BadBody(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def read_body(request: HttpRequest) -> tuple[Any, Any]:
    try:
        data, files = request.POST, request.FILES
    except (RequestDataTooBig, TooManyFilesSent, TooManyFieldsSent):
        raise BadBody(HttpResponse(status=400)) from None
    return data, files


def session_or_page(request: HttpRequest) -> sessions.Opened | HttpResponse:
    """The opened locker the posted token names, or the open page to show instead.

    A missing, forged, expired or locked token all get the same page and status.
    """
    try:
        data, _files = read_body(request)
    except BadBody as bad:
        return bad.response
    token = data.get("session", "")
    try:
        return sessions.resume(token if isinstance(token, str) else "")
    except sessions.SessionInvalid:
        return render(
            request,
            "locker/open.html",
            {"form": OpenForm(), "reason": EXPIRED},
            status=403,
        )


def locker_page(
    request: HttpRequest,
    opened: sessions.Opened,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    current = selectors.settings_of(opened)
    full = {
        "session": opened.token,
        "locker_title": current.title,
        "responsible": current.responsible,
        "idle_minutes": sessions.idle_minutes(),
        **(context or {}),
    }
    return render(request, template, full, status=status)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "locker/home.html")


def _create_form_page(request: HttpRequest, form: CreateForm, *, status: int = 200) -> HttpResponse:
    generated = str(form.data.get("generated", "") if form.is_bound else form.initial["generated"])
    if not pp.looks_generated(generated):
        # Keep the phrase the victim may already have written down; replace only a forged one.
        generated = pp.generate()
    return render(
        request,
        "locker/create.html",
        {"form": form, "generated": generated, "words": generated.split(" ")},
        status=status,
    )


@csrf_exempt  # cookie-less: see CrossSiteWriteGuardMiddleware
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _create_form_page(request, CreateForm(initial={"generated": pp.generate()}))
    try:
        data, _files = read_body(request)
    except BadBody as bad:
        return bad.response
    form = CreateForm(data)
    if not form.is_valid():
        return _create_form_page(request, form, status=400)
    try:
        opened = actions.locker_create(passphrase=form.passphrase())
    except actions.PassphraseTaken:
        form.add_error("own", _("Please choose a different passphrase."))
        return _create_form_page(request, form, status=400)
    return overview(request, opened, created=True)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def open_locker(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "locker/open.html", {"form": OpenForm()})
    try:
        data, _files = read_body(request)
    except BadBody as bad:
        return bad.response
    form = OpenForm(data)
    if not form.is_valid():
        return render(request, "locker/open.html", {"form": form}, status=400)
    try:
        opened = sessions.open_with_passphrase(form.cleaned_data["passphrase"])
    except sessions.TooManyAttempts:
        return render(request, "locker/throttled.html", status=429)
    except sessions.LockerNotFound:
        form.add_error(
            "passphrase",
            _(
                "No locker opens with this passphrase. Check each word and try again; capital "
                "letters and extra spaces do not matter."
            ),
        )
        return render(request, "locker/open.html", {"form": form}, status=404)
    return overview(request, opened)


def overview(
    request: HttpRequest, opened: sessions.Opened, *, created: bool = False
) -> HttpResponse:
    context = {
        "counts": selectors.counts(opened),
        "files": selectors.files(opened),
        "created": created,
    }
    return locker_page(request, opened, "locker/locker.html", context)


@csrf_exempt
@require_POST
def page(request: HttpRequest) -> HttpResponse:
    opened = session_or_page(request)
    if isinstance(opened, HttpResponse):
        return opened
    return overview(request, opened)


@csrf_exempt
@require_POST
def lock(request: HttpRequest) -> HttpResponse:
    try:
        data, _files = read_body(request)
    except BadBody as bad:
        return bad.response
    token = data.get("session", "")
    sessions.lock(token if isinstance(token, str) else "")
    return render(request, "locker/open.html", {"form": OpenForm(), "reason": LOCKED})


@csrf_exempt
@require_POST
def settings_page(request: HttpRequest) -> HttpResponse:
    opened = session_or_page(request)
    if isinstance(opened, HttpResponse):
        return opened
    current = selectors.settings_of(opened)
    if "save" not in request.POST:
        form = SettingsForm(
            initial={
                "session": opened.token,
                "title": current.title,
                "time_zone": current.time_zone,
            }
        )
        return locker_page(request, opened, "locker/settings.html", {"form": form})
    form = SettingsForm(request.POST)
    if not form.is_valid():
        return locker_page(request, opened, "locker/settings.html", {"form": form}, status=400)
    actions.locker_settings_update(
        opened=opened,
        title=form.cleaned_data["title"],
        responsible=list(current.responsible),
        time_zone=form.cleaned_data["time_zone"] or None,
    )
    return locker_page(request, opened, "locker/settings.html", {"form": form, "saved": True})
