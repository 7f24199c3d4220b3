"""Who hosts a URL: the name resolved (dnspython), the provider table, then RDAP.

Order of precedence: an analyst's override, the hotline's provider table (``providers.yaml``),
then the abuse contact RDAP gives for the network. Each answer is cached in ``HostRecord`` with
its source and date. Every failure (DNS timeout, no address, RDAP down, a reply too large or not
RDAP) becomes an "unknown host" with the reason, which an analyst can fill in; nothing here
raises on hostile input.

RDAP replies are untrusted: read with a size cap, parsed as JSON only, and only e-mail addresses
that are one plain mailbox are kept (no header injection through an abuse address).
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.exception
import dns.resolver
import httpx
import yaml

from tipline.takedown.addresses import clean_email
from tipline.takedown.config import Config

RDAP_MAX_BYTES = 256 * 1024
_LANGUAGES = {"en", "fr", "hi"}


@dataclass(frozen=True)
class Provider:
    name: str
    abuse_email: str
    channel: str
    language: str
    country: str
    suffixes: tuple[str, ...] = ()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()


@dataclass(frozen=True)
class Lookup:
    """The answer for one host: a provider, or ``problem`` saying why there is none."""

    host: str
    address: str
    provider: str = ""
    abuse_email: str = ""
    channel: str = "email"
    language: str = "en"
    country: str = ""
    source: str = "unknown"
    problem: str = ""


class ProvidersFileError(ValueError):
    pass


def _text(entry: dict[str, Any], key: str, where: str, *, default: str | None = None) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str) or not value.strip() or len(value) > 254:
        raise ProvidersFileError(f"{where}: {key} must be text")
    return value.strip()


def load_providers(path: Path) -> tuple[Provider, ...]:
    try:
        doc = yaml.safe_load(path.read_text("utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ProvidersFileError(f"{path}: not valid YAML ({exc})") from None
    entries = doc.get("providers", []) if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ProvidersFileError(f"{path}: needs a 'providers' list")
    found = []
    for i, entry in enumerate(entries):
        where = f"{path.name}: provider {i + 1}"
        if not isinstance(entry, dict):
            raise ProvidersFileError(f"{where}: must be a mapping")
        unknown = set(entry) - {
            "name",
            "suffixes",
            "networks",
            "abuse",
            "channel",
            "language",
            "country",
        }
        if unknown:
            raise ProvidersFileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        abuse = clean_email(entry.get("abuse"))
        if not abuse:
            raise ProvidersFileError(f"{where}: abuse must be one e-mail address")
        language = _text(entry, "language", where, default="en")
        if language not in _LANGUAGES:
            raise ProvidersFileError(f"{where}: language must be one of en, fr, hi")
        country = entry.get("country", "")
        if not isinstance(country, str) or (
            country and not (len(country) == 2 and country.isupper())
        ):
            raise ProvidersFileError(f"{where}: country is two capital letters")
        try:
            networks = tuple(ipaddress.ip_network(n) for n in entry.get("networks", []))
        except (TypeError, ValueError):
            raise ProvidersFileError(f"{where}: networks must be CIDR ranges") from None
        suffixes = tuple(str(s).lower().strip(".") for s in entry.get("suffixes", []))
        found.append(
            Provider(
                name=_text(entry, "name", where),
                abuse_email=abuse,
                channel=_text(entry, "channel", where, default="email"),
                language=language,
                country=country,
                suffixes=suffixes,
                networks=networks,
            )
        )
    return tuple(found)


def from_table(providers: tuple[Provider, ...], host: str, address: str) -> Provider | None:
    name = host.lower().rstrip(".")
    for provider in providers:
        if any(name == s or name.endswith("." + s) for s in provider.suffixes):
            return provider
    try:
        ip = ipaddress.ip_address(address) if address else None
    except ValueError:
        ip = None
    if ip is not None:
        for provider in providers:
            if any(ip in network for network in provider.networks):
                return provider
    return None


def resolve(host: str, config: Config) -> tuple[str, str]:
    """(address, problem): the host's first IPv4 (else IPv6) address, or why there is none."""
    try:
        return str(ipaddress.ip_address(host.strip("[]"))), ""
    except ValueError:
        pass
    resolver = dns.resolver.Resolver(configure=not config.resolver)
    if config.resolver:
        server, _, port = config.resolver.partition(":")
        resolver.nameservers = [server]
        resolver.port = int(port or 53)
    resolver.lifetime = config.lookup_timeout
    resolver.timeout = config.lookup_timeout
    for rdtype in ("A", "AAAA"):
        try:
            answer = resolver.resolve(host, rdtype)
        except dns.resolver.NoAnswer:
            continue
        except dns.resolver.NXDOMAIN:
            return "", "the name does not exist (NXDOMAIN)"
        except dns.exception.Timeout:
            return "", "DNS lookup timed out"
        except dns.exception.DNSException as exc:
            return "", f"DNS lookup failed ({type(exc).__name__})"
        for record in answer:
            return str(record.address), ""
    return "", "the name has no address"


