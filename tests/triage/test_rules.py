"""Rule files: every kind of mistake names its file and line; every shipped rule fires."""

from __future__ import annotations

from pathlib import Path

import pytest

from tipline.triage import engine
from tipline.triage.rules import RuleError, load

HEADER = """\
language: en
version: 1
negators: [not, never]
rules:
"""

GOOD_RULE = """\
  - id: en.threat.kill
    version: 1
    family: threat
    language: en
    description: A threat to kill.
    source: "DOJ 1999 cyberstalking report"
    points: 40
    phrases: [kill you]
"""


def _write(tmp_path: Path, body: str, name: str = "en.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def _error(tmp_path: Path, body: str) -> RuleError:
    path = _write(tmp_path, body)
    with pytest.raises(RuleError) as caught:
        load([path])
    return caught.value


def test_a_good_file_loads(tmp_path: Path) -> None:
    ruleset = load([_write(tmp_path, HEADER + GOOD_RULE)])
    assert [r.id for r in ruleset.rules] == ["en.threat.kill"]
    assert len(ruleset.version) == 12


def test_version_changes_with_the_file_bytes(tmp_path: Path) -> None:
    first = load([_write(tmp_path, HEADER + GOOD_RULE)]).version
    second = load([_write(tmp_path, HEADER + GOOD_RULE.replace("40", "41"))]).version
    assert first != second


@pytest.mark.parametrize(
    ("change", "line", "reason"),
    [
        (("    points: 40\n", "    points: 40\n    pionts: 3\n"), 12, "unknown key 'pionts'"),
        (('    source: "DOJ 1999 cyberstalking report"\n', ""), 5, "missing field 'source'"),
        (("family: threat", "family: threats"), 7, "unknown family 'threats'"),
        (("points: 40", "points: 0"), 11, "points must be a whole number from 1 to 100"),
        (("points: 40", "points: 101"), 11, "points must be a whole number from 1 to 100"),
        (("phrases: [kill you]", "regex: 'kill (you'"), 12, "does not compile"),
        (("phrases: [kill you]", "regex: '" + "a" * 2001 + "'"), 12, "limit is 2000"),
        (("phrases: [kill you]", "regex: 'a*'"), 12, "matches empty text"),
        (("phrases: [kill you]", "regex: '(a)\\1'"), 12, "does not compile"),
        (("    phrases: [kill you]\n", ""), 5, "exactly one of phrases, regex, near"),
        (("phrases: [kill you]", "phrases: [kill you]\n    regex: 'kill'"), 5, "exactly one of"),
        (("phrases: [kill you]", "phrases: [kill you, no]"), 12, "items must be non-empty text"),
        (("id: en.threat.kill", "id: fr.threat.kill"), 5, "must be 'en.' then"),
    ],
)
def test_each_mistake_names_file_line_and_reason(
    tmp_path: Path, change: tuple[str, str], line: int, reason: str
) -> None:
    body = HEADER + GOOD_RULE
    assert change[0] in body
    error = _error(tmp_path, body.replace(change[0], change[1], 1))
    assert str(error).startswith(f"{tmp_path / 'en.yaml'}:{line}: ")
    assert reason in error.reason


def test_duplicate_rule_id(tmp_path: Path) -> None:
    error = _error(tmp_path, HEADER + GOOD_RULE + GOOD_RULE)
    assert error.line == 13
    assert "duplicate rule id 'en.threat.kill'" in str(error)


def test_duplicate_key(tmp_path: Path) -> None:
    error = _error(
        tmp_path, HEADER + GOOD_RULE.replace("    points: 40\n", "    points: 40\n    points: 41\n")
    )
    assert (error.line, error.reason) == (12, "duplicate key 'points'")


def test_yaml_syntax_error(tmp_path: Path) -> None:
    error = _error(
        tmp_path, HEADER + GOOD_RULE.replace("phrases: [kill you]", "phrases: [kill you")
    )
    assert error.line >= 12
    assert error.reason.startswith("YAML syntax")


def test_python_tags_are_refused(tmp_path: Path) -> None:
    body = HEADER + GOOD_RULE.replace("points: 40", "points: !!python/object/apply:os.getpid []")
    error = _error(tmp_path, body)
    assert error.line == 11
    assert "YAML" in error.reason


def test_bad_tier_and_negation(tmp_path: Path) -> None:
    error = _error(tmp_path, HEADER + GOOD_RULE.replace("points: 40", "points: 40\n    tier: P0"))
    assert (error.line, "tier must be one of P1..P4" in error.reason) == (12, True)
    error = _error(
        tmp_path, HEADER + GOOD_RULE.replace("points: 40", "points: 40\n    negation: 1")
    )
    assert (error.line, error.reason) == (12, "negation must be true or false")


def test_near_is_validated(tmp_path: Path) -> None:
    near = "near:\n      a: [pay me]\n      b: [{regex: '(x'}]\n      within: 5"
    error = _error(tmp_path, HEADER + GOOD_RULE.replace("phrases: [kill you]", near))
    assert error.line == 14
    assert "does not compile" in error.reason
    near = "near:\n      a: [pay me]\n      b: [share]\n      within: 51"
    error = _error(tmp_path, HEADER + GOOD_RULE.replace("phrases: [kill you]", near))
    assert (error.line, "within must be a whole number from 1 to 50" in error.reason) == (15, True)
    near = "near:\n      a: [pay me]\n      b: [share]\n      within: 5\n      c: [x]"
    error = _error(tmp_path, HEADER + GOOD_RULE.replace("phrases: [kill you]", near))
    assert (error.line, "unknown key 'c'" in error.reason) == (16, True)


def test_language_must_match_file_name_and_rules(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + GOOD_RULE, name="fr.yaml")
    with pytest.raises(RuleError, match=r"fr\.yaml:1: language 'en' in fr\.yaml"):
        load([path])
    error = _error(tmp_path, HEADER + GOOD_RULE.replace("    language: en", "    language: fr"))
    assert error.line == 8


def test_top_level_mistakes(tmp_path: Path) -> None:
    assert _error(tmp_path, "- just a list\n").reason.startswith("expected a mapping")
    error = _error(tmp_path, HEADER.replace("version: 1", "version: 1\nauthor: me") + GOOD_RULE)
    assert (error.line, error.reason.startswith("unknown key 'author'")) == (3, True)
    assert _error(tmp_path, "language: en\nversion: 1\nrules: []\n").reason.startswith(
        "rules must be"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="cannot read"):
        load([tmp_path / "en.yaml"])


# --- the shipped rules -------------------------------------------------------------------------

# Examples for rules whose matcher is a regex or near (phrase rules use their first phrase).
EXAMPLES = {
    "en.imminent.meeting_tonight": "he wants to meet her tonight",
    "en.imminent.meeting_soon": "he will pick her up after school",
    "en.imminent.travel_to_meet": "he bought her a train ticket so she can meet him",
    "en.imminent.time_and_place": "they are meeting at 4pm",
    "en.location.street_address": "he posted 22 Baker Street online",
    "en.sextortion.demand_and_threat": "pay me or I will send them to your family",
    "en.sextortion.deadline": "you have 24 hours",
    "en.grooming.move_platform": "let's move to snapchat",
    "en.minor.age_years_old": "my 13 year old son",
    "en.minor.is_age": "she is 14",
    "en.minor.school_year": "he is in year 8",
    "en.repeat.duration": "this has gone on for six months",
    "en.imminent.there_now": "a man is waiting outside her school right now",
    "en.imminent.coming_now": "he says he is on his way to her flat now",
    "en.imminent.come_alone": "he told her to come to the park alone",
    "en.sextortion.share_threat": "he will leak my pictures unless I pay",
    "en.sextortion.audience_will_see": "pay me or everyone sees your photos",
    "en.grooming.asks_for_images": "he keeps asking her for selfies",
    "en.self_harm.plan_or_now": "she says she will kill herself tonight",
    "en.minor.age_in_brackets": "my son (13) told me",
    "en.threat.intent_violence": "I'm going to hurt all of you",
    "en.threat.should_die": "you deserve to die",
    "en.threat.progressive_as_future": "next time I see you I'm cutting your face",
    "en.threat.veiled": "you'll pay for this",
    "en.threat.armed_now": "he has a knife and he is outside",
    "en.self_harm.intent": "she keeps saying she wants to disappear forever",
    "en.self_harm.intent_now": "I'm going to take all my pills tonight",
    "en.self_harm.act_done": "she says she has taken all the tablets",
    "en.self_harm.not_want_to_live": "he doesn't want to be alive anymore",
    "en.imminent.meeting_today_grammar": "the man from the game is picking her up tonight",
    "en.threat.body_harm": "pay me or I break both your arms",
    "en.threat.intent_with_object": "I am going to put every one of you in the ground",
    "en.threat.veiled_fate": "you won't make it to graduation",
    "en.threat.fate_third": "nobody at that school will walk out alive",
    "en.threat.intent_third": "he said he would come back and finish the job.",
    "en.threat.counterfactual_and_fates": "if he can't have me nobody will",
    "en.self_harm.edge_now": "she's sitting on the edge of the multi-storey car park roof",
    "en.threat.weapon_for_you": "a photo of a machete with the caption this is for you",
    "en.imminent.parked_nearby": "he's parked at the end of our road",
    "en.imminent.gone_to_meet": "she went to meet an adult from Discord",
    "en.threat.slang_more": "he's going to glass him at the party",
    "en.self_harm.wound_now": "I've cut myself really deep",
    "en.self_harm.goodbye_means": "the pills are on my bed, sorry for everything",
    "en.imminent.shown_home_now": "he sent a picture of our front door and he's parked outside",
    "en.self_harm.swallowed_whole": "she's already swallowed the whole packet",
    "en.self_harm.method_thoughts": "how easy it would be to just step in front of the train",
    "en.sextortion.tag_or_drop": "they'll tag my parents in them",
    "en.sextortion.pay_or_else": "if I don't pay by 10",
    "en.sextortion.payment_amount": "unless he pays 300 pounds",
    "en.self_harm.taking_all_means": "I've got my dad's pills, I'm taking them all now",
    "en.imminent.here_now": "he is banging on our front door",
    "en.self_harm.burden": "everyone would be happier if he wasn't around",
    "en.self_harm.goodbye_now": "this is my last night, sorry to everyone",
    "en.self_harm.means_ready": "the tablets are lined up in front of me",
    "en.self_harm.wants_it_to_stop": "I just want it all to stop",
    "en.self_harm.injury_habit": "he has been cutting his arms again",
    "en.threat.intent_violence_more": "he says he'll fuck her up on the bus",
    "en.threat.passive_future": "you and your whole family are getting wiped out",
    "en.sextortion.more_money": "they want another 500 by midnight",
    "en.threat.intent_slang": "imma kill you when i see you",
    "en.threat.reported": "he threatened my life on the phone",
    "en.threat.face": "he threatened to throw acid in my face",
    "en.imminent.with_adult_now": "she is with a man from discord at a motel right now",
    "en.self_harm.goodbye_place": "he posted I love you all and his location is the train bridge",
}


def test_shipped_files_load() -> None:
    loaded = engine.load()
    assert loaded.ruleset.rules
    english = [r for r in loaded.ruleset.rules if r.language == "en"]
    assert len(english) >= 40
    assert {r.family for r in english} == set(engine.FAMILIES)


def test_every_phrase_rules_first_phrase_fires_it() -> None:
    loaded = engine.load()
    silent = []
    for rule in loaded.ruleset.rules:
        if rule.kind != "phrases":
            continue
        fired = {r.rule for r in loaded.score(rule.phrases[0], lang=rule.language).reasons}
        if rule.id not in fired:
            silent.append(f"{rule.path}:{rule.line}: {rule.id} ({rule.phrases[0]!r})")
    assert not silent, "\n".join(silent)


@pytest.mark.parametrize(("rule_id", "text"), sorted(EXAMPLES.items()))
def test_regex_and_near_rules_fire_on_their_example(rule_id: str, text: str) -> None:
    assert rule_id in {r.rule for r in engine.score(text, lang="en").reasons}


def test_every_english_regex_or_near_rule_has_an_example() -> None:
    rules = engine.load().ruleset.rules
    needing = {r.id for r in rules if r.language == "en" and r.kind != "phrases"}
    assert needing == set(EXAMPLES)


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("she says she will kill herself", "self_harm"),
        ("he wants to end his life", "self_harm"),
        ("I don't see the point of living anymore", "self_harm"),
        ("pay me or everyone sees your photos", "sextortion"),
        ("it will leak my pictures unless I send another payment", "sextortion"),
        ("he is outside the house right now", "imminent_danger"),
        ("come to the park alone in 20 minutes", "imminent_danger"),
    ],
)
def test_english_wordings_fire_their_family(text: str, family: str) -> None:
    loaded = engine.load()
    families = {
        rule.family
        for rule in loaded.ruleset.rules
        for r in loaded.score(text, lang="en").reasons
        if rule.id == r.rule
    }
    assert family in families


@pytest.mark.parametrize(
    "text",
    [
        "she says she will kill herself tonight",
        "he is going to kill himself",
        "I'm going to kill it at the exam tomorrow",
        "they want to kill themselves",
    ],
)
def test_kill_without_a_victim_is_not_a_threat(text: str) -> None:
    assert "en.threat.kill" not in {r.rule for r in engine.score(text, lang="en").reasons}


def test_a_plan_for_tonight_forces_p1() -> None:
    result = engine.score("my friend said she is going to kill herself tonight", lang="en")
    assert result.tier.value == "P1"
    assert "en.self_harm.plan_or_now" in {r.rule for r in result.reasons}
