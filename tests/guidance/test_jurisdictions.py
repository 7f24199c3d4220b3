"""The jurisdiction table: schema, the 14 countries, and the emergency numbers on public pages."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from tipline.guidance import jurisdictions
from tipline.guidance.datafile import GuidanceDataError

REQUIRED = {"CA", "US", "GB", "IN", "AU", "IE", "DE", "FR", "NL", "NZ", "ZA", "PH", "BR", "KE"}


def test_all_required_countries_have_an_emergency_number() -> None:
    table = jurisdictions.load()
    assert set(table) >= REQUIRED
    for code in REQUIRED:
        assert table[code].emergency.numbers, code


def test_every_entry_has_a_source_and_a_checked_date() -> None:
    today = datetime.date(2026, 11, 26)
    for code, country in jurisdictions.load().items():
        entries = [country.emergency, *country.agencies.values()]
        for entry in entries:
            assert entry.source.startswith(("https://", "http://")), code
            assert datetime.date(2020, 1, 1) <= entry.checked <= today, code
        for agency in country.agencies.values():
            assert agency.url.startswith("https://"), (code, agency.name)


GOOD = """\
countries:
  GB:
    emergency:
      numbers: ["999", "112"]
      source: https://example.org/
      checked: 2026-11-26
    child_helpline:
      name: A line
      url: https://example.org/
      phone: "0800 1111"
      source: https://example.org/
      checked: 2026-11-26
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            (
                "      source: https://example.org/\n      checked: 2026-11-26\n    child",
                "    child",
            ),
            "j.yaml:4: countries.GB.emergency.source: required text is missing",
        ),
        (
            (
                "      checked: 2026-11-26\n",
                "",
            ),
            "j.yaml:4: countries.GB.emergency.checked: must be a date",
        ),
        (("GB:", "gb:"), "j.yaml:2: countries.gb: country codes are two capital letters"),
        (
            ('"0800 1111"', '"call us"'),
            "j.yaml:10: countries.GB.child_helpline.phone: must be a phone",
        ),
        (('["999", "112"]', '["nine"]'), "j.yaml:4: countries.GB.emergency.numbers: not a number"),
        (
            ("url: https://example.org/", "url: javascript:alert(1)"),
            "j.yaml:9: countries.GB.child_helpline.url: must be a full",
        ),
        (("child_helpline:", "pizza:"), "j.yaml:7: countries.GB.pizza: unknown field"),
        (('["999", "112"]', "[]"), "countries.GB.emergency.numbers: give at least one number"),
    ],
)
def test_mistakes_name_file_line_and_field(change: tuple[str, str], message: str) -> None:
    with pytest.raises(GuidanceDataError) as caught:
        jurisdictions.parse("j.yaml", GOOD.replace(*change, 1))
    assert message in str(caught.value)


@pytest.mark.parametrize("code", ["", "gb", "ZZ", "GBR", "<x>", "G"])
def test_lookup_of_unknown_codes_is_none(code: str) -> None:
    assert jurisdictions.get(code) is None


@pytest.mark.django_db
def test_emergency_page_lists_every_country_as_tel_links(client: Client) -> None:
    body = client.get("/en/emergency/").content.decode()
    for country in jurisdictions.load().values():
        for number, tel in country.emergency_tels:
            assert f'<a class="tel" href="{tel}">{number}</a>' in body
    assert "United Kingdom" in body
    assert "Kenya" in body
    assert "<script" not in body.split("<main")[1]
