"""Access-control matrix: every URL the project serves, and who may use it with which method.

Adding a page or endpoint without a row here fails `test_every_url_is_in_the_matrix`. Later
trust domains (the partner API) and the console's roles add further columns; for now every
console page but the sign-in steps sends an anonymous visitor to sign in.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# route pattern -> (example path, {method: expected status for an anonymous visitor})
MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "": ("/", {"GET": 302}),
    "api/v1/reports": ("/api/v1/reports", {"GET": 405, "POST": 400}),
    "api/v1/followup/status": ("/api/v1/followup/status", {"GET": 405, "POST": 404}),
    "api/v1/followup/messages": ("/api/v1/followup/messages", {"GET": 405, "POST": 404}),
    "api/v1/openapi.json": ("/api/v1/openapi.json", {"GET": 200, "POST": 405}),
    "<lang>/": ("/en/", {"GET": 200, "POST": 405}),
    "<lang>/report/<slug:code>/": ("/en/report/other/", {"GET": 200, "POST": 400, "PUT": 405}),
    "<lang>/follow-up/": ("/en/follow-up/", {"GET": 200, "POST": 400}),
    "<lang>/follow-up/message/": ("/en/follow-up/message/", {"GET": 405, "POST": 400}),
    "<lang>/emergency/": ("/en/emergency/", {"GET": 200, "POST": 405}),
    # Staff console: anonymous visitors get the sign-in page, or are sent to it.
    "console/": ("/console/", {"GET": 302, "POST": 302}),
    "console/sign-in/": ("/console/sign-in/", {"GET": 200, "POST": 200, "PUT": 405}),
    "console/sign-in/code/": ("/console/sign-in/code/", {"GET": 302, "POST": 302}),
    "console/enrol/": ("/console/enrol/", {"GET": 302, "POST": 302}),
    "console/sign-out/": ("/console/sign-out/", {"GET": 405, "POST": 302}),
    "console/sign-out/everywhere/": ("/console/sign-out/everywhere/", {"GET": 302, "POST": 302}),
}
SIGN_IN = "/console/sign-in/"


def _check_cookies(path: str, cookies: SimpleCookie) -> None:
    """Public pages set no cookie at all; console pages only cookies scoped to /console/."""
    if not path.startswith("/console/"):
        assert not cookies, path
        return
    for morsel in cookies.values():
        assert morsel["path"] == "/console/", (path, morsel.key)
        assert morsel["samesite"] == "Strict", (path, morsel.key)
        assert morsel["httponly"], (path, morsel.key)


def _routes(resolver: URLResolver, prefix: str = "") -> list[str]:
    routes = []
    for entry in resolver.url_patterns:
        pattern = str(entry.pattern)
        if pattern.startswith("en/") or type(entry.pattern).__name__ == "LocalePrefixPattern":
            pattern = "<lang>/"
        if isinstance(entry, URLResolver):
            routes += _routes(entry, prefix + pattern)
        elif isinstance(entry, URLPattern):
            routes.append(prefix + pattern)
    return routes


def test_every_url_is_in_the_matrix() -> None:
    routes = sorted(set(_routes(get_resolver())))
    assert routes == sorted(MATRIX), "add new pages and endpoints to MATRIX"


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_anonymous_visitor(client: Client, route: str) -> None:
    path, expected = MATRIX[route]
    for method, status in expected.items():
        response = client.generic(method, path, b"{}", content_type="application/json")
        assert response.status_code == status, f"{method} {path}"
        if status == 302 and path.startswith("/console/"):
            assert response["Location"].startswith(SIGN_IN), f"{method} {path}"
        _check_cookies(path, response.cookies)


def test_public_code_never_imports_staff_code() -> None:
    root = Path(__file__).resolve().parents[1] / "src" / "tipline"
    for package in ("intake", "api"):
        for source in (root / package).rglob("*.py"):
            text = source.read_text()
            assert "tipline.console" not in text, source
            assert "tipline.staff" not in text, source
            assert "django.contrib.admin" not in text, source
