"""Public views of the evidence locker (trust domain 1): adapters only. Entry, session, settings.

No view sets a cookie. Inside an opened locker every page is the answer to a POST carrying the
session token in a hidden field (`session`), like the receipt in the report follow-up, so the
address bar only ever shows `/<lang>/locker/...`: nothing secret in history or logs. The views are
csrf_exempt because there is no cookie to ride on; CrossSiteWriteGuardMiddleware refuses posts
from other sites. Pages are `no-store` (PrivacyHeadersMiddleware).

Leave no trace (docs/threat-model.md, "The evidence locker"): a POST that carries a passphrase
(open, create, delete) is answered with a redirect whenever the passphrase was right, so Back
and Reload never send it again; the page it leads to shows nothing but a "Continue" button (see
``sessions.hand_off``). "Lock now" and the locker's quick exit end the session on the server.
A GET on any page inside the locker (Back, Reload, a typed address, a language link) shows the
open page: nothing of the locker is ever shown without a live session.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, translate_url
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from tipline.crypto import passphrase as pp
from tipline.locker import actions, selectors, sessions
from tipline.locker.forms import CreateForm, DeleteForm, OpenForm, SettingsForm
from tipline.web import neutral
from tipline.web.body import BodyRefused, read_body, refused_response
from tipline.web.leaving import leave_response

# Why the open page is shown (its notice), given as ``?problem=`` after a redirect.
LOCKED = "locked"  # "Lock now"
EXPIRED = "expired"  # a post with a dead session token
CLOSED = "closed"  # a GET on a page inside the locker
WRONG = "wrong"  # no locker opens with that passphrase
BUSY = "busy"  # too many failed opens this minute
DELETED = "deleted"  # the locker was deleted
_REASONS = frozenset({LOCKED, EXPIRED, CLOSED, WRONG, BUSY})

# A page inside the locker that only acts (saves, sends) is shown in another language as the
# page it belongs to; posting the session alone to the action would be a form error.
_SHOW_PAGE = {
    "locker:incident_save": "locker:incidents",
    "locker:responsible": "locker:timeline",
    "locker:continue": "locker:page",
    "locker:delete": "locker:settings",
}

View = Callable[..., HttpResponse]


def see_other(request: HttpRequest, url: str, **params: str) -> HttpResponse:
    """A 303 to one of our pages; the neutral tab title, if chosen, goes along."""
    if neutral.is_neutral(request):
        params[neutral.PARAM] = "1"
    response = HttpResponseRedirect(f"{url}?{urlencode(params)}" if params else url)
    response.status_code = 303  # "See other": the browser follows with a GET, never a re-post
    return response


def open_page(
    request: HttpRequest, *, reason: str = "", form: OpenForm | None = None, status: int = 200
) -> HttpResponse:
    context = {"form": form or OpenForm(), "reason": reason}
    return render(request, "locker/open.html", context, status=status)


def locker_post(view: View) -> View:
    """A page inside an opened locker: it answers a POST carrying the session token.

    Any GET (Back or Reload to it, a typed or remembered address, a language link) gets the open
    page instead of a bare 405, so nothing of the locker is shown and nobody is stranded.
    """

    @csrf_exempt  # cookie-less: see CrossSiteWriteGuardMiddleware
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            return open_page(request, reason=CLOSED)
        if request.method != "POST":
            return HttpResponseNotAllowed(["GET", "POST"])
        return view(request, *args, **kwargs)

    return wrapper


def session_or_page(request: HttpRequest) -> sessions.Opened | HttpResponse:
    """The opened locker the posted token names, or the open page to show instead.

    A missing, forged, expired or locked token all get the same page and status.
    """
    try:
        data = read_body(request).data
    except BodyRefused as refused:
        return refused_response(request, refused)
    token = data.get("session", "")
    try:
        return sessions.resume(token if isinstance(token, str) else "")
    except sessions.SessionInvalid:
        return open_page(request, reason=EXPIRED, status=403)


def _languages(request: HttpRequest) -> list[dict[str, str]]:
    """The language switch of a page inside the locker: buttons that post the session token."""
    match = request.resolver_match
    name = match.view_name if match is not None else "locker:page"
    path = reverse(_SHOW_PAGE.get(name, name))
    return [
        {"code": code, "name": label, "url": translate_url(path, code)}
        for code, label in settings.LANGUAGES
    ]


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
        "locker_languages": _languages(request),
        **(context or {}),
    }
    return render(request, template, full, status=status)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "locker/home.html", {"deleted": request.GET.get("problem") == DELETED})


def _shown_passphrase(form: CreateForm) -> str:
    """The generated passphrase to show again with the form's errors, or a new one.

    Showing it again keeps the phrase the victim may already have written down. But the form,
    with that phrase, stays in the browser's history, where Back and Reload post it again: once
    a locker opens with it, the page must never show it, so it is checked first (one Argon2
    derivation, on this error path only). A forged phrase is replaced too.
    """
    generated = str(form.data.get("generated", ""))
    if not pp.looks_generated(generated) or selectors.passphrase_in_use(generated):
        return pp.generate()
    return generated


def _create_form_page(request: HttpRequest, form: CreateForm, *, status: int = 200) -> HttpResponse:
    generated = _shown_passphrase(form) if form.is_bound else str(form.initial["generated"])
    return render(
        request,
        "locker/create.html",
        {"form": form, "generated": generated, "words": generated.split(" ")},
        status=status,
    )


def _continue(request: HttpRequest, opened: sessions.Opened, **params: str) -> HttpResponse:
    return see_other(request, reverse("locker:continue"), t=sessions.hand_off(opened), **params)


@csrf_exempt  # cookie-less: see CrossSiteWriteGuardMiddleware
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _create_form_page(request, CreateForm(initial={"generated": pp.generate()}))
    try:
        data = read_body(request).data
    except BodyRefused as refused:
        return refused_response(request, refused)
    form = CreateForm(data)
    if not form.is_valid():
        return _create_form_page(request, form, status=400)
    try:
        opened = actions.locker_create(passphrase=form.passphrase())
    except actions.PassphraseTaken:
        form.add_error("own", _("Please choose a different passphrase."))
        return _create_form_page(request, form, status=400)
    except sessions.TooManyAttempts:  # every Argon2 slot busy: a redirect, as for opens
        return see_other(request, reverse("locker:open"), problem=BUSY)
    return _continue(request, opened, new="1")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def open_locker(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        problem = request.GET.get("problem", "")
        if problem == BUSY:
            return render(request, "locker/throttled.html", status=429)
        return open_page(request, reason=problem if problem in _REASONS else "")
    try:
        data = read_body(request).data
    except BodyRefused as refused:
        return refused_response(request, refused)
    form = OpenForm(data)
    if not form.is_valid():
        return open_page(request, form=form, status=400)
    # Every answer to a well-formed passphrase is a redirect: the post never stays in history.
    try:
        opened = sessions.open_with_passphrase(form.cleaned_data["passphrase"])
    except sessions.TooManyAttempts:
        return see_other(request, reverse("locker:open"), problem=BUSY)
    except sessions.LockerNotFound:
        return see_other(request, reverse("locker:open"), problem=WRONG)
    return _continue(request, opened)


@require_GET
def continue_page(request: HttpRequest) -> HttpResponse:
    """Where opening leads: nothing of the locker, only a button that posts the new session.

    The ticket in the address works once. Back or Reload to this address later finds it used
    and shows the open page; with JavaScript, site.js presses the button at once.
    """
    ticket = request.GET.get("t", "")
    try:
        opened = sessions.take_handoff(ticket[:64])
    except sessions.SessionInvalid:
        return open_page(request, reason=CLOSED)
    context = {
        "session": opened.token,
        "created": request.GET.get("new") == "1",
        "locker_languages": _languages(request),
    }
    return render(request, "locker/continue.html", context)


def overview(
    request: HttpRequest, opened: sessions.Opened, *, created: bool = False
) -> HttpResponse:
    context = {
        "counts": selectors.counts(opened),
        "files": selectors.files(opened),
        "handovers": selectors.handovers(opened),
        "created": created,
    }
    return locker_page(request, opened, "locker/locker.html", context)


@locker_post
def page(request: HttpRequest) -> HttpResponse:
    opened = session_or_page(request)
    if isinstance(opened, HttpResponse):
        return opened
    return overview(request, opened, created=request.POST.get("created") == "1")


def _posted_token(request: HttpRequest) -> str | HttpResponse:
    try:
        data = read_body(request).data
    except BodyRefused as refused:
        return refused_response(request, refused)
    token = data.get("session", "")
    return token if isinstance(token, str) else ""


@locker_post
def lock(request: HttpRequest) -> HttpResponse:
    token = _posted_token(request)
    if isinstance(token, HttpResponse):
        return token
    sessions.lock(token)
    return see_other(request, reverse("locker:open"), problem=LOCKED)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def quick_exit(request: HttpRequest) -> HttpResponse:
    """The quick exit inside the locker: end the session, then leave for the neutral site.

    Without JavaScript the header's quick exit is a button posting here; with it, site.js sends
    the same form as a beacon (``beacon=1``: answered 204, so nothing follows the redirect in the
    background) and leaves by itself. A body that cannot be read still leaves: never strand
    someone who is trying to get away.
    """
    token = _posted_token(request) if request.method == "POST" else ""
    if isinstance(token, str) and token:
        sessions.lock(token)
    return leave_response(request)


@locker_post
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


@locker_post
def delete(request: HttpRequest) -> HttpResponse:
    """Delete the locker: asked from Settings, then confirmed again here with the passphrase.

    The passphrase is asked so that someone who finds the locker open cannot destroy the
    evidence. A right one always ends in a redirect (it never stays in history); a wrong one
    gets the page again, without echoing what was typed.
    """
    opened = session_or_page(request)
    if isinstance(opened, HttpResponse):
        return opened
    if "confirm" not in request.POST:
        form = DeleteForm(initial={"session": opened.token})
        return locker_page(request, opened, "locker/delete.html", {"form": form})
    form = DeleteForm(request.POST)
    if form.is_valid():
        try:
            confirmed = sessions.passphrase_opens(opened, form.cleaned_data["passphrase"])
        except sessions.TooManyAttempts:
            return render(request, "locker/throttled.html", status=429)
        if confirmed:
            actions.locker_delete(opened=opened)
            return see_other(request, reverse("locker:home"), problem=DELETED)
        form.add_error(
            "passphrase",
            _("This is not the passphrase of this locker. Nothing was deleted."),
        )
    return locker_page(request, opened, "locker/delete.html", {"form": form}, status=400)
