"""Root URLconf: the public site under a language prefix, the anonymous API, and the staff
console under /console/ (its own URLconf, outside the language prefix; nothing public imports it).
"""

from django.conf.urls.i18n import i18n_patterns
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import include, path
from django.utils.translation import get_language_from_request

from tipline.web import views as web
from tipline.web.neutral import is_neutral


def root(request: HttpRequest) -> HttpResponse:
    # The language comes from the browser's Accept-Language; no cookie is read or set.
    language = get_language_from_request(request, check_path=False)
    # The neutral tab title survives (the installed "Notes" app starts at /?neutral=1).
    return HttpResponseRedirect(f"/{language}/" + ("?neutral=1" if is_neutral(request) else ""))


urlpatterns = [
    path("", root),
    # The installable app: the service worker must sit at the root for its scope to cover /<lang>/.
    path("sw.js", web.service_worker, name="service_worker"),
    path("manifest.webmanifest", web.manifest, name="manifest"),
    path("api/v1/", include("tipline.api.urls")),
    # The CyberTipline-compatible endpoint for platforms (NCMEC's paths, XML; docs/cybertipline.md).
    path("ispws/", include("tipline.ispws.urls")),
    path("console/", include("tipline.console.urls")),
    *i18n_patterns(
        path("", include("tipline.intake.urls")),
        path("help/", include("tipline.guidance.urls")),
        path("locker/", include("tipline.locker.urls")),
        path("offline/", web.offline, name="offline"),
        prefix_default_language=True,
    ),
]
