"""Identifiers a report names, in one canonical spelling each, for linking reports.

Two reporters rarely type an identifier the same way: ``@Night_Owl``, ``night_owl`` and
``https://www.instagram.com/Night_Owl/?igshid=abc`` name one account. Linking compares keyed
digests of canonical forms (``tipline.crypto.identifier_digest``), so everything that makes two
spellings equal has to happen here, before hashing; nothing can be fixed up later.

Pure functions, no Django, and total on hostile input: every ``canonical_*`` returns ``None`` for
what it cannot read instead of raising, and is idempotent (``f(f(x)) == f(x)``), which the tests
check with hypothesis. Free text is searched with RE2 (linear time, no backtracking) and capped at
``TEXT_MAX`` characters; each identifier is capped at ``ITEM_MAX`` characters before parsing.

Choices a reader might question:

* Host names go to ASCII with Python's IDNA 2003 codec (nameprep folds case, full-width forms and
  invisible characters). A look-alike domain such as ``p\u0430ypal.com`` (a Cyrillic ``\u0430``)
  becomes its own punycode name and never equals ``paypal.com``: treating it as the real domain
  would link unrelated reports.
* A bare handle with no platform (``any:name``) is expanded by ``extract`` into the name on every
  platform whose rules accept it, so it links to a report that named the account on Instagram,
  while ``instagram:name`` and ``tiktok:name`` stay apart (different accounts can share a name).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import phonenumbers
import re2

TEXT_MAX = 100_000  # characters of free text searched
ITEM_MAX = 2_048  # characters of one typed identifier
FIELD_ITEMS_MAX = 100  # identifiers read from one structured field
PAIRS_MAX = 500  # identifiers kept per report (one database row each, several per bare handle)

KINDS = ("url", "handle", "email", "phone", "sha256")

# Invisible characters people paste along with a handle (zero-width space/joiners, word joiner,
# byte-order mark, soft hyphen, Mongolian vowel separator).
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"))
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROUNDING = "\"'`()[]{}<>,;:!?.\u2018\u2019\u201c\u201d\u00ab\u00bb"


def _clean(text: object) -> str | None:
    """Text without invisible characters and surrounding blanks; None if it is not usable."""
    if not isinstance(text, str) or len(text) > ITEM_MAX:
        return None
    text = text.translate(_INVISIBLE).strip()
    if not text or _CONTROL.search(text):
        return None
    return text


# --- URLs ----------------------------------------------------------------------------------------

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SUB_DELIMS = frozenset("!$&'()*+,;=")
_PATH_SAFE = _UNRESERVED | _SUB_DELIMS | frozenset(":@/")
_QUERY_SAFE = _PATH_SAFE | frozenset("?")
_HEX = frozenset("0123456789abcdefABCDEF")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,30}):")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that say how someone came to a link, not what it points to.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "igsh",
        "si",
        "ref",
        "ref_src",
        "ref_url",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "li_fat_id",
        "s_cid",
        "spm",
        "share_id",
    }
)


def _percent_normalise(text: str, safe: frozenset[str]) -> str:
    """Decode escapes of unreserved characters, upper-case the others, escape what is unsafe.

    A ``%`` not followed by two hex digits is itself escaped (``%25``), so the result reads the
    same however often it is normalised.
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "%" and i + 2 < n and text[i + 1] in _HEX and text[i + 2] in _HEX:
            decoded = chr(int(text[i + 1 : i + 3], 16))
            out.append(decoded if decoded in _UNRESERVED else "%" + text[i + 1 : i + 3].upper())
            i += 3
            continue
        if char in safe:
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, on a path already free of escaped dots."""
    output: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    trailing = path.endswith(("/.", "/..")) and output != []
    return "/" + "/".join(output) + ("/" if trailing else "")


def canonical_host(text: str) -> str | None:
    """A DNS name in lower-case ASCII (IDNA), or a bracketed IPv6 address; None if neither."""
    if text.startswith("["):
        if not text.endswith("]"):
            return None
        try:
            return f"[{ipaddress.IPv6Address(text[1:-1]).compressed}]"
        except ValueError:
            return None
    if "%" in text:
        return None
    try:
        host = text.encode("idna").decode("ascii").lower()
    except (UnicodeError, ValueError):
        return None
    host = host.rstrip(".")
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(lb) for lb in labels):
        return None
    return host


def canonical_url(text: str) -> str | None:
    """``scheme://host[:port]/path[?query]`` in one spelling, or None if not a web address."""
    clean = _clean(text)
    if clean is None or any(c.isspace() for c in clean):
        return None
    scheme = _SCHEME.match(clean)
    if clean.startswith("//"):
        clean = "http:" + clean
    elif scheme is None:
        clean = "http://" + clean  # "example.com/x"
    elif not clean[scheme.end() :].startswith("//"):
        if not clean[scheme.end() :][:1].isdigit():
            return None  # "javascript:…", "mailto:…", "data:…"
        clean = "http://" + clean  # "example.com:8080/x"
    try:
        parts = urlsplit(clean)
        port = parts.port
    except ValueError:  # bad IPv6 brackets, a port that is not a number or out of range
        return None
    scheme_name = parts.scheme.lower()
    if scheme_name not in _DEFAULT_PORTS or not clean[len(parts.scheme) :].startswith("://"):
        return None
    hostport = parts.netloc.rpartition("@")[2]  # user information is dropped
    raw_host = hostport
    if port is not None or hostport.endswith(":"):
        raw_host = hostport.rpartition(":")[0]
    host = canonical_host(raw_host)
    if host is None:
        return None
    while host.startswith("www.") and host.count(".") >= 2:
        host = host[4:]
    netloc = host if port in (None, _DEFAULT_PORTS[scheme_name]) else f"{host}:{port}"
    path = _remove_dot_segments(_percent_normalise(parts.path or "/", _PATH_SAFE))
    params = []
    for param in parts.query.split("&"):
        if not param:
            continue
        normalised = _percent_normalise(param, _QUERY_SAFE)
        name = normalised.partition("=")[0].lower()
        if name.startswith("utm_") or name in TRACKING_PARAMS:
            continue
        params.append(normalised)
    query = "?" + "&".join(sorted(params)) if params else ""
    return f"{scheme_name}://{netloc}{path}{query}"


