"""Creating, opening and locking a locker; cookie-less sessions and what they refuse."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import LazySettings, settings
from django.test import Client
from django.utils import timezone

from tests.locker.locker_client import continued, create, open_locker, post, token_of
from tipline.crypto import passphrase as pp
from tipline.locker.models import Locker, LockerSession

pytestmark = pytest.mark.django_db


def _open(client: Client, phrase: str) -> object:
    return client.post("/en/locker/open/", {"passphrase": phrase})


def test_home_explains_and_links_without_cookies(client: Client) -> None:
    page = client.get("/en/locker/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Create a locker" in html
    assert "Open my locker" in html
    assert not page.cookies


def test_create_shows_a_generated_passphrase_and_the_warning(client: Client) -> None:
    page = client.get("/en/locker/create/")
    html = page.content.decode()
    generated = re.search(r'name="generated" value="([^"]+)"', html)
    assert generated
    assert pp.estimate(generated.group(1)).strong_enough
    assert "If you lose it, nobody can open your locker" in html
    assert "not even the hotline" in html
    # The victim must confirm they wrote it down.
    refused = client.post(
        "/en/locker/create/", {"generated": generated.group(1), "choice": "generated"}
    )
    assert refused.status_code == 400
    # The phrase the victim may already have written down stays the same.
    assert f'value="{generated.group(1)}"' in refused.content.decode()
    assert not Locker.objects.exists()


def test_a_weak_own_passphrase_is_refused_kindly(client: Client) -> None:
    answer = client.post(
        "/en/locker/create/",
        {
            "generated": pp.generate(),
            "choice": "own",
            "own": "sunshine2024",
            "own_again": "sunshine2024",
            "written_down": "on",
        },
    )
    assert answer.status_code == 400
    assert "could be guessed too easily" in answer.content.decode()
    mismatch = client.post(
        "/en/locker/create/",
        {
            "generated": pp.generate(),
            "choice": "own",
            "own": "velvet harbour quietly juggles nine amber lanterns",
            "own_again": "velvet harbour quietly juggles nine amber lantern",
            "written_down": "on",
        },
    )
    assert mismatch.status_code == 400
    assert "not the same" in mismatch.content.decode()
    assert not Locker.objects.exists()


def test_an_own_strong_passphrase_opens_the_locker_later(client: Client) -> None:
    own = "Velvet harbour quietly juggles nine amber lanterns"
    made = client.post(
        "/en/locker/create/",
        {
            "generated": pp.generate(),
            "choice": "own",
            "own": own,
            "own_again": own.lower(),
            "written_down": "on",
        },
    )
    assert made.status_code == 303
    assert open_locker(client, "  velvet HARBOUR quietly juggles nine amber lanterns")
    # The same passphrase cannot make a second locker (it would open the first).
    again = client.post(
        "/en/locker/create/",
        {
            "generated": pp.generate(),
            "choice": "own",
            "own": own,
            "own_again": own,
            "written_down": "on",
        },
    )
    assert again.status_code == 400
    assert Locker.objects.count() == 1


def test_wrong_passphrase_gets_the_same_answer_as_no_locker(client: Client) -> None:
    phrase, _token = create(client)
    wrong = _open(client, phrase + " extra")
    Locker.objects.all().delete()
    none = _open(client, phrase)
    # A redirect, so that no history entry keeps even a mistyped passphrase.
    assert wrong.status_code == none.status_code == 303  # type: ignore[attr-defined]
    assert wrong["Location"] == none["Location"] == "/en/locker/open/?problem=wrong"  # type: ignore[index]
    shown = client.get("/en/locker/open/?problem=wrong").content.decode()
    assert "No locker opens with this passphrase" in shown


def test_session_token_is_only_in_hidden_fields_and_stored_as_digest(client: Client) -> None:
    phrase, token = create(client)
    second = open_locker(client, phrase)
    opened = post(client, "mine/", second)
    html = opened.content.decode()
    assert second != token
    assert f'value="{second}"' in html
    assert all(second not in action for action in re.findall(r'action="([^"]*)"', html))
    assert all(second not in action for action in re.findall(r'formaction="([^"]*)"', html))
    digests = set(LockerSession.objects.values_list("digest", flat=True))
    assert pp.session_digest(second) in digests
    assert second not in digests
    assert not opened.cookies


def test_every_locker_page_opens_with_the_token(client: Client) -> None:
    _phrase, token = create(client)
    for route in ("mine/", "import/", "incidents/", "timeline/", "hand-over/", "settings/"):
        page = post(client, route, token)
        assert page.status_code == 200, route
        assert token_of(page.content.decode()) == token
        assert page["Cache-Control"] == "no-store"
        assert not page.cookies


@pytest.mark.parametrize(
    "forged",
    ["", "x", "A" * 22, "A" * 64, "A" * 65, "A" * 10_000, "../../etc", "ü" * 30, "\x00" * 22],
)
def test_tampered_or_missing_tokens_get_the_open_page(client: Client, forged: str) -> None:
    _phrase, token = create(client)
    for route in ("mine/", "timeline/", "import/", "export/pdf/", "hand-over/"):
        page = post(client, route, forged)
        assert page.status_code == 403, (route, forged[:10])
        assert "Open your locker" in page.content.decode()
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert post(client, "mine/", flipped).status_code == 403


def test_lock_now_ends_the_session(client: Client) -> None:
    _phrase, token = create(client)
    locked = post(client, "lock/", token)
    # A redirect: Reload on the page it leads to sends nothing again.
    assert locked.status_code == 303
    assert locked["Location"] == "/en/locker/open/?problem=locked"
    assert "Your locker is locked" in client.get(locked["Location"]).content.decode()
    assert not LockerSession.objects.exists()
    assert post(client, "mine/", token).status_code == 403


def test_idle_sessions_expire_and_are_deleted_lazily(
    client: Client, settings: LazySettings
) -> None:
    settings.TIPLINE_LOCKER_IDLE_MINUTES = 20
    _phrase, token = create(client)
    _phrase2, other = create(Client())
    LockerSession.objects.update(last_seen_at=timezone.now() - timedelta(minutes=19))
    assert post(client, "mine/", token).status_code == 200  # activity renews the session
    LockerSession.objects.update(last_seen_at=timezone.now() - timedelta(minutes=21))
    expired = post(client, "mine/", token)
    assert expired.status_code == 403
    assert "was locked" in expired.content.decode()
    assert not LockerSession.objects.filter(digest=pp.session_digest(token)).exists()
    # The other, idle, session was cleared by the same look-up.
    assert not LockerSession.objects.filter(digest=pp.session_digest(other)).exists()


def test_a_session_cannot_be_opened_from_the_database_alone(client: Client) -> None:
    _phrase, token = create(client)
    row = LockerSession.objects.get()
    assert token.encode() not in bytes(row.sealed_key)
    from tipline import crypto
    from tipline.locker.sessions import key_context

    locker = Locker.objects.get()
    # Without the passphrase's unlock key the wrapped key does not open, even with the KEK.
    inner = crypto.unwrap_data_key(bytes(locker.wrapped_key), context=key_context(locker.id))
    with pytest.raises(crypto.DecryptionError):
        crypto.open_sealed(bytes(32), inner, context=key_context(locker.id))


def test_neutral_title_replaces_the_tab_title(client: Client) -> None:
    _phrase, token = create(client)
    saved = post(client, "settings/", token, title="Recipes", save="1")
    assert saved.status_code == 200
    page = post(client, "timeline/", token)
    title = re.search(r"<title>(.*?)</title>", page.content.decode(), re.S)
    assert title
    assert title.group(1).strip() == "Recipes"
    too_long = post(client, "settings/", token, title="x" * 61, save="1")
    assert too_long.status_code == 400


@pytest.mark.usefixtures("one_minute")
def test_failed_opens_are_throttled_in_the_bucket_before_argon2_runs(
    client: Client, settings: LazySettings
) -> None:
    settings.TIPLINE_LOCKER_OPEN_FAILURES_PER_MINUTE = 3
    settings.TIPLINE_LOCKER_OPEN_BUCKETS = 1  # one bucket for all (tests/test_throttle.py)
    phrase, _token = create(client)
    for _ in range(3):
        assert _open(client, "wrong " + pp.generate())["Location"].endswith("=wrong")  # type: ignore[index]
    # Past the limit even the right passphrase waits: the throttle tells nothing.
    throttled = _open(client, phrase)
    assert throttled["Location"] == "/en/locker/open/?problem=busy"  # type: ignore[index]
    page = client.get(throttled["Location"])  # type: ignore[index]
    assert page.status_code == 429
    assert "wait a minute" in page.content.decode()


@pytest.mark.parametrize("size", [201, 10_000, 900_000])
def test_huge_passphrases_are_refused_without_work(client: Client, size: int) -> None:
    huge = "w" * size
    assert _open(client, huge).status_code == 400  # type: ignore[attr-defined]
    made = client.post(
        "/en/locker/create/",
        {"generated": huge, "choice": "own", "own": huge, "own_again": huge, "written_down": "on"},
    )
    # Three copies of 900 000 characters pass the 1 MB limit on form text: the site's one
    # too-large page (web.body), like every other form, rather than a bare 400.
    too_large = 3 * size > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert made.status_code == (413 if too_large else 400)
    assert ("too large" in made.content.decode()) is too_large
    assert huge[:300] not in made.content.decode()
    assert not Locker.objects.exists()


def test_a_tampered_generated_passphrase_is_refused(client: Client) -> None:
    answer = client.post(
        "/en/locker/create/", {"generated": "aaa", "choice": "generated", "written_down": "on"}
    )
    assert answer.status_code == 400
    assert not Locker.objects.exists()


def test_too_many_fields_is_a_plain_400(client: Client) -> None:
    _phrase, token = create(client)
    data = {f"f{n}": "x" for n in range(300)}
    assert post(client, "mine/", token, **data).status_code == 400


# --- leave no trace (issue 13) --------------------------------------------------------------------


def test_a_right_passphrase_is_answered_with_a_redirect_never_a_page(client: Client) -> None:
    """Back and Reload must never post a passphrase again: its answer is a 303, not the locker."""
    phrase, _token = create(client)
    answer = _open(client, phrase)
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert phrase.split()[0] not in answer.content.decode()  # type: ignore[attr-defined]
    page = client.get(answer["Location"])  # type: ignore[index]
    html = page.content.decode()
    # The page it leads to shows nothing of the locker: only a button carrying the session.
    assert "Continue to my locker" in html
    assert 'id="count-files"' not in html
    assert page["Cache-Control"] == "no-store"
    assert token_of(html)


def test_a_handoff_ticket_works_once(client: Client) -> None:
    phrase, _token = create(client)
    location = _open(client, phrase)["Location"]  # type: ignore[index]
    assert continued(client, _open(client, phrase))
    first = client.get(location)
    assert "Continue to my locker" in first.content.decode()
    again = client.get(location)  # Back or Reload to the same address
    assert again.status_code == 200
    html = again.content.decode()
    assert "Continue to my locker" not in html
    assert 'name="session"' not in html
    assert "Open your locker" in html


@pytest.mark.parametrize("forged", ["", "x", "A" * 22, "A" * 65, "ü" * 30, "\x00" * 22])
def test_forged_handoff_tickets_show_the_open_page(client: Client, forged: str) -> None:
    create(client)
    page = client.get("/en/locker/continue/", {"t": forged})
    assert page.status_code == 200
    assert 'name="session"' not in page.content.decode()


def test_an_old_handoff_ticket_is_dead(client: Client) -> None:
    from tipline.locker.models import LockerHandoff

    phrase, _token = create(client)
    location = _open(client, phrase)["Location"]  # type: ignore[index]
    LockerHandoff.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    assert 'name="session"' not in client.get(location).content.decode()
    assert not LockerHandoff.objects.exists()


@pytest.mark.parametrize(
    "route",
    [
        "mine/",
        "lock/",
        "settings/",
        "delete/",
        "import/",
        "incidents/",
        "incidents/save/",
        "timeline/",
        "timeline/responsible/",
        "export/pdf/",
        "export/zip/",
        "hand-over/",
    ],
)
def test_get_on_a_page_inside_the_locker_shows_the_open_page(client: Client, route: str) -> None:
    """Back, Reload, a typed address or a language link: a page, never a 405 or the locker."""
    _phrase, token = create(client)
    for lang in ("en", "fr", "hi"):
        page = client.get(f"/{lang}/locker/{route}", {"session": token})
        assert page.status_code == 200, (lang, route)
        html = page.content.decode()
        assert 'name="session"' not in html  # a token in the address opens nothing
        assert 'id="count-files"' not in html
        assert f'action="/{lang}/locker/open/"' in html
        assert page["Cache-Control"] == "no-store"


def test_quick_exit_inside_the_locker_ends_the_session(
    client: Client, settings: LazySettings
) -> None:
    _phrase, token = create(client)
    left = post(client, "exit/", token)
    assert left.status_code == 303
    assert left["Location"] == settings.TIPLINE_QUICK_EXIT_URL
    assert left["Clear-Site-Data"] == '"cache"'
    assert not LockerSession.objects.exists()
    assert post(client, "timeline/", token).status_code == 403
    # With JavaScript the same form goes as a beacon: answered without a redirect to follow.
    _phrase, other = create(client)
    beacon = post(client, "exit/", other, beacon="1")
    assert beacon.status_code == 204
    assert not LockerSession.objects.exists()
    # Without a readable token it still leaves: never strand someone getting away.
    assert client.get("/en/locker/exit/")["Location"] == settings.TIPLINE_QUICK_EXIT_URL


def test_a_resent_create_form_never_shows_a_passphrase_that_opens_a_locker(client: Client) -> None:
    """The create form stays in history with its passphrase; Back and Reload post it again."""
    phrase = pp.generate()
    forgot_tick = {"generated": phrase, "choice": "generated"}
    first = client.post("/en/locker/create/", forgot_tick)
    assert first.status_code == 400
    assert f'value="{phrase}"' in first.content.decode()  # kept while it opens nothing
    create(client, phrase)
    for data in (forgot_tick, {**forgot_tick, "written_down": "on"}):
        again = client.post("/en/locker/create/", data)
        assert again.status_code == 400
        html = again.content.decode()
        assert phrase not in html
        assert phrase.split()[0] + " " + phrase.split()[1] not in html
    assert Locker.objects.count() == 1


def test_inside_the_locker_the_language_switch_posts_the_session(client: Client) -> None:
    _phrase, token = create(client)
    html = post(client, "incidents/save/", token).content.decode()
    for lang in ("fr", "hi"):
        assert f'formaction="/{lang}/locker/incidents/"' in html
    assert 'hreflang="fr"' not in html  # no link that would lose the session
    french = post(client, "incidents/", token).content.decode()
    assert token_of(french) == token
