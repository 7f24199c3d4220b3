"""The guided assistant: a decision tree from ``data/assistant.yaml``, one question per page.

No cookie and no server-side state: where the reporter is in the tree travels in the query
string (``?node=…&country=…``) and every answer is a plain link, so it works with JavaScript off.
The loader checks the whole tree at start-up: every answer leads somewhere that exists, every
node and ending is reachable from the start, there are no loops, and every category, page and
agency an ending names exists. A reporter can never reach a dead end.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from tipline.cases import categories
from tipline.guidance import jurisdictions, library
from tipline.guidance.datafile import DATA_DIR, GuidanceDataError, Reader, load_yaml

PATH = DATA_DIR / "assistant.yaml"
ENDING_KINDS = ("emergency", "report", "agency", "support", "guidance")
# Endings that show something per country, so the assistant asks where the reporter is.
NEEDS_COUNTRY = frozenset({"emergency", "agency", "support"})
MAX_ID = 64


@dataclass(frozen=True)
class Text:
    """One sentence in several languages; ``get`` falls back to English."""

    by_language: dict[str, str]

    def get(self, language: str) -> tuple[str, str]:
        """(text, language it is written in)."""
        if language in self.by_language:
            return self.by_language[language], language
        return self.by_language[library.REFERENCE_LANGUAGE], library.REFERENCE_LANGUAGE


@dataclass(frozen=True)
class Answer:
    label: Text
    next: str


@dataclass(frozen=True)
class Node:
    id: str
    question: Text
    help: Text | None
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class Ending:
    id: str
    kind: str
    title: Text
    text: Text
    category: str
    agency: str
    page: str
    pages: tuple[str, ...]

    @property
    def needs_country(self) -> bool:
        return self.kind in NEEDS_COUNTRY


@dataclass(frozen=True)
class Tree:
    start: str
    nodes: dict[str, Node]
    endings: dict[str, Ending]

    def step(self, step_id: str) -> Node | Ending | None:
        return self.nodes.get(step_id) or self.endings.get(step_id)


def _text(reader: Reader, key: str) -> Text:
    section = reader.section(key)
    languages = [code for code, _name in settings.LANGUAGES]
    section.only(*languages)
    if library.REFERENCE_LANGUAGE not in section.mapping:
        raise section.fail(None, "English (en) text is required")
    return Text({code: section.text(code) for code in languages if code in section.mapping})


def _optional_text(reader: Reader, key: str) -> Text | None:
    return _text(reader, key) if key in reader.mapping else None


def _ending(path: str, ending_id: str, reader: Reader) -> Ending:
    reader.only("kind", "title", "text", "category", "agency", "page", "pages")
    kind = reader.text("kind", max_length=20)
    if kind not in ENDING_KINDS:
        raise reader.fail("kind", f"must be one of: {', '.join(ENDING_KINDS)}")
    category = reader.text("category", required=kind == "report", max_length=40)
    if category and category not in categories.CODES:
        raise reader.fail("category", f"unknown category code {category!r}")
    agency = reader.text("agency", required=kind in {"agency", "support"}, max_length=40)
    if agency and agency not in jurisdictions.AGENCY_KINDS:
        raise reader.fail("agency", f"must be one of: {', '.join(jurisdictions.AGENCY_KINDS)}")
    page = reader.text("page", required=kind == "guidance", max_length=80)
    known_pages = set(library.slugs())
    if page and page not in known_pages:
        raise reader.fail("page", f"no guidance page {page!r}")
    pages = []
    for slug, line in reader.strings("pages", required=False):
        if slug not in known_pages:
            raise GuidanceDataError(path, line, f"{ending_id}.pages: no guidance page {slug!r}")
        pages.append(slug)
    title, text = _text(reader, "title"), _text(reader, "text")
    return Ending(
        id=ending_id,
        kind=kind,
        title=title,
        text=text,
        category=category,
        agency=agency,
        page=page,
        pages=tuple(pages),
    )


def _check_ids(reader: Reader, ids: list[str]) -> None:
    for step_id in ids:
        if len(step_id) > MAX_ID or not library.SLUG.match(step_id.replace("_", "-")):
            raise reader.fail(step_id, "ids are lower-case words joined by _")


def parse(path: Path | str, text: str) -> Tree:
    shown = str(path)
    top = Reader(shown, load_yaml(shown, text))
    top.only("start", "nodes", "endings")
    nodes_reader, endings_reader = top.section("nodes"), top.section("endings")
    _check_ids(nodes_reader, list(nodes_reader.mapping))
    _check_ids(endings_reader, list(endings_reader.mapping))
    for both in set(nodes_reader.mapping) & set(endings_reader.mapping):
        raise endings_reader.fail(both, "a node and an ending have the same id")
    targets = set(nodes_reader.mapping) | set(endings_reader.mapping)
    nodes: dict[str, Node] = {}
    for node_id in nodes_reader.mapping:
        node = nodes_reader.section(node_id)
        node.only("question", "help", "answers")
        answers = []
        for answer in node.items("answers"):
            answer.only("label", "next")
            label = _text(answer, "label")
            target = answer.text("next", max_length=MAX_ID)
            if target not in targets:
                raise answer.fail("next", f"no node or ending {target!r}")
            answers.append(Answer(label=label, next=target))
        if not answers:
            raise node.fail("answers", "a question needs at least one answer")
        question = _text(node, "question")
        nodes[node_id] = Node(
            id=node_id,
            question=question,
            help=_optional_text(node, "help"),
            answers=tuple(answers),
        )
    endings = {}
    for ending_id in endings_reader.mapping:
        ending = endings_reader.section(ending_id)
        endings[ending_id] = _ending(shown, ending_id, ending)
    start = top.text("start", max_length=MAX_ID)
    if start not in nodes:
        raise top.fail("start", f"no node {start!r}")
    tree = Tree(start=start, nodes=nodes, endings=endings)
    _check_shape(tree, nodes_reader, endings_reader)
    return tree


def _check_shape(tree: Tree, nodes_reader: Reader, endings_reader: Reader) -> None:
    """No loops, and nothing the start cannot reach."""
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(step_id: str, trail: list[str]) -> None:
        if step_id in visiting:
            loop = " → ".join([*trail[trail.index(step_id) :], step_id])
            raise nodes_reader.fail(step_id, f"the answers loop back: {loop}")
        if step_id in done or step_id in tree.endings:
            done.add(step_id)
            return
        visiting.add(step_id)
        for answer in tree.nodes[step_id].answers:
            visit(answer.next, [*trail, step_id])
        visiting.discard(step_id)
        done.add(step_id)

    visit(tree.start, [])
    for node_id in tree.nodes:
        if node_id not in done:
            raise nodes_reader.fail(node_id, "no answer leads here (unreachable)")
    for ending_id in tree.endings:
        if ending_id not in done:
            raise endings_reader.fail(ending_id, "no answer leads here (unreachable)")


@functools.cache
def load() -> Tree:
    return parse(PATH.relative_to(DATA_DIR.parent.parent.parent.parent), PATH.read_text("utf-8"))
