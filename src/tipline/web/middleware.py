"""Privacy and safety middleware.

ForgetClientMiddleware runs first and deletes every header that identifies the client (address,
forwarding chain, user agent, client hints) from the request, so no later code, log line, error
report or task payload can contain them — whatever a proxy in front of us sends.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _lazy

from tipline.cases import categories
from tipline.web import body, neutral, unavailable

Handler = Callable[[HttpRequest], HttpResponse]

_IDENTIFYING = (
    "REMOTE_ADDR",
    "REMOTE_HOST",
    "REMOTE_PORT",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
    "HTTP_CLIENT_IP",
    "HTTP_TRUE_CLIENT_IP",
    "HTTP_CF_CONNECTING_IP",
    "HTTP_X_CLUSTER_CLIENT_IP",
    "HTTP_VIA",
    "HTTP_USER_AGENT",
    "HTTP_REFERER",
    "HTTP_SEC_CH_UA",
    "HTTP_SEC_CH_UA_MOBILE",
    "HTTP_SEC_CH_UA_PLATFORM",
)
# Neutral stand-in: some libraries expect REMOTE_ADDR to exist.
_NOBODY = "0.0.0.0"  # noqa: S104 - a placeholder value, not a bind address


class ForgetClientMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        for name in _IDENTIFYING:
            meta.pop(name, None)
        for name in [k for k in meta if k.startswith("HTTP_SEC_CH_")]:
            meta.pop(name, None)
        meta["REMOTE_ADDR"] = _NOBODY
        environ = getattr(request, "environ", None)
        if environ is not None and environ is not meta:
            for name in _IDENTIFYING:
                environ.pop(name, None)
            environ["REMOTE_ADDR"] = _NOBODY
        return self.get_response(request)


class RequestSizeLimitMiddleware:
    """Refuse bodies over the limit before reading them, with a readable 413 (see web.body).

    Listed below the header and locale middleware, so its page carries the CSP and no-store and
    speaks the reporter's language, and above everything that could read the body.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            body.check_length(request)
        except body.BodyRefused as refused:
            return body.refused_response(request, refused)
        return self.get_response(request)


_API_ERRORS = {
    400: ("bad_request", _lazy("The request could not be read.")),
    401: ("unauthorized", _lazy("A valid API token is required.")),
    403: ("forbidden", _lazy("This request was refused.")),
    404: ("not_found", _lazy("There is nothing at this address.")),
    405: ("method_not_allowed", _lazy("This address does not take this method.")),
    413: ("too_large", _lazy("The body is too large.")),
    415: ("unsupported_media_type", _lazy("Send the body as application/json.")),
}
_SERVER_ERROR = ("server_error", _lazy("Something went wrong on our side; nothing was saved."))
# Headers that tell a client what to do next; they survive the rewrite.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ErrorBodiesMiddleware:
    """Every error answers with something its reader can use: JSON under /api/, a page elsewhere.

    Django and the guards above the views answer some errors with a bare status and an empty
    body (405 for a wrong method, 403 from the cross-site guard), and under /api/ Django's own
    error pages are HTML (404, 400 for a suspicious request, 500). A program gets
    ``{"error", "message"}``; a person gets the site's page saying nothing was saved. Answers that
    already have a body of the right kind pass unchanged. The staff console keeps its own.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or response.streaming:
            return response
        path = request.path
        if path.startswith("/api/"):
            if response.get("Content-Type", "").startswith("application/json"):
                return response
            code, message = _API_ERRORS.get(response.status_code, _SERVER_ERROR)
            answer: HttpResponse = JsonResponse(
                {"error": code, "message": str(message)}, status=response.status_code
            )
        elif path.startswith(("/console/", settings.STATIC_URL)) or response.content:
            return response
        else:
            html = render_to_string("400.html", request=request)
            answer = HttpResponse(html, status=response.status_code)
        for name in _KEPT_HEADERS:
            if response.has_header(name):
                answer[name] = response[name]
        return answer

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """The store could not take what was sent (disk full, S3 down): 503, nothing saved."""
        if unavailable.is_unavailable(exception):
            return unavailable.unavailable_response(request)
        return None


class CrossSiteWriteGuardMiddleware:
    """Cookie-less protection against cross-site form posts.

    Public pages carry no session, so Django's cookie-based CSRF check is not used there; instead
    a write must not come from another site, judged by the Fetch Metadata and Origin headers that
    browsers send. Non-browser API clients send neither and are unaffected.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            site = request.META.get("HTTP_SEC_FETCH_SITE")
            origin = request.META.get("HTTP_ORIGIN")
            if site == "cross-site":
                return HttpResponse(status=403)
            if origin and origin != "null" and urlsplit(origin).netloc != request.get_host():
                return HttpResponse(status=403)
        return self.get_response(request)


# Public pages that hold no reporter input and may be kept for offline reading (by the browser
# and the service worker, which caches nothing marked no-store): they are revalidated on every
# visit instead. Everything else outside /static/ is no-store. The assistant is left out on
# purpose: its address records the reporter's answers.
OFFLINE_READABLE = frozenset(
    {
        "guidance:index",
        "guidance:page",
        "intake:emergency",
        "offline",
        "service_worker",
        "manifest",
    }
)


def _cache_control(request: HttpRequest, response: HttpResponse) -> str:
    match = request.resolver_match
    if (
        request.method == "GET"
        and response.status_code == 200
        and match is not None
        and match.view_name in OFFLINE_READABLE
    ):
        return "no-cache"
    return "no-store"


def _permissions_policy(request: HttpRequest) -> str:
    """No page may use the location, camera or microphone, except the report form for a child in
    danger, whose "Use my current location" button (web/static/tipline/locate.js) may ask for the
    location on the reporter's press only."""
    match = request.resolver_match
    if (
        match is not None
        and match.view_name == "intake:report"
        and match.kwargs.get("code") in categories.EMERGENCY_FIRST
    ):
        return "geolocation=(self), camera=(), microphone=()"
    return "geolocation=(), camera=(), microphone=()"


class PrivacyHeadersMiddleware:
    """No caching of anything a reporter typed; no cookies from public pages."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(settings.STATIC_URL):
            response["Cache-Control"] = _cache_control(request, response)
            response.headers.setdefault("Permissions-Policy", _permissions_policy(request))
        if not request.path.startswith("/console/"):
            response.cookies.clear()
        return response


class NeutralLinksMiddleware:
    """On a page asked for with ``?neutral=1``, every same-site link and form keeps it.

    Rewriting the finished HTML (rather than every ``{% url %}`` in every template) means pages
    added later keep the preference too. See tipline.web.neutral for the design.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            neutral.is_neutral(request)
            and not request.path.startswith(("/console/", "/api/", settings.STATIC_URL))
            and not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
        ):
            response.content = neutral.rewrite(response.content.decode(response.charset))
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response
