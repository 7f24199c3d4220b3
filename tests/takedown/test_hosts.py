"""Who hosts a URL: real DNS and RDAP servers on loopback, the provider table, hostile replies."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from django.conf import LazySettings as SettingsWrapper

from tests.takedown.servers import Answer, DnsServer, HttpServer, rdap_ip
from tipline.takedown import config, hosts, mail
from tipline.takedown.addresses import clean_email, is_public
from tipline.takedown.compose import Composed


def test_rdap_names_the_abuse_contact_and_country(
    takedown_settings: SettingsWrapper, dns_server: DnsServer, rdap_server: HttpServer
) -> None:
    dns_server.records["files.example"] = "198.51.100.7"
    rdap_server.routes["/rdap/ip/198.51.100.7"] = Answer(
        body=rdap_ip("abuse@net.example", country="NL", org="Net Example BV")
    )
    found = hosts.look_up("files.example", config.load())
    assert found.problem == ""
    assert (found.address, found.abuse_email, found.country) == (
        "198.51.100.7",
        "abuse@net.example",
        "NL",
    )
    assert found.provider == "Net Example BV"
    assert found.source == "rdap"
    assert dns_server.queries[0] == "files.example"


def test_the_provider_table_takes_precedence_over_rdap(
    takedown_settings: SettingsWrapper, dns_server: DnsServer, rdap_server: HttpServer
) -> None:
    dns_server.records["cdn.table-host.test"] = "198.51.100.8"
    rdap_server.routes["/rdap/ip/198.51.100.8"] = Answer(body=rdap_ip("other@net.example"))
    found = hosts.look_up("cdn.table-host.test", config.load())
    assert (found.source, found.abuse_email, found.language, found.country) == (
        "table",
        "abuse@table-host.test",
        "fr",
        "FR",
    )
    # By network too: a name outside the suffix, on the provider's addresses.
    dns_server.records["elsewhere.example"] = "203.0.113.9"
    assert hosts.look_up("elsewhere.example", config.load()).provider == "Table Hosting"
    assert not [r for r in rdap_server.requests if "198.51.100.8" in r[1]]


def test_dns_timeout_and_nxdomain_are_explained_unknown_hosts(
    takedown_settings: SettingsWrapper, dns_server: DnsServer
) -> None:
    dns_server.silent.add("slow.example")
    started = time.monotonic()
    slow = hosts.look_up("slow.example", config.load())
    assert time.monotonic() - started < 5
    assert (slow.source, slow.problem) == ("unknown", "DNS lookup timed out")
    missing = hosts.look_up("missing.example", config.load())
    assert "NXDOMAIN" in missing.problem


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (Answer(body=b"{" * 10), "RDAP reply is not JSON"),
        (Answer(body=b"[" * 100_000 + b"]" * 100_000), "RDAP reply is not JSON"),
        (Answer(body=b"x", stream=10 * 1024 * 1024), "RDAP reply too large"),
        (Answer(body=b'"just a string"'), "RDAP reply is not an RDAP object"),
        (Answer(body=json.dumps({"entities": "nope"}).encode()), "RDAP names no abuse contact"),
        (
            Answer(body=json.dumps({"entities": [[1, 2], None, 5]}).encode()),
            "RDAP names no abuse contact",
        ),
        (Answer(status=503), "RDAP answered 503"),
        (Answer(status=429), "RDAP answered 429"),
    ],
)
def test_hostile_or_broken_rdap_replies_become_unknown_hosts(
    takedown_settings: SettingsWrapper,
    dns_server: DnsServer,
    rdap_server: HttpServer,
    answer: Answer,
    problem: str,
) -> None:
    dns_server.records["bad.example"] = "198.51.100.20"
    rdap_server.routes["/rdap/ip/198.51.100.20"] = answer
    found = hosts.look_up("bad.example", config.load())
    assert (found.source, found.problem) == ("unknown", problem)
    assert found.abuse_email == ""


@pytest.mark.parametrize(
    "email",
    [
        "abuse@net.example\r\nBcc: everyone@evil.example",
        "abuse@net.example, other@evil.example",
        "Abuse <abuse@net.example>",
        "abuse@net.example\n",
        "abuse@\ud800.example",
        "a" * 300 + "@net.example",
    ],
)
def test_an_abuse_address_that_could_inject_headers_is_not_taken(
    takedown_settings: SettingsWrapper, dns_server: DnsServer, rdap_server: HttpServer, email: str
) -> None:
    dns_server.records["inject.example"] = "198.51.100.30"
    rdap_server.routes["/rdap/ip/198.51.100.30"] = Answer(body=rdap_ip(email))
    found = hosts.look_up("inject.example", config.load())
    assert found.abuse_email == ""
    assert found.problem == "RDAP names no abuse contact"


def test_rdap_down_is_an_unknown_host(
    takedown_settings: SettingsWrapper, dns_server: DnsServer
) -> None:
    dns_server.records["down.example"] = "198.51.100.40"
    takedown_settings.TIPLINE_TAKEDOWN_RDAP_URL = "http://127.0.0.1:9/"  # discard port: refused
    found = hosts.look_up("down.example", config.load())
    assert found.problem.startswith("RDAP lookup failed")


def test_address_checks() -> None:
    for private in (
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.1",
        "172.16.5.4",
        "169.254.169.254",
        "100.64.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "0.0.0.0",  # noqa: S104 - an address to refuse, not to bind
        "224.0.0.1",
        "not an address",
    ):
        assert not is_public(private), private
    assert is_public("198.51.100.1") is False  # documentation range: never a real host
    assert is_public("8.8.8.8")
    assert is_public("127.0.0.1", allow_loopback=True)
    assert not is_public("10.0.0.1", allow_loopback=True)
    assert clean_email("abuse@host.example") == "abuse@host.example"
    assert clean_email(["abuse@host.example"]) == ""


@pytest.mark.parametrize(
    "entry",
    [
        "- {name: X, abuse: 'a@x.example\\r\\nBcc: b@evil.example', suffixes: [x.example]}",
        "- {name: X, abuse: a@x.example, language: de}",
        "- {name: X, abuse: a@x.example, country: gb}",
        "- {name: X, abuse: a@x.example, networks: [not-a-network]}",
        "- {name: X, abuse: a@x.example, surprise: 1}",
        "- just text",
    ],
)
def test_a_bad_provider_table_is_refused_with_the_reason(tmp_path: Path, entry: str) -> None:
    path = tmp_path / "providers.yaml"
    path.write_text("providers:\n  " + entry + "\n")
    with pytest.raises(hosts.ProvidersFileError):
        hosts.load_providers(path)
    path.write_text("providers: [\n")
    with pytest.raises(hosts.ProvidersFileError):
        hosts.load_providers(path)


def test_a_notice_is_never_sent_to_an_address_that_could_inject_headers(
    takedown_settings: SettingsWrapper,
) -> None:
    composed = Composed(subject="s", body="b", xarf_parts=())
    for to in ("a@x.example\r\nBcc: b@evil.example", "a@x.example, b@evil.example", ""):
        with pytest.raises(mail.BadRecipient):
            mail.send(composed, to=to, config=config.load(), reference="ref")
