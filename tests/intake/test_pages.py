"""Public pages: headers, no cookies, category forms, and what each form asks."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tipline.cases import categories

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = ["/en/", "/en/follow-up/", "/en/emergency/"] + [
    f"/en/report/{code}/" for code in categories.CODES
]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_are_private_by_default(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert not response.cookies
    # The emergency page is the one public page the service worker keeps for offline reading,
    # so it may be cached (revalidated each time); every other page is never stored.
    expected = "no-cache" if path == "/en/emergency/" else "no-store"
    assert response["Cache-Control"] == expected
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Frame-Options"] == "DENY"
    html = response.content.decode()
    assert "data-quick-exit" in html
    # Nothing loads from another site: every src/href to a resource is local.
    for marker in ('src="http', "src='http", 'href="//', "@import"):
        assert marker not in html
    assert "<script>" not in html
    assert "style=" not in html


def test_root_redirects_by_browser_language_without_cookies(client: Client) -> None:
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="fr-CA,fr;q=0.9")
    assert response.status_code == 302
    assert response["Location"] == "/fr/"
    assert not response.cookies


def test_language_switch_is_plain_links(client: Client) -> None:
    html = client.get("/en/help/").content.decode()
    assert 'href="/fr/help/"' in html
    assert 'href="/hi/help/"' in html
    assert '<html lang="fr">' in client.get("/fr/report/luring/").content.decode()
    # On a report form it is buttons sending the form, so nothing typed is lost.
    form = client.get("/en/report/luring/").content.decode()
    assert 'formaction="/fr/report/luring/"' in form


def test_home_lists_every_category(client: Client) -> None:
    html = client.get("/en/").content.decode()
    assert 'action="/en/report/"' in html  # buttons: see intake/views.start
    for code in categories.CODES:
        assert f'name="category" value="{code}"' in html


def test_csam_form_asks_for_urls_only_and_warns(client: Client) -> None:
    html = client.get("/en/report/csam/").content.decode()
    assert 'type="file"' not in html
    assert "Never download, screenshot, save, forward or upload this material" in html
    assert 'name="victim_name"' not in html
    assert 'name="urls"' in html


def test_child_in_danger_puts_emergency_numbers_before_the_form(client: Client) -> None:
    html = client.get("/en/report/child_in_danger/").content.decode()
    assert html.index("Call the emergency number first") < html.index("<form")
    assert html.index("911") < html.index("<form")
    assert 'name="child_location"' in html


@pytest.mark.parametrize("code", [c.code for c in categories.CATEGORIES if c.allows_files])
def test_categories_with_files_offer_upload(client: Client, code: str) -> None:
    assert 'type="file"' in client.get(f"/en/report/{code}/").content.decode()


def test_each_category_asks_its_own_questions(client: Client) -> None:
    sextortion = client.get("/en/report/sextortion/").content.decode()
    assert 'name="demand"' in sextortion
    assert 'name="deadline"' in sextortion
    assert 'name="meeting_planned"' not in sextortion
    luring = client.get("/en/report/luring/").content.decode()
    assert 'name="meeting_planned"' in luring
    assert 'name="demand"' not in luring


def test_contact_is_off_by_default_and_explained(client: Client) -> None:
    html = client.get("/en/report/other/").content.decode()
    assert 'value="anonymous"' in html
    checked = html[html.index('value="anonymous"') - 200 : html.index('value="anonymous"') + 60]
    assert "checked" in checked
    assert "You do not have to tell us who you are" in html


def test_unknown_category_is_404(client: Client) -> None:
    assert client.get("/en/report/nonsense/").status_code == 404


def test_language_links_on_a_missing_page_go_to_that_languages_home(client: Client) -> None:
    html = client.get("/en/no-such-page/").content.decode()
    assert 'href="/fr/"' in html
    assert 'href="/hi/"' in html


def test_switching_language_keeps_the_assistants_answers_but_not_a_huge_query(
    client: Client,
) -> None:
    html = client.get("/en/help/assistant/?node=child&country=GB").content.decode()
    assert 'href="/fr/help/assistant/?node=child&amp;country=GB"' in html
    huge = client.get("/en/help/assistant/?node=" + "x" * 5000).content.decode()
    assert 'href="/fr/help/assistant/"' in huge


def test_the_site_icon_is_local(client: Client) -> None:
    html = client.get("/en/").content.decode()
    assert 'rel="icon" href="/static/tipline/icon.svg"' in html


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("fr", "Sortie rapide"), ("hi", "तुरंत बाहर निकलें")],
)
def test_french_and_hindi_pages_are_translated(client: Client, lang: str, expected: str) -> None:
    html = client.get(f"/{lang}/").content.decode()
    assert f'<html lang="{lang}">' in html
    assert expected in html
    assert "Report online child sexual exploitation" not in html


@pytest.mark.parametrize("lang", ["fr", "hi"])
def test_catalogues_are_complete(lang: str) -> None:
    from pathlib import Path

    from babel.messages.pofile import read_po

    path = Path(__file__).resolve().parents[2] / f"src/tipline/locale/{lang}/LC_MESSAGES/django.po"
    with path.open("rb") as fh:
        catalogue = read_po(fh)
    untranslated = [
        m.id
        for m in catalogue
        if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])
    ]
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert untranslated == []
    assert fuzzy == []


# Packages whose every gettext/translate/blocktranslate msgid must be in both catalogues (a
# string added without its fr and hi entries is shown in English to a reporter or an analyst).
TRANSLATED_PACKAGES = ("intake", "locker", "web", "guidance", "console", "outputs")
GETTEXT_KEYWORDS: dict[str, Any] = {
    name: None
    for name in ("_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy")
} | {name: None for name in ("pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy")}


def _msgids(path: Path) -> Iterator[str]:
    """The msgids a Python file or a Django template uses, as makemessages would extract them
    (templates go through Django's own ``templatize``, then Babel's Python extractor)."""
    import io

    from babel.messages.extract import extract_python
    from django.utils.translation.template import templatize

    source = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        # templatize doubles every literal %; the catalogue holds it once for {% translate %}
        # and twice for {% blocktranslate %} (which looks up "%%" at run time), so both sides
        # are compared with single percent signs.
        source = templatize(source, origin=str(path)).replace("%%", "%")
    for _line, function, message, _comments in extract_python(
        io.BytesIO(source.encode()), GETTEXT_KEYWORDS, [], {}
    ):
        parts = message if isinstance(message, tuple) else (message,)
        msgid = parts[1] if function.startswith(("pgettext", "npgettext")) else parts[0]
        if msgid:
            yield msgid


@pytest.mark.parametrize("lang", ["fr", "hi"])
def test_every_string_shown_is_in_the_catalogue(lang: str) -> None:
    from babel.messages.pofile import read_po

    src = Path(__file__).resolve().parents[2] / "src/tipline"
    with (src / f"locale/{lang}/LC_MESSAGES/django.po").open("rb") as fh:
        known = {
            (m.id if isinstance(m.id, str) else m.id[0]).replace("%%", "%")
            for m in read_po(fh)
            if m.id
        }
    used: dict[str, str] = {}
    for package in TRANSLATED_PACKAGES:
        for path in sorted((src / package).rglob("*")):
            if path.suffix in (".py", ".html") and "migrations" not in path.parts:
                for msgid in _msgids(path):
                    used.setdefault(msgid, str(path.relative_to(src)))
    assert len(used) > 300  # the extraction did find the site's strings
    missing = sorted(f"{where}: {msgid!r}" for msgid, where in used.items() if msgid not in known)
    assert missing == []
