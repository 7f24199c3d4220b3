"""Presence and approach markers (issue 13): "I'm outside", "I'll come over", "I'm watching
your house", "I know where you are", in English, French and Hindi (Devanagari and romanised).

Before issue 13 none of these set off a marker of their own; a few English ones only counted as
"location". Negative examples (ordinary words near the same phrases) must not fire.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tipline.locker import pattern
from tipline.locker.types import EvidenceRecord, Item, Snapshot, TimelineEntry

WHEN = datetime(2026, 1, 5, 22, 15)


def _presence(text: str) -> pattern.Marker | None:
    item = Item("whatsapp", "message", WHEN, "Alex", text, "chat")
    snapshot = Snapshot(
        title="log",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        evidence=[EvidenceRecord(1, "chat.txt", "whatsapp", "0" * 64, 10, datetime.now(UTC), 1)],
        entries=[TimelineEntry(item, 1)],
        incidents=[],
    )
    found = [m for m in pattern.analyse(snapshot).markers if m.kind == "presence"]
    return found[0] if found else None


FIRES = [
    # English
    ("en", "I'm outside. Come to the window.", "I'm outside"),
    ("en", "im outside your building", "im outside"),
    ("en", "Open up, I\u2019m at your door", "I\u2019m at your door"),
    ("en", "I'll come over tonight whether you like it or not", "I'll come over"),
    ("en", "I'm watching your house right now", "I'm watching your house"),
    ("en", "Don't bother hiding. I know where you are.", "I know where you are"),
    ("en", "I'm on my way to you", "I'm on my way to you"),
    # French
    ("fr", "Je suis devant chez toi, sors.", "Je suis devant chez toi"),
    ("fr", "Je vais venir chez toi ce soir", "Je vais venir chez toi"),
    ("fr", "Je te surveille.", "Je te surveille"),
    ("fr", "Je sais où tu es.", "Je sais où tu es"),
    ("fr", "je suis dehors", "je suis dehors"),
    # Hindi, Devanagari
    ("hi", "मैं बाहर हूँ, दरवाज़ा खोलो", "मैं बाहर हूँ"),
    ("hi", "मैं तेरे घर आ रहा हूँ", "मैं तेरे घर आ रहा"),
    ("hi", "मैं तुम्हें देख रहा हूँ", "मैं तुम्हें देख रहा हूँ"),
    ("hi", "मुझे पता है तुम कहाँ हो", "मुझे पता है तुम कहाँ हो"),
    # Hindi, romanised as typed on phones
    ("hi", "main bahar hoon, neeche aao", "main bahar hoon"),
    ("hi", "Mai aa rha hu abhi", "Mai aa rha hu"),
    ("hi", "main tere ghar aa raha hoon", "main tere ghar aa raha"),
    ("hi", "mujhe pata hai tum kahan ho", "mujhe pata hai tum kahan ho"),
]

QUIET = [
    ("en", "The kids are playing outside."),
    ("en", "Honestly, I know where you are coming from."),
    ("en", "I'm watching a film tonight"),
    ("en", "Come over whenever you like, the door is open."),
    ("fr", "Il fait beau dehors aujourd'hui."),
    ("fr", "Je sais où tu as mis les clés."),
    ("fr", "Je regarde un film."),
    ("hi", "बाहर बारिश हो रही है"),
    ("hi", "मैं घर पर हूँ"),
    ("hi", "bahar baarish ho rahi hai"),
    ("hi", "main ghar pe hoon"),
]


@pytest.mark.parametrize(("language", "text", "words"), FIRES)
def test_presence_and_approach_fire(language: str, text: str, words: str) -> None:
    marker = _presence(text)
    assert marker is not None, f"{language}: {text!r} should set off the presence marker"
    assert marker.span is not None
    assert marker.span.text == words
    assert marker.rule == "markers.presence"
    assert marker.label


@pytest.mark.parametrize(("language", "text"), QUIET)
def test_ordinary_words_do_not_fire(language: str, text: str) -> None:
    assert _presence(text) is None, f"{language}: {text!r} must not set off the marker"


def test_the_label_is_in_the_reader_s_language() -> None:
    from django.utils import translation

    with translation.override("fr"):
        marker = _presence("Je suis dehors")
        assert marker is not None
        assert marker.label.startswith("Premier signe")
    with translation.override("hi"):
        marker = _presence("main bahar hoon")
        assert marker is not None
        assert marker.label.startswith("पहला संकेत")
