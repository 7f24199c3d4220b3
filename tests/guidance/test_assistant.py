"""The guided assistant: every path through the tree, the schema, and tampered parameters."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from tipline.cases import categories
from tipline.guidance import assistant, jurisdictions, library
from tipline.guidance.datafile import GuidanceDataError

pytestmark = pytest.mark.django_db


def all_paths(tree: assistant.Tree) -> list[list[str]]:
    """Every path from the start to an ending (depth-first; the loader already refuses loops)."""
    paths: list[list[str]] = []

    def walk(step: str, trail: list[str]) -> None:
        assert step not in trail, f"loop: {[*trail, step]}"
        assert len(trail) < 20, f"path too long: {trail}"
        if step in tree.endings:
            paths.append([*trail, step])
            return
        node = tree.nodes[step]
        assert node.answers, f"dead end at {step}"
        for answer in node.answers:
            walk(answer.next, [*trail, step])

    walk(tree.start, [])
    return paths


def test_every_path_ends_somewhere_useful() -> None:
    tree = assistant.load()
    paths = all_paths(tree)
    visited = {step for path in paths for step in path}
    assert visited == set(tree.nodes) | set(tree.endings), "unreachable nodes or endings"
    slugs = set(library.slugs())
    for path in paths:
        ending = tree.endings[path[-1]]
        assert ending.kind in assistant.ENDING_KINDS
        # Useful: a number, a form, an agency, a helpline or a page, and always a next step.
        assert ending.category or ending.page, path
        assert not ending.category or ending.category in categories.CODES
        assert not ending.page or ending.page in slugs
        assert set(ending.pages) <= slugs
        assert not ending.agency or ending.agency in jurisdictions.AGENCY_KINDS
        assert len(path) <= 5, f"asks too much before helping: {path}"
    # The tree offers each kind of ending at least once.
    assert {tree.endings[p[-1]].kind for p in paths} == set(assistant.ENDING_KINDS)


def test_danger_is_the_first_question() -> None:
    tree = assistant.load()
    assert tree.start == "danger"
    emergency = [e for e in tree.endings.values() if e.kind == "emergency"]
    assert any(tree.nodes["danger_who"].answers[0].next == e.id for e in emergency)


def _walk_pages(client: Client, url: str, trail: list[str], seen: list[str]) -> None:
    response = client.get(url)
    assert response.status_code == 200, (url, trail)
    assert not response.cookies
    body = response.content.decode()
    # Answers only: the "Previous question" and "Start again" links lead back up the tree.
    links = re.findall(r'class="category" href="(/en/help/assistant/\?node=[^"]+)"', body)
    if not links:
        seen.append(url)
        return
    for link in links:
        _walk_pages(client, link.replace("&amp;", "&"), [*trail, url], seen)


def test_every_path_walks_through_the_real_pages(client: Client) -> None:
    """Follow every answer link as a browser without JavaScript would, to every ending."""
    endings: list[str] = []
    _walk_pages(client, "/en/help/assistant/", [], endings)
    tree = assistant.load()
    reached = {parse_qs(urlsplit(u).query)["node"][0] for u in endings}
    assert reached == set(tree.endings)


@pytest.mark.parametrize("code", sorted(jurisdictions.load()))
def test_each_country_ending_shows_numbers_or_a_clear_fallback(client: Client, code: str) -> None:
    tree = assistant.load()
    entry = jurisdictions.load()[code]
    for ending in tree.endings.values():
        if not ending.needs_country:
            continue
        body = client.get(f"/en/help/assistant/?node={ending.id}&country={code}").content.decode()
        if ending.kind == "emergency":
            for number in entry.emergency.numbers:
                assert f'href="{jurisdictions.tel_href(number)}"' in body
        elif (agency := entry.agency(ending.agency)) is not None:
            assert agency.name.replace("'", "&#x27;") in body
        else:
            assert "We do not have a checked service" in body
        assert f"/en/report/{ending.category}/" in body


def test_emergency_without_a_country_shows_every_number_at_once(client: Client) -> None:
    body = client.get("/en/help/assistant/?node=emergency_child").content.decode()
    for entry in jurisdictions.load().values():
        for number in entry.emergency.numbers:
            assert f'href="{jurisdictions.tel_href(number)}"' in body
    assert 'name="country"' in body  # and offers to narrow it down


@pytest.mark.parametrize(
    "query",
    [
        "node=nope",
        "node=" + "x" * 10_000,
        "node=danger%00",
        "node=<script>",
        "node=__class__",
    ],
)
def test_tampered_steps_get_a_friendly_page(client: Client, query: str) -> None:
    response = client.get(f"/en/help/assistant/?{query}")
    assert response.status_code == 404
    body = response.content.decode()
    assert "We could not find that step" in body
    assert "<script>" not in body.split("<main")[1]


@pytest.mark.parametrize(
    "country", ["ZZ", "gb", "<b>", "x" * 5000, "GB%00", "../../etc", "other", ""]
)
def test_tampered_countries_get_a_friendly_page(client: Client, country: str) -> None:
    response = client.get(f"/en/help/assistant/?node=emergency_child&country={country}")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'href="tel:911"' in body  # the full list is still there
    assert "<b>" not in body.split("<main")[1]


def test_repeated_and_extra_parameters_are_harmless(client: Client) -> None:
    response = client.get("/en/help/assistant/?node=danger&node=nope&x=1&country=GB")
    assert response.status_code in (200, 404)
    assert client.post("/en/help/assistant/").status_code == 405


def test_other_languages_fall_back_to_english_text_marked_lang_en(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    english_only = assistant.parse("t.yaml", TREE)
    monkeypatch.setattr(assistant, "load", lambda: english_only)
    body = client.get("/hi/help/assistant/").content.decode()
    # The first question sits under the "in your own words" box (issue 20): an h3 there.
    assert '<h3 lang="en">Question?</h3>' in body
    assert 'href="/hi/help/assistant/?node=b&amp;trail=' in body


def test_a_translated_question_is_marked_with_its_language(client: Client) -> None:
    tree = assistant.load()
    text, language = tree.nodes[tree.start].question.get("fr")
    body = client.get("/fr/help/assistant/").content.decode()
    assert f'<h3 lang="{language}">{text}</h3>' in body.replace("&#x27;", "'")


# --- schema --------------------------------------------------------------------------------------

TREE = """\
start: a
nodes:
  a:
    question: {en: "Question?"}
    answers:
      - label: {en: One}
        next: b
      - label: {en: Two}
        next: done
  b:
    question: {en: "Second?"}
    answers:
      - label: {en: Three}
        next: done
