"""A client of NCMEC's CyberTipline Reporting API, written from the protocol description only
(``/work/shared/data/cybertipline/README.md``: paths, fields, response elements, codes).

It deliberately imports nothing from ``tipline``: the tests use it to hold Tipline's ``/ispws``
to the published protocol, not to our own idea of it. What it knows:

- base path ``/ispws``; HTTP Basic sent pre-emptively on every call;
- ``GET /status``, ``GET /xsd``; ``POST /submit`` (one ``<report>``, ``text/xml; charset=utf-8``)
  → ``reportResponse`` with ``reportId``; ``POST /upload`` (multipart ``id`` and ``file``) →
  ``fileId`` (32 hex) and ``hash`` (MD5 of the file); ``POST /fileinfo`` (one ``<fileDetails>``);
  ``POST /finish`` (field ``id``) → ``reportDoneResponse`` (``responseCode``, ``reportId``,
  ``files/fileId*``); ``POST /retract`` (field ``id``);
- ``responseCode`` 0 is success; 1000 authentication required (HTTP 401 with
  ``WWW-Authenticate: Basic``); 4100 validation failed (HTTP 400 at ``/finish``); 4110 malformed
  XML; 5101 already retracted; 5102 already finished;
- every answer carries ``Request-ID``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape

import httpx
from lxml import etree

XML_CONTENT_TYPE = "text/xml; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    """One response: HTTP status, the response document's fields, and the Request-ID header."""

    http_status: int
    request_id: str | None
    root: str  # reportResponse / reportDoneResponse / (the schema's root for /xsd)
    code: int | None
    description: str = ""
    report_id: int | None = None
    file_id: str | None = None
    hash: str | None = None
    files: list[str] = field(default_factory=list)
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytes = b""


def _parse(response: httpx.Response) -> Answer:
    # Responses are read with a parser that resolves no entities and fetches nothing.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    doc = etree.fromstring(response.content, parser)
    code = doc.findtext("responseCode")
    report_id = doc.findtext("reportId")
    return Answer(
        http_status=response.status_code,
        request_id=response.headers.get("Request-ID"),
        root=str(doc.tag),
        code=int(code) if code is not None else None,
        description=doc.findtext("responseDescription") or "",
        report_id=int(report_id) if report_id else None,
        file_id=doc.findtext("fileId") if doc.tag == "reportResponse" else None,
        hash=doc.findtext("hash"),
        files=[e.text or "" for e in doc.iterfind("files/fileId")],
        headers=response.headers,
        body=response.content,
    )


class CyberTiplineClient:
    def __init__(self, base_url: str, username: str, password: str, *, timeout: float = 30):
        self.http = httpx.Client(
            base_url=base_url.rstrip("/") + "/ispws", auth=(username, password), timeout=timeout
        )

    def close(self) -> None:
        self.http.close()

    def status(self) -> Answer:
        return _parse(self.http.get("/status"))

    def xsd(self) -> httpx.Response:
        return self.http.get("/xsd")

    def submit(self, report_xml: bytes, *, content_type: str = XML_CONTENT_TYPE) -> Answer:
        return _parse(
            self.http.post("/submit", content=report_xml, headers={"Content-Type": content_type})
        )

    def upload(self, report_id: int | str, name: str, data: bytes) -> Answer:
        return _parse(
            self.http.post(
                "/upload",
                data={"id": str(report_id)},
                files={"file": (name, data, "application/octet-stream")},
            )
        )

    def fileinfo(self, details_xml: bytes) -> Answer:
        return _parse(
            self.http.post(
                "/fileinfo", content=details_xml, headers={"Content-Type": XML_CONTENT_TYPE}
            )
        )

    def finish(self, report_id: int | str, *, multipart: bool = False) -> Answer:
        return self._id_call("/finish", report_id, multipart)

    def retract(self, report_id: int | str, *, multipart: bool = False) -> Answer:
        return self._id_call("/retract", report_id, multipart)

    def _id_call(self, path: str, report_id: int | str, multipart: bool) -> Answer:
        if multipart:
            # httpx sends multipart when files= is given; an empty one carries no file part.
            response = self.http.post(path, data={"id": str(report_id)}, files={"_": ("", b"")})
        else:
            response = self.http.post(path, data={"id": str(report_id)})
        return _parse(response)


def report_xml(
    *,
    incident_type: str = "Child Pornography (possession, manufacture, and distribution)",
    incident_time: str = "2026-11-30T10:00:00Z",
    urls: tuple[str, ...] = (),
    annotations: tuple[str, ...] = (),
    reported_email: str | None = None,
    reported_screen_name: str | None = None,
    reported_phone: str | None = None,
    platform: str | None = None,
    additional_info: str | None = None,
) -> bytes:
    """A minimal ``<report>`` in the fixed sequence the README gives."""
    parts = [
        "<report>",
        "<incidentSummary>",
        f"<incidentType>{escape(incident_type)}</incidentType>",
    ]
    if platform:
        parts.append(f"<platform>{escape(platform)}</platform>")
    if annotations:
        parts.append(
            "<reportAnnotations>"
            + "".join(f"<{a}>true</{a}>" for a in annotations)
            + "</reportAnnotations>"
        )
    parts.append(f"<incidentDateTime>{incident_time}</incidentDateTime></incidentSummary>")
    if urls:
        parts.append(
            "<internetDetails><webPageIncident>"
            + "".join(f"<url>{escape(u)}</url>" for u in urls)
            + "</webPageIncident></internetDetails>"
        )
    parts.append(
        "<reporter><reportingPerson><firstName>Trust</firstName><lastName>Safety</lastName>"
        "<email>safety@platform.example</email></reportingPerson></reporter>"
    )
    if reported_email or reported_screen_name or reported_phone:
        parts.append("<personOrUserReported>")
        if reported_email or reported_phone:
            parts.append("<personOrUserReportedPerson>")
            if reported_phone:
                parts.append(f"<phone>{escape(reported_phone)}</phone>")
            if reported_email:
                parts.append(f"<email>{escape(reported_email)}</email>")
            parts.append("</personOrUserReportedPerson>")
        if reported_screen_name:
            parts.append(f"<screenName>{escape(reported_screen_name)}</screenName>")
        parts.append("</personOrUserReported>")
    if additional_info:
        parts.append(f"<additionalInfo>{escape(additional_info)}</additionalInfo>")
    parts.append("</report>")
    return ('<?xml version="1.0" encoding="UTF-8"?>' + "".join(parts)).encode()


def file_details_xml(
    report_id: int,
    file_id: str,
    *,
    classification: str | None = "A1",
    original_hashes: tuple[tuple[str, str], ...] = (),
    original_name: str | None = None,
) -> bytes:
    parts = [
        "<fileDetails>",
        f"<reportId>{report_id}</reportId>",
        f"<fileId>{escape(file_id)}</fileId>",
    ]
    if original_name:
        parts.append(f"<originalFileName>{escape(original_name)}</originalFileName>")
    if classification:
        parts.append(f"<industryClassification>{classification}</industryClassification>")
    for kind, value in original_hashes:
        parts.append(
            f'<originalFileHash hashType="{escape(kind)}">{escape(value)}</originalFileHash>'
        )
    parts.append("</fileDetails>")
    return "".join(parts).encode()
