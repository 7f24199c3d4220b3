"""Tipline's /ispws against a client written from NCMEC's protocol description only.

One real server (``tipline serve``: gunicorn and the task workers) for the module; the partner
credential is made with the ``tipline credentials`` command, the hash bank with ``tipline hashes
import``. Every error path the protocol names is exercised, and every answer must carry a
``Request-ID``. The end-to-end case submits a report with two PDQ reference photos, finishes it,
and waits for the worker to file it, hash the files and match them against the bank.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

from tests.interop.ncmec_client import Answer, CyberTiplineClient, file_details_xml, report_xml
from tests.live import TIPLINE, LiveServer
from tests.pdq_data import pdq_data

PDQ_DATA = pdq_data()
XSD = Path("/work/shared/data/cybertipline/cybertipline-report.xsd")
BRIDGE_PDQ = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"
C_PNG_PDQ = "e64cc9d91e623842f8d1f1d9a398e78c9f199a3bd87924f2b7e11e0bf061b064"

pytestmark = pytest.mark.skipif(not PDQ_DATA.is_dir(), reason="PDQ reference photos not present")


def tipline(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TIPLINE, *args], env=server.env(), capture_output=True, text=True, check=False
    )


def basic_credential(server: LiveServer, name: str) -> tuple[str, str]:
    made = tipline(
        server, "credentials", "create", "--name", name, "--kind", "partner",
        "--scope", "cybertipline",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    username = re.search(r"^username: (\S+)$", made.stdout, re.M)
    password = re.search(r"^password: (\S+)$", made.stdout, re.M)
    assert username, made.stdout
    assert password, made.stdout
    return username.group(1), password.group(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(root=tmp_path_factory.mktemp("ispws"))
    live.setup()
    vics = live.root / "bank.json"
    vics.write_text(
        json.dumps(
            {
                "value": [
                    {"MediaID": 1, "Category": 1,
                     "AlternativeHashes": [{"HashName": "PDQ", "HashValue": BRIDGE_PDQ}]},
                    {"MediaID": 2, "Category": 1,
                     "AlternativeHashes": [{"HashName": "PDQ", "HashValue": C_PNG_PDQ}]},
                ]
            }
        )
    )  # fmt: skip
    imported = tipline(
        live, "hashes", "import", "--bank", "known", "--format", "vics", str(vics),
        "--create", "--classification", "baseline",
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def creds(server: LiveServer) -> tuple[str, str]:
    return basic_credential(server, "Example Platform")


@pytest.fixture
def client(server: LiveServer, creds: tuple[str, str]) -> Iterator[CyberTiplineClient]:
    c = CyberTiplineClient(server.url, *creds)
    yield c
    c.close()


def ok(answer: Answer) -> Answer:
    assert answer.request_id, "every answer carries a Request-ID"
    assert answer.code == 0, (answer.http_status, answer.code, answer.description)
    return answer


def refused(answer: Answer, code: int | None = None) -> Answer:
    assert answer.request_id, "every answer carries a Request-ID"
    assert answer.code not in (None, 0), answer
    assert answer.http_status >= 400
    if code is not None:
        assert answer.code == code, (answer.code, answer.description)
    return answer


def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def test_status_and_schema(client: CyberTiplineClient) -> None:
    status = ok(client.status())
    assert status.root == "reportResponse"
    assert status.report_id is None
    assert schema().validate(etree.fromstring(status.body))
    xsd = client.xsd()
    assert xsd.status_code == 200
    assert xsd.headers.get("Request-ID")
    assert xsd.content == XSD.read_bytes()


@pytest.mark.parametrize(
    "auth",
    [
        None,
        ("credential-1", "tlb_" + "a" * 52),  # right shape, wrong secret
        ("someone", "password"),
        ("credential-99999", "tlb_" + "b" * 52),
    ],
)
def test_bad_credentials_answer_1000_with_a_challenge(server: LiveServer, auth: object) -> None:
    for method, path in (("GET", "/status"), ("POST", "/submit"), ("POST", "/finish")):
        response = httpx.request(method, f"{server.url}/ispws{path}", auth=auth, timeout=10)  # type: ignore[arg-type]
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
        assert response.headers.get("Request-ID")
        assert etree.fromstring(response.content).findtext("responseCode") == "1000"


def test_garbage_authorization_headers(server: LiveServer) -> None:
    for header in (
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"\xff\xfe:\xed\xa0\x80").decode(),
        "Basic " + base64.b64encode(b"credential-1").decode(),
        "Bearer tl_" + "a" * 52,
        "Basic " + "A" * 5000,
    ):
        response = httpx.get(
            f"{server.url}/ispws/status", headers={"Authorization": header}, timeout=10
        )
        assert response.status_code == 401, header
        assert response.headers.get("Request-ID")


def test_revoked_partner_is_refused(server: LiveServer) -> None:
    username, password = basic_credential(server, "Soon Revoked")
    c = CyberTiplineClient(server.url, username, password)
    ok(c.status())
    revoked = tipline(server, "credentials", "revoke", username.removeprefix("credential-"))
    assert revoked.returncode == 0, revoked.stderr
    refused(c.status(), 1000)
    c.close()


def test_malformed_and_invalid_reports(client: CyberTiplineClient) -> None:
    refused(client.submit(b"<report><incidentSummary>"), 4110)
    refused(client.submit(b"not xml at all"), 4110)
    refused(client.submit(b""), 4110)
    # Schema violations: an unknown incident type, a missing reporter, the wrong root.
    refused(client.submit(report_xml(incident_type="Something Else")), 4100)
    no_reporter = report_xml().replace(
        re.search(rb"<reporter>.*</reporter>", report_xml()).group(0),
        b"",  # type: ignore[union-attr]
    )
    refused(client.submit(no_reporter), 4100)
    refused(
        client.submit(b"<fileDetails><reportId>1</reportId><fileId>x</fileId></fileDetails>"), 4100
    )
    # The protocol's own rules beside the schema: a zone, and a time in the past.
    refused(client.submit(report_xml(incident_time="2026-11-30T10:00:00")), 4100)
    refused(client.submit(report_xml(incident_time="2999-01-01T00:00:00Z")), 4100)


def test_hostile_documents(client: CyberTiplineClient) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE report [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        b"]><report>&c;</report>"
    )
    refused(client.submit(laughs), 4110)
    external = (
        b'<?xml version="1.0"?><!DOCTYPE report [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<report>&x;</report>"
    )
    answer = refused(client.submit(external), 4110)
    assert b"root:" not in answer.body
    refused(client.submit(b"<report>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</report>"), 4110)
    # A lone surrogate (CESU-8 bytes) is not UTF-8.
    refused(client.submit(report_xml(additional_info="x").replace(b">x<", b">\xed\xa0\x80<")), 4110)
    huge = client.submit(b"<report>" + b"a" * (3 * 1024 * 1024) + b"</report>")
    refused(huge)
    assert huge.http_status == 413
    refused(client.submit(report_xml(), content_type="application/json"), 3000)
    refused(client.submit(report_xml(), content_type="text/xml; charset=latin-1"), 3000)


def test_upload_fileinfo_finish_retract_errors(client: CyberTiplineClient) -> None:
    photo = (PDQ_DATA / "misc-images" / "wee.jpg").read_bytes()
    # Upload to a report that does not exist (or that is not this partner's).
    refused(client.upload(999999, "a.jpg", photo), 3100)
    refused(client.upload("not-a-number", "a.jpg", photo), 3000)
    opened = ok(client.submit(report_xml(urls=("https://bad.example/page",))))
    rid = opened.report_id
    assert rid is not None
    up = ok(client.upload(rid, "../../etc/passwd", photo))
    assert up.file_id
    assert re.fullmatch(r"[0-9a-f]{32}", up.file_id)
    import hashlib

    assert up.hash == hashlib.md5(photo).hexdigest()  # noqa: S324 - the protocol's hash
    # fileinfo: malformed, schema-invalid, unknown file, then once, then twice.
    refused(client.fileinfo(b"<fileDetails>"), 4110)
    refused(client.fileinfo(file_details_xml(rid, up.file_id, classification="Z9")), 4100)
    refused(client.fileinfo(file_details_xml(rid, "0" * 32)), 3300)
    ok(client.fileinfo(file_details_xml(rid, up.file_id)))
    refused(client.fileinfo(file_details_xml(rid, up.file_id)))
    # A file the service does not accept.
    refused(client.upload(rid, "empty.bin", b""), 4200)
    done = ok(client.finish(rid))
    assert done.root == "reportDoneResponse"
    assert done.report_id == rid
    assert done.files == [up.file_id]
    assert schema().validate(etree.fromstring(done.body))
    # A finished report cannot be finished again, changed, or retracted.
    again = refused(client.finish(rid), 5102)
    assert again.root == "reportDoneResponse"
    assert again.report_id == rid
    refused(client.upload(rid, "b.jpg", photo), 5102)
    refused(client.fileinfo(file_details_xml(rid, up.file_id)), 5102)
    refused(client.retract(rid), 5102)
    # Finishing a report that does not exist still names the id asked for.
    unknown = refused(client.finish(987654))
    assert unknown.root == "reportDoneResponse"
    assert unknown.report_id == 987654


def test_retract_then_everything_is_refused(client: CyberTiplineClient) -> None:
    rid = ok(client.submit(report_xml())).report_id
    assert rid is not None
    ok(client.retract(rid, multipart=True))
    refused(client.retract(rid), 5101)
    refused(client.finish(rid), 5101)
    refused(client.upload(rid, "a.txt", b"notes"), 5101)


def test_finish_accepts_multipart_and_urlencoded(client: CyberTiplineClient) -> None:
    first = ok(client.submit(report_xml())).report_id
    second = ok(client.submit(report_xml())).report_id
    assert ok(client.finish(first, multipart=True)).report_id == first  # type: ignore[arg-type]
    assert ok(client.finish(second)).report_id == second  # type: ignore[arg-type]


def test_another_partner_cannot_touch_my_report(
    server: LiveServer, client: CyberTiplineClient
) -> None:
    rid = ok(client.submit(report_xml())).report_id
    other = CyberTiplineClient(server.url, *basic_credential(server, "Other Platform"))
    photo = (PDQ_DATA / "misc-images" / "wee.jpg").read_bytes()
    # Exactly the answer for an id that does not exist.
    assert (
        refused(other.upload(rid, "a.jpg", photo)).code
        == refused(other.upload(10**12, "a.jpg", photo)).code
    )
    refused(other.retract(rid))  # type: ignore[arg-type]
    refused(other.finish(rid))  # type: ignore[arg-type]
    other.close()
    ok(client.retract(rid))  # type: ignore[arg-type]


def test_unknown_calls_answer_404_with_a_request_id(server: LiveServer) -> None:
    for path in ("/nope", "/status/extra", "/STATUS"):
        response = httpx.post(f"{server.url}/ispws{path}", timeout=10)
        assert response.status_code == 404, path
        assert response.headers.get("Request-ID"), path


def test_wrong_methods(server: LiveServer, creds: tuple[str, str]) -> None:
    for method, path in (("POST", "/status"), ("GET", "/submit"), ("PUT", "/finish")):
        response = httpx.request(method, f"{server.url}/ispws{path}", auth=creds, timeout=10)
        assert response.status_code == 405
        assert response.headers.get("Request-ID")


QUERY = """
import json, sys, django
django.setup()
from tipline.cybertipline.models import Submission
from tipline.matching.models import FileMatch
from tipline.cases.models import EvidenceFile
s = Submission.objects.select_related("report").get(pk=int(sys.argv[1]))
r = s.report
files = EvidenceFile.objects.filter(report=r)
matches = FileMatch.objects.filter(evidence__report=r)
print(json.dumps({
    "state": s.state, "channel": r.channel, "category": r.category, "report_state": r.state,
    "files": files.count(),
    "matched_files": matches.values("evidence").distinct().count(),
    "banks": sorted(set(matches.values_list("entry__bank__name", flat=True))),
    "triaged": hasattr(r, "triage"),
    "identifiers": sorted(set(r.identifiers.values_list("kind", flat=True))),
}))
"""


def server_state(server: LiveServer, report_id: int) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", QUERY, str(report_id)],
        env=server.env(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_end_to_end_two_photos_matched_in_the_queue(
    server: LiveServer, client: CyberTiplineClient
) -> None:
    rid = ok(
        client.submit(
            report_xml(
                urls=("https://files.example/album/7", "https://files.example/album/8"),
                reported_email="uploader@mail.example",
                reported_screen_name="uploader_77",
                reported_phone="+44 20 7946 0000",
                platform="Example Photos",
                additional_info="Two images flagged by hash on upload; account disabled.",
            )
        )
    ).report_id
    assert rid is not None
    file_ids = []
    for path in (PDQ_DATA / "bridge-mods" / "blur-a-lot.jpg", PDQ_DATA / "misc-images" / "c.png"):
        up = ok(client.upload(rid, path.name, path.read_bytes()))
        file_ids.append(up.file_id)
        ok(
            client.fileinfo(
                file_details_xml(
                    rid, up.file_id or "", classification="A1",
                    original_hashes=(("MD5", up.hash or ""),), original_name=path.name,
                )
            )
        )  # fmt: skip
    done = ok(client.finish(rid))
    assert done.files == file_ids
    deadline = time.monotonic() + 120
    state: dict[str, object] = {}
    while time.monotonic() < deadline:
        state = server_state(server, rid)
        if state["matched_files"] == 2 and state["triaged"]:
            break
        time.sleep(1)
    assert state["state"] == "finished"
    assert state["channel"] == "cybertipline"
    assert state["category"] == "csam"
    assert state["report_state"] == "new"  # in the queue
    assert state["files"] == 2, state
    assert state["matched_files"] == 2, state
    assert state["banks"] == ["known"]
    assert state["triaged"] is True
    assert {"url", "email", "handle", "phone", "sha256"} <= set(state["identifiers"]), state  # type: ignore[arg-type]