def _read_capped(response: httpx.Response, limit: int) -> bytes | None:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _vcard_email(entity: dict[str, Any]) -> str:
    card = entity.get("vcardArray")
    if not (isinstance(card, list) and len(card) == 2 and isinstance(card[1], list)):
        return ""
    for item in card[1][:100]:
        if isinstance(item, list) and len(item) >= 4 and item[0] == "email":
            email = clean_email(item[3])
            if email:
                return email
    return ""


def _vcard_fn(entity: dict[str, Any]) -> str:
    card = entity.get("vcardArray")
    if isinstance(card, list) and len(card) == 2 and isinstance(card[1], list):
        for item in card[1][:100]:
            if (
                isinstance(item, list)
                and len(item) >= 4
                and item[0] == "fn"
                and isinstance(item[3], str)
            ):
                return " ".join(item[3].split())[:200]
    return ""


def _abuse_contact(entities: Any, depth: int = 0) -> tuple[str, str]:
    """(email, org name) of the first entity with the "abuse" role, searched a few levels deep."""
    if not isinstance(entities, list) or depth > 4:
        return "", ""
    for entity in entities[:50]:
        if not isinstance(entity, dict):
            continue
        roles = entity.get("roles")
        if isinstance(roles, list) and "abuse" in roles:
            email = _vcard_email(entity)
            if email:
                return email, _vcard_fn(entity)
        found = _abuse_contact(entity.get("entities"), depth + 1)
        if found[0]:
            return found
    return "", ""


def rdap(address: str, config: Config) -> tuple[dict[str, str], str]:
    """Ask the RDAP service about the network of ``address``: (facts, problem)."""
    url = config.rdap_url.rstrip("/") + "/ip/" + address
    try:
        with (
            httpx.Client(
                timeout=config.lookup_timeout, follow_redirects=True, max_redirects=3
            ) as client,
            client.stream("GET", url, headers={"Accept": "application/rdap+json"}) as response,
        ):
            if response.status_code != 200:
                return {}, f"RDAP answered {response.status_code}"
            body = _read_capped(response, RDAP_MAX_BYTES)
    except httpx.TimeoutException:
        return {}, "RDAP lookup timed out"
    except httpx.HTTPError as exc:
        return {}, f"RDAP lookup failed ({type(exc).__name__})"
    if body is None:
        return {}, "RDAP reply too large"
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return {}, "RDAP reply is not JSON"
    if not isinstance(doc, dict):
        return {}, "RDAP reply is not an RDAP object"
    email, org = _abuse_contact(doc.get("entities"))
    if not email:
        return {}, "RDAP names no abuse contact"
    country = doc.get("country")
    name = doc.get("name")
    return {
        "abuse_email": email,
        "provider": org or (name[:200] if isinstance(name, str) else "") or email.split("@")[1],
        "country": country.upper()
        if isinstance(country, str) and len(country) == 2 and country.isalpha()
        else "",
    }, ""


def look_up(host: str, config: Config) -> Lookup:
    """Resolve ``host`` and find who answers for it (never raises for network trouble)."""
    address, problem = resolve(host, config)
    provider = from_table(load_providers(config.providers_file), host, address)
    if provider is not None:
        return Lookup(
            host=host,
            address=address,
            provider=provider.name,
            abuse_email=provider.abuse_email,
            channel=provider.channel,
            language=provider.language,
            country=provider.country,
            source="table",
        )
    if problem:
        return Lookup(host=host, address="", problem=problem)
    facts, problem = rdap(address, config)
    if problem:
        return Lookup(host=host, address=address, problem=problem)
    return Lookup(host=host, address=address, source="rdap", **facts)
