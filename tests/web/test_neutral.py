"""Neutral tab title (?neutral=1) and the header navigation, over the test client."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tipline.web import neutral

pytestmark = pytest.mark.django_db


def title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found is not None
    return found.group(1)


def test_header_links_the_main_sections(client: Client) -> None:
    html = client.get("/fr/").content.decode()
    nav = html.split('class="site-nav"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/fr/help/"' in nav
    assert 'href="/fr/locker/"' in nav
    assert 'href="/fr/emergency/"' in nav
    assert "aria-current" not in nav
    emergency = client.get("/en/emergency/").content.decode()
    assert '<a href="/en/emergency/" aria-current="page">' in emergency


def test_neutral_page_hides_the_name_and_keeps_the_preference() -> None:
    client = Client()
    response = client.get("/en/report/luring/?neutral=1")
    assert not response.cookies
    html = response.content.decode()
    assert title(html) == "Notes"
    assert 'href="/static/tipline/neutral.svg"' in html
    assert "/manifest.webmanifest?lang=en&amp;neutral=1" in html
    # Every same-site link keeps the preference; static files and other sites are untouched.
    for href in re.findall(r'href="(/[^"]*)"', html):
        if href.startswith("/static/"):
            assert "neutral=" not in href
        else:
            assert "neutral=1" in href or "neutral=0" in href, href
    assert 'href="/en/?neutral=1"' in html
    # The language switch on a form is buttons (they keep what was typed): their targets too.
    assert 'formaction="/fr/report/luring/?neutral=1"' in html
    assert 'href="/en/report/luring/?neutral=0"' in html  # the way back
    assert "https://www.google.com/search?q=weather" in html  # quick exit unchanged


def test_usual_page_offers_the_neutral_title(client: Client) -> None:
    html = client.get("/en/emergency/").content.decode()
    assert title(html) != "Notes"
    assert 'href="/en/emergency/?neutral=1"' in html
    assert "neutral=1" not in html.replace('href="/en/emergency/?neutral=1"', "")


def test_neutral_survives_a_form_post() -> None:
    # The report form posts to its own address (action=""), so the query string comes along;
    # the follow-up form names its action, which the middleware extends.
    client = Client()
    html = client.post("/en/report/other/?neutral=1", {}).content.decode()
    assert title(html) == "Notes"
    followup = client.get("/en/follow-up/?neutral=1").content.decode()
    assert 'action="/en/follow-up/?neutral=1"' in followup
    # A page that answers a post offers no toggle: following it would lose a receipt shown once.
    assert "data-neutral-toggle" not in html


def test_root_redirect_keeps_neutral(client: Client) -> None:
    assert client.get("/?neutral=1", HTTP_ACCEPT_LANGUAGE="hi")["Location"] == "/hi/?neutral=1"
    assert client.get("/")["Location"] == "/en/"


@pytest.mark.parametrize("value", ["0", "true", "yes", "1 ", "", "<script>", "1" * 10_000])
def test_only_exactly_one_turns_it_on(client: Client, value: str) -> None:
    response = client.get("/en/", {"neutral": value})
    assert response.status_code == 200
    html = response.content.decode()
    assert title(html) != "Notes"
    assert "<script>" not in html.split("<main", 1)[1].split("</main>")[0]


def test_rewrite_handles_queries_fragments_and_get_forms() -> None:
    html = (
        '<a href="/en/help/?q=a&amp;b=c#top">x</a> <a href="#main">skip</a>'
        ' <a href="//evil.example/">x</a> <a href="/static/tipline/site.css">x</a>'
        ' <form method="get" action="/en/help/assistant/"></form>'
        ' <form method="post" action="/en/follow-up/"></form>'
    )
    out = neutral.rewrite(html)
    assert 'href="/en/help/?q=a&amp;b=c&amp;neutral=1#top"' in out
    assert 'href="#main"' in out
    assert 'href="//evil.example/"' in out
    assert 'href="/static/tipline/site.css"' in out
    assert (
        '<form method="get" action="/en/help/assistant/?neutral=1">'
        '<input type="hidden" name="neutral" value="1">'
    ) in out
    assert '<form method="post" action="/en/follow-up/?neutral=1"></form>' in out


def test_console_is_never_rewritten(client: Client) -> None:
    html = client.get("/console/sign-in/?neutral=1").content.decode()
    assert "neutral=1" not in html


def test_toggle_link_escapes_whatever_else_the_address_carries(client: Client) -> None:
    hostile = {"neutral": "1", "q": '"><script>alert(1)</script>', "x": "é" * 2000}
    response = client.get("/en/emergency/", hostile)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert" not in html
    toggle = re.search(r'<a href="([^"]*)" data-neutral-toggle', html)
    assert toggle is not None
    assert toggle.group(1).startswith("/en/emergency/?neutral=0&amp;q=%22%3E%3Cscript%3E")
