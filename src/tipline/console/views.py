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

from tipline.console import session
from tipline.console.forms import CodeForm, SignInForm
from tipline.console.shared import staff_of
from tipline.staff import actions, selectors


def _failed() -> str:
    return _("Sign-in failed. Check your details, or wait and try again.")


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if session.is_current(request):
        return HttpResponseRedirect(reverse("console:home"))
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
            return HttpResponseRedirect(reverse("console:home"))
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
            return HttpResponseRedirect(reverse("console:home"))
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
    user = staff_of(request)
    return render(request, "console/home.html", {"staff": user})


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
