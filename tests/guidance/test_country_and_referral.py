"""The optional country on the report form, and the console's "where this could be referred"."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import checks
from django.test import Client

from tests.console.helpers import signed_in
from tests.intake.test_submit import form, receipt_of
from tipline.cases import selectors
from tipline.cases.access import report_by_receipt
from tipline.guidance import apps as guidance_apps
from tipline.guidance import library

pytestmark = pytest.mark.django_db


def test_the_form_offers_countries_with_prefer_not_to_say_first(client: Client) -> None:
    body = client.get("/en/report/luring/").content.decode()
    select = body.split('name="country"', 1)[1].split("</select>", 1)[0]
    first = select.split("<option", 2)[1]
    assert 'value=""' in first
    assert "Prefer not to say" in first
    assert 'value="KE"' in select
    assert 'value="JP"' in select
    # Not a region or a grouping.
    assert 'value="EU"' not in select
    assert 'value="001"' not in select


def test_a_chosen_country_is_stored_on_the_report(client: Client) -> None:
    response = client.post("/en/report/luring/", form(country="GB"))
    assert response.status_code == 200
    report = report_by_receipt(receipt_of(response.content.decode()))
    assert report.country == "GB"
    assert selectors.report_details(report)["country"] == "GB"


def test_no_country_is_stored_as_empty(client: Client) -> None:
    response = client.post("/en/report/luring/", form())
    report = report_by_receipt(receipt_of(response.content.decode()))
    assert report.country == ""


@pytest.mark.parametrize(
    "value", ["ZZ", "gb", "GBR", "EU", "001", "<script>", "G\x00", "x" * 10_000, "XA"]
)
def test_hostile_country_values_are_refused_with_a_message(client: Client, value: str) -> None:
    response = client.post("/en/report/luring/", form(country=value))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose a country from the list." in body
    assert "<script>" not in body.split("<main")[1]


def _case_body(country: str) -> str:
    client, _user = signed_in(f"ana{country.lower() or 'none'}")
    public = Client()
    response = public.post("/en/report/luring/", form(country=country))
    report = report_by_receipt(receipt_of(response.content.decode()))
    page = client.get(f"/console/reports/{report.id}/")
    assert page.status_code == 200
    return page.content.decode()


def test_console_shows_where_a_report_could_be_referred() -> None:
    body = _case_body("CA")
    block = body.split('id="referral-heading"', 1)[1].split("</section>", 1)[0]
    assert "Cybertip.ca" in block
    assert "1-866-658-9022" in block
    assert "911" in block
    assert 'rel="noreferrer noopener"' in block
    assert "checked 2026-11-26" in block


def test_console_says_when_no_country_or_no_agencies() -> None:
    body = _case_body("")
    assert "The reporter did not say which country" in body
    body = _case_body("JP")
    assert "We have no checked agencies for Japan yet." in body


def test_the_system_check_passes_and_names_a_broken_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert [m for m in checks.run_checks() if m.id == "guidance.E001"] == []
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "broken.md").write_text("---\ntitle: x\n---\nBody\n")
    monkeypatch.setattr(library, "PAGES_DIR", tmp_path)
    library.load.cache_clear()
    try:
        errors = guidance_apps.data_files_check()
    finally:
        monkeypatch.undo()
        library.load.cache_clear()
    assert [e.id for e in errors] == ["guidance.E001"]
    assert "broken.md:" in errors[0].msg
    assert "required text is missing" in errors[0].msg
