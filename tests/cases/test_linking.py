"""Reports linked by shared identifiers: clusters, merge and split, visibility and storage."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests import factories
from tipline.audit.models import AuditEntry
from tipline.cases.linking import (
    cluster_of,
    cluster_split,
    identifiers_record,
    linked_report_ids,
)
from tipline.cases.models import Decision, Referral, Report, ReportIdentifier, ReportLink
from tipline.cases.policies import NotAllowed, ReportPolicy
from tipline.cases.review import report_link
from tipline.cases.selectors import report_details
from tipline.staff.models import StaffUser
from tipline.triage.identifiers import extract

pytestmark = pytest.mark.django_db

AGENCY = "Metro Police"


def member(role: str = "analyst") -> StaffUser:
    agency = AGENCY if role == "liaison" else ""
    user: StaffUser = factories.staff(f"{role}-{uuid.uuid4().hex[:6]}", role, agency=agency).user
    return user


def filed(category: str = "cyberstalking", days_ago: int = 0, **details: Any) -> Report:
    """A report filed through the real action, its identifiers recorded as intake would."""
    report = factories.report(
        category, text=details.pop("text", "He writes every night."), details=details
    ).report
    if days_ago:
        Report.objects.filter(pk=report.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )
        report.refresh_from_db()
    identifiers_record(report, extract(report_details(report), []))
    return report


def everything() -> Any:
    return Report.objects.all()


def test_one_handle_in_three_spellings_forms_one_cluster_with_a_timeline() -> None:
    first = filed("cyberstalking", days_ago=9, handles=["@Night_Owl"], platform="")
    second = filed("sextortion", days_ago=4, handles=["night_owl"], platform="Instagram")
    third = filed(
        "luring",
        days_ago=1,
        handles=[],
        urls=["https://www.instagram.com/Night_Owl/?igshid=abc"],
        platform="Instagram",
    )
    filed(handles=["@someone_else"], platform="Instagram")  # not in the cluster

    cluster = cluster_of(second, everything())

    assert cluster.report_ids == {first.pk, second.pk, third.pk}
    assert cluster.size == 3
    assert [entry.report_id for entry in cluster.timeline] == [first.pk, second.pk, third.pk]
    assert [entry.category for entry in cluster.timeline] == [
        "cyberstalking",
        "sextortion",
        "luring",
    ]
    assert {entry.state for entry in cluster.timeline} == {"new"}
    assert cluster.first_at == first.created_at
    assert cluster.last_at == third.created_at
    assert cluster.shared_kinds["handle"] >= 1
    assert not cluster.truncated
    assert linked_report_ids(first) == {second.pk, third.pk}


def test_a_url_in_two_spellings_links_two_reports() -> None:
    first = filed(handles=[], urls=["HTTPS://WWW.Example.com:443/a/./b?utm_source=x&id=7#top"])
    second = filed(handles=[], text="It is on https://example.com/a/b?id=7&fbclid=zz ok")
    other = filed(handles=[], urls=["https://example.com/a/b?id=8"])

    assert linked_report_ids(first) == {second.pk}
    assert linked_report_ids(other) == set()
    assert cluster_of(first, everything()).shared_kinds == {"url": 1}


def test_recording_twice_adds_nothing() -> None:
    report = filed(handles=[], emails=["Some.One+x@gmail.com"])
    before = ReportIdentifier.objects.filter(report=report).count()
    assert identifiers_record(report, {("email", "someone@gmail.com")}) == 1
    assert ReportIdentifier.objects.filter(report=report).count() == before == 1


def test_identifiers_are_stored_only_as_digests() -> None:
    typed = {
        "handles": ["@Night_Owl"],
        "urls": ["https://example.com/secret-page"],
        "emails": ["night.owl@example.org"],
        "phones": ["+44 20 7946 0958"],
    }
    report = filed(**typed)
    rows = list(ReportIdentifier.objects.filter(report=report).values())
    assert {row["kind"] for row in rows} == {"handle", "url", "email", "phone"}
    plaintexts = ["night_owl", "example.com", "secret-page", "night.owl", "example.org", "7946"]
    for row in rows:
        assert len(row["digest"]) == 64
        assert int(row["digest"], 16) >= 0  # hex only
        for value in row.values():
            for plain in plaintexts:
                assert plain not in str(value).lower()


def test_split_detaches_the_report_and_leaves_the_rest_linked() -> None:
    analyst = member()
    a = filed(handles=["@night_owl"])
    b = filed(handles=["@night_owl"])
    c = filed(handles=["@night_owl"])
    d = filed(handles=["@lone_wolf"])
    report_link(actor=analyst, report=a, other=d)

    result = cluster_split(actor=analyst, report=a)

    assert result.links == 1
    assert result.identifiers == ReportIdentifier.objects.filter(report=a).count() > 0
    assert cluster_of(a, everything()).report_ids == {a.pk}
    assert cluster_of(b, everything()).report_ids == {b.pk, c.pk}
    assert linked_report_ids(a) == set()
    assert a.pk not in linked_report_ids(b)
    assert not ReportLink.objects.filter(low=a).exists()
    assert not ReportLink.objects.filter(high=a).exists()
    entry = AuditEntry.objects.get(action="report.cluster_split")
    assert entry.target_id == str(a.pk)
    assert entry.actor == analyst.username
    assert entry.details == {"identifiers": result.identifiers, "links": 1}  # counts only

    # Recording the same identifiers again (intake re-run) does not re-link the report.
    identifiers_record(a, extract(report_details(a), []))
    assert linked_report_ids(a) == set()


def test_split_needs_a_casework_role() -> None:
    report = filed(handles=["@night_owl"])
    filed(handles=["@night_owl"])
    for role in ("liaison", "auditor"):
        with pytest.raises(NotAllowed):
            cluster_split(actor=member(role), report=report)
    assert not ReportIdentifier.objects.filter(report=report, detached=True).exists()
    assert not AuditEntry.objects.filter(action="report.cluster_split").exists()


def test_merge_joins_two_clusters() -> None:
    analyst = member()
    a1, a2 = filed(handles=["@night_owl"]), filed(handles=["@night_owl"])
    b1, b2 = filed(handles=["@lone_wolf"]), filed(handles=["@lone_wolf"])
    assert cluster_of(a1, everything()).size == 2

    assert report_link(actor=analyst, report=a2, other=b1) is True
    assert report_link(actor=analyst, report=b1, other=a2) is False  # already linked

    cluster = cluster_of(a1, everything())
    assert cluster.report_ids == {a1.pk, a2.pk, b1.pk, b2.pk}
    assert cluster.shared_kinds["link"] == 1
    assert AuditEntry.objects.filter(action="report.link").count() == 1
    with pytest.raises(NotAllowed):
        report_link(actor=member("liaison"), report=a1, other=b2)


def refer(report: Report, agency: str = AGENCY) -> None:
    proposer = member()
    decision = Decision.objects.create(
        report=report,
        outcome="referred",
        needs_second_review=False,
        status="confirmed",
        proposed_by=proposer,
    )
    Referral.objects.create(report=report, agency=agency, decision=decision)


def test_a_liaison_sees_only_the_part_of_a_cluster_referred_to_them() -> None:
    liaison = member("liaison")
    seen_1 = filed(handles=["@night_owl"])
    hidden = filed(handles=["@night_owl"], emails=["owl@example.org"])
    seen_2 = filed(handles=[], emails=["owl@example.org"])  # reachable only through `hidden`
    seen_3 = filed(handles=["@night_owl"])
    elsewhere = filed(handles=["@night_owl"])
    for report in (seen_1, seen_2, seen_3):
        refer(report)
    refer(elsewhere, "Another Agency")

    visible = ReportPolicy.visible(liaison)
    cluster = cluster_of(seen_1, visible)

    assert cluster.report_ids == {seen_1.pk, seen_3.pk}
    assert hidden.pk not in {entry.report_id for entry in cluster.timeline}
    # The whole component, for a caseworker:
    assert cluster_of(seen_1, ReportPolicy.visible(member())).size == 5
    assert cluster_of(seen_1, ReportPolicy.visible(member("auditor"))).report_ids == {seen_1.pk}


def test_a_manual_link_to_a_hidden_report_is_not_followed() -> None:
    analyst, liaison = member(), member("liaison")
    seen = filed(handles=["@night_owl"])
    hidden = filed(handles=["@lone_wolf"])
    refer(seen)
    report_link(actor=analyst, report=seen, other=hidden)
    assert cluster_of(seen, ReportPolicy.visible(liaison)).report_ids == {seen.pk}


def test_cluster_is_bounded_by_its_limit() -> None:
    reports = [filed(handles=["@night_owl"]) for _ in range(6)]
    cluster = cluster_of(reports[0], everything(), limit=4)
    assert cluster.size == 4
    assert cluster.truncated
    assert reports[0].pk in cluster.report_ids
