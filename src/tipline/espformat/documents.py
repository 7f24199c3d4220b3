"""Reading and writing CyberTipline XML (NCMEC's "ESP incident reporting format") safely.

Every document a partner sends is hostile until proven otherwise, so it passes four gates in
order, each refusing with a typed error the endpoint turns into a response code:

1. size: at most ``MAX_DOCUMENT_BYTES`` (checked before any parsing);
2. defusedxml (expat) with ``forbid_dtd``: no DOCTYPE at all, so no entity (billion laughs,
   external entities, DTD retrieval) ever reaches a parser that would expand or fetch it;
3. lxml with entity resolution, network access and DTD loading off and libxml2's default
   limits (no ``huge_tree``), then a depth check (``MAX_DEPTH``) and an element-count check;
4. the XSD (``data/cybertipline-report.xsd``, the schema NCMEC serves at ``/xsd``), plus the one
   rule the protocol states beside it: ``incidentDateTime`` is in the past.

The same schema validates what Tipline itself sends (``tipline.outputs.cybertipline``).
"""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from django.utils import timezone
from lxml import etree

SCHEMA_PATH = Path(__file__).parent / "data" / "cybertipline-report.xsd"
MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_DEPTH = 32  # the schema's deepest path is under 10 levels
MAX_ELEMENTS = 20_000


class DocumentError(Exception):
    """Base of the errors below; the message is safe to send back (it quotes no content)."""


class Malformed(DocumentError):
    """Not well-formed, too big, too deep, or carrying a DTD or entities (code 4110)."""


class Invalid(DocumentError):
    """Well-formed but not valid against the schema, or the wrong root (code 4100)."""


@functools.cache
def schema() -> etree.XMLSchema:
    # The schema is our own data file: parsed once, with the same no-network parser.
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH), safe_parser()))


def schema_bytes() -> bytes:
    return SCHEMA_PATH.read_bytes()


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_untrusted_answer(body: bytes) -> etree._Element:
    """A service's ``reportResponse``/``reportDoneResponse`` (our client reading an answer):
    the same gates as ``parse`` but the schema, since services add to their answers."""
    if len(body) > MAX_DOCUMENT_BYTES or not body.strip():
        raise Malformed("The answer is empty or too large.")
    try:
        SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        document = etree.fromstring(body, safe_parser())
    except (DefusedXmlException, SafeET.ParseError, etree.XMLSyntaxError, ValueError):
        raise Malformed("The answer is not well-formed XML without a DTD.") from None
    _check_shape(document)
    if document.tag not in ("reportResponse", "reportDoneResponse"):
        raise Invalid("The answer is not a reportResponse.")
    return document


def parse_stored(body: bytes) -> etree._Element:
    """A document this code validated before it sealed it (still read with the safe parser)."""
    return etree.fromstring(body, safe_parser())


def _check_shape(root: etree._Element) -> None:
    count = 0
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise Malformed(f"The document nests deeper than {MAX_DEPTH} levels.")
        if count > MAX_ELEMENTS:
            raise Malformed(f"The document has more than {MAX_ELEMENTS} elements.")
        stack.extend((child, depth + 1) for child in element)


def parse(body: bytes, *, root: str) -> etree._Element:
    """The validated document whose root element is ``root`` (``report`` or ``fileDetails``)."""
    if len(body) > MAX_DOCUMENT_BYTES:
        raise Malformed(f"The document is larger than {MAX_DOCUMENT_BYTES} bytes.")
    if not body.strip():
        raise Malformed("The request has no XML document.")
    try:
        SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise Malformed("Document type declarations and entities are not accepted.") from None
    except SafeET.ParseError:
        raise Malformed("The document is not well-formed XML.") from None
    try:
        document = etree.fromstring(body, safe_parser())
    except (etree.XMLSyntaxError, ValueError):
        raise Malformed("The document is not well-formed XML.") from None
    _check_shape(document)
    if document.tag != root:
        raise Invalid(f"The document's root element must be <{root}>.")
    validator = schema()
    if not validator.validate(document):
        raise Invalid(_first_error(validator))
    if root == "report":
        _check_incident_time(document)
    return document


def _first_error(validator: etree.XMLSchema) -> str:
    errors = validator.error_log
    first = errors[0] if len(errors) else None
    # libxml2's message names elements and types from the schema (and may quote a value the
    # partner sent back to that same partner); it never includes anything of ours.
    return f"line {first.line}: {first.message}"[:500] if first is not None else "invalid"


def _check_incident_time(document: etree._Element) -> None:
    text = document.findtext("incidentSummary/incidentDateTime") or ""
    when = parse_datetime(text)
    if when is None:
        raise Invalid("incidentDateTime must be an ISO 8601 time with a zone (Z or ±hh:mm).")
    if when > timezone.now():
        raise Invalid("incidentDateTime must be in the past.")


def parse_datetime(text: str) -> datetime | None:
    """An xs:dateTime with its zone, or None (a time without a zone is ambiguous)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def serialise(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def text_of(element: etree._Element | None) -> str:
    return "" if element is None else "".join(element.itertext()).strip()
