"""The installable app: manifest, service worker script and offline page, over the test client."""

from __future__ import annotations

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_manifest_names_the_app_and_its_icons(client: Client) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    assert response["Cache-Control"] == "no-cache"
    assert not response.cookies
    data = json.loads(response.content)
    assert data["name"] == "Tipline"
    assert data["short_name"] == "Tipline"
    assert data["start_url"] == "/"
    assert data["display"] == "standalone"
    assert data["theme_color"].startswith("#")
    assert data["background_color"].startswith("#")
    sizes = {icon["sizes"]: icon for icon in data["icons"]}
    assert set(sizes) == {"any", "192x192", "512x512"}
    for icon in data["icons"]:
        assert icon["src"].startswith("/static/tipline/")
        assert client.get(icon["src"]).status_code == 200


def test_neutral_manifest_installs_a_plain_notes_app(client: Client) -> None:
    data = json.loads(client.get("/manifest.webmanifest?neutral=1&lang=fr").content)
    assert data["name"] == data["short_name"] != "Tipline"
    assert "Tipline" not in json.dumps(data)
    assert data["start_url"] == "/?neutral=1"
    assert all("neutral" in icon["src"] for icon in data["icons"])


@pytest.mark.parametrize(
    "query",
    ["lang=xx", "lang=" + "e" * 100_000, "lang=%00", "neutral=" + "1" * 5000, "lang[]=en"],
)
def test_manifest_shrugs_off_tampered_parameters(client: Client, query: str) -> None:
    response = client.get("/manifest.webmanifest?" + query)
    assert response.status_code == 200
    assert json.loads(response.content)["lang"] == "en"


def test_service_worker_is_served_from_the_root(client: Client) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    assert not response.cookies
    script = response.content.decode()
    for precached in ("/en/offline/", "/fr/offline/", "/hi/emergency/", "/static/tipline/site.css"):
        assert precached in script
    # It never answers a POST, and leaves the console and the API alone.
    assert 'request.method !== "GET"' in script
    assert '"/console/"' in script
    assert client.post("/sw.js").status_code == 405


def test_service_worker_caches_only_public_guidance(client: Client) -> None:
    script = client.get("/sw.js").content.decode()
    assert 'rest === "/offline/" || rest === "/emergency/"' in script
    assert '!rest.startsWith("/help/assistant/")' in script
    assert 'includes("no-store")' in script


def test_csp_allows_only_our_own_worker(client: Client) -> None:
    csp = client.get("/en/")["Content-Security-Policy"]
    assert "worker-src 'self'" in csp
    assert "manifest-src 'self'" in csp


@pytest.mark.parametrize("lang", ["en", "fr", "hi"])
def test_offline_page(client: Client, lang: str) -> None:
    response = client.get(f"/{lang}/offline/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-cache"
    html = response.content.decode()
    assert f'<html lang="{lang}">' in html
    assert 'href="tel:112"' in html
    assert "data-quick-exit" in html


def test_only_public_guidance_may_be_kept(client: Client) -> None:
    """Pages with no reporter input are revalidated, not forbidden; everything else is no-store."""
    assert client.get("/en/emergency/")["Cache-Control"] == "no-cache"
    assert client.get("/en/help/")["Cache-Control"] == "no-cache"
    private = ("/en/", "/en/report/other/", "/en/follow-up/", "/en/locker/", "/en/help/assistant/")
    for path in private:
        assert client.get(path)["Cache-Control"] == "no-store", path
    assert client.post("/en/report/other/", {})["Cache-Control"] == "no-store"
    assert client.get("/en/no-such-page/")["Cache-Control"] == "no-store"


def test_every_page_links_the_manifest_and_the_worker(client: Client) -> None:
    html = client.get("/fr/report/csam/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest?lang=fr">' in html
    assert 'data-sw="/sw.js"' in html
