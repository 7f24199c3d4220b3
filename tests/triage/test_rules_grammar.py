"""The grammar-based threat and self-harm rules of issue 20, and the engine features they use.

Each table pairs sentences the rules must make urgent with hard negatives they must not (idioms,
negated threats, game talk, news and court reports). They are development examples written for
these rules, never sentences from the held-apart test set. Texts describe behaviour only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tipline.triage import engine
from tipline.triage.engine import DATA, Engine
from tipline.triage.tiers import Tier

URGENT = {Tier.P1, Tier.P2}

THREATS = [
    ("en", "You deserve to die and I'm going to make it happen"),
    ("en", "I want to hurt all of you"),
    ("en", "He said he'd shoot up the whole class on Monday"),
    ("en", "someone should shoot her whole family"),
    ("en", "my daughter will pay for this, tell her to watch her back"),
    ("en", "He threatened to kill me"),
    # A negator inside a condition does not negate the threat after it (`conditionals`).
    ("en", "If you don't pay I will kill you"),
    ("fr", "Si tu ne paies pas, je vais te planter"),
    ("fr", "Il a menacé de la brûler vive"),
    ("fr", "On va tous vous défoncer à la sortie"),
    ("fr", "Je te tuerai, toi et ta famille"),
    ("fr", "Je veux que tu crèves"),
    ("hi", "Goli maar denge tere bhai ko"),
    ("hi", "tujhe zinda nahi chhodunga"),
    ("hi", "paise nahi diye to ghar jala dunga"),
    ("hi", "तेरे परिवार को ज़िंदा नहीं छोड़ूंगा"),
    ("hi", "तुम पछताओगे"),
    # A common word elsewhere in the sentence (issue 20, third pass: `unless_near`).
    ("en", "ok lol whatever, i will break your legs tomorrow at the bus stop"),
    ("en", "He plays Roblox with my son and last night told him he would kill his mum"),
    ("fr", "Niveau respect t'es à zéro, je vais te défoncer à la sortie demain."),
    ("fr", "Après la partie il lui a écrit : je sais où tu habites, je vais te tuer."),
    ("hi", "match ke baad bahar mil, tujhe jaan se maar dunga"),
    ("hi", "गेम में मिला था, अब धमकी देता है कि तेरे पापा को मार डालूंगा।"),
]

NEGATIVES = [
    ("en", "I would never hurt you"),
    ("en", "Nobody is going to hurt you"),
    ("en", "He did not threaten to kill me"),
    ("en", "My mom is going to kill me if I fail"),
    ("en", "I'm going to kill you in Fortnite tonight"),
    ("en", "A man was jailed for threatening to kill a teenager"),
    ("en", "I'll beat you at chess tomorrow"),
    ("en", "I was dying of laughter lol"),
    ("fr", "Ma mère va me tuer si je rate le bac"),
    ("fr", "Je suis mort de rire mdr"),
    ("fr", "Je ne vais pas te faire de mal"),
    ("fr", "Il a été condamné pour avoir menacé de tuer son ex"),
    ("hi", "Mummy mujhe maar daalegi agar result kharab aaya"),
    ("hi", "main tumhe nahi maarunga"),
    ("hi", "Hans hans ke mar gaya yaar"),
    ("hi", "आरोपी को धमकी देने के लिए गिरफ्तार किया गया, उसने कहा था मार डालूंगा"),
    ("en", "I'm going to kill you in the next round, get ready lol"),
    ("en", "In the film the villain says he will shoot everyone in the room."),
    ("fr", "Je vais te tuer à la prochaine partie, prépare-toi mdr"),
    ("fr", "Dans le film, le méchant dit qu'il va tous les tuer."),
    ("hi", "agle match mein tujhe maar dunga bro, ready reh"),
    ("hi", "इस लेवल का बॉस तो मार डालेगा यार।"),
]


@pytest.mark.parametrize(("lang", "text"), THREATS)
def test_threats_in_any_form_are_urgent_with_a_threat_reason(lang: str, text: str) -> None:
    result = engine.score(text, lang=lang)
    assert result.tier in URGENT
    threat = [r for r in result.reasons if ".threat." in r.rule]
    assert threat
    assert all(r.span is not None and r.span.text for r in threat)


@pytest.mark.parametrize(("lang", "text"), NEGATIVES)
def test_hard_negatives_are_not_urgent(lang: str, text: str) -> None:
    assert engine.score(text, lang=lang).tier not in URGENT


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "He's outside with a knife right now"),
        ("en", "I'm going to take all my pills tonight"),
        ("fr", "Elle dit qu'elle va tout arrêter ce soir, elle a les cachets"),
        ("hi", "Main aaj raat neend ki goliyan kha lungi"),
        ("hi", "Wo chaaku leke abhi ghar ke bahar khada hai"),
    ],
)
def test_danger_now_is_p1_with_a_readable_reason(lang: str, text: str) -> None:
    result = engine.score(text, lang=lang)
    assert result.tier == Tier.P1
    forcing = [r for r in result.reasons if r.span is not None]
    assert forcing
    assert all(engine.describe(r.rule) for r in result.reasons)


def _engine_with(tmp_path: Path, body: str) -> Engine:
    rules = tmp_path / "en.yaml"
    rules.write_text(
        "language: en\nversion: 1\nnegators: [not]\nrules:\n"
        "  - id: en.threat.t\n    version: 1\n    family: threat\n    language: en\n"
        "    description: d\n    source: s\n    points: 45\n" + body,
        encoding="utf-8",
    )
    return Engine.from_files([rules], DATA / "scoring.yaml")


def test_unless_cancels_a_match_only_in_its_own_sentence(tmp_path: Path) -> None:
    scorer = _engine_with(tmp_path, "    phrases: [kill you]\n    unless: [fortnite]\n")
    assert not scorer.score("I will kill you in fortnite").reasons
    fired = scorer.score("We played fortnite. Then he wrote: I will kill you.").reasons
    assert [r.rule for r in fired] == ["en.threat.t"]


def test_unless_near_cancels_only_within_its_window(tmp_path: Path) -> None:
    # Issue 20, third pass: a common word elsewhere in the sentence no longer drops a threat.
    scorer = _engine_with(
        tmp_path,
        "    phrases: [kill you]\n"
        "    unless_near:\n"
        "      - {before: 0, after: 3, words: [lol]}\n"
        "      - {before: 2, after: 3, words: [game]}\n",
    )
    assert not scorer.score("I will kill you in the game").reasons
    assert not scorer.score("in the game I kill you").reasons
    assert not scorer.score("I will kill you lol").reasons
    fired = ["en.threat.t"]
    assert [r.rule for r in scorer.score("after the game tonight I will kill you").reasons] == fired
    assert [r.rule for r in scorer.score("lol ok, I will kill you").reasons] == fired
    assert [
        r.rule for r in scorer.score("I will kill you at the bus stop after the game").reasons
    ] == fired


def test_unless_near_is_validated(tmp_path: Path) -> None:
    with pytest.raises(engine.RuleError, match="before must be a whole number from 0 to 10"):
        _engine_with(
            tmp_path,
            "    phrases: [kill you]\n    unless_near:\n"
            "      - {before: 11, after: 1, words: [x]}\n",
        )
    with pytest.raises(engine.RuleError, match="unknown key 'within'"):
        _engine_with(
            tmp_path, "    phrases: [kill you]\n    unless_near:\n      - {within: 3, words: [x]}\n"
        )
    with pytest.raises(engine.RuleError, match="unless_near must be a non-empty list"):
        _engine_with(tmp_path, "    phrases: [kill you]\n    unless_near: {before: 1}\n")


def test_unless_is_validated_like_near_lists(tmp_path: Path) -> None:
    with pytest.raises(engine.RuleError, match="unless items are phrases"):
        _engine_with(tmp_path, "    phrases: [kill you]\n    unless: [{pattern: x}]\n")


def test_words_shared_by_two_languages_score_once_without_a_language() -> None:
    # "gift cards" fires an English and a Hinglish rule: with every language's rules in play
    # (no language given) the same words used to score twice (40 points); one rule now counts.
    text = "he asked for gift cards"
    both = engine.score(text)
    assert [r.rule for r in both.reasons] == ["en.sextortion.payment_gift_card"]
    assert both.score == engine.score(text, lang="en").score == engine.score(text, lang="hi").score


def test_two_languages_still_both_score_on_different_words() -> None:
    text = "he asked for gift cards. मैं तुझे जान से मार डालूंगा"
    rules = {r.rule for r in engine.score(text).reasons}
    assert "en.sextortion.payment_gift_card" in rules
    assert any(rule.startswith("hi.threat.") for rule in rules)


def test_a_span_never_starts_or_ends_with_a_space() -> None:
    # The console highlights the span and the evidence PDF quotes it: the words alone.
    from tipline.triage import engine as triage_engine

    text = "You will regret this, I will hurt you."
    for reason in triage_engine.score(text).reasons:
        if reason.span is not None:
            assert reason.span.text == reason.span.text.strip()
            assert text[reason.span.start : reason.span.end] == reason.span.text
