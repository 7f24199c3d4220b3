"""The timeline page: every imported item in one order, the pattern made visible, a filter.

The pattern itself (merging, grouping the other party's accounts, counts, escalation markers,
the chart) is computed by `tipline.locker.pattern` and `tipline.locker.chart`, pure functions
over the snapshot; this module only adapts them to the page. Long timelines are shown a page at
a time (the PDF export holds all of it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from tipline.locker import actions, chart, pattern, selectors, sessions
from tipline.locker.forms import ResponsibleForm
from tipline.locker.pattern import Marker, Pattern
from tipline.locker.types import TimelineEntry
from tipline.locker.views import locker_page, locker_post, session_or_page

PAGE_SIZE = 200


@dataclass(frozen=True)
class Row:
    when: str
    iso: str
    sender: str
    text: str
    kind: str
    conversation: str
    attachments: tuple[str, ...]
    source: str
    filename: str
    responsible: bool
    marker: Marker | None


def _page_number(raw: object) -> int:
    try:
        return max(1, min(int(str(raw)), 100_000))
    except ValueError:
        return 1


def _choices(view: Pattern) -> list[str]:
    """Every name and identifier on the timeline, for the "person responsible" checkboxes."""
    seen: dict[str, None] = {}
    for person in view.people:
        for value in (*person.identifiers, *person.names):
            seen.setdefault(value, None)
    return list(seen)


def _rows(view: Pattern, shown: list[TimelineEntry], filenames: dict[int, str]) -> list[Row]:
    marked = {id(m.entry): m for m in view.markers}
    theirs = {id(e) for e in view.focus} if view.responsible is not None else set()
    return [
        Row(
            when=pattern.time_as_written(e.item.timestamp),
            iso=e.item.timestamp.isoformat() if e.item.timestamp else "",
            sender=e.item.sender,
            text=e.item.text,
            kind=e.item.kind,
            conversation=e.item.conversation,
            attachments=e.item.attachments,
            source=e.item.source,
            filename=filenames.get(e.evidence_id, ""),
            responsible=id(e) in theirs,
            marker=marked.get(id(e)),
        )
        for e in shown
    ]


def _timeline_page(
    request: HttpRequest,
    opened: sessions.Opened,
    *,
    form: ResponsibleForm | None = None,
    status: int = 200,
    saved: bool = False,
) -> HttpResponse:
    snapshot = selectors.snapshot(opened)
    view = pattern.analyse(snapshot)
    only = request.POST.get("only") == "responsible" and view.responsible is not None
    entries = view.focus if only else view.timeline
    if form is None:
        form = ResponsibleForm(
            initial={"session": opened.token, "responsible": list(snapshot.responsible)},
            identifiers=_choices(view),
        )
    pages = max(1, -(-len(entries) // PAGE_SIZE))
    number = min(_page_number(request.POST.get("page", 1)), pages)
    shown = entries[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    filenames = {r.id: r.filename for r in snapshot.evidence}
    context: dict[str, Any] = {
        "view": view,
        "rows": _rows(view, shown, filenames),
        "page_number": number,
        "pages": pages,
        "previous_page": number - 1,
        "next_page": number + 1 if number < pages else 0,
        "only": only,
        "chart_svg": chart.chart(view, title=_("Messages over time")),
        "responsible_form": form,
        "saved": saved,
        "total": len(entries),
    }
    return locker_page(request, opened, "locker/timeline.html", context, status=status)


@locker_post
def timeline(request: HttpRequest) -> HttpResponse:
    opened = session_or_page(request)
    if isinstance(opened, HttpResponse):
        return opened
    return _timeline_page(request, opened)


@locker_post
def responsible(request: HttpRequest) -> HttpResponse:
    opened = session_or_page(request)
    if isinstance(opened, HttpResponse):
        return opened
    view = pattern.analyse(selectors.snapshot(opened))
    form = ResponsibleForm(request.POST, identifiers=_choices(view))
    if not form.is_valid():
        return _timeline_page(request, opened, form=form, status=400)
    current = selectors.settings_of(opened)
    actions.locker_settings_update(
        opened=opened, title=current.title, responsible=form.cleaned_data["responsible"]
    )
    return _timeline_page(request, opened, saved=True)