# --- handles -------------------------------------------------------------------------------------

# Names as each platform accepts them, after case folding (every platform here ignores case).
HANDLE_RULES: dict[str, re.Pattern[str]] = {
    "instagram": re.compile(r"[a-z0-9._]{1,30}"),
    "tiktok": re.compile(r"[a-z0-9._]{2,24}"),
    "x": re.compile(r"[a-z0-9_]{1,15}"),
    "snapchat": re.compile(r"[a-z][a-z0-9._-]{2,14}"),
    "telegram": re.compile(r"[a-z][a-z0-9_]{3,31}"),
    "facebook": re.compile(r"[a-z0-9]{1,50}"),  # after dropping dots, which Facebook ignores
    "discord": re.compile(r"[a-z0-9_.]{2,32}(?:#[0-9]{4})?"),
    "roblox": re.compile(r"[a-z0-9_]{3,20}"),
}
PLATFORMS = tuple(HANDLE_RULES)
_ANY_RULE = re.compile(r"[a-z0-9._-]{1,64}")
_HAS_ALNUM = re.compile(r"[a-z0-9]")

# Words in a reporter's free-text "platform" answer that name one platform.
_PLATFORM_WORDS = {
    "instagram": "instagram",
    "insta": "instagram",
    "ig": "instagram",
    "tiktok": "tiktok",
    "x": "x",
    "twitter": "x",
    "snapchat": "snapchat",
    "snap": "snapchat",
    "telegram": "telegram",
    "facebook": "facebook",
    "fb": "facebook",
    "messenger": "facebook",
    "discord": "discord",
    "roblox": "roblox",
}
_WORD = re.compile(r"[a-z0-9]+")

_PROFILE_HOSTS = {
    "instagram.com": "instagram",
    "m.instagram.com": "instagram",
    "x.com": "x",
    "twitter.com": "x",
    "mobile.twitter.com": "x",
    "mobile.x.com": "x",
    "tiktok.com": "tiktok",
    "m.tiktok.com": "tiktok",
    "t.me": "telegram",
    "telegram.me": "telegram",
    "snapchat.com": "snapchat",
    "facebook.com": "facebook",
    "m.facebook.com": "facebook",
    "fb.com": "facebook",
    "discord.com": "discord",
    "discordapp.com": "discord",
    "roblox.com": "roblox",
    "web.roblox.com": "roblox",
}
# First path segments that are pages of the platform, not accounts.
_NOT_PROFILES = frozenset(
    {
        "p",
        "reel",
        "reels",
        "explore",
        "stories",
        "accounts",
        "tv",
        "direct",
        "i",
        "home",
        "search",
        "intent",
        "share",
        "hashtag",
        "settings",
        "messages",
        "notifications",
        "joinchat",
        "s",
        "c",
        "addstickers",
        "pages",
        "groups",
        "events",
        "watch",
        "people",
        "photo.php",
        "story.php",
        "permalink.php",
        "sharer.php",
        "login",
        "signup",
        "tag",
        "music",
        "video",
        "discover",
    }
)


def platform_of(hint: str | None) -> str | None:
    """The one known platform a free-text answer names ("Insta", "X (Twitter)"), else None."""
    if not isinstance(hint, str):
        return None
    if hint.casefold() in PLATFORMS:
        return hint.casefold()
    found = {_PLATFORM_WORDS.get(w) for w in _WORD.findall(hint[:200].casefold())} - {None}
    return found.pop() if len(found) == 1 else None


