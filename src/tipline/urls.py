"""Root URLconf: the public site under a language prefix, the anonymous API, and the staff
console under /console/ (its own URLconf, outside the language prefix; nothing public imports it).
"""

from django.conf.urls.i18n import i18n_patterns
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import include, path
from django.utils.translation import get_language_from_request


def root(request: HttpRequest) -> HttpResponse:
    # The language comes from the browser's Accept-Language; no cookie is read or set.
    return HttpResponseRedirect(f"/{get_language_from_request(request, check_path=False)}/")


urlpatterns = [
    path("", root),
    path("api/v1/", include("tipline.api.urls")),
    path("console/", include("tipline.console.urls")),
    *i18n_patterns(
        path("", include("tipline.intake.urls")),
        path("help/", include("tipline.guidance.urls")),
        path("locker/", include("tipline.locker.urls")),
        prefix_default_language=True,
    ),
]
