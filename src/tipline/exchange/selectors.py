"""What the case view shows about forwarding: where the report went, and where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tipline.cases.models import Report
from tipline.cases.policies import ReportPolicy
from tipline.exchange.models import Forwarding, InboundForward, PartnerHotline
from tipline.staff.models import StaffUser


@dataclass(frozen=True)
class ForwardingView:
    forwardings: tuple[Forwarding, ...]
    origins: tuple[InboundForward, ...]
    # Partners this person may forward the report to now (empty: no form).
    choices: tuple[PartnerHotline, ...]


def case_forwarding(user: StaffUser, report: Report) -> dict[str, Any]:
    forwardings = tuple(
        Forwarding.objects.filter(report=report).select_related("hotline").order_by("created_at")
    )
    origins = tuple(
        InboundForward.objects.filter(report=report)
        .select_related("hotline")
        .order_by("received_at")
    )
    choices: tuple[PartnerHotline, ...] = ()
    if ReportPolicy.may_decide(user, report):
        done = {f.hotline_id for f in forwardings}
        choices = tuple(
            h
            for h in PartnerHotline.objects.filter(active=True).order_by("name")
            if h.pk not in done
        )
    return {"forwarding": ForwardingView(forwardings, origins, choices)}


def hotline_choice(name: str) -> PartnerHotline | None:
    return PartnerHotline.objects.filter(name=name, active=True).first()
