"""Canonical spellings of identifiers: equal spellings link reports, so each case here is a pair
of reports that would (or would not) be linked."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tipline.triage.identifiers import (
    PAIRS_MAX,
    TEXT_MAX,
    canonical_email,
    canonical_handle,
    canonical_phone,
    canonical_sha256,
    canonical_url,
    extract,
    handle_variants,
    platform_of,
)

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


# --- URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("https://example.com/a", "https://example.com/a"),
        ("HTTPS://EXAMPLE.COM/a", "https://example.com/a"),
        ("https://www.example.com/a", "https://example.com/a"),
        ("https://www.www.example.com/a", "https://example.com/a"),
        ("https://example.com./a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("example.com/x", "http://example.com/x"),
        ("example.com:8080/x", "http://example.com:8080/x"),
        ("//example.com/x", "http://example.com/x"),
        ("https://example.com", "https://example.com/"),
        ("https://user:secret@example.com/a", "https://example.com/a"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/../../a", "https://example.com/a"),
        ("https://example.com/a/%2e%2E/b", "https://example.com/b"),
        ("https://example.com/%7Euser/%41", "https://example.com/~user/A"),
        ("https://example.com/a%2fb", "https://example.com/a%2Fb"),
        ("https://example.com/caf\u00e9", "https://example.com/caf%C3%A9"),
        ("https://example.com/100%", "https://example.com/100%25"),
        ("https://example.com/%zz", "https://example.com/%25zz"),
        ("https://example.com/a b".replace(" ", "%20"), "https://example.com/a%20b"),
        ("https://example.com/a#section", "https://example.com/a"),
        ("https://example.com/?b=2&a=1", "https://example.com/?a=1&b=2"),
        (
            "https://example.com/p?utm_source=x&UTM_Medium=y&id=7&fbclid=z&gclid=1&si=2&ref=3",
            "https://example.com/p?id=7",
        ),
        ("https://example.com/p?igshid=abc&mc_cid=1", "https://example.com/p"),
        ("https://example.com/p?&&", "https://example.com/p"),
        ("https://b\u00fccher.de/", "https://xn--bcher-kva.de/"),
        ("https://xn--bcher-kva.de/", "https://xn--bcher-kva.de/"),
        ("https://B\u00dcCHER.de/", "https://xn--bcher-kva.de/"),
        ("https://\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com/", "https://example.com/"),
        ("https://exam\u200bple.com/", "https://example.com/"),
        ("https://[2001:DB8::0001]:8080/", "https://[2001:db8::1]:8080/"),
        ("  https://example.com/a  ", "https://example.com/a"),
    ],
)
def test_url_spellings_canonicalise(typed: str, canonical: str) -> None:
    assert canonical_url(typed) == canonical
    assert canonical_url(canonical) == canonical


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "javascript:alert(1)",
        "JavaScript://example.com/%0Aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "mailto:someone@example.com",
        "ftp://example.com/file",
        "file:///etc/passwd",
        "https://",
        "https:///path",
        "https://example.com:99999/",
        "https://example.com:-1/",
        "https://example.com:80a/",
        "https://[::1/",
        "https://[not-an-ip]/",
        "https://exa%41mple.com/",
        "https://exa mple.com/",
        "https://example..com/",
        "https://" + "a" * 64 + ".com/",
        "https://" + "a." * 130 + "com/",
        "https://ex!ample.com/",
        "https://localhost/",
        "hello world",
        "example",
        "https://example.com/\x00",
        "https://exam\x00ple.com/",
        "\x00" * 10,
        "https://example.com/" + "a" * 100_000,
    ],
)
def test_what_is_not_a_web_address_gives_none(typed: str) -> None:
    assert canonical_url(typed) is None


def test_look_alike_domain_stays_apart_from_the_real_one() -> None:
    # A Cyrillic "a" in place of the Latin one: its own punycode name, never paypal.com.
    homoglyph = canonical_url("https://p\u0430ypal.com/login")
    assert homoglyph is not None
    assert homoglyph.startswith("https://xn--")
    assert homoglyph != canonical_url("https://paypal.com/login")


def test_idna_errors_give_none() -> None:
    assert canonical_url("https://\u0080\u0080.com/") is None or True  # never raises
    assert canonical_url("https://" + "\u00e9" * 70 + ".com/") is None  # label too long


# --- handles -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "platform", "canonical"),
    [
        ("@Night_Owl", None, "any:night_owl"),
        ("night_owl", None, "any:night_owl"),
        ("night_owl", "Instagram", "instagram:night_owl"),
        ("@Night_Owl", "insta", "instagram:night_owl"),
        ("https://www.instagram.com/Night_Owl/?igshid=abc", "Instagram", "instagram:night_owl"),
        ("https://www.instagram.com/Night_Owl/?igshid=abc", None, "instagram:night_owl"),
        ("instagram.com/night.owl", "TikTok", "instagram:night.owl"),
        ("https://x.com/Jack", None, "x:jack"),
        ("https://twitter.com/jack/status/20", None, "x:jack"),
        ("https://mobile.twitter.com/jack", None, "x:jack"),
        ("@Jack", "X (formerly Twitter)", "x:jack"),
        ("https://www.tiktok.com/@Some.One", None, "tiktok:some.one"),
        ("https://t.me/SomeBody", None, "telegram:somebody"),
        ("SomeBody", "telegram", "telegram:somebody"),
        ("https://www.snapchat.com/add/Kid_99", None, "snapchat:kid_99"),
        ("Kid_99", "snap", "snapchat:kid_99"),
        ("https://www.facebook.com/John.Smith", None, "facebook:johnsmith"),
        ("johnsmith", "Facebook", "facebook:johnsmith"),
        ("https://facebook.com/profile.php?id=1000123", None, "facebook:1000123"),
        ("https://discord.com/users/80351110224678912", None, "discord:80351110224678912"),
        ("nightowl.", "Discord", "discord:nightowl"),
        ("https://www.roblox.com/users/12345/profile", None, "roblox:12345"),
        ("Night_Owl", "Roblox", "roblox:night_owl"),
        ("\u200b@Night_Owl\u200d", None, "any:night_owl"),
        ('"@Night_Owl",', None, "any:night_owl"),
        ("@\uff2e\uff49\uff47\uff48\uff54", None, "any:night"),  # full-width letters
        ("instagram:night_owl", "Snapchat", "instagram:night_owl"),  # already canonical
        ("night_owl", "Instagram and Snapchat", "any:night_owl"),  # two platforms: no guess
        ("night_owl", "some forum", "any:night_owl"),
    ],
)
def test_handle_spellings_canonicalise(typed: str, platform: str | None, canonical: str) -> None:
    assert canonical_handle(typed, platform) == canonical
    assert canonical_handle(canonical, platform) == canonical


@pytest.mark.parametrize(
    ("typed", "platform"),
    [
        ("averyveryverylongname", "Twitter"),  # X allows 15 characters
        ("night.owl", "X"),  # X allows no dots
        ("ab", "Snapchat"),
        ("1abc", "Snapchat"),
        ("abc", "Telegram"),  # Telegram needs 5
        ("x" * 31, "Instagram"),
        ("", None),
        ("@", None),
        ("@@@", None),
        ("...", None),
        ("night owl", None),
        ("\x00night", None),
        ("https://www.instagram.com/p/Cx12/", None),  # a post, not an account
        ("https://www.instagram.com/", None),
        ("https://example.com/night_owl", None),  # not a known platform's profile
        ("https://www.tiktok.com/night_owl", None),  # TikTok profiles have "@"
        ("javascript:alert(1)", None),
        ("n" * 100_000, None),
    ],
)
def test_invalid_handles_give_none(typed: str, platform: str | None) -> None:
    assert canonical_handle(typed, platform) is None


def test_platform_hint_is_read_from_free_text() -> None:
    assert platform_of("Instagram") == "instagram"
    assert platform_of("on IG mostly") == "instagram"
    assert platform_of("X (Twitter)") == "x"
    assert platform_of("text messages") is None
    assert platform_of(None) is None


def test_a_bare_handle_links_through_every_platform_that_accepts_it() -> None:
    variants = handle_variants("any:night_owl")
    assert {"any:night_owl", "instagram:night_owl", "x:night_owl", "snapchat:night_owl"} <= variants
    assert "telegram:night_owl" in variants
    assert "facebook:night_owl" not in variants  # Facebook names have no underscore
    assert handle_variants("instagram:night_owl") == {"instagram:night_owl"}


# --- e-mail --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Someone@Example.ORG", "someone@example.org"),
        ("  someone@example.org ", "someone@example.org"),
        ("someone+spam@example.org", "someone@example.org"),
        ("some.one@example.org", "some.one@example.org"),
        ("Some.One+x@gmail.com", "someone@gmail.com"),
        ("s.o.m.e.o.n.e@googlemail.com", "someone@gmail.com"),
        ("mailto:someone@example.org", "someone@example.org"),
        ("<someone@example.org>", "someone@example.org"),
        ("someone@b\u00fccher.de", "someone@xn--bcher-kva.de"),
        ("someone@example.org.", "someone@example.org"),
    ],
)
def test_email_spellings_canonicalise(typed: str, canonical: str) -> None:
    assert canonical_email(typed) == canonical
    assert canonical_email(canonical) == canonical


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "someone",
        "someone@",
        "@example.org",
        "someone@localhost",
        "some one@example.org",
        "some..one@example.org",
        "someone.@example.org",
        "a.+b@example.org",  # nothing valid left once the tag goes
        "+tag@example.org",
        "someone@exa_mple.org",
        "someone@[127.0.0.1]",
        "someone@example..org",
        "some\x00one@example.org",
        "x" * 65 + "@example.org",
        "a@" + "b" * 100_000 + ".com",
    ],
)
def test_invalid_emails_give_none(typed: str) -> None:
    assert canonical_email(typed) is None


# --- phones and hashes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "region", "canonical"),
    [
        ("+44 20 7946 0958", None, "+442079460958"),
        ("+44 (0)20 7946 0958", None, "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("020 7946 0958", "gb", "+442079460958"),
        ("(202) 456-1111", "US", "+12024561111"),
        ("202.456.1111", "US", "+12024561111"),
        ("+1 202 456 1111", "FR", "+12024561111"),  # a + wins over the hint
        ("+33 1 42 68 53 00", None, "+33142685300"),
    ],
)
def test_phone_spellings_canonicalise(typed: str, region: str | None, canonical: str) -> None:
    assert canonical_phone(typed, region) == canonical
    assert canonical_phone(canonical, region) == canonical


@pytest.mark.parametrize(
    ("typed", "region"),
    [
        ("020 7946 0958", None),  # no + and no region: cannot be placed
        ("020 7946 0958", "Narnia"),
        ("12", "US"),
        ("not a number", "US"),
        ("+999 123", None),
        ("+44 20 7946 0958\x00", None),
        ("9" * 100_000, "US"),
    ],
)
def test_invalid_phones_give_none(typed: str, region: str | None) -> None:
    assert canonical_phone(typed, region) is None


def test_sha256_is_lower_case_hex() -> None:
    assert canonical_sha256(SHA.upper()) == SHA
    assert canonical_sha256(f" sha256:{SHA} ") == SHA
    assert canonical_sha256(SHA[:-1]) is None
    assert canonical_sha256(SHA[:-1] + "g") is None
    assert canonical_sha256("") is None


# --- extraction ----------------------------------------------------------------------------------


def test_extract_reads_structured_fields_and_free_text() -> None:
    details = {
        "platform": "Instagram",
        "handles": ["@Night_Owl"],
        "urls": ["https://www.example.com/page?utm_source=x", "t.me/owlchannel"],
        "emails": ["Night.Owl+x@gmail.com"],
        "phones": ["020 7946 0958"],
        "country": "GB",
        "what_happened": (
            "He wrote from @other.owl and owl@example.org, sent https://example.net/a?fbclid=1. "
            "and told me to add snapchat.com/add/owl_snap or call +1 202-456-1111 tonight."
        ),
    }
    found = extract(details, [SHA.upper()])
    assert found >= {
        ("handle", "instagram:night_owl"),
        ("handle", "instagram:other.owl"),
        ("handle", "snapchat:owl_snap"),
        ("handle", "telegram:owlchannel"),
        ("url", "https://example.com/page"),
        ("url", "https://example.net/a"),
        ("url", "http://t.me/owlchannel"),
        ("email", "nightowl@gmail.com"),
        ("email", "owl@example.org"),
        ("phone", "+442079460958"),
        ("phone", "+12024561111"),
        ("sha256", SHA),
    }
    kinds = {kind for kind, _value in found}
    assert kinds <= {"url", "handle", "email", "phone", "sha256"}
    # The e-mail's domain is not also read as a handle, a URL or a phone number.
    assert ("handle", "instagram:example.org") not in found
    assert not any(kind == "phone" and "2026" in value for kind, value in found)


def test_extract_expands_a_bare_handle_without_platform() -> None:
    found = extract({"handles": ["@Night_Owl"]}, [])
    assert ("handle", "any:night_owl") in found
    assert ("handle", "instagram:night_owl") in found


def test_extract_ignores_malformed_fields() -> None:
    details = {
        "handles": "@solo_string",
        "urls": [None, 3, {"a": 1}, "https://example.com/ok"],
        "emails": 42,
        "phones": [["+44 20 7946 0958"]],
        "platform": ["not", "text"],
        "what_happened": None,
    }
    found = extract(details, ["not-a-hash"])
    assert found == {("handle", v) for v in handle_variants("any:solo_string")} | {
        ("url", "https://example.com/ok")
    }


def test_extract_is_bounded_on_hostile_text() -> None:
    hostile = (
        "@" * 50_000
        + "a" * 50_000
        + "%" * 20_000
        + "http://" * 10_000
        + "+1 (" * 10_000
        + "x@" * 20_000
        + "\x00" * 1000
        + ("a." * 5000)
    )
    started = time.perf_counter()
    found = extract({"what_happened": hostile}, [])
    assert time.perf_counter() - started < 5
    assert len(found) <= PAIRS_MAX


def test_extract_reads_only_the_first_100k_characters() -> None:
    text = "x " * (TEXT_MAX // 2) + " owl@example.org"
    assert ("email", "owl@example.org") not in extract({"what_happened": text}, [])
    assert ("email", "owl@example.org") in extract({"what_happened": text[-40:]}, [])


def test_extract_caps_identifiers_per_report() -> None:
    text = " ".join(f"https://example.com/{n}" for n in range(2000))
    assert len(extract({"what_happened": text}, [])) == PAIRS_MAX


# --- properties ----------------------------------------------------------------------------------

_urlish = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda scheme, host, path: f"{scheme}{host}{path}",
        st.sampled_from(["", "http://", "https://", "HTTP://", "//", "javascript:", "ftp://"]),
        st.from_regex(r"[A-Za-z0-9\u00e9\u0430.\-_:@\[\]%]{0,30}", fullmatch=True),
        st.text(alphabet="/.%?&=#abcAB9 _~\u00e9", max_size=30),
    ),
)
_handleish = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"[@ ]?[A-Za-z0-9._\-]{0,35}", fullmatch=True),
    st.builds(lambda n: f"https://www.instagram.com/{n}/", st.text(max_size=20)),
)
_platform = st.one_of(st.none(), st.sampled_from(["Instagram", "X", "snap", "forum", "any"]))
_emailish = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"[A-Za-z0-9.+_\-]{0,12}@[A-Za-z0-9.\-\u00fc]{0,20}", fullmatch=True),
)
_phoneish = st.one_of(st.text(max_size=30), st.from_regex(r"\+?[0-9 ()\-.]{0,20}", fullmatch=True))
_region = st.one_of(st.none(), st.sampled_from(["GB", "US", "FR", "xx", "", "Narnia"]))
_FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_FAST
@given(_urlish)
def test_canonical_url_never_raises_and_is_idempotent(text: str) -> None:
    once = canonical_url(text)
    if once is not None:
        assert canonical_url(once) == once


@_FAST
@given(_handleish, _platform)
def test_canonical_handle_never_raises_and_is_idempotent(text: str, platform: str | None) -> None:
    once = canonical_handle(text, platform)
    if once is not None:
        assert canonical_handle(once, platform) == once


@_FAST
@given(_emailish)
def test_canonical_email_never_raises_and_is_idempotent(text: str) -> None:
    once = canonical_email(text)
    if once is not None:
        assert canonical_email(once) == once


@_FAST
@given(_phoneish, _region)
def test_canonical_phone_never_raises_and_is_idempotent(text: str, region: str | None) -> None:
    once = canonical_phone(text, region)
    if once is not None:
        assert canonical_phone(once, region) == once


@_FAST
@given(st.text(max_size=80))
def test_canonical_sha256_never_raises_and_is_idempotent(text: str) -> None:
    once = canonical_sha256(text)
    if once is not None:
        assert canonical_sha256(once) == once


@_FAST
@given(st.dictionaries(st.sampled_from(["urls", "handles", "what_happened"]), st.text()))
def test_extract_never_raises(details: dict[str, str]) -> None:
    for kind, value in extract(details, []):
        assert kind in {"url", "handle", "email", "phone", "sha256"}
        assert value
