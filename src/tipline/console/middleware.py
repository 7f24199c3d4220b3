"""Deny by default inside /console/: only the sign-in steps serve someone not fully signed in.

A session that is signed in but stale (the account was disabled, or "sign out everywhere" bumped
its epoch) is logged out here, on its next request, whatever page it asks for.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone

from tipline.console import session
from tipline.staff.models import StaffUser
from tipline.staff.time_zones import zone_of

PREFIX = "/console/"
SIGN_IN = "/console/sign-in/"
# The pages that check their own state (pending marker, or nothing to lose).
OPEN = frozenset({SIGN_IN, "/console/sign-in/code/", "/console/enrol/", "/console/sign-out/"})


class ConsoleAccessMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        current = session.is_current(request)
        if not current and request.user.is_authenticated:
            logout(request)
        if current:
            # Every date and time on the page in this person's zone (or the hotline's).
            user = request.user
            zone = zone_of(user) if isinstance(user, StaffUser) else str(settings.TIME_ZONE)
            with timezone.override(zoneinfo.ZoneInfo(zone)):
                response = self.get_response(request)
        elif request.path in OPEN:
            response = self.get_response(request)
        else:
            response = HttpResponseRedirect(SIGN_IN)
        # Console forms need the browser's Origin header for Django's CSRF check, and under the
        # public "no-referrer" policy a browser sends "Origin: null" with every form post.
        response["Referrer-Policy"] = "same-origin"
        return response