def _valid_name(platform: str, name: str) -> str | None:
    if platform == "facebook":
        name = name.replace(".", "")
    rule = HANDLE_RULES.get(platform, _ANY_RULE)
    return name if rule.fullmatch(name) and _HAS_ALNUM.search(name) else None


def _profile_handle(url: str) -> str | None:
    """``platform:name`` for a profile address on a known platform, else None."""
    parts = urlsplit(url)
    platform = _PROFILE_HOSTS.get(parts.hostname or "")
    if platform is None:
        return None
    segments = [s for s in parts.path.split("/") if s]
    name: str | None = None
    if platform == "tiktok":
        name = segments[0][1:] if segments and segments[0].startswith("@") else None
    elif platform == "snapchat":
        name = segments[1] if len(segments) >= 2 and segments[0] == "add" else None
    elif platform == "discord" or platform == "roblox":
        name = segments[1] if len(segments) >= 2 and segments[0] == "users" else None
    elif platform == "facebook" and segments == ["profile.php"]:
        name = dict(parse_qsl(parts.query)).get("id")
    elif segments and segments[0].lower() not in _NOT_PROFILES:
        name = segments[0]
    if name is None or "%" in name:
        return None
    # The same trimming a bare name gets, so a profile address and its handle agree.
    name = unicodedata.normalize("NFKC", name).casefold().strip(_SURROUNDING + "@")
    valid = _valid_name(platform, name)
    return f"{platform}:{valid}" if valid else None


def canonical_handle(text: str, platform: str | None) -> str | None:
    """``platform:name`` (``any:name`` when no known platform is named), or None.

    A profile address (instagram.com/NAME, tiktok.com/@NAME, t.me/NAME …) wins over the
    ``platform`` hint; a bare name takes the hint's platform when it names exactly one.
    """
    clean = _clean(text)
    if clean is None:
        return None
    prefix, sep, rest = clean.partition(":")
    if sep and (prefix.casefold() in PLATFORMS or prefix.casefold() == "any") and rest:
        # Already canonical ("instagram:night_owl"): keeps the function idempotent.
        platform, clean = prefix.casefold(), rest
    elif "/" in clean or "://" in clean:
        url = canonical_url(clean)
        return _profile_handle(url) if url else None
    name = unicodedata.normalize("NFKC", clean).casefold().strip(_SURROUNDING + "@")
    known = platform_of(platform)
    valid = _valid_name(known or "any", name)
    return f"{known or 'any'}:{valid}" if valid else None


def handle_variants(handle: str) -> set[str]:
    """The handles a canonical handle links through (see the module docstring)."""
    platform, _sep, name = handle.partition(":")
    if platform != "any":
        return {handle}
    found = {handle}
    for candidate in PLATFORMS:
        valid = _valid_name(candidate, name)
        if valid:
            found.add(f"{candidate}:{valid}")
    return found


# --- e-mail, phone, file hash --------------------------------------------------------------------

_LOCAL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_GMAIL = frozenset({"gmail.com", "googlemail.com"})


def canonical_email(text: str) -> str | None:
    """``local@domain`` lower-case, ``+tags`` dropped (and dots too at Gmail), or None."""
    clean = _clean(text)
    if clean is None:
        return None
    clean = clean.strip(_SURROUNDING)
    if clean.lower().startswith("mailto:"):
        clean = clean[7:]
    local, sep, domain_text = clean.lower().rpartition("@")
    if not sep or len(local) > 64 or not _LOCAL.fullmatch(local):
        return None
    domain = canonical_host(domain_text)
    if domain is None or domain.startswith("[") or "_" in domain:
        return None
    local = local.partition("+")[0]
    if domain in _GMAIL:
        domain, local = "gmail.com", local.replace(".", "")
    if not _LOCAL.fullmatch(local) or len(local) + len(domain) > 253:
        return None
    return f"{local}@{domain}"


