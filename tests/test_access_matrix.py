"""Access-control matrix: every URL the project serves, and who may use it with which method.

Adding a page or endpoint without a row here fails `test_every_url_is_in_the_matrix`. Every
console page but the sign-in steps sends an anonymous visitor to sign in. `ROLE_MATRIX` gives the
columns for each staff role, signed in with both factors: a role that may not open a report gets
the same 404 as a report that does not exist (and as a random id: IDOR attempts learn nothing).
"""

from __future__ import annotations

import re
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests import factories
from tests.console.helpers import signed_in
from tipline.cases import actions, review, transitions
from tipline.cases.models import Agency
from tipline.cases.states import Outcome
from tipline.staff.models import StaffUser

pytestmark = pytest.mark.django_db

# Console pages about reports: the middleware sends every anonymous request to sign in.
ANON = {"GET": 302, "POST": 302}
# Evidence locker pages behind a session token: without one, POST gets the open page (403);
# GET (Back, Reload, a typed address) gets the open page too, showing nothing of the locker.
LOCKED = {"GET": 200, "POST": 403, "PUT": 405}
# route pattern -> (example path, {method: expected status for an anonymous visitor})
MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "": ("/", {"GET": 302}),
    "api/v1/reports": ("/api/v1/reports", {"GET": 405, "POST": 400}),
    "api/v1/followup/status": ("/api/v1/followup/status", {"GET": 405, "POST": 404}),
    "api/v1/followup/messages": ("/api/v1/followup/messages", {"GET": 405, "POST": 404}),
    "api/v1/openapi.json": ("/api/v1/openapi.json", {"GET": 200, "POST": 405}),
    # Staff and partners only: a bearer token (tipline.partners); anonymous callers get 401.
    "api/v1/match": ("/api/v1/match", {"GET": 405, "POST": 401, "PUT": 405}),
    # Partner hotlines only: their exchange credential and their signature (tipline.exchange).
    "api/v1/exchange/inbound": ("/api/v1/exchange/inbound", {"GET": 405, "POST": 401, "PUT": 405}),
    # The CyberTipline-compatible endpoint: HTTP Basic with a partner credential holding the
    # cybertipline scope on every call (1000/401 without); the wrong method is 405 before that.
    "ispws/status": ("/ispws/status", {"GET": 401, "POST": 405, "PUT": 405}),
    "ispws/xsd": ("/ispws/xsd", {"GET": 401, "POST": 405}),
    "ispws/submit": ("/ispws/submit", {"GET": 405, "POST": 401, "PUT": 405}),
    "ispws/upload": ("/ispws/upload", {"GET": 405, "POST": 401}),
    "ispws/fileinfo": ("/ispws/fileinfo", {"GET": 405, "POST": 401}),
    "ispws/finish": ("/ispws/finish", {"GET": 405, "POST": 401}),
    "ispws/retract": ("/ispws/retract", {"GET": 405, "POST": 401, "DELETE": 405}),
    "ispws/<path:rest>": ("/ispws/../../etc/passwd", {"GET": 404, "POST": 404}),
    # Partner routes (tipline.partnerapi): bearer token with scope "reports" or "hashes".
    "api/v1/partner/reports": ("/api/v1/partner/reports", {"GET": 405, "POST": 401}),
    "api/v1/partner/reports/<str:report_id>": (
        f"/api/v1/partner/reports/{uuid.uuid4()}",
        {"GET": 401, "POST": 405},
    ),
    "api/v1/partner/reports/<str:report_id>/files": (
        f"/api/v1/partner/reports/{uuid.uuid4()}/files",
        {"GET": 405, "POST": 401},
    ),
    "api/v1/banks/<str:name>/changes": ("/api/v1/banks/shared/changes", {"GET": 401, "POST": 405}),
    "api/v1/banks/<str:name>/vics": ("/api/v1/banks/shared/vics", {"GET": 401, "POST": 405}),
    "<lang>/": ("/en/", {"GET": 200, "POST": 405}),
    # The form at a neutral address (the home page's category buttons): GET and a post without a
    # category lead to the start page.
    "<lang>/report/": ("/en/report/", {"GET": 303, "POST": 303, "PUT": 405}),
    "<lang>/report/<slug:code>/": ("/en/report/other/", {"GET": 200, "POST": 400, "PUT": 405}),
    "<lang>/follow-up/": ("/en/follow-up/", {"GET": 200, "POST": 400}),
    "<lang>/follow-up/message/": ("/en/follow-up/message/", {"GET": 405, "POST": 400}),
    # The assistant's "in your own words" step: an empty post leads back to the assistant.
    "<lang>/assistant/": ("/en/assistant/", {"GET": 303, "POST": 303, "PUT": 405}),
    "<lang>/emergency/": ("/en/emergency/", {"GET": 200, "POST": 405}),
    "<lang>/leave/": ("/en/leave/", {"GET": 303, "POST": 303}),
    "<lang>/sent/": ("/en/sent/", {"GET": 200, "POST": 405}),
    # Anonymous reporter feedback (tipline.metrics.satisfaction): an empty post is a form error.
    "<lang>/feedback/": ("/en/feedback/", {"GET": 200, "POST": 400, "PUT": 405}),
    # The installable app: service worker and manifest at the root, the offline page per language.
    "sw.js": ("/sw.js", {"GET": 200, "POST": 405, "PUT": 405}),
    "manifest.webmanifest": ("/manifest.webmanifest", {"GET": 200, "POST": 405}),
    "<lang>/offline/": ("/en/offline/", {"GET": 200, "POST": 405}),
    "<lang>/help/": ("/en/help/", {"GET": 200, "POST": 405}),
    "<lang>/help/assistant/": ("/en/help/assistant/", {"GET": 200, "POST": 405}),
    "<lang>/help/<slug:slug>/": ("/en/help/what-to-gather/", {"GET": 200, "POST": 405}),
    # Evidence locker: pages inside a locker answer only a POST with a live session token; any
    # other post gets the open page with 403 (no session is the same as a forged or expired one).
    "<lang>/locker/": ("/en/locker/", {"GET": 200, "POST": 405}),
    "<lang>/locker/create/": ("/en/locker/create/", {"GET": 200, "POST": 400}),
    "<lang>/locker/open/": ("/en/locker/open/", {"GET": 200, "POST": 400}),
    # The page a right passphrase redirects to: without a live one-use ticket, the open page.
    "<lang>/locker/continue/": ("/en/locker/continue/?t=x", {"GET": 200, "POST": 405}),
    "<lang>/locker/lock/": ("/en/locker/lock/", {"GET": 200, "POST": 303}),
    # The locker's quick exit always leaves for the neutral site, session or not.
    "<lang>/locker/exit/": ("/en/locker/exit/", {"GET": 303, "POST": 303}),
    "<lang>/locker/delete/": ("/en/locker/delete/", LOCKED),
    "<lang>/locker/mine/": ("/en/locker/mine/", LOCKED),
    "<lang>/locker/settings/": ("/en/locker/settings/", LOCKED),
    "<lang>/locker/import/": ("/en/locker/import/", LOCKED),
    "<lang>/locker/incidents/": ("/en/locker/incidents/", LOCKED),
    "<lang>/locker/incidents/save/": ("/en/locker/incidents/save/", LOCKED),
    "<lang>/locker/timeline/": ("/en/locker/timeline/", LOCKED),
    "<lang>/locker/timeline/responsible/": ("/en/locker/timeline/responsible/", LOCKED),
    "<lang>/locker/export/pdf/": ("/en/locker/export/pdf/", LOCKED),
    "<lang>/locker/export/zip/": ("/en/locker/export/zip/", LOCKED),
    "<lang>/locker/hand-over/": ("/en/locker/hand-over/", LOCKED),
    # Staff console: anonymous visitors get the sign-in page, or are sent to it.
    "console/": ("/console/", {"GET": 302, "POST": 302}),
    "console/sign-in/": ("/console/sign-in/", {"GET": 200, "POST": 200, "PUT": 405}),
    "console/sign-in/code/": ("/console/sign-in/code/", {"GET": 302, "POST": 302}),
    "console/enrol/": ("/console/enrol/", {"GET": 302, "POST": 302}),
    "console/sign-out/": ("/console/sign-out/", {"GET": 405, "POST": 302}),
    "console/sign-out/everywhere/": ("/console/sign-out/everywhere/", {"GET": 302, "POST": 302}),
    "console/queue/": ("/console/queue/", {"GET": 302, "POST": 302}),
    "console/next/": ("/console/next/", {"GET": 302, "POST": 302}),
    "console/audit/": ("/console/audit/", {"GET": 302, "POST": 302}),
    "console/inbox/": ("/console/inbox/", {"GET": 302, "POST": 302}),
    "console/account/time-zone/": ("/console/account/time-zone/", {"GET": 302, "POST": 302}),
    "console/reports/<uuid:report_id>/inbox-read/": (
        f"/console/reports/{uuid.uuid4()}/inbox-read/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/audit/": (f"/console/reports/{uuid.uuid4()}/audit/", ANON),
    "console/metrics/": ("/console/metrics/", {"GET": 302, "POST": 302}),
    "console/metrics/csv/<slug:section>/": (
        "/console/metrics/csv/by_day/",
        {"GET": 302, "POST": 302},
    ),
    "console/metrics/transparency/": ("/console/metrics/transparency/", {"GET": 302, "POST": 302}),
    "console/metrics/comments/": ("/console/metrics/comments/", {"GET": 302, "POST": 302}),
    "console/metrics/alerts/<int:alert_id>/acknowledge/": (
        "/console/metrics/alerts/1/acknowledge/",
        {"GET": 302, "POST": 302},
    ),
    "console/partners/webhooks/": ("/console/partners/webhooks/", {"GET": 302, "POST": 302}),
    "console/agencies/": ("/console/agencies/", ANON),
    "console/triage-model/": ("/console/triage-model/", ANON),
    "console/triage-model/mode/": ("/console/triage-model/mode/", ANON),
    "console/triage-model/starter/": ("/console/triage-model/starter/", ANON),
    "console/agencies/add/": ("/console/agencies/add/", ANON),
    "console/agencies/<int:agency_id>/": ("/console/agencies/1/", ANON),
    "console/agencies/<int:agency_id>/edit/": ("/console/agencies/1/edit/", ANON),
    "console/reports/<uuid:report_id>/": (f"/console/reports/{uuid.uuid4()}/", ANON),
    "console/reports/<uuid:report_id>/claim/": (f"/console/reports/{uuid.uuid4()}/claim/", ANON),
    "console/reports/<uuid:report_id>/assign/": (f"/console/reports/{uuid.uuid4()}/assign/", ANON),
    "console/reports/<uuid:report_id>/contact/": (
        f"/console/reports/{uuid.uuid4()}/contact/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/message/": (
        f"/console/reports/{uuid.uuid4()}/message/",
        ANON,
    ),
    "console/files/<uuid:file_id>/": (f"/console/files/{uuid.uuid4()}/", ANON),
    "console/files/<uuid:file_id>/preview": (f"/console/files/{uuid.uuid4()}/preview", ANON),
    "console/files/<uuid:file_id>/original": (f"/console/files/{uuid.uuid4()}/original", ANON),
    "console/files/<uuid:file_id>/video": (f"/console/files/{uuid.uuid4()}/video", ANON),
    "console/files/<uuid:file_id>/reveal": (f"/console/files/{uuid.uuid4()}/reveal", ANON),
    "console/reports/<uuid:report_id>/classify/": (
        f"/console/reports/{uuid.uuid4()}/classify/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/decide/": (
        f"/console/reports/{uuid.uuid4()}/decide/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/confirm/": (
        f"/console/reports/{uuid.uuid4()}/confirm/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/send-back/": (
        f"/console/reports/{uuid.uuid4()}/send-back/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/withdraw/": (
        f"/console/reports/{uuid.uuid4()}/withdraw/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/reopen/": (
        f"/console/reports/{uuid.uuid4()}/reopen/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/notes/": (
        f"/console/reports/{uuid.uuid4()}/notes/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/links/": (
        f"/console/reports/{uuid.uuid4()}/links/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/links/remove/": (
        f"/console/reports/{uuid.uuid4()}/links/remove/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/cluster/split/": (
        f"/console/reports/{uuid.uuid4()}/cluster/split/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/legal-hold/": (
        f"/console/reports/{uuid.uuid4()}/legal-hold/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/referral-email/": (
        f"/console/reports/{uuid.uuid4()}/referral-email/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/referral-api/": (
        f"/console/reports/{uuid.uuid4()}/referral-api/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/referral-package": (
        f"/console/reports/{uuid.uuid4()}/referral-package",
        ANON,
    ),
    "console/reports/<uuid:report_id>/forward/": (
        f"/console/reports/{uuid.uuid4()}/forward/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/takedown/host/": (
        f"/console/reports/{uuid.uuid4()}/takedown/host/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/notices/<uuid:notice_id>/confirm/": (
        f"/console/reports/{uuid.uuid4()}/notices/{uuid.uuid4()}/confirm/",
        ANON,
    ),
    "console/reports/<uuid:report_id>/notices/<uuid:notice_id>/acknowledge/": (
        f"/console/reports/{uuid.uuid4()}/notices/{uuid.uuid4()}/acknowledge/",
        ANON,
    ),
}
SIGN_IN = "/console/sign-in/"


def _check_cookies(path: str, cookies: SimpleCookie) -> None:
    """Public pages set no cookie at all; console pages only cookies scoped to /console/."""
    if not path.startswith("/console/"):
        assert not cookies, path
        return
    for morsel in cookies.values():
        assert morsel["path"] == "/console/", (path, morsel.key)
        assert morsel["samesite"] == "Strict", (path, morsel.key)
        assert morsel["httponly"], (path, morsel.key)


def _routes(resolver: URLResolver, prefix: str = "") -> list[str]:
    routes = []
    for entry in resolver.url_patterns:
        pattern = str(entry.pattern)
        if pattern.startswith("en/") or type(entry.pattern).__name__ == "LocalePrefixPattern":
            pattern = "<lang>/"
        if isinstance(entry, URLResolver):
            routes += _routes(entry, prefix + pattern)
        elif isinstance(entry, URLPattern):
            routes.append(prefix + pattern)
    return routes


def test_every_url_is_in_the_matrix() -> None:
    routes = sorted(set(_routes(get_resolver())))
    assert routes == sorted(MATRIX), "add new pages and endpoints to MATRIX"


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_anonymous_visitor(client: Client, route: str) -> None:
    path, expected = MATRIX[route]
    for method, status in expected.items():
        response = client.generic(method, path, b"{}", content_type="application/json")
        assert response.status_code == status, f"{method} {path}"
        if status == 302 and path.startswith("/console/"):
            assert response["Location"].startswith(SIGN_IN), f"{method} {path}"
        _check_cookies(path, response.cookies)


def test_public_code_never_imports_staff_code() -> None:
    root = Path(__file__).resolve().parents[1] / "src" / "tipline"
    for package in ("intake", "api", "guidance", "locker"):
        for source in (root / package).rglob("*.py"):
            text = source.read_text()
            assert "tipline.console" not in text, source
            assert "tipline.staff" not in text, source
            assert "django.contrib.admin" not in text, source


# --- staff roles ----------------------------------------------------------------------------------

ROLES = ["analyst", "supervisor", "admin", "liaison", "liaison-other-agency", "auditor"]
CASEWORK = {"analyst", "supervisor", "admin"}
AGENCY = "Metro Police"  # the liaison's agency; the report is referred there for liaison runs
R = "console/reports/<uuid:report_id>/"
# route -> (method, form data, {role: status}); "*" is every role not named. Routes run in this
# order against one report, so later rows see the state earlier rows left (claimed, closed...).
# A casework role claims the report, works it and closes it; a liaison gets a report already
# referred to their agency: they may read it, never work it (403: "nothing was changed").
ROLE_MATRIX: dict[str, tuple[str, dict[str, str], dict[str, int]]] = {
    "console/": ("GET", {}, {"*": 200}),
    # An auditor sees no report: no queue either (they land on the audit log).
    "console/queue/": ("GET", {}, {"auditor": 404, "*": 200}),
    # Casework roles go to the top unclaimed report; the others to their home page. All redirect.
    "console/next/": ("GET", {}, {"*": 302}),
    "console/audit/": ("GET", {}, {"auditor": 200, "admin": 200, "*": 404}),
    "console/inbox/": ("GET", {}, {"casework": 200, "*": 404}),
    # Everyone chooses their own time zone (and only their own: the form has no "whose").
    "console/account/time-zone/": ("POST", {"time_zone": "Europe/Paris"}, {"*": 302}),
    # Metrics: analysts get their own queue's figures; liaisons none (tipline.metrics.access).
    "console/metrics/": ("GET", {}, {"casework": 200, "auditor": 200, "*": 404}),
    "console/metrics/csv/by_category/": ("GET", {}, {"casework": 200, "auditor": 200, "*": 404}),
    "console/metrics/comments/": ("GET", {}, {"supervisor": 200, "admin": 200, "*": 404}),
    # No alert 999999: the same 404 for those who may acknowledge and those who may not.
    "console/metrics/alerts/999999/acknowledge/": ("POST", {}, {"*": 404}),
    "console/metrics/transparency/?period=2026-Q3": (
        "GET",
        {},
        {"supervisor": 200, "admin": 200, "*": 404},
    ),
    "console/partners/webhooks/": ("GET", {}, {"admin": 200, "*": 404}),
    # Agencies: administrators only (an empty form is refused with its reasons: 400).
    "console/agencies/": ("GET", {}, {"admin": 200, "*": 404}),
    "console/triage-model/": ("GET", {}, {"admin": 200, "*": 404}),
    "console/triage-model/mode/": ("POST", {}, {"admin": 400, "*": 404}),
    "console/triage-model/starter/": ("POST", {}, {"admin": 400, "*": 404}),
    "console/agencies/add/": ("POST", {}, {"admin": 400, "*": 404}),
    "console/agencies/<int:agency_id>/": ("GET", {}, {"admin": 200, "*": 404}),
    "console/agencies/<int:agency_id>/edit/": ("POST", {}, {"admin": 400, "*": 404}),
    R: ("GET", {}, {"casework": 200, "liaison": 200, "*": 404}),
    # A report's audit trail: who may open the report AND read the audit log (administrators).
    R + "audit/": ("GET", {}, {"admin": 200, "*": 404}),
    R + "inbox-read/": ("POST", {}, {"casework": 302, "liaison": 403, "*": 404}),
    R + "claim/": ("POST", {}, {"casework": 302, "liaison": 403, "*": 404}),
    R + "assign/": (
        "POST",
        {"assignee": ""},
        {"supervisor": 302, "admin": 302, "analyst": 403, "liaison": 403, "*": 404},
    ),
    R + "contact/": ("POST", {}, {"casework": 200, "liaison": 403, "*": 404}),
    R + "message/": (
        "POST",
        {"body": "Thank you for telling us."},
        {"casework": 302, "liaison": 403, "*": 404},
    ),
    "console/files/<uuid:file_id>/": ("GET", {}, {"casework": 200, "liaison": 200, "*": 404}),
    "console/files/<uuid:file_id>/preview": (
        "GET",
        {},
        {"casework": 200, "liaison": 200, "*": 404},
    ),
    "console/files/<uuid:file_id>/reveal": (
        "POST",
        {},
        {"casework": 200, "liaison": 200, "*": 404},
    ),
    # The matrix's file is an image: it has no video preview (the same 404 as a missing file).
    "console/files/<uuid:file_id>/video": ("GET", {}, {"*": 404}),
    # The original leaves only with those who may export evidence; for everyone else it does
    # not exist (the same 404 as a random id).
    "console/files/<uuid:file_id>/original": (
        "POST",
        {},
        {"supervisor": 200, "admin": 200, "*": 404},
    ),
    R + "classify/": (
        "POST",
        {"legal_assessment": "not_illegal"},
        {"casework": 302, "liaison": 403, "*": 404},
    ),
    R + "notes/": (
        "POST",
        {"body": "Checked the address."},
        {"casework": 302, "liaison": 403, "*": 404},
    ),
    # A random "other" id: no report the person may open has it (400 with the form's error).
    R + "links/": (
        "POST",
        {"other": str(uuid.uuid4())},
        {"casework": 400, "liaison": 400, "*": 404},
    ),
    R + "links/remove/": (
        "POST",
        {"other": str(uuid.uuid4())},
        {"casework": 400, "liaison": 400, "*": 404},
    ),
    R + "cluster/split/": ("POST", {}, {"casework": 302, "liaison": 403, "*": 404}),
    # No partner hotline of that name: refused in place for whoever may open the report.
    R + "forward/": ("POST", {"hotline": "nowhere"}, {"casework": 403, "liaison": 403, "*": 404}),
    R + "legal-hold/": (
        "POST",
        {"hold": "on"},
        {"supervisor": 302, "admin": 302, "analyst": 403, "liaison": 403, "*": 404},
    ),
    R + "decide/": ("POST", {"outcome": "duplicate"}, {"casework": 302, "liaison": 403, "*": 404}),
    # Decided without four eyes (not illegal, no referral): nothing waits for review any more.
    R + "confirm/": ("POST", {}, {"casework": 403, "liaison": 403, "*": 404}),
    R + "send-back/": ("POST", {}, {"casework": 403, "liaison": 403, "*": 404}),
    R + "withdraw/": ("POST", {}, {"casework": 403, "liaison": 403, "*": 404}),
    R + "reopen/": (
        "POST",
        {},
        {"supervisor": 302, "admin": 302, "analyst": 403, "liaison": 403, "*": 404},
    ),
    # Only a liaison of the agency the report was referred to gets a package; AGENCY has no age
    # key here, so even they are refused with the reason (tests/console/test_referral_package.py
    # downloads one for real).
    R + "referral-package": ("POST", {}, {"casework": 403, "liaison": 403, "*": 404}),
    # Takedown (console/notices.py): this report has no tracked URL on that host, so casework is
    # refused with the reason; a notice id that is not one of this report's is "not found".
    R + "takedown/host/": (
        "POST",
        {"host": "x.example", "provider": "P", "abuse_email": "a@x.example", "language": "en"},
        {"casework": 403, "liaison": 403, "*": 404},
    ),
    R + "notices/<uuid:notice_id>/confirm/": ("POST", {}, {"*": 404}),
    R + "notices/<uuid:notice_id>/acknowledge/": ("POST", {}, {"*": 404}),
    # Caseworkers send a package by e-mail; this report was not referred to an agency that takes
    # e-mail, so they are refused with the reason (tests/outputs/test_email_delivery.py sends one).
    R + "referral-email/": (
        "POST",
        {"agency": AGENCY},
        {"casework": 403, "liaison": 403, "*": 404},
    ),
    # Caseworkers submit to an agency reached by the CyberTipline API; this agency is not, so
    # they are refused with the reason (tests/outputs/test_cybertipline_submit.py submits one).
    R + "referral-api/": (
        "POST",
        {"agency": AGENCY},
        {"casework": 403, "liaison": 403, "*": 404},
    ),
}


def _expected(route: str, role: str) -> int:
    answers = ROLE_MATRIX[route][2]
    if role in answers:
        return answers[role]
    if role in CASEWORK and "casework" in answers:
        return answers["casework"]
    return answers["*"]


def _member(role: str) -> Client:
    if role == "liaison-other-agency":
        client, _user = signed_in("lia-other", "liaison", agency="Border Agency")
    else:
        client, _user = signed_in(role, role, agency=AGENCY if role == "liaison" else "")
    return client


def _refer(report: object) -> None:
    """Refer the report to AGENCY through the real four-eyes path (two other analysts)."""
    if not StaffUser.objects.filter(agency=AGENCY).exists():
        factories.staff("metro-liaison", "liaison", agency=AGENCY)  # so AGENCY is a choice
    first = factories.staff("ref-one", "analyst").user
    second = factories.staff("ref-two", "analyst").user
    claimed = actions.report_claim(actor=first, report=report)  # type: ignore[arg-type]
    # A referral needs its facts first (issue 15): the legal assessment, the severity for imagery.
    review.classification_set(
        actor=first,
        report=claimed,
        values={"legal_assessment": "baseline", "severity": "C"}
        if claimed.category == "csam"
        else {"legal_assessment": "national"},
    )
    transitions.report_decide(actor=first, report=claimed, outcome=Outcome.REFERRED, agency=AGENCY)
    transitions.report_confirm(actor=second, report=claimed)


def _path(route: str, report_id: object, file_id: object) -> str:
    agency = Agency.objects.order_by("pk").first()  # seeded from workflow.toml
    return "/" + route.replace("<uuid:report_id>", str(report_id)).replace(
        "<uuid:file_id>", str(file_id)
    ).replace("<uuid:notice_id>", str(uuid.uuid4())).replace(
        "<int:agency_id>", str(agency.pk if agency else 1)
    )


def test_every_report_url_has_role_columns() -> None:
    report_routes = {r for r in MATRIX if "<uuid:" in r}
    assert report_routes <= set(ROLE_MATRIX)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_signed_in(role: str) -> None:
    created = factories.report(
        "child_in_danger",
        contact={"contact_email": "me@example.org"},
        uploads=[factories.upload()],
    )
    factories.run_tasks(created.report)
    report_id, file_id = created.report.id, created.report.files.get().id
    client = _member(role)
    if role.startswith("liaison"):
        _refer(created.report)
    for route, (method, data, _answers) in ROLE_MATRIX.items():
        expected = _expected(route, role)
        response = client.generic(
            method,
            _path(route, report_id, file_id),
            data=_form(data),
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == expected, f"{role}: {method} {route}"
        if "<uuid:" in route:
            # A random id (IDOR guess) gets what a forbidden one gets: the same 404.
            guess = client.generic(
                method,
                _path(route, uuid.uuid4(), uuid.uuid4()),
                data=_form(data),
                content_type="application/x-www-form-urlencoded",
            )
            assert guess.status_code == 404, f"{role}: {method} {route} with a random id"
            if expected == 404:
                assert _same_page(guess.content, response.content), route
        # The wrong method is refused before anything is looked up.
        other = "POST" if method == "GET" else "GET"
        assert client.generic(other, _path(route, report_id, file_id)).status_code == 405, route


def _form(data: dict[str, str]) -> str:
    return urlencode(data)


def _same_page(first: bytes, second: bytes) -> bool:
    """Two console pages are the same apart from their per-request CSRF tokens."""
    token = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
    return token.sub(b"", first) == token.sub(b"", second)


# --- API tokens: the scope each documented operation names is the one it enforces ---------------


def _documented_scopes() -> list[tuple[str, str, str]]:
    from tipline.api.openapi import schema

    found = []
    for path, operations in schema()["paths"].items():
        for method, operation in operations.items():
            for requirement in operation.get("security", []):
                (scope,) = requirement["bearer"]
                found.append((method.upper(), path, scope))
    return found


def test_every_token_route_documents_exactly_one_scope() -> None:
    from tipline.partners.models import Scope

    documented = _documented_scopes()
    assert {path for _m, path, _s in documented} == {
        "/api/v1/match",
        "/api/v1/partner/reports",
        "/api/v1/partner/reports/{report_id}",
        "/api/v1/partner/reports/{report_id}/files",
        "/api/v1/banks/{name}/changes",
        "/api/v1/banks/{name}/vics",
        "/api/v1/exchange/inbound",
    }
    assert {scope for _m, _p, scope in documented} <= set(Scope.values)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "scope"), _documented_scopes())
def test_a_token_with_every_other_scope_is_refused_403(
    client: Client, method: str, path: str, scope: str
) -> None:
    from tipline.partners import actions as partner_actions
    from tipline.partners.models import Scope

    others = [s for s in Scope.values if s != scope]
    token = partner_actions.credential_create(
        actor="tester", name="Other scopes", kind="partner", scopes=others
    ).token
    url = path.replace("{report_id}", str(uuid.uuid4())).replace("{name}", "shared")
    response = client.generic(
        method, url, b"{}", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 403, (method, path, response.content[:200])
