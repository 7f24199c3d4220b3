"""The assistant's "in your own words" reading (guidance/freetext.py, issue 20).

Every category must be reachable from free text in each language, an ambiguous text must offer
the choice rather than guess, and danger right now must put the emergency numbers first. The
sentences are written here to describe behaviour; they are not the triage test set.
"""

from __future__ import annotations

import pytest

from tipline.cases import categories
from tipline.guidance import freetext
from tipline.guidance.datafile import GuidanceDataError

# (language, text, category it should be read as)
EVERY_CATEGORY = [
    ("en", "My neighbour is hurting a child right now, the child is in danger", "child_in_danger"),
    ("en", "I came across a channel sharing children in abuse videos", "csam"),
    ("en", "A stranger is messaging my son on a game and asked him to keep it secret", "luring"),
    (
        "en",
        "Someone is blackmailing me and wants money or he will send my photos to my friends",
        "sextortion",
    ),
    ("en", "My former partner posted my private photos on a forum", "ncii"),
    ("en", "He keeps messaging me from fake accounts and knows where I am", "cyberstalking"),
    ("en", "I was scammed by a fake shop and they stole my account", "other"),
    ("fr", "Mon voisin maltraite un enfant, l'enfant est en danger", "child_in_danger"),
    ("fr", "J'ai trouvé un site avec des images d'abus et des vidéos d'enfants", "csam"),
    ("fr", "Un inconnu écrit à ma fille et veut rencontrer ma fille samedi", "luring"),
    (
        "fr",
        "Il me fait chanter et exige de l'argent, sinon il va envoyer mes photos à ma famille",
        "sextortion",
    ),
    ("fr", "Quelqu'un a publié mes photos intimes sur un site", "ncii"),
    ("fr", "Il me harcèle avec de faux comptes et sait où je suis", "cyberstalking"),
    ("fr", "C'est une arnaque, un faux site m'a volé mon compte", "other"),
    ("hi", "पड़ोस में बच्चा खतरे में है", "child_in_danger"),
    ("hi", "एक ग्रुप में बच्चों के वीडियो और बच्चों की तस्वीरें डाली जा रही हैं", "csam"),
    ("hi", "कोई आदमी मेरी बेटी को मैसेज करता है और मिलने बुला रहा है", "luring"),
    ("hi", "वो पैसे मांग रहा है और ब्लैकमेल कर रहा है", "sextortion"),
    ("hi", "किसी ने मेरी निजी तस्वीरें इंटरनेट पर डाल दीं", "ncii"),
    ("hi", "वो नए अकाउंट से मेरा पीछा कर रहा है", "cyberstalking"),
    ("hi", "mere saath online thagi hui, dhokha hua", "other"),
]


@pytest.mark.parametrize(("language", "text", "expected"), EVERY_CATEGORY)
def test_every_category_is_reachable_in_each_language(
    language: str, text: str, expected: str
) -> None:
    reading = freetext.read(text, language)
    assert expected in reading.offered, reading
    assert reading.offered[0] == expected, reading


def test_the_table_above_covers_every_category_in_every_language() -> None:
    covered = {(language, code) for language, _text, code in EVERY_CATEGORY}
    assert covered == {(lang, code) for lang in freetext.LANGUAGES for code in categories.CODES}


@pytest.mark.parametrize(
    "text",
    [
        # Two kinds of harm, equally named: the reporter chooses.
        "He is stalking me and he posted my private photos",
        "Someone hacked my account and he is stalking me",
    ],
)
def test_an_ambiguous_text_offers_the_choice(text: str) -> None:
    reading = freetext.read(text, "en")
    assert reading.kind == "ambiguous"
    assert len(reading.offered) >= 2
    assert reading.category == ""


@pytest.mark.parametrize("text", ["hello", "I am not sure what to do", "?!…", " ", "12345"])
def test_words_that_name_nothing_offer_every_category(text: str) -> None:
    reading = freetext.read(text, "en")
    assert reading.kind == "unknown"
    assert reading.offered == ()


@pytest.mark.parametrize(
    "text",
    [
        "My neighbour is hurting a child right now, the child is in danger",
        "He told my daughter to meet him tonight and not to tell anyone",
        "I want to kill myself tonight",
    ],
)
def test_danger_right_now_puts_the_emergency_numbers_first(text: str) -> None:
    reading = freetext.read(text, "en")
    assert reading.urgent
    assert reading.ending.startswith("emergency_")


def test_a_calm_report_is_not_urgent() -> None:
    reading = freetext.read("I found a website with pictures of children being abused", "en")
    assert reading.kind == "recognised"
    assert not reading.urgent
    assert reading.ending == "report_csam"


def test_cues_match_whole_words_only() -> None:
    # "scam" inside "scamper" and "fraud" inside "defrauding"? Only whole words count.
    assert freetext.read("the dog likes to scamper", "en").kind == "unknown"


@pytest.mark.parametrize(
    "text",
    [
        "a" * 1_000_000,
        "\ud800 lone surrogate \udfff",
        "blackmail " * 50_000,
        "\u202e\u200b\u200d" * 1000,
        "<script>alert(1)</script> scam",
    ],
)
def test_hostile_texts_are_read_without_error(text: str) -> None:
    reading = freetext.read(text, "en")
    assert reading.kind in {"recognised", "ambiguous", "unknown"}


def test_a_mistake_in_the_data_file_names_the_file_and_line() -> None:
    text = freetext.PATH.read_text("utf-8").replace("  csam: report_csam", "  csam: no_such_ending")
    with pytest.raises(GuidanceDataError, match=r"freetext.yaml:\d+: endings.csam: unknown value"):
        freetext.parse("freetext.yaml", text)


def test_an_unknown_category_in_the_cues_is_refused() -> None:
    text = freetext.PATH.read_text("utf-8").replace("  other:\n    en:", "  others:\n    en:")
    with pytest.raises(GuidanceDataError, match="unknown category"):
        freetext.parse("freetext.yaml", text)
