"""Per-country emergency numbers and agencies, from ``data/jurisdictions.yaml``.

Every entry carries the page that says so and the date it was checked; an entry that could not
be sourced is left out of the file rather than guessed. The loader refuses an entry without
``source`` or ``checked`` so an unsourced phone number can never reach a reporter.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass
from pathlib import Path

from tipline.guidance.datafile import DATA_DIR, GuidanceDataError, Reader, load_yaml

PATH = DATA_DIR / "jurisdictions.yaml"

# Section keys in display order, with what each is for. The labels live in templates.
AGENCY_KINDS = (
    "child_exploitation",
    "cybercrime",
    "hotline",
    "child_helpline",
    "stalking_helpline",
)
_COUNTRY = re.compile(r"\A[A-Z]{2}\Z")
# What a dialable number may contain: digits, spaces, dashes and a leading plus.
_PHONE = re.compile(r"\A\+?[0-9][0-9 -]{1,24}\Z")


@dataclass(frozen=True)
class Sourced:
    source: str
    checked: datetime.date


@dataclass(frozen=True)
class Emergency(Sourced):
    numbers: tuple[str, ...]


@dataclass(frozen=True)
class Agency(Sourced):
    name: str
    url: str
    phone: str = ""
    inhope: bool = False

    @property
    def tel(self) -> str:
        return tel_href(self.phone) if self.phone else ""


@dataclass(frozen=True)
class Country:
    code: str
    emergency: Emergency
    agencies: dict[str, Agency]

    def agency(self, kind: str) -> Agency | None:
        return self.agencies.get(kind)

    @property
    def emergency_tels(self) -> list[tuple[str, str]]:
        return [(number, tel_href(number)) for number in self.emergency.numbers]


def tel_href(number: str) -> str:
    """``tel:`` target: digits and a leading plus only."""
    return "tel:" + ("+" if number.startswith("+") else "") + re.sub(r"\D", "", number)


def _phone(reader: Reader, key: str, *, required: bool) -> str:
    value = reader.text(key, required=required, max_length=30)
    if value and not _PHONE.match(value):
        raise reader.fail(key, "must be a phone number (digits, spaces, dashes, leading +)")
    return value


def _sourced(reader: Reader) -> tuple[str, datetime.date]:
    return reader.url("source"), reader.date("checked")


def _agency(reader: Reader) -> Agency:
    reader.only("name", "url", "phone", "inhope", "source", "checked")
    inhope = reader.mapping.get("inhope", False)
    if not isinstance(inhope, bool):
        raise reader.fail("inhope", "must be true or false")
    source, checked = _sourced(reader)
    return Agency(
        name=reader.text("name", max_length=200),
        url=reader.url("url"),
        phone=_phone(reader, "phone", required=False),
        inhope=inhope,
        source=source,
        checked=checked,
    )


def parse(path: Path | str, text: str) -> dict[str, Country]:
    top = Reader(path, load_yaml(path, text))
    top.only("countries")
    countries_reader = top.section("countries")
    found: dict[str, Country] = {}
    for code in countries_reader.mapping:
        if not _COUNTRY.match(code):
            raise countries_reader.fail(code, "country codes are two capital letters (ISO 3166-1)")
        entry = countries_reader.section(code)
        entry.only("emergency", *AGENCY_KINDS)
        emergency = entry.section("emergency")
        emergency.only("numbers", "source", "checked")
        numbers = emergency.strings("numbers")
        if not numbers:
            raise emergency.fail("numbers", "give at least one number")
        for number, line in numbers:
            if not _PHONE.match(number):
                raise GuidanceDataError(
                    path, line, f"countries.{code}.emergency.numbers: not a number"
                )
        source, checked = _sourced(emergency)
        agencies = {}
        for kind in AGENCY_KINDS:
            section = entry.child(kind, required=False)
            if section is not None:
                agencies[kind] = _agency(section)
        found[code] = Country(
            code=code,
            emergency=Emergency(
                numbers=tuple(n for n, _ in numbers), source=source, checked=checked
            ),
            agencies=agencies,
        )
    return found


@functools.cache
def load() -> dict[str, Country]:
    return parse(PATH.relative_to(DATA_DIR.parent.parent.parent.parent), PATH.read_text("utf-8"))


def get(code: str) -> Country | None:
    """The country's entry, or None for an unknown, empty or malformed code."""
    if not isinstance(code, str) or not _COUNTRY.match(code):
        return None
    return load().get(code)