endings:
  done:
    kind: report
    category: other
    title: {en: Title}
    text: {en: Text}
"""


def test_a_good_tree_parses() -> None:
    tree = assistant.parse("t.yaml", TREE)
    assert set(tree.nodes) == {"a", "b"}
    assert set(tree.endings) == {"done"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("next: b", "next: missing"), "t.yaml:7: nodes.a.answers[0].next: no node or ending"),
        (
            ("next: done\nendings", "next: a\nendings"),
            "t.yaml:3: nodes.a: the answers loop back: a → b → a",
        ),
        (("start: a", "start: b"), "t.yaml:3: nodes.a: no answer leads here"),
        (("category: other", "category: nope"), "t.yaml:18: endings.done.category: unknown"),
        (("kind: report", "kind: teleport"), "t.yaml:17: endings.done.kind: must be one of"),
        (("{en: Title}", "{fr: Titre}"), "t.yaml:19: endings.done.title: English (en) text"),
        (("{en: Title}", "{en: Title, xx: T}"), "t.yaml:19: endings.done.title.xx: unknown"),
        (("    category: other\n", "    category: other\n    page: nope\n"), "no guidance page"),
        (("kind: report", "kind: support"), "t.yaml:17: endings.done.agency: required"),
        (("  b:\n", "  b:\n  b:\n"), "duplicate key"),
        (("{en: Three}", "{en: Yes}"), "t.yaml:13: nodes.b.answers[0].label.en: must be text"),
    ],
)
def test_tree_mistakes_name_file_line_and_field(change: tuple[str, str], message: str) -> None:
    with pytest.raises(GuidanceDataError) as caught:
        assistant.parse("t.yaml", TREE.replace(*change, 1))
    assert message in str(caught.value)


def test_previous_question_goes_back_one_answer_and_a_tampered_trail_is_dropped(
    client: Client,
) -> None:
    tree = assistant.load()
    first = client.get("/en/help/assistant/").content.decode()
    assert "Previous question" not in first
    onward = re.findall(r'class="category" href="([^"]+)"', first)[0].replace("&amp;", "&")
    second = client.get(onward).content.decode()
    assert f'href="/en/help/assistant/?node={tree.start}">Previous question</a>' in second
    for trail in ("nosuchstep", "x" * 5000, ",".join([tree.start] * 50), "<script>"):
        response = client.get(f"/en/help/assistant/?node={tree.start}&trail={trail}")
        assert response.status_code == 200
        assert "Previous question" not in response.content.decode()


def test_previous_question_stays_after_a_country_is_chosen(client: Client) -> None:
    """The country picker is a GET form of its own: it must carry the answers so far."""
    tree = assistant.load()
    ending = next(node for node in tree.endings.values() if node.needs_country)
    parent = next(
        node.id
        for node in tree.nodes.values()
        if any(answer.next == ending.id for answer in node.answers)
    )
    page = client.get(f"/en/help/assistant/?node={ending.id}&trail={parent}").content.decode()
    assert f'name="trail" value="{parent}"' in page
    chosen = client.get(
        f"/en/help/assistant/?node={ending.id}&trail={parent}&country=GB"
    ).content.decode()
    assert f'href="/en/help/assistant/?node={parent}">Previous question</a>' in chosen
