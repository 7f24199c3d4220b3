"""French and Hindi rules: every rule fires on its own example, and real-sounding reports land
in the tier an analyst would give them (in Devanagari, in romanised Hindi and mixed).

Texts here describe behaviour (meetings, secrecy, threats, demands, self-harm risk) only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tipline.triage import engine

RULES = Path(engine.__file__).resolve().parent / "data" / "rules"

# Rules whose matcher is a regex or a proximity pair have no "first phrase": one example each.
EXAMPLES = {
    "fr.imminent.meeting_tonight": "on se voit ce soir devant la gare",
    "fr.sextortion.demand_and_threat": "paie 200 euros ou je vais diffuser tes photos",
    "fr.sextortion.deadline": "tu as 24 heures pour envoyer",
    "fr.grooming.gifts": "il lui offre des credits dans le jeu",
    "fr.grooming.adult_contact": "un homme de 35 ans lui ecrit",
    "fr.self_harm.tonight": "elle dit qu'elle va se suicider ce soir",
    "fr.minor.age": "elle a 12 ans",
    "hi.imminent.meeting_tonight": "aaj raat milenge",
    "hi.sextortion.threat_to_share": "tumhari photo sabko bhej dunga",
    "hi.sextortion.demand_and_threat": "paise bhejo warna video viral kar dunga",
    "hi.sextortion.deadline": "tumhare paas 24 ghante hain",
    "hi.grooming.move_platform": "snapchat pe aao",
    "hi.grooming.gifts": "woh usko gift bhejta hai",
    "hi.grooming.adult_contact": "ek aadmi usse baat karta hai",
    "hi.self_harm.tonight": "वो आज रात खुदकुशी कर लेगी",
    "hi.minor.age": "meri 12 saal ki beti",
    "fr.threat.intent_violence": "je vais te planter",
    "fr.threat.future_tense": "je te tuerai",
    "fr.threat.wish_death": "je veux que tu creves",
    "fr.threat.veiled": "tu vas me le payer",
    "fr.threat.armed_now": "il est devant la maison avec un couteau",
    "fr.self_harm.intent": "je pense a me tuer",
    "fr.self_harm.intent_now": "elle veut en finir ce soir",
    "hi.threat.intent_violence": "tere ghar ko aag laga dunga",
    "hi.threat.intent_violence_deva": "मैं तुझे जान से मार डालूंगा",
    "hi.threat.veiled": "sabak sikhaunga tujhe",
    "hi.threat.veiled_deva": "अंजाम बुरा होगा",
    "hi.threat.armed_now": "wo chaaku leke ghar ke bahar khada hai",
    "hi.self_harm.intent": "mera marne ka man karta hai",
    "hi.self_harm.intent_deva": "मैं अपनी जान ले लूंगी",
    "hi.self_harm.intent_now": "main aaj raat neend ki goliyan kha lungi",
    "hi.self_harm.act_done": "maine saari goliyan kha li",
    "hi.imminent.meeting_today_grammar": "woh usse aaj raat milne bula raha hai",
    "fr.threat.present_as_future": "je viens et je te defonce",
    "fr.imminent.on_the_way": "il est en route vers chez nous",
    "fr.imminent.meeting_today_grammar": "elle doit le rejoindre ce soir",
    "fr.self_harm.act_done": "elle a avale toutes les pilules",
    "fr.self_harm.no_will_to_live": "il n'a plus envie de vivre",
    "fr.threat.body_harm": "je te casse les deux jambes",
    "fr.threat.property": "je crame ta bagnole",
    "fr.threat.veiled_fate": "ta soeur va prendre une balle",
    "fr.imminent.here_now": "il est a cinq minutes de chez nous",
    "fr.self_harm.goodbye_now": "c'est ma derniere nuit, pardon a tous",
    "fr.self_harm.high_place_now": "il est sur le toit et dit qu'il va sauter",
    "hi.threat.compound_future": "tera murder kar dunga",
    "hi.threat.compound_future_deva": "तेरे भाई के टुकड़े-टुकड़े कर दूंगा",
    "hi.imminent.here_now": "wo gate ke bahar khada hai",
    "hi.self_harm.more_forms": "aaj raat pankhe se latak jaungi",
    "fr.threat.clitic_infinitive": "il va l'attendre a la sortie et la defigurer",
    "fr.self_harm.means_tonight": "il a une corde dans sa chambre et dit que c'est pour cette nuit",
    "fr.self_harm.giving_away": "il donne ses affaires et dit qu'il n'en aura plus besoin",
    "hi.self_harm.goodbye_means": "usne alvida ka message bheja aur goliyan kha li",
    "hi.sextortion.threat_named": "wo photos daalne ki dhamki de rahe hain",
    "hi.threat.idioms": "tujhe maar ke hi dum lunga",
    "hi.threat.idioms_deva": "तेरी लाश भी नहीं मिलेगी",
    "hi.self_harm.high_place_now": "wo chhat pe hai aur keh raha hai ki kood jayega",
    "hi.sextortion.money_demand": "wo 5000 rupaye maang raha hai",
    "fr.threat.sms_forms": "jte plante",
    "fr.threat.reported": "il m'a menacee de mort",
    "fr.self_harm.injury": "elle se griffe les bras jusqu'au sang",
    "fr.threat.your_turn": "des photos de couteaux avec ecrit : bientot ton tour.",
    "fr.threat.veiled_fate_more": "celui qui a balance va se faire casser les jambes",
    "fr.threat.fate_third": "personne au lycee n'en sortira vivant",
    "fr.threat.intent_third": "ferme ta gueule ou toute ta famille va y gouter",
    "fr.threat.weapon_for_you": "la photo d'une machette, celle-la c'est pour toi",
    "fr.imminent.here_now_more": "il est gare au bout de la rue",
    "fr.imminent.shown_home_now": "il a envoye une photo de notre porte et il est gare dehors",
    "fr.self_harm.swallowed_whole": "elle a deja avale toute la plaquette",
    "fr.self_harm.method_and_burden": "le monde serait mieux sans moi",
    "fr.sextortion.drop_in_group": "ils balancent la video dans le groupe",
    "fr.sextortion.pay_or_else": "si je paie pas avant 22h",
    "fr.sextortion.images_go": "sinon les photos partent a tout son college",
    "fr.sextortion.payment_amount": "ils veulent 200 balles",
    "fr.self_harm.no_point": "je ne vois plus l'interet de me reveiller",
    "fr.self_harm.taking_all_means": "j'ai les medocs de ma mere, je les prends tous",
    "hi.threat.fate_third": "school ke bahar mil, aaj tera khoon bahega",
    "hi.threat.fate_third_deva": "स्कूल से कोई ज़िंदा नहीं निकलेगा",
    "hi.self_harm.habit_and_no_point": "subah uthne ka koi matlab nahi lagta",
    "hi.threat.intent_third": "afsos hoga agar wo kabhi ghar na pahunche",
    "fr.threat.intent_more": "il lui briserait tous les os",
    "hi.threat.veiled_more": "ab se light jala ke soya kar",
    "fr.threat.slang_more": "elle quittera la ville en ambulance",
    "fr.self_harm.wound_now": "je me suis coupee tres profond",
    "fr.self_harm.goodbye_means": "les cachets sur mon lit, pardon pour tout",
    "fr.threat.who_threatened": "l'homme qui l'a menacee",
    "hi.self_harm.wound_now": "maine bahut gehra kaat liya hai",
    "fr.threat.counterfactual_and_fates": "sinon je t'aurais encastre dans le mur",
    "hi.threat.counterfactual_and_fates": "phir dekhna kafan mein jayega",
    "hi.threat.intent_more": "apne cousins se mujhe pitwayegi",
    "fr.self_harm.edge_now": "elle est assise au bord du toit du parking",
    "hi.imminent.here_now_more": "wo seedhiyon pe hai",
    "hi.imminent.with_suspect_now": "पीड़िता इस समय आरोपी के साथ है",
    "hi.self_harm.edge_now": "वो पार्किंग की छत के किनारे बैठी है",
    "hi.threat.weapon_for_you": "गंडासे की फोटो भेजी और लिखा ये तेरे लिए है",
    "hi.imminent.shown_home_now": "darwaze ki photo bheji aur gaadi bahar khadi hai",
    "hi.self_harm.swallowed_whole": "poora patta kha chuki hai",
    "hi.self_harm.method_and_burden": "मेरे बिना दुनिया बेहतर होगी",
    "hi.sextortion.tag_family": "mummy papa ko tag kar dega",
    "hi.sextortion.pay_or_else": "10 baje tak paise nahi diye toh",
    "fr.imminent.with_adult_now": "elle est avec un homme de discord a l'hotel en ce moment",
    "fr.self_harm.goodbye_place": "il a ecrit pardon, je vous aime tous, il est pres des rails",
    "fr.sextortion.send_images": "ils envoient la video a son college",
    "hi.imminent.with_adult_now": "beti abhi us aadmi ke saath hotel mein hai",
    "hi.self_harm.goodbye_place": "usne alvida likha aur wo railway track ke paas hai",
}


def _rules(language: str) -> list[dict[str, Any]]:
    document = yaml.safe_load((RULES / f"{language}.yaml").read_text(encoding="utf-8"))
    rules: list[dict[str, Any]] = document["rules"]
    return rules


def _example(rule: dict[str, Any]) -> str:
    if "phrases" in rule:
        return str(rule["phrases"][0])
    return EXAMPLES[rule["id"]]


def _fired(text: str, lang: str) -> set[str]:
    return {reason.rule for reason in engine.score(text, lang=lang).reasons}


ALL = [(lang, rule) for lang in ("fr", "hi") for rule in _rules(lang)]


@pytest.mark.parametrize(("lang", "rule"), ALL, ids=[r["id"] for _, r in ALL])
def test_each_rule_fires_on_its_example(lang: str, rule: dict[str, Any]) -> None:
    assert rule["id"] in _fired(_example(rule), lang)


@pytest.mark.parametrize("lang", ["fr", "hi"])
def test_rule_sets_cover_every_family_with_enough_rules(lang: str) -> None:
    rules = _rules(lang)
    assert len(rules) >= 25
    assert {r["family"] for r in rules} == set(
        [
            "imminent_danger",
            "location_shared",
            "sextortion",
            "grooming",
            "threat",
            "self_harm",
            "minor_indicator",
            "repeat_contact",
        ]
    )
    assert all(r["id"].startswith(f"{lang}.") and r["source"].strip() for r in rules)


def test_every_regex_or_near_rule_has_an_example_and_no_example_is_stale() -> None:
    needing = {r["id"] for _, r in ALL if "phrases" not in r}
    assert needing == set(EXAMPLES)


def test_hindi_rules_match_both_scripts() -> None:
    pairs = [
        ("आज रात मिलेंगे", "aaj raat milenge", "hi.imminent.meeting_tonight"),
        ("किसी को मत बताना", "kisi ko mat batana", "hi.grooming.dont_tell"),
        ("मैं तुम्हें मार दूँगा", "main tumhe maar dunga", "hi.threat.kill"),
        ("पैसे भेजो", "paise bhejo", "hi.sextortion.payment_money"),
        (
            "तुम्हारी फोटो सबको भेज दूँगा",
            "tumhari photo sabko bhej dunga",
            "hi.sextortion.threat_to_share",
        ),
        ("मैं मरना चाहती हूँ", "main marna chahti hoon", "hi.self_harm.want_to_die"),
    ]
    for devanagari, romanised, rule in pairs:
        assert rule in _fired(devanagari, "hi"), devanagari
        assert rule in _fired(romanised, "hi"), romanised


def test_hindi_spelling_variants_fire() -> None:
    assert "hi.threat.kill" in _fired("मैं तुम्हें मार दूंगा", "hi")  # anusvara for chandrabindu
    assert "hi.sextortion.threat_to_share" in _fired("तुम्हारी फ़ोटो सबको भेज दूंगा", "hi")


# --- negation, thought through per rule ----------------------------------------------------------


def test_or_else_does_not_cancel_a_hindi_threat() -> None:
    """ "nahi toh" and "warna" mean "or else": the threat after them is the danger."""
    assert "hi.sextortion.threat_to_share" in _fired(
        "paise bhejo nahi toh tumhari photo sabko bhej dunga", "hi"
    )
    assert "hi.threat.kill" in _fired("पुलिस को बताया नहीं तो मार दूँगा", "hi")


def test_mat_is_an_imperative_not_a_negator() -> None:
    """ "mat batana" ("don't tell") must not cancel the meeting right after it."""
    fired = _fired("mummy ko mat batana aaj raat milenge", "hi")
    assert {"hi.grooming.dont_tell", "hi.imminent.meeting_tonight"} <= fired


def test_everyday_hindi_does_not_fire_the_danger_rules() -> None:
    """ "paise bachao" is "save money", not a call for help."""
    assert engine.score("paise bachao, mummy ko mat batana surprise hai", lang="hi").tier != "P1"
    assert "hi.imminent.hiding" not in _fired("paise bachao", "hi")


def test_negated_hindi_does_not_fire() -> None:
    # A negated verb splits the phrase, so the phrase rule does not match. (The proximity rule
    # hi.imminent.meeting_tonight does fire on "aaj raat nahi milenge": negation is only looked
    # for before a match, and Hindi puts it inside, before the verb.)
    assert "hi.self_harm.want_to_die" not in _fired("main marna nahi chahti", "hi")
    assert "hi.threat.named" not in _fired("usne kisi ko dhamki nahi di", "hi")


def test_french_conditional_threat_is_not_cancelled_by_its_ne_pas() -> None:
    fired = _fired("si tu ne paies pas, je vais publier tes photos", "fr")
    assert "fr.sextortion.threat_to_publish" in fired
    fired = _fired("ne t'inquiete pas, je viens te chercher", "fr")
    assert "fr.imminent.pick_you_up" in fired


def test_french_negated_statements_do_not_fire() -> None:
    assert "fr.self_harm.want_to_die" not in _fired("je n'ai pas envie de mourir", "fr")
    assert "fr.sextortion.payment_gift_card" not in _fired(
        "il n'a jamais parle de carte cadeau", "fr"
    )
    assert "fr.imminent.pick_you_up" not in _fired("je ne viens pas te chercher", "fr")


# --- realistic reports land in the expected tier -------------------------------------------------

REPORTS = [
    (
        "fr",
        "Ma fille de 12 ans doit retrouver ce soir un homme rencontre sur un jeu, "
        "il lui a dit de ne pas le dire a ses parents.",
        "P1",
    ),
    ("fr", "Il a ecrit a mon fils de 13 ans : je viens te chercher a la sortie du college.", "P1"),
    (
        "fr",
        "Il dit qu'il va publier mes photos si je n'envoie pas 300 euros en carte cadeau. "
        "Tu as 24 heures.",
        "P2",
    ),
    ("fr", "J'ai envie de mourir, je n'en peux plus.", "P2"),
    ("fr", "Comment signaler un faux profil ?", "P4"),
    ("fr", "Demain je vais tout dechirer a l'examen.", "P4"),
    ("hi", "मेरी 12 साल की बेटी आज रात एक आदमी से मिलने जा रही है, उसने कहा किसी को मत बताना।", "P1"),
    (
        "hi",
        "meri 13 saal ki beti aaj raat us aadmi se milne ja rahi hai, usne bola kisi ko mat batana",
        "P1",
    ),
    ("hi", "aaj raat milenge station pe, akeli aana, मम्मी को मत बताना. woh 12 saal ki hai", "P1"),
    ("hi", "paise bhejo warna tumhari photo sabko bhej dunga, 24 ghante hai tumhare paas", "P2"),
    ("hi", "मैं मरना चाहता हूँ, अब जीने का कोई मतलब नहीं है।", "P2"),
    ("hi", "kal exam mein dhamaal kar dunga, bas dua karna", "P4"),
    ("hi", "is game ne toh maar hi dala yaar", "P4"),
]


@pytest.mark.parametrize(("lang", "text", "tier"), REPORTS)
def test_realistic_reports_land_in_the_expected_tier(lang: str, text: str, tier: str) -> None:
    assert engine.score(text, lang=lang).tier == tier
