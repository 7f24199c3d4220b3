"""Console views: parse → action → render. Access is decided by ConsoleAccessMiddleware (signed
in or not) and by ``session.pending_user`` for the two sign-in steps after the password."""

from __future__ import annotations

import base64

import segno
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from tipline.cases.policies import ReportPolicy
from tipline.console import session
from tipline.console.forms import CodeForm, SignInForm, TimeZoneForm
from tipline.console.shared import staff_of
from tipline.staff import actions, selectors, time_zones
from tipline.staff.models import StaffUser
from tipline.staff.policies import AuditPolicy


def _landing(user: StaffUser) -> HttpResponseRedirect:
    """Where a signed-in person starts: the queue, or the audit log for a role with no reports."""
    if ReportPolicy.may_list(user):
        return HttpResponseRedirect(reverse("console:queue"))
    if AuditPolicy.may_read(user):
        return HttpResponseRedirect(reverse("console:audit"))
    return HttpResponseRedirect(reverse("console:home"))


def _failed() -> str:
    return _("Sign-in failed. Check your details, or wait and try again.")


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if session.is_current(request):
        return _landing(staff_of(request))
    form = SignInForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            user = actions.sign_in_password(
                username=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
        except actions.SignInFailed:
            session.clear_pending(request)
            error = _failed()
        else:
            session.begin_pending(request, user)
            step = "console:code" if selectors.has_confirmed_device(user) else "console:enrol"
            return HttpResponseRedirect(reverse(step))
    notice = {
        "out": _("You are signed out."),
        "everywhere": _("You are signed out on every device."),
    }.get(request.GET.get("done", ""), "")
    return render(
        request,
        "console/sign_in.html",
        {"form": form, "error": error, "notice": notice},
    )


@require_http_methods(["GET", "POST"])
def sign_in_code(request: HttpRequest) -> HttpResponse:
    user = session.pending_user(request)
    if user is None:
        return HttpResponseRedirect(reverse("console:sign_in"))
    if not selectors.has_confirmed_device(user):
        return HttpResponseRedirect(reverse("console:enrol"))
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            user, device = actions.sign_in_code(user_id=user.pk, token=form.cleaned_data["code"])
        except actions.SignInFailed:
            error = _failed()
        else:
            session.complete(request, user, device)
            return _landing(user)
    return render(request, "console/code.html", {"form": form, "error": error})


def _qr_svg(device: TOTPDevice) -> str:
    # Inline SVG markup (no style attributes, no data: URI) so the strict CSP allows it.
    qr = segno.make(device.config_url, error="m")
    return str(
        qr.svg_inline(
            scale=5,
            border=4,
            dark="#000",
            light="#fff",
            svgclass="qr",
            lineclass=None,
            omitsize=True,  # a viewBox instead of a fixed size, so CSS can scale it
            title=_("QR code for your authenticator app"),
        )
    )


@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    user = session.pending_user(request)
    if user is None:
        return HttpResponseRedirect(reverse("console:sign_in"))
    if selectors.has_confirmed_device(user):
        return HttpResponseRedirect(reverse("console:code"))
    device = actions.totp_enrolment_device(user=user)
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            user, device = actions.totp_enrol_confirm(
                user_id=user.pk, token=form.cleaned_data["code"]
            )
        except actions.SignInFailed:
            error = _failed()
        else:
            session.complete(request, user, device)
            return _landing(user)
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "console/enrol.html",
        {
            "form": form,
            "error": error,
            # Generated here from our own key, never from user input: safe to insert as markup.
            "qr_svg": mark_safe(_qr_svg(device)),  # noqa: S308
            "otpauth_uri": device.config_url,
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "secret": secret,
        },
    )


@require_http_methods(["GET"])
def home(request: HttpRequest) -> HttpResponse:
    """The account page: who is signed in, their time zone, their sessions."""
    user = staff_of(request)
    form = TimeZoneForm(initial={"time_zone": user.time_zone})
    return _home(request, user, form, saved=request.GET.get("saved") == "time_zone")


@require_POST
def time_zone(request: HttpRequest) -> HttpResponse:
    user = staff_of(request)
    form = TimeZoneForm(request.POST)
    if not form.is_valid():
        return _home(request, user, form, status=400)
    time_zones.staff_set_time_zone(actor=user, time_zone=form.cleaned_data["time_zone"])
    return HttpResponseRedirect(reverse("console:home") + "?saved=time_zone#time-zone")


def _home(
    request: HttpRequest,
    user: StaffUser,
    form: TimeZoneForm,
    *,
    saved: bool = False,
    status: int = 200,
) -> HttpResponse:
    context = {
        "staff": user,
        "time_zone_form": form,
        "time_zone": time_zones.zone_of(user),
        "saved": saved,
    }
    return render(request, "console/home.html", context, status=status)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if session.is_current(request):
        actions.sign_out(user=staff_of(request))
    logout(request)
    return HttpResponseRedirect(reverse("console:sign_in") + "?done=out")


@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    actions.sign_out_everywhere(user=staff_of(request))
    logout(request)
    return HttpResponseRedirect(reverse("console:sign_in") + "?done=everywhere")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    # Django's own page has an inline style, which the CSP refuses; say it plainly instead.
    return render(request, "console/csrf_failure.html", status=403)
