"""What a reporter is told right after a report is received: what happens next and how soon,
and the help that fits the category and the country they chose.

A frightened reporter reads the receipt page once, often on a phone, so it must carry what they
need at that moment: the emergency number for a child in danger, "this is not your fault" and
"do not pay" for sextortion, the services that can stop intimate images from spreading, the
evidence locker for stalking. Which advice each category gets, and the services with their
sources, are data (``data/after_report.yaml``); the words are translatable template strings.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from tipline.cases import categories
from tipline.guidance import jurisdictions
from tipline.guidance.datafile import DATA_DIR, Reader, load_yaml
from tipline.triage.tiers import DEADLINES

PATH = DATA_DIR / "after_report.yaml"
FLAGS = (
    "emergency_first",
    "not_your_fault",
    "do_not_pay",
    "keep_chat",
    "helpline",
    "takedown",
    "locker",
)
AUDIENCES = ("minors", "adults", "anyone")


@dataclass(frozen=True)
class Service:
    key: str
    name: str
    url: str
    audience: str
    countries: tuple[str, ...]  # ("any",) or ISO codes
    source: str
    checked: datetime.date

    def serves(self, country: str) -> bool:
        return "any" in self.countries or country in self.countries


@dataclass(frozen=True)
class Table:
    services: tuple[Service, ...]
    advice: dict[str, frozenset[str]]


@dataclass(frozen=True)
class AfterReport:
    """Everything the receipt page shows after "What happens next"."""

    category: str
    wait: timedelta  # how long a report of this kind may wait for a first look, at most
    flags: frozenset[str]  # read in templates as {% if "do_not_pay" in help.flags %}
    country: jurisdictions.Country | None
    helplines: tuple[jurisdictions.Agency, ...]
    services: tuple[Service, ...]

    @property
    def wait_days(self) -> int:
        """Whole days of the wait when it is two days or more, else 0 (then say hours)."""
        return self.wait.days if self.wait >= timedelta(days=2) else 0

    @property
    def wait_hours(self) -> int:
        return int(self.wait.total_seconds() // 3600)


def _service(key: str, reader: Reader) -> Service:
    reader.only("name", "url", "for", "countries", "source", "checked")
    audience = reader.text("for", max_length=10)
    if audience not in AUDIENCES:
        raise reader.fail("for", f"must be one of {', '.join(AUDIENCES)}")
    countries = tuple(code for code, _line in reader.strings("countries"))
    for code in countries:
        if code != "any" and not (len(code) == 2 and code.isascii() and code.isupper()):
            raise reader.fail("countries", f"{code!r} is not 'any' or an ISO country code")
    return Service(
        key=key,
        name=reader.text("name", max_length=200),
        url=reader.url("url"),
        audience=audience,
        countries=countries,
        source=reader.url("source"),
        checked=reader.date("checked"),
    )


def parse(path: Path | str, text: str) -> Table:
    top = Reader(path, load_yaml(path, text))
    top.only("services", "categories")
    services_reader = top.section("services")
    services = tuple(_service(key, services_reader.section(key)) for key in services_reader.mapping)
    advice_reader = top.section("categories")
    known = {category.code for category in categories.CATEGORIES}
    advice: dict[str, frozenset[str]] = {}
    for code in advice_reader.mapping:
        if code not in known:
            raise advice_reader.fail(code, "not a report category")
        entry = advice_reader.section(code)
        entry.only(*FLAGS)
        for flag in entry.mapping:
            if not isinstance(entry.mapping[flag], bool):
                raise entry.fail(flag, "must be true or false")
        advice[code] = frozenset(flag for flag in entry.mapping if entry.mapping[flag])
    missing = known - advice.keys()
    if missing:
        raise top.fail("categories", f"no advice for {', '.join(sorted(missing))}")
    return Table(services=services, advice=advice)


@functools.cache
def load() -> Table:
    return parse(PATH.relative_to(DATA_DIR.parent.parent.parent.parent), PATH.read_text("utf-8"))


def for_report(category: str, country: str = "") -> AfterReport:
    """The help to show after a report of ``category`` from someone who chose ``country``."""
    table = load()
    flags = table.advice[category]
    place = jurisdictions.load().get(country) if country else None
    helplines: tuple[jurisdictions.Agency, ...] = ()
    if place is not None and "helpline" in flags:
        kinds = ("stalking_helpline",) if category == "cyberstalking" else ("child_helpline",)
        helplines = tuple(agency for kind in kinds if (agency := place.agency(kind)))
    services = (
        tuple(service for service in table.services if service.serves(country))
        if "takedown" in flags
        else ()
    )
    tier = categories.get(category).default_tier
    return AfterReport(
        category=category,
        wait=DEADLINES[tier],
        flags=flags,
        country=place,
        helplines=helplines,
        services=services,
    )
