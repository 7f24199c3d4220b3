"""Deny by default inside /console/: only the sign-in steps serve someone not fully signed in.

A session that is signed in but stale (the account was disabled, or "sign out everywhere" bumped
its epoch) is logged out here, on its next request, whatever page it asks for.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from tipline.console import session

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
        if current or request.path in OPEN:
            response = self.get_response(request)
        else:
            response = HttpResponseRedirect(SIGN_IN)
        # Console forms need the browser's Origin header for Django's CSRF check, and under the
        # public "no-referrer" policy a browser sends "Origin: null" with every form post.
        response["Referrer-Policy"] = "same-origin"
        return response