def canonical_phone(text: str, region_hint: str | None) -> str | None:
    """E.164 (``+441632960961``) for a valid number, or None.

    Without a leading ``+`` the number is read in ``region_hint`` (ISO 3166 alpha-2); with no
    hint such a number cannot be placed and gives None.
    """
    clean = _clean(text)
    if clean is None or len(clean) > 64:
        return None
    region = region_hint.upper() if isinstance(region_hint, str) else None
    if region is not None and (len(region) != 2 or not region.isascii() or not region.isalpha()):
        region = None
    try:
        number = phonenumbers.parse(clean, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_SHA256 = re.compile(r"[0-9a-f]{64}")


def canonical_sha256(text: str) -> str | None:
    """64 lower-case hex digits (``sha256:`` prefix allowed), or None."""
    clean = _clean(text)
    if clean is None:
        return None
    clean = clean.lower().removeprefix("sha256:")
    return clean if _SHA256.fullmatch(clean) else None


# --- extraction ----------------------------------------------------------------------------------

# Patterns over RE2: linear in the text whatever it holds (RE2 never backtracks, so an
# unbounded run is safe; an overlong match is refused by the canonical function, ITEM_MAX).
_TEXT_URL = re2.compile(
    r"(?i)(?:https?://[^\s<>\"'`]+"
    r"|\b[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,8}\.[a-z]{2,24}/[^\s<>\"'`]*"
    r"|\bwww\.[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,8})"
)
_TEXT_EMAIL = re2.compile(r"(?i)[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,8}")
_TEXT_HANDLE = re2.compile(r"(?:^|[^A-Za-z0-9_.@/])@([A-Za-z0-9_.]{1,64})")
_TEXT_PHONE = re2.compile(r"\+?\(?[0-9][0-9 ().-]{5,22}[0-9]")
_TEXT_SHA256 = re2.compile(r"(?i)\b[0-9a-f]{64}\b")
_TRAILING = ".,;:!?)]}'\""


def _strings(value: Any) -> Iterator[str]:
    """The strings of a structured field (a list of them, or one), at most FIELD_ITEMS_MAX."""
    if not isinstance(value, (str, list, tuple)):
        return
    items: Iterable[Any] = [value] if isinstance(value, str) else value
    for count, item in enumerate(items):
        if count >= FIELD_ITEMS_MAX:
            return
        if isinstance(item, str):
            yield item


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with the spans blanked, so digits in an address are not read as a phone."""
    if not spans:
        return text
    pieces, last = [], 0
    for start, end in sorted(spans):
        if start >= last:
            pieces.append(text[last:start])
            pieces.append(" " * (end - start))
            last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _from_text(text: str, platform: str | None, region: str | None) -> Iterator[tuple[str, str]]:
    text = text[:TEXT_MAX]
    spans: list[tuple[int, int]] = []
    for match in _TEXT_EMAIL.finditer(text):
        spans.append(match.span())
        if email := canonical_email(match.group(0)):
            yield "email", email
    masked = _masked(text, spans)
    for match in _TEXT_URL.finditer(masked):
        spans.append(match.span())
        found = match.group(0).rstrip(_TRAILING)
        if url := canonical_url(found):
            yield "url", url
            if handle := canonical_handle(url, None):
                yield "handle", handle
    masked = _masked(text, spans)
    for match in _TEXT_HANDLE.finditer(masked):
        if handle := canonical_handle(match.group(1).rstrip("."), platform):
            yield "handle", handle
    for match in _TEXT_SHA256.finditer(masked):
        spans.append(match.span())
        yield "sha256", match.group(0).lower()
    for match in _TEXT_PHONE.finditer(_masked(text, spans)):
        if phone := canonical_phone(match.group(0), region):
            yield "phone", phone


def _pairs(
    details: Mapping[str, Any], file_hashes: Sequence[str], region: str | None
) -> Iterator[tuple[str, str]]:
    platform = details.get("platform") if isinstance(details.get("platform"), str) else None
    for digest in file_hashes:
        if sha := canonical_sha256(digest):
            yield "sha256", sha
    for text in _strings(details.get("handles")):
        if handle := canonical_handle(text, platform):
            yield "handle", handle
    for text in _strings(details.get("urls")):
        if url := canonical_url(text):
            yield "url", url
            if handle := canonical_handle(url, None):
                yield "handle", handle
        elif handle := canonical_handle(text, platform):  # a handle typed in the URL box
            yield "handle", handle
    for text in _strings(details.get("emails")):
        if email := canonical_email(text):
            yield "email", email
    for text in _strings(details.get("phones")):
        if phone := canonical_phone(text, region):
            yield "phone", phone
    what_happened = details.get("what_happened")
    if isinstance(what_happened, str):
        yield from _from_text(what_happened, platform, region)


def extract(
    details: Mapping[str, Any], file_hashes: Sequence[str], *, region: str | None = None
) -> set[tuple[str, str]]:
    """Every ``(kind, canonical)`` a report names, at most PAIRS_MAX (structured fields first).

    ``region`` (the report's country, ISO 3166 alpha-2) places phone numbers typed without a
    ``+``; the submission's own ``country`` is used when it is not given.
    """
    if region is None and isinstance(details.get("country"), str):
        region = details["country"]
    found: set[tuple[str, str]] = set()
    for kind, canonical in _pairs(details, file_hashes, region):
        variants = handle_variants(canonical) if kind == "handle" else {canonical}
        for variant in sorted(variants):
            if len(found) >= PAIRS_MAX:
                return found
            found.add((kind, variant))
    return found
