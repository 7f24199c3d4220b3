"""Leave no trace: the browser is told not to remember what a reporter types."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tipline.cases import categories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", [*(f"/en/report/{code}/" for code in categories.CODES), "/en/follow-up/"]
)
def test_public_forms_turn_autofill_off(client: Client, path: str) -> None:
    html = client.get(path).content.decode()
    forms = re.findall(r"<form\b[^>]*>", html)
    assert forms
    for form in forms:
        assert 'autocomplete="off"' in form, form


def test_site_script_never_stores_form_data() -> None:
    """site.js keeps only the neutral-title flag in sessionStorage, and during a quick exit the
    neutral site's address (removed by the next page at once); no other storage API."""
    from django.contrib.staticfiles import finders

    found = finders.find("tipline/site.js")
    assert isinstance(found, str)
    with open(found, encoding="utf-8") as script:
        source = script.read()
    for api in ("localStorage", "indexedDB", "caches.", "document.cookie"):
        assert api not in source, api
    assert source.count("sessionStorage.setItem(") == 2
    assert 'sessionStorage.setItem(NEUTRAL_KEY, "1")' in source
    assert "sessionStorage.setItem(LEAVING_KEY, url)" in source
    assert "sessionStorage.removeItem(LEAVING_KEY)" in source
