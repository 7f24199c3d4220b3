"""The answer to a Quick exit that first told the server something (end the locker session,
never show a receipt again): the same for every page that has one."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect


def leave_response(request: HttpRequest) -> HttpResponse:
    """204 for site.js's beacon (nothing must follow in the background), else a 303 to the
    neutral site, asking the browser to drop what it cached of this one (honoured over HTTPS;
    the pages themselves are no-store already)."""
    if request.method == "POST" and request.POST.get("beacon") == "1":
        return HttpResponse(status=204)
    response = HttpResponseRedirect(settings.TIPLINE_QUICK_EXIT_URL)
    response.status_code = 303
    response["Clear-Site-Data"] = '"cache"'
    return response
